"""CPU time used by process trees, for the cost of a request independent of how busy the machine is.

    python benchmarks/load/cpu.py snapshot gunicorn=PID postgres=PID worker=PID locust=PID > before.json
    (each process counts once, in the first tree named that holds it: name the client's shell last)
    … the run …
    python benchmarks/load/cpu.py snapshot … > after.json
    python benchmarks/load/cpu.py report before.json after.json REQUESTS SECONDS

A tree's CPU time is its root's user + system time, plus the times of the children it has reaped (so a
PostgreSQL backend or a gunicorn worker that exited still counts), plus the same for every live descendant.
`report` prints CPU milliseconds per request for each tree and what that means for the request rate the
measured processes alone could sustain on this machine's cores (cores × 1000 / CPU-ms per request), which is
what a quiet machine would reach at best; on a shared machine the rate reached is lower.
"""

import json
import os
import sys
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def times(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the name: state is field 3, so utime/stime/cutime/cstime (14–17) are at 11–14 here.
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime) / TICK, (cutime + cstime) / TICK


def children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def tree_seconds(root: int, tree: dict[int, list[int]], counted: set[int]) -> float:
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        if pid in counted:
            continue  # a tree named before (gunicorn and the worker are children of the shell given as locust)
        counted.add(pid)
        try:
            own, reaped = times(pid)
        except OSError:
            continue
        total += own + reaped
        stack.extend(tree.get(pid, []))
    return total


def main() -> None:
    if sys.argv[1] == "snapshot":
        tree = children()
        roots = dict(arg.split("=", 1) for arg in sys.argv[2:])
        counted: set[int] = set()
        print(json.dumps({name: tree_seconds(int(pid), tree, counted) for name, pid in roots.items() if pid}))
    elif sys.argv[1] == "report":
        before, after = (json.loads(Path(p).read_text()) for p in sys.argv[2:4])
        requests, seconds = int(sys.argv[4]), float(sys.argv[5])
        cores = os.cpu_count() or 1
        served = 0.0
        print(f"CPU per request over {requests:,} requests in {seconds:.0f} s ({requests / seconds:.1f} requests/s):")
        for name in after:
            used = after[name] - before.get(name, 0.0)
            per = used * 1000 / max(requests, 1)
            if name != "locust":
                served += per
            print(f"  {name:<10} {used:8.1f} CPU-s {per:6.2f} CPU-ms/request ({used / seconds * 100:5.1f}% of a core)")
        print(
            f"  server side (all but locust): {served:.2f} CPU-ms/request -> at most "
            f"{cores * 1000 / served:.0f} requests/s on {cores} idle cores"
        )


if __name__ == "__main__":
    main()
