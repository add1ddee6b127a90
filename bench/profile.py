"""``make profile``: where the sandbox spends its time under load, by py-spy.

Starts the sandbox as ``make bench`` does (server on one core, wrk on the
other), samples it with py-spy while wrk drives one operation, and prints the
top frames by own time and by total time. The raw collapsed stacks are saved
under reports/profile-<operation>.txt (profile-postgres-<operation>.txt with
``--db postgres``, ending in -uncached.txt with ``--no-answer-cache``).

``--db postgres`` runs the sandbox on PostgreSQL as ``make bench``'s
``postgres`` row does: a cluster of its own (fsync on) pinned to the server
core beside the sandbox, the bench order added over the control surface.
py-spy samples the sandbox's process (the database's own time is not in it).

    python -m bench.profile [--operation refund_order|query_refund|query_orders]
                            [--duration 10] [--db sqlite|postgres] [--no-answer-cache]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench import postgres
from bench.orders import ORDER_ID, add_over_http
from bench.run import (
    LOAD_CPU,
    OPERATIONS,
    ROOT,
    SERVER_CPU,
    can_pin,
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
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="the sandbox's engine (postgres: a cluster of its own, fsync on)",
    )
    parser.add_argument(
        "--no-answer-cache", action="store_true", help="run the sandbox with --no-answer-cache"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("profile needs wrk (make bench-tools installs it with apt-get)")
    if not PY_SPY.exists():
        sys.exit("profile needs py-spy in the virtualenv (make setup installs it)")
    if args.db == "postgres" and (why := postgres.missing()) is not None:
        sys.exit(f"profile --db postgres {why}")
    path, script = OPERATIONS[args.operation]
    engine = "postgres-" if args.db == "postgres" else ""
    uncached = "-uncached" if args.no_answer_cache else ""
    output = ROOT / "reports" / f"profile-{engine}{args.operation}{uncached}.txt"
    output.parent.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as running:
        port = free_port()
        db: Path | str
        if args.db == "postgres":
            log("starting PostgreSQL (fsync on, pinned to the server core)")
            cluster = running.enter_context(postgres.cluster(SERVER_CPU if can_pin() else None))
            db = cluster.server.create_database("bench_profile")
        else:
            db = Path(tmp) / "profile.db"
            seed_bench_db(db)
        root = f"http://127.0.0.1:{port}/openapi"
        cached = ["--no-answer-cache"] if args.no_answer_cache else []
        with server(
            "sandbox",
            [*sandbox_command(db, port), *cached],
            f"http://127.0.0.1:{port}/_sandbox/info",
        ) as pid:
            if args.db == "postgres":
                with httpx.Client() as http:  # its demo data is in; now the bench order
                    add_over_http(http, f"http://127.0.0.1:{port}")
            url = root + path.format(id=ORDER_ID if args.operation == "refund_order" else "10001")
            wrk(url, script, 2, args.connections)  # warm-up
            log(f"sampling {args.operation} for {args.duration}s with py-spy")
            spy = subprocess.Popen(
                pinned(
                    LOAD_CPU,
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
    print(
        f"\n{args.operation} on {args.db}"
        + (" (--no-answer-cache)" if args.no_answer_cache else "")
        + f": {load.requests_per_second:.0f} req/s while sampled"
    )
    for title, rows in (("own time", own), ("total time", total)):
        print(f"\ntop frames by {title}")
        for frame, share in rows:
            print(f"  {share:6.1%}  {frame}")
    print(f"\ncollapsed stacks saved to {output.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
