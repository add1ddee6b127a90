"""``make profile``: where the sandbox spends its time under load, by py-spy.

Starts the sandbox as ``make bench`` does (server on one core, wrk on the
other), samples it with py-spy while wrk drives one operation, and prints the
top frames by own time and by total time. The raw collapsed stacks are saved
under reports/profile-<operation>.txt.

    python bench/profile.py [--operation refund_order|query_refund|query_orders] [--duration 10]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.orders import ORDER_ID
from bench.run import (
    OPERATIONS,
    ROOT,
    free_port,
    log,
    pinned,
    sandbox_command,
    seed_bench_db,
    server,
    wrk,
)

PY_SPY = Path(sys.executable).parent / "py-spy"


def top_frames(
    collapsed: str, count: int
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(own, total) shares of the ``count`` heaviest frames of py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, weight = line.rpartition(" ")
        if not stack or not weight.isdigit():
            continue
        frames = stack.split(";")
        samples += int(weight)
        own[frames[-1]] += int(weight)
        for frame in set(frames):
            total[frame] += int(weight)
    if samples == 0:
        return [], []
    return (
        [(frame, n / samples) for frame, n in own.most_common(count)],
        [(frame, n / samples) for frame, n in total.most_common(count)],
    )


def main() -> int:
    """Profile one operation and print its top frames."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operation", choices=sorted(OPERATIONS), default="refund_order")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load and sampling")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--top", type=int, default=15, help="frames per table")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("profile needs wrk (make bench-tools installs it with apt-get)")
    if not PY_SPY.exists():
        sys.exit("profile needs py-spy in the virtualenv (make setup installs it)")
    path, script = OPERATIONS[args.operation]
    output = ROOT / "reports" / f"profile-{args.operation}.txt"
    output.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "profile.db"
        seed_bench_db(db)
        port = free_port()
        root = f"http://127.0.0.1:{port}/openapi"
        with server(
            "sandbox", sandbox_command(db, port), f"http://127.0.0.1:{port}/_sandbox/info"
        ) as pid:
            url = root + path.format(id=ORDER_ID if args.operation == "refund_order" else "10001")
            wrk(url, script, 2, args.connections)  # warm-up
            log(f"sampling {args.operation} for {args.duration}s with py-spy")
            spy = subprocess.Popen(
                pinned(
                    "1",
                    [
                        str(PY_SPY),
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(args.duration),
                        "--rate",
                        "250",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--nolineno",
                        "--output",
                        str(output),
                    ],
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            load = wrk(url, script, args.duration, args.connections)
            _, errors = spy.communicate()
            if spy.returncode != 0:
                sys.exit(f"py-spy failed (it needs ptrace rights: run as root):\n{errors}")
    own, total = top_frames(output.read_text(), args.top)
    print(f"\n{args.operation}: {load.requests_per_second:.0f} req/s while sampled")
    for title, rows in (("own time", own), ("total time", total)):
        print(f"\ntop frames by {title}")
        for frame, share in rows:
            print(f"  {share:6.1%}  {frame}")
    print(f"\ncollapsed stacks saved to {output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
