"""What bench/pgbench_ingest.py and bench/pgbench_sender.py share: reading a named query out
of the Swift sources, so the pgbench ceilings run the statements the service runs, and
putting pgbench expressions in place of its $n parameters. Any drift in the sources stops
the script with a line saying which script to update."""
import re
import sys


def query(source, name, label, script):
    """The SQL of `static let NAME = Query("LABEL", \"\"\" ... \"\"\")` in `source`."""
    pattern = (r'static let ' + re.escape(name) + r'\s*=\s*Query\("' + re.escape(label)
               + r'",\s*"""\n(.*?)\n\s*"""(?:,[^)\n]*)?\)')
    match = re.search(pattern, source, re.S)
    if not match:
        sys.exit(f"{script}: cannot find the query {label} ({name}) in the Swift sources; update bench/{script}.py")
    return match.group(1)


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
