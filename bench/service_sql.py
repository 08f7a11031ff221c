"""What bench/pgbench_ingest.py and bench/pgbench_sender.py share: the service's own SQL and
settings, asked of the built `textingctl` (`textingctl sql NAME`, `textingctl settings
example`), so the pgbench ceilings run the statements the service runs; and putting pgbench
expressions in place of a statement's $n parameters. Any drift stops the script with a line
saying which script to update."""
import re
import subprocess
import sys


def statement(textingctl, name, script):
    """The SQL of the named statement, exactly as the service runs it."""
    result = subprocess.run([textingctl, "sql", name], capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not result.stdout.strip():
        sys.exit(f"{script}: `textingctl sql {name}` failed ({result.stderr.strip()[:200]}); update bench/{script}.py")
    return result.stdout.rstrip("\n")


def setting_default(textingctl, name, script):
    """A whole-number setting's default, as `textingctl settings example` prints it."""
    result = subprocess.run([textingctl, "settings", "example"], capture_output=True, text=True, timeout=60)
    match = re.search(r"^#?" + re.escape(name) + r"=([0-9]+)$", result.stdout, re.M)
    if result.returncode != 0 or not match:
        sys.exit(f"{script}: cannot read the default of {name} from `textingctl settings example`; update bench/{script}.py")
    return int(match.group(1))


def substitute(sql, values, script):
    """Each $n becomes `(values[n])`; every one given must appear and none may be left."""
    # $10 before $1, so that $1 does not match the start of $10.
    for number in sorted(values, reverse=True):
        sql, count = re.subn(r'\$' + str(number) + r'(?![0-9])', '(' + values[number] + ')', sql)
        if count == 0:
            sys.exit(f"{script}: ${number} no longer appears in the statement; update bench/{script}.py")
    if re.search(r'\$[0-9]', sql):
        sys.exit(f"{script}: a statement takes more parameters than this script knows; update bench/{script}.py")
    return sql
