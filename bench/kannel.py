"""Kannel, the peer gateway the benchmark compares with: bearerbox and smsbox in the
foreground, from bench/kannel.conf rendered into a folder of the run with free loopback
ports (another program's outgoing connection can hold any port of the ephemeral range for a
minute, so ports are picked free, and a box that cannot bind is started again on others)."""
import glob
import os
import random
import re
import subprocess
import time
import urllib.request

from texting_support import processes


class KannelError(Exception):
    pass


def port_free(port):
    return not subprocess.run(["ss", "-Htan", f"( sport = :{port} )"], capture_output=True, text=True).stdout.strip()


class Kannel:
    """`start(command, log)` starts a background process of the run (stopped at its end by PID)."""

    def __init__(self, project, folder, ports_from, provider_url, start, say):
        self.project, self.folder, self.ports_from, self.provider_url = project, folder, ports_from, provider_url
        self.start, self.say = start, say
        self.password = f"bench{random.randrange(10**9)}"
        self.bearerbox = self.smsbox = None
        self.admin_port = self.box_port = self.sendsms_port = None
        os.makedirs(folder, exist_ok=True)

    def _free_port(self, *taken):
        for port in range(self.ports_from, self.ports_from + 50):
            if port not in taken and port_free(port):
                return port
        raise KannelError(f"no free port for Kannel in {self.ports_from}-{self.ports_from + 49}")

    def _render(self, hold):
        template = open(os.path.join(self.project, "bench", "kannel.conf")).read()
        for key, value in (("@ADMIN_PORT@", self.admin_port), ("@BOX_PORT@", self.box_port), ("@SENDSMS_PORT@", self.sendsms_port),
                           ("@DIR@", self.folder), ("@PASSWORD@", self.password), ("@HOLD@", "throughput = 1" if hold else ""),
                           ("@PROVIDER_URL@", self.provider_url)):
            template = template.replace(key, str(value))
        open(os.path.join(self.folder, "kannel.conf"), "w").write(template)

    def status(self):
        """bearerbox's status.txt; empty when it does not answer."""
        try:
            url = f"http://127.0.0.1:{self.admin_port}/status.txt?password={self.password}"
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode(errors="replace")
        except OSError:
            return ""

    def _wait(self, process, ready):
        for _ in range(100):
            if process.poll() is not None:
                return False
            if ready():
                return True
            time.sleep(0.1)
        return False

    def start_bearerbox(self, hold):
        """bearerbox with an empty or kept store; `hold` holds forwarding back (1 message/s)."""
        for attempt in range(1, 4):
            self.admin_port = self._free_port()
            self.box_port = self._free_port(self.admin_port)
            self.sendsms_port = self._free_port(self.admin_port, self.box_port)
            self._render(hold)
            self.bearerbox = self.start(["/usr/sbin/bearerbox", "-v", "1", os.path.join(self.folder, "kannel.conf")],
                                        os.path.join(self.folder, "bearerbox.out"))
            if self._wait(self.bearerbox, lambda: re.search(r"^Status: running", self.status(), re.M)):
                return
            processes.stop(self.bearerbox)
            self.say(f"bearerbox did not come up (attempt {attempt}; log: {self.folder}/bearerbox.out)")
        raise KannelError(f"bearerbox would not start (log: {self.folder}/bearerbox.out)")

    def start_smsbox(self):
        def ready():
            if "smsbox:" not in self.status():
                return False
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms", timeout=2)
            except urllib.error.HTTPError:
                return True  # it answers: the box is up
            except OSError:
                return False
            return True

        for attempt in range(1, 4):
            if attempt > 1:
                self.sendsms_port = self._free_port(self.admin_port, self.box_port, self.sendsms_port)
                self._render(hold=True)
            self.smsbox = self.start(["/usr/sbin/smsbox", "-v", "1", os.path.join(self.folder, "kannel.conf")],
                                     os.path.join(self.folder, "smsbox.out"))
            if self._wait(self.smsbox, ready):
                return
            processes.stop(self.smsbox)
            self.say(f"smsbox did not come up (attempt {attempt}; log: {self.folder}/smsbox.out)")
        raise KannelError(f"smsbox would not start (log: {self.folder}/smsbox.out)")

    def wait_drained(self, accepted, seconds):
        """Waits until the store is empty and bearerbox has sent what sendsms accepted (just
        after its start the store reads empty too, until bearerbox has loaded it); returns the
        store's size then (None when unknown)."""
        deadline, size = time.monotonic() + seconds, None
        while time.monotonic() < deadline:
            now = self.status()
            store = re.search(r"store size ([0-9]+)", now)
            sent = re.search(r"^SMS: .* sent ([0-9]+) ", now, re.M)
            size = int(store.group(1)) if store else None
            if size == 0 and sent and int(sent.group(1)) >= accepted:
                break
            time.sleep(0.2)
        return size

    def clear_store(self):
        for path in glob.glob(os.path.join(self.folder, "kannel.store*")):
            os.remove(path)

    def stop(self):
        processes.stop(self.smsbox)
        processes.stop(self.bearerbox)
        self.smsbox = self.bearerbox = None
