"""What the suites read of the processes a stack runs, from /proc, and how a suite stops a
process it started itself: by its PID, never by name."""
import os
import signal
import time


def _proc(pid, name):
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return None


def pid_alive(pid):
    """Whether `pid` is a process that has not exited (a zombie has)."""
    stat = _proc(pid, "stat")
    return stat is not None and stat.rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")


def stack_pid(run_dir, name, marker=None):
    """The PID scripts/stack recorded for `name` (pids/NAME.pid; OSError when there is none).
    With `marker`: None unless that process is still running and its command line has it."""
    with open(os.path.join(run_dir, "pids", f"{name}.pid"), encoding="utf-8") as f:
        pid = int(f.read().strip())
    if marker is None:
        return pid
    cmdline = _proc(pid, "cmdline")
    return pid if cmdline is not None and marker.encode() in cmdline.replace(b"\0", b" ") else None


def _status_kib(pid, field):
    status = _proc(pid, "status")
    for line in (status or b"").splitlines():
        if line.startswith(field.encode() + b":"):
            return int(line.split()[1])
    return None


def rss_kib(pid):
    """The process's resident memory now (VmRSS), KiB; None when it is gone."""
    return _status_kib(pid, "VmRSS")


def peak_rss_kib(pid):
    """The process's peak resident memory (VmHWM), KiB; None when it is gone."""
    return _status_kib(pid, "VmHWM")


def cpu_ticks(pid):
    """User plus system CPU time of the process (all its threads), in clock ticks; 0 when gone."""
    stat = _proc(pid, "stat")
    if stat is None:
        return 0
    fields = stat.rsplit(b")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def tree_ticks(pid):
    """CPU time of the process and every descendant, those that ended too (the kernel adds a
    reaped child's time to its parent's cutime and cstime), in clock ticks; 0 when gone. For a
    parent whose children come and go: PostgreSQL's postmaster, a sender loop."""
    stat = _proc(pid, "stat")
    if stat is None:
        return 0
    fields = stat.rsplit(b")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) + sum(tree_ticks(child) for child in children_of(pid))


def parent_of(pid):
    stat = _proc(pid, "stat")
    return int(stat.rsplit(b")", 1)[1].split()[1]) if stat else None


def children_of(parent):
    """The PIDs whose parent is `parent`."""
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit() and parent_of(entry) == parent]


def stop(process, grace_seconds=20):
    """Stops a process this suite started (a subprocess.Popen): SIGTERM, up to `grace_seconds`,
    then SIGKILL; reaps it. Nothing else is ever signalled."""
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    except (ProcessLookupError, OSError):
        pass
