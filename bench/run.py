"""``make bench``: the sandbox against Stoplight Prism and the bare floor, measured side by side.

Every figure of a table is measured in this run, on this machine, with the
server pinned to one core and the load generator (wrk) to the other when
``taskset`` is available. Results are printed and written to reports/bench.json
(reports/bench-<section>.json for one section run alone, ``--only``).

    python -m bench.run [--duration 10] [--connections 32] [--skip-prism] [--skip-postgres]
                        [--proxy-rounds 3] [--team-rounds 3] [--only servers]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

import httpx

from bench import postgres
from bench.cpu import tree_cpu_seconds
from bench.orders import MERCHANT, ORDER, ORDER_ID, REFUND_BODY, add_over_http

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
REPORT = ROOT / "reports" / "bench.json"
PRISM = ROOT / ".tools" / "node_modules" / ".bin" / "prism"
VENV_BIN = Path(sys.executable).parent
REFUND_PATH = "/openapi/v2/order/orders/{id}/refund"
QUERY_PATH = "/openapi/v2/order/orders/refund/{id}"
ORDERS_PATH = "/openapi/v2/order/orders?ids={id}"
# operation -> (path under the API root, wrk script)
OPERATIONS = {
    "refund_order": (REFUND_PATH, "refund.lua"),
    "query_refund": (QUERY_PATH, "query.lua"),
    "query_orders": (ORDERS_PATH, "query.lua"),
}
SERVER_CPU, LOAD_CPU = "0", "1"
# The load table's servers; "uncached" is the sandbox with --no-answer-cache, "postgres"
# and "pg-uncached" the same two on PostgreSQL.
SERVERS = ("sandbox", "uncached", "postgres", "pg-uncached", "prism", "floor")
SANDBOXES = ("sandbox", "uncached", "postgres", "pg-uncached")
# Each PostgreSQL row's "vs sqlite": the SQLite row of the same cache setting.
SQLITE_TWIN = {"postgres": "sandbox", "pg-uncached": "uncached"}
ON_POSTGRES = tuple(SQLITE_TWIN)
# The bench's load sections, each of which --only runs alone.
SECTIONS = (
    "servers",
    "team",
    "scale",
    "clients",
    "feeds",
    "data_load",
    "proxy",
    "contract",
    "reservation",
)
# Sections that need neither wrk nor Prism: run alone, they are not asked for.
WITHOUT_LOAD_TOOLS = frozenset({"reservation"})
# Refunds already stored when the data-scale runs start (see preload_refunds).
SCALES = (1_000, 100_000, 1_000_000)
REFUNDS_PER_ORDER = 10
PRELOAD_ORDER_BASE = 200_000_000  # preloaded orders are 200000001, 200000002, ...
# Order ids are each merchant's own: the template order 10001 is merchant-a's.
TEMPLATE_OWNER = "merchant = 'merchant-a'"


def log(message: str) -> None:
    """Progress on stderr, so long runs are never silent."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def can_pin() -> bool:
    """Whether the bench pins servers and load to cores: taskset exists, and two CPUs."""
    return bool(shutil.which("taskset")) and (os.cpu_count() or 1) >= 2


def pinned(cpu: str, command: list[str]) -> list[str]:
    """``command`` pinned to one CPU when taskset exists and there are two CPUs."""
    if can_pin():
        return ["taskset", "-c", cpu, *command]
    return command


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_ready(
    name: str, process: subprocess.Popen[bytes], out: IO[bytes], ready_url: str, timeout: float
) -> None:
    """Return once ``ready_url`` answers; RuntimeError (with the server's output) when the
    server exits first or takes longer than ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            out.seek(0)
            raise RuntimeError(f"{name} exited early:\n{out.read().decode()[-2000:]}")
        try:
            httpx.get(ready_url, timeout=1.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start within {timeout}s") from None
            time.sleep(0.1)  # waiting for a child process to bind its port


@contextmanager
def server(name: str, command: list[str], ready_url: str, timeout: float = 60) -> Iterator[int]:
    """Run a server pinned to the server CPU until the block ends; yield its pid."""
    log(f"starting {name}")
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            pinned(SERVER_CPU, command), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_until_ready(name, process, out, ready_url, timeout)
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@dataclass
class LoadResult:
    """What wrk measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    cpu_us: float | None = None  # the server's CPU time per request, when measured


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    url: str, script: str, duration: int, connections: int, cpu: str | None = LOAD_CPU
) -> LoadResult:
    """A fixed-connections, fixed-duration wrk run on the load CPU (unpinned: ``cpu`` None)."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(BENCH / script),
        url,
    ]
    if cpu is not None:
        command = pinned(cpu, command)
    # refund.lua sends the bench order's refund body (bench/orders.py), given here
    env = {**os.environ, "BENCH_REFUND_BODY": REFUND_BODY.decode()}
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, flags=re.M))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        requests=int(re.search(r"(\d+) requests in", output)[1]),  # type: ignore[index]
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def seed_bench_db(path: Path) -> None:
    """The demo data plus one order whose line has enough pieces for every request."""
    from kakaclo_sandbox import data, demo, seeding
    from kakaclo_sandbox.service.running import run_now
    from kakaclo_sandbox.storage.sqlite import SqliteStore
    from kakaclo_spec import Spec

    spec = Spec.load()
    store = SqliteStore(path)
    run_now(demo.reset(store, demo.dataset(None, spec)))

    async def add_order() -> None:
        async with store.writing() as unit:
            seeded = data.check_order(spec, ORDER, MERCHANT, "bench order")
            await seeding.add_order(unit, seeded)

    run_now(add_order())
    store.close()


def sandbox_command(db: Path | str, port: int) -> list[str]:
    """The sandbox as users run it: durable SQLite (or a postgresql:// URL), validation on,
    rate limit off."""
    return [
        str(VENV_BIN / "kakaclo-sandbox"),
        "--port",
        str(port),
        "--db",
        str(db),
        "--rate-limit",
        "off",
        "--settle-after",
        "3600",
        "--log-level",
        "warning",
    ]


def load_one(
    root: str,
    operation: str,
    duration: int,
    connections: int,
    query_id: str = "10001",
    cpu: str | None = LOAD_CPU,
) -> LoadResult:
    """One operation under wrk (on ``cpu``, or unpinned: None): Refund Order of the bench
    order, the reads of ``query_id``."""
    path, script = OPERATIONS[operation]
    target = ORDER_ID if operation == "refund_order" else query_id
    log(f"wrk {operation} for {duration}s")
    return wrk(root + path.format(id=target), script, duration, connections, cpu)


def load_all(
    root: str, duration: int, connections: int, query_id: str = "10001"
) -> dict[str, LoadResult]:
    """Refund Order (of the bench order), Query Refund and Query Order (of ``query_id``)."""
    return {
        operation: load_one(root, operation, duration, connections, query_id)
        for operation in OPERATIONS
    }


def preload_refunds(path: Path, total: int) -> int:
    """Grow the database to ``total`` preloaded, settled refunds; return the orders added.

    Each preloaded order is a copy of the template order 10001 with one line of
    ``2 * REFUNDS_PER_ORDER`` pieces, ``REFUNDS_PER_ORDER`` settled refunds of
    one piece each, and the counters that go with them. Rows are copied in bulk
    with SQL (a million refunds through the API would take the bench minutes);
    the bench then reads one back through the API to prove the copy is sound.
    """
    import sqlite3

    from kakaclo_client.models import RefundStatus

    db = sqlite3.connect(path, isolation_level=None)
    try:
        have = db.execute(
            "SELECT COUNT(*) FROM orders WHERE CAST(id AS INTEGER) BETWEEN ? AND ?",
            (PRELOAD_ORDER_BASE + 1, 2 * PRELOAD_ORDER_BASE),
        ).fetchone()[0]
        first, last = have + 1, total // REFUNDS_PER_ORDER
        if last < first:
            return 0
        order_columns = [row[1] for row in db.execute("PRAGMA table_info(orders)")]
        line_columns = [row[1] for row in db.execute("PRAGMA table_info(order_lines)")]
        overrides = {
            "orders": {
                "pk": "NULL",
                "id": f"CAST({PRELOAD_ORDER_BASE} + n AS TEXT)",
                "pending_refunds": "0",
                "refund_date": "create_date + 60",
            },
            "order_lines": {
                "pk": "NULL",
                "id": f"CAST({PRELOAD_ORDER_BASE} + n AS TEXT) || '1'",
                "order_pk": f"(SELECT pk FROM orders WHERE {TEMPLATE_OWNER} "
                f"AND id = CAST({PRELOAD_ORDER_BASE} + n AS TEXT))",
                "position": "0",
                "product_num": str(2 * REFUNDS_PER_ORDER),
                "reserved": str(REFUNDS_PER_ORDER),
                "refunded": str(REFUNDS_PER_ORDER),
            },
        }

        def copy(table: str, columns: list[str], where: str) -> str:
            chosen = ", ".join(overrides[table].get(c, c) for c in columns)
            return (
                f"WITH RECURSIVE numbers(n) AS (SELECT {first} UNION ALL SELECT n + 1 "
                f"FROM numbers WHERE n < {last}) INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {chosen} FROM numbers, {table} WHERE {where}"
            )

        db.execute("BEGIN")
        db.execute(copy("orders", order_columns, f"{TEMPLATE_OWNER} AND id = '10001'"))
        template = f"(SELECT pk FROM orders WHERE {TEMPLATE_OWNER} AND id = '10001')"
        db.execute(copy("order_lines", line_columns, f"order_pk = {template} AND position = 0"))
        seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM refunds").fetchone()[0]
        settled = db.execute("SELECT create_date FROM orders WHERE id = '10001'").fetchone()[0] + 60
        db.execute(
            f"WITH RECURSIVE numbers(n) AS (SELECT {first} UNION ALL SELECT n + 1 "
            f"FROM numbers WHERE n < {last}), copies(k) AS (SELECT 0 UNION ALL SELECT k + 1 "
            f"FROM copies WHERE k < {REFUNDS_PER_ORDER - 1}) "
            "INSERT INTO refunds (seq, order_pk, status, reason, remark, created_at, settle_at, "
            "settled_at) SELECT ? + (n - ?) * ? + k + 1, "
            f"(SELECT pk FROM orders WHERE {TEMPLATE_OWNER} "
            f"AND id = CAST({PRELOAD_ORDER_BASE} + n AS TEXT)), ?, 'Other', NULL, ?, ?, ? "
            "FROM numbers, copies",
            (seq, first, REFUNDS_PER_ORDER, RefundStatus.REFUND_SUCCESSFULLY.value)
            + (settled,) * 3,
        )
        db.execute(
            "INSERT INTO refund_lines (refund_seq, line_pk, quantity) "
            "SELECT r.seq, l.pk, 1 FROM refunds r JOIN order_lines l ON l.order_pk = r.order_pk "
            "WHERE r.seq > ?",
            (seq,),
        )
        db.execute("COMMIT")
        return int(last - have)
    finally:
        db.close()


def preloaded_order(n: int = 1) -> str:
    """The id of the ``n``-th preloaded order."""
    return str(PRELOAD_ORDER_BASE + n)


def _prism_command(port: int) -> list[str]:
    return [
        str(PRISM),
        "mock",
        str(ROOT / "openapi.yaml"),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-v",
        "error",
    ]


def _floor_command(port: int) -> list[str]:
    return [
        str(VENV_BIN / "python"),
        "-m",
        "uvicorn",
        "bench.floor_app:app",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def rotated(names: list[str], turn: int) -> list[str]:
    """``names`` starting at the ``turn``-th (modulo), so each leads a turn in turn."""
    start = turn % len(names)
    return names[start:] + names[:start]


def paired_ratio(ours: list[float], theirs: list[float]) -> float:
    """The median of round-by-round ratios: each pair was measured back to back, so a
    slow spell of the machine falls on both of a pair, however long it lasts."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True) if b)


def median_load(taken: list[LoadResult]) -> dict[str, Any]:
    """The median of each figure over the rounds, and each round's req/s."""
    cpu = [t.cpu_us for t in taken if t.cpu_us is not None]
    return {
        "requests_per_second": statistics.median(t.requests_per_second for t in taken),
        "p50_ms": statistics.median(t.p50_ms for t in taken),
        "p99_ms": statistics.median(t.p99_ms for t in taken),
        "cpu_us_per_request": round(statistics.median(cpu), 1) if cpu else None,
        "requests": sum(t.requests for t in taken),
        "non_2xx": sum(t.non_2xx for t in taken),
        "socket_errors": sum(t.socket_errors for t in taken),
        "rounds": [round(t.requests_per_second) for t in taken],
    }


def ratios(taken: dict[str, dict[str, list[LoadResult]]]) -> dict[str, dict[str, dict[str, float]]]:
    """Each sandbox row's paired ratios: ``vs_prism`` and ``vs_floor``, and for a PostgreSQL
    row ``vs_sqlite`` against the SQLite row of the same cache setting; only against the
    rows measured."""
    found: dict[str, dict[str, dict[str, float]]] = {}
    for name in SANDBOXES:
        if name not in taken:
            continue
        baselines = {"prism": "prism", "floor": "floor"}
        if name in SQLITE_TWIN:
            baselines["sqlite"] = SQLITE_TWIN[name]
        for operation, loads in taken[name].items():
            ours = [load.requests_per_second for load in loads]
            for label, baseline in baselines.items():
                if baseline in taken:
                    theirs = [load.requests_per_second for load in taken[baseline][operation]]
                    found.setdefault(name, {}).setdefault(operation, {})[f"vs_{label}"] = round(
                        paired_ratio(ours, theirs), 3
                    )
    return found


def with_cpu(load: Callable[[], LoadResult], cpu: Callable[[], float]) -> LoadResult:
    """``load()``'s result with the server's CPU microseconds per request (``cpu()`` is the
    server's CPU seconds so far, read before and after)."""
    before = cpu()
    taken = load()
    used = cpu() - before
    return replace(taken, cpu_us=used / taken.requests * 1e6 if taken.requests else None)


def cpu_reader(pid: int, cluster: postgres.Cluster | None = None) -> Callable[[], float]:
    """The server's CPU seconds so far: its process and what it forked, plus the whole
    cluster's for a sandbox on PostgreSQL."""

    def read() -> float:
        return tree_cpu_seconds(pid) + (cluster.cpu_seconds() if cluster else 0.0)

    return read


def _postgres_rows(args: argparse.Namespace) -> bool:
    """Whether the load table has its PostgreSQL rows: not skipped and possible here."""
    if args.skip_postgres:
        log("skipping PostgreSQL (--skip-postgres)")
        return False
    why = postgres.missing()
    if why is not None:
        print(f"bench: the PostgreSQL rows are left out: {why}", file=sys.stderr, flush=True)
        return False
    return True


def measure_servers(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The load table: the sandbox (on SQLite and on PostgreSQL, with the answer cache and
    without), Prism, the floor.

    All of them run at once, each pinned to the server core and idle while
    another is measured; the PostgreSQL cluster (one for both rows, fsync on)
    is pinned to the same core, so a PostgreSQL row's sandbox shares its core
    with its database. This machine's run-to-run noise is as large as the
    differences looked for, so the servers are measured in rounds: in each
    round, each operation on every server back to back, in rotating order.
    Each req/s is the median of its rounds, and each ratio the median of its
    rounds' ratios (:func:`paired_ratio`). Around each run the server's CPU
    time is read (a PostgreSQL row's with its cluster's) and divided by the
    requests: :func:`with_cpu`.
    """
    db, uncached_db = work / "bench.db", work / "bench-uncached.db"
    seed_bench_db(db)
    seed_bench_db(uncached_db)
    on_postgres = _postgres_rows(args)
    names = [
        n
        for n in SERVERS
        if (n != "prism" or not args.skip_prism) and (n not in ON_POSTGRES or on_postgres)
    ]
    if args.skip_prism:
        log("skipping Prism (--skip-prism)")
    ports = {name: free_port() for name in names}
    roots = {
        name: f"http://127.0.0.1:{port}/openapi"
        for name, port in ports.items()
        # Prism ignores the servers' base path: its routes start at /openapi/v2.
        if name != "prism"
    } | ({"prism": f"http://127.0.0.1:{ports['prism']}"} if "prism" in ports else {})
    info = {name: f"http://127.0.0.1:{port}/_sandbox/info" for name, port in ports.items()}
    commands: dict[str, tuple[list[str], str]] = {
        "sandbox": (sandbox_command(db, ports["sandbox"]), info["sandbox"]),
        "uncached": (
            [*sandbox_command(uncached_db, ports["uncached"]), "--no-answer-cache"],
            info["uncached"],
        ),
    }
    if "prism" in ports:
        commands["prism"] = (
            _prism_command(ports["prism"]),
            roots["prism"] + "/openapi/v2/order/orders",
        )
    commands["floor"] = (_floor_command(ports["floor"]), f"http://127.0.0.1:{ports['floor']}/")
    with contextlib.ExitStack() as running:
        cluster: postgres.Cluster | None = None
        if "postgres" in names:
            log("starting PostgreSQL (fsync on, pinned to the server core)")
            cluster = running.enter_context(postgres.cluster(SERVER_CPU if can_pin() else None))
            for name in ON_POSTGRES:
                url = cluster.server.create_database(f"bench_{name.replace('-', '_')}")
                cached = [] if name == "postgres" else ["--no-answer-cache"]
                commands[name] = ([*sandbox_command(url, ports[name]), *cached], info[name])
        pids = {name: running.enter_context(server(name, *commands[name])) for name in names}
        cpu = {
            name: cpu_reader(pids[name], cluster if name in ON_POSTGRES else None) for name in names
        }
        for name in ON_POSTGRES:
            if name in names:
                with httpx.Client() as http:  # its demo data is in; now the bench order
                    add_over_http(http, f"http://127.0.0.1:{ports[name]}")
        # Warm-up of every operation: Prism (Node) runs its first seconds of load at
        # half its speed while its JIT warms (952 then 2,186 req/s over 40 s here).
        for name in names:
            log(f"warming up {name} ({args.warm_up} s per operation)")
            load_all(roots[name], args.warm_up, args.connections)
        taken: dict[str, dict[str, list[LoadResult]]] = {
            name: {operation: [] for operation in OPERATIONS} for name in names
        }
        for round_number in range(args.load_rounds):
            log(f"load round {round_number + 1}/{args.load_rounds}")
            for turn, operation in enumerate(OPERATIONS):
                for name in rotated(names, round_number * len(OPERATIONS) + turn):
                    taken[name][operation].append(
                        with_cpu(
                            functools.partial(
                                load_one, roots[name], operation, args.duration, args.connections
                            ),
                            cpu[name],
                        )
                    )
        results: dict[str, Any] = {
            name: {
                **{op: median_load(loads) for op, loads in taken[name].items()},
                "peak_rss_mb": round(peak_rss_mb(pids[name]), 1),
            }
            for name in names
        }
        for name, operations in ratios(taken).items():
            for operation, found in operations.items():
                results[name][operation].update(found)
        with httpx.Client() as http:
            for name in SANDBOXES:
                if name not in names:
                    continue
                total = http.get(
                    roots[name] + QUERY_PATH.format(id=ORDER_ID),
                    headers={"Authorization": "Bearer demo-token"},
                ).json()["data"]["total"]
                refunds = results[name]["refund_order"]
                results[name]["refunds_created"] = total
                results[name]["every_request_a_real_refund"] = (
                    refunds["non_2xx"] == 0 and refunds["socket_errors"] == 0
                )
    return results


def measure_scale(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Refund Order and Query Refund with 1k, 100k and 1M refunds already stored.

    One database per scale. This machine's run-to-run noise is as large as the
    effect looked for, so the scales are measured in rounds, in alternating
    order (small to large, then large to small), and each figure is the median
    of its rounds. Query Refund reads a preloaded order with its ten refunds.
    """
    databases = {}
    for total in args.scales:
        log(f"preloading {total:,} refunds")
        databases[total] = work / f"scale-{total}.db"
        seed_bench_db(databases[total])
        preload_refunds(databases[total], total)
    samples: dict[int, list[dict[str, Any]]] = {total: [] for total in args.scales}
    for round_number in range(args.scale_rounds):
        order = args.scales if round_number % 2 == 0 else tuple(reversed(args.scales))
        for total in order:
            samples[total].append(_scale_run(args, databases[total], total))
    runs: dict[str, Any] = {}
    for total, taken in samples.items():
        runs[str(total)] = {
            operation: {
                "requests_per_second": statistics.median(
                    t[operation]["requests_per_second"] for t in taken
                ),
                "p99_ms": statistics.median(t[operation]["p99_ms"] for t in taken),
                "rounds": [round(t[operation]["requests_per_second"]) for t in taken],
            }
            for operation in ("refund_order", "query_refund")
        }
        runs[str(total)]["peak_rss_mb"] = max(t["peak_rss_mb"] for t in taken)
    spread = {
        operation: round(
            min(run[operation]["requests_per_second"] for run in runs.values())
            / max(run[operation]["requests_per_second"] for run in runs.values()),
            3,
        )
        for operation in ("refund_order", "query_refund")
    }
    return {"runs": runs, "rounds": args.scale_rounds, "slowest_vs_fastest": spread}


def _scale_run(args: argparse.Namespace, db: Path, total: int) -> dict[str, Any]:
    port = free_port()
    with server(
        f"sandbox ({total:,} refunds)",
        # every read runs its queries: this table measures their cost against the data
        [*sandbox_command(db, port), "--no-answer-cache"],
        f"http://127.0.0.1:{port}/_sandbox/info",
        timeout=120,
    ) as pid:
        root = f"http://127.0.0.1:{port}/openapi"
        target = preloaded_order(total // REFUNDS_PER_ORDER)
        check = httpx.get(
            root + QUERY_PATH.format(id=target),
            headers={"Authorization": "Bearer demo-token"},
        ).json()["data"]
        if check["total"] != REFUNDS_PER_ORDER:
            raise RuntimeError(f"preloaded order {target} reads back wrong: {check}")
        refund_url = root + REFUND_PATH.format(id=ORDER_ID)
        query_url = root + QUERY_PATH.format(id=target)
        # warm-up of both operations, so no run pays for a cold start
        wrk(refund_url, "refund.lua", 1, args.connections)
        wrk(query_url, "query.lua", 1, args.connections)
        refund = wrk(refund_url, "refund.lua", args.scale_duration, args.connections)
        query = wrk(query_url, "query.lua", args.scale_duration, args.connections)
        return {
            "refund_order": asdict(refund),
            "query_refund": asdict(query),
            "peak_rss_mb": round(peak_rss_mb(pid), 1),
        }


def _interleaved_us(
    contenders: dict[str, Callable[[], object]], calls: int
) -> dict[str, list[float]]:
    """Microseconds of each of ``calls`` calls of every contender, taken in turns."""
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for turn in range(calls):
        for name in rotated(names, turn):
            started = time.perf_counter()
            contenders[name]()
            times[name].append((time.perf_counter() - started) * 1e6)
    return times


def measure_clients(work: Path, calls: int) -> dict[str, Any]:
    """Per-call time of raw httpx, the generated client and the layer, on one sandbox."""
    from kakaclo_client import AuthenticatedClient
    from kakaclo_client.api.refunds import query_refund

    from kakaclo_refunds import KakacloClient

    port = free_port()
    db = work / "clients.db"
    seed_bench_db(db)
    with server(
        "sandbox (clients)", sandbox_command(db, port), f"http://127.0.0.1:{port}/_sandbox/info"
    ):
        base = f"http://127.0.0.1:{port}/openapi"
        # The same request on the wire for all three: the layer asks for the
        # largest page (list_refunds gathers every page), so the others do too.
        from kakaclo_refunds._core import MAX_PAGE_SIZE

        url = base + QUERY_PATH.format(id="10001") + f"?pageNumber=1&pageSize={MAX_PAGE_SIZE}"
        auth = {"Authorization": "Bearer demo-token"}
        # The clients on the load core, as wrk is: the server keeps its own core.
        previous = os.sched_getaffinity(0)
        if len(previous) >= 2:
            os.sched_setaffinity(0, {int(LOAD_CPU)})
        with (
            httpx.Client() as raw,
            AuthenticatedClient(base_url=base, token="demo-token") as gen,
            KakacloClient(token="demo-token", base_url=base) as layer,
        ):
            contenders: dict[str, Callable[[], object]] = {
                "raw_httpx": lambda: raw.get(url, headers=auth).json(),
                "generated_client": lambda: query_refund.sync_detailed(
                    "10001", client=gen, page_number=1, page_size=MAX_PAGE_SIZE
                ),
                "kakaclo_refunds": lambda: layer.list_refunds("10001"),
            }
            for call in contenders.values():  # warm-up
                for _ in range(50):
                    call()
            # Interleaved call by call, in rotating order: a slow spell of the machine
            # (rounds of 200 calls each drifted by a third here) hits all three alike.
            times = _interleaved_us(contenders, calls)
        os.sched_setaffinity(0, previous)
    median = {name: statistics.median(values) for name, values in times.items()}
    return {
        "per_call_us": {name: round(value, 1) for name, value in median.items()},
        "generated_vs_raw": round(median["generated_client"] / median["raw_httpx"], 3),
        "layer_vs_raw": round(median["kakaclo_refunds"] / median["raw_httpx"], 3),
        "layer_vs_generated": round(median["kakaclo_refunds"] / median["generated_client"], 3),
        "calls": calls,
    }


def _contract_run(workers: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAKACLO_")}
    env["KAKACLO_PROFILE"] = "quick"
    summary_path = ROOT / "reports" / f"bench-contract-summary-{workers}.json"
    log(f"running the contract suite (kakaclo contract, quick profile, {workers} worker(s))")
    started = time.perf_counter()
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "kakaclo"),
            "contract",
            "--workers",
            workers,
            "--summary",
            str(summary_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    summary = json.loads(summary_path.read_text())
    cases = sum(operation["cases"] for operation in summary["operations"].values())
    return {
        "passed": done.returncode == 0,
        "wall_seconds": round(wall, 1),
        "schemathesis_cases": cases,
        "cases_per_second": round(cases / wall, 1),
    }


def measure_contract() -> dict[str, Any]:
    """Wall time of ``kakaclo contract`` (quick profile, in-process) in one process and in two."""
    one, two = _contract_run("1"), _contract_run("2")
    return {
        **one,
        "two_workers": two,
        "two_vs_one": round(two["wall_seconds"] / one["wall_seconds"], 2),
    }


def _shown_ratio(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


def _shown_cpu(cpu_us: float | None) -> str:
    return "" if cpu_us is None else f"{cpu_us:.0f}"


def postgres_goals(servers: dict[str, Any]) -> str | None:
    """The goal line of the sandbox on PostgreSQL (issue 31), or None without its rows."""
    if "postgres" not in servers:
        return None

    def against_prism(name: str) -> str:
        shown = [_shown_ratio(servers[name][op].get("vs_prism")) for op in OPERATIONS]
        return ", ".join(shown) if all(shown) else "not measured (--skip-prism)"

    line = (
        "Refund Order on PostgreSQL: "
        f"{servers['postgres']['refund_order']['vs_sqlite']:.2f}x SQLite (goal >= 0.5x); "
        f"PostgreSQL vs Prism: {against_prism('postgres')} (goal >= 3x)"
    )
    if "pg-uncached" in servers:
        line += (
            "\nwithout the answer cache: Refund Order "
            f"{servers['pg-uncached']['refund_order']['vs_sqlite']:.2f}x SQLite; "
            f"vs Prism: {against_prism('pg-uncached')}"
        )
    return line


def print_servers(results: dict[str, Any]) -> None:
    """The load table, ratios against SQLite, Prism and the floor of this same run."""
    servers = results["servers"]
    print(
        "\nLoad: wrk -t1 -c{connections} -d{duration}s, server and wrk on separate cores; "
        "the median of {load_rounds} rounds in rotating order".format(**results["settings"])
    )
    print(
        f"{'server':<12} {'operation':<13} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>8} {'cpu us':>7} {'vs sqlite':>9} {'vs prism':>9} {'vs floor':>9}"
        "  rounds req/s"
    )
    for name in SERVERS:
        if name not in servers:
            continue
        for operation in OPERATIONS:
            row = servers[name][operation]
            print(
                f"{name:<12} {operation:<13} {row['requests_per_second']:>9.0f} "
                f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['non_2xx']:>8} "
                f"{_shown_cpu(row.get('cpu_us_per_request')):>7} "
                f"{_shown_ratio(row.get('vs_sqlite')):>9} "
                f"{_shown_ratio(row.get('vs_prism')):>9} {_shown_ratio(row.get('vs_floor')):>9}  "
                + " ".join(str(r) for r in row.get("rounds", []))
            )
    print(
        "vs sqlite, vs prism, vs floor: the median of the rounds' ratios, each of a pair "
        "measured back to back; vs sqlite: against the SQLite row of the same cache setting\n"
        "cpu us: the server's CPU time per request (user + system, median of the rounds); "
        "on PostgreSQL the sandbox's plus its cluster's\n"
        "uncached: the sandbox with --no-answer-cache (every read runs its queries)\n"
        "postgres, pg-uncached: the same two on PostgreSQL (one cluster, fsync on, a database "
        "each), the sandbox and the cluster sharing the one server core as the SQLite rows' "
        "sandbox has it alone"
    )
    goals = postgres_goals(servers)
    if goals is not None:
        print(goals)
    made = [n for n in SANDBOXES if n in servers]
    print(
        "\nrefunds created by the runs: "
        + ", ".join(f"{n} {servers[n]['refunds_created']}" for n in made)
        + " (every request a real refund: "
        + str(all(servers[n]["every_request_a_real_refund"] for n in made))
        + ")\npeak RSS (the server process): "
        + "; ".join(f"{n} {servers[n]['peak_rss_mb']} MiB" for n in SERVERS if n in servers)
    )


def print_scale(results: dict[str, Any]) -> None:
    """The data-scale table."""
    scale = results["scale"]
    print(
        "\nData scale: the sandbox (--no-answer-cache) with refunds already stored (wrk -d{}s, "
        "the median of {} rounds in alternating order)".format(
            results["settings"]["scale_duration"], scale["rounds"]
        )
    )
    print(
        f"{'stored':>10} {'refund req/s':>13} {'p99 ms':>7} "
        f"{'query req/s':>12} {'p99 ms':>7} {'RSS MiB':>8}"
    )
    for total, run in scale["runs"].items():
        refund, query = run["refund_order"], run["query_refund"]
        print(
            f"{int(total):>10,} {refund['requests_per_second']:>13.0f} {refund['p99_ms']:>7.2f} "
            f"{query['requests_per_second']:>12.0f} {query['p99_ms']:>7.2f} {run['peak_rss_mb']:>8}"
        )
    spread = scale["slowest_vs_fastest"]
    print(
        f"slowest / fastest: Refund Order {spread['refund_order']:.2f}, "
        f"Query Refund {spread['query_refund']:.2f} (goal: >= 0.80)"
    )


def print_clients(results: dict[str, Any]) -> None:
    """The clients' per-call figures."""
    clients = results["clients"]
    per_call = clients["per_call_us"]
    print(
        f"\nClient, Query Refund, median us per call over {clients['calls']} calls: "
        f"raw httpx {per_call['raw_httpx']}, generated {per_call['generated_client']} "
        f"({clients['generated_vs_raw']}x), kakaclo_refunds {per_call['kakaclo_refunds']} "
        f"({clients['layer_vs_raw']}x raw, {clients['layer_vs_generated']}x generated; "
        "goals <= 1.2x raw, <= 1.1x generated)"
    )


def print_contract(results: dict[str, Any]) -> None:
    """The contract suite's wall time."""
    contract = results["contract"]
    two = contract["two_workers"]
    print(
        f"\nContract suite, quick profile: {contract['wall_seconds']} s, "
        f"{contract['schemathesis_cases']} schemathesis cases, "
        f"{contract['cases_per_second']} cases/s, passed: {contract['passed']}; "
        f"--workers 2: {two['wall_seconds']} s ({contract['two_vs_one']}x), "
        f"{two['schemathesis_cases']} cases, passed: {two['passed']}"
    )


def print_table(results: dict[str, Any]) -> None:
    """The terminal tables of the sections measured (all of them, unless --only)."""
    for section, show in (
        ("servers", print_servers),
        ("scale", print_scale),
        ("clients", print_clients),
        ("contract", print_contract),
    ):
        if section in results:
            show(results)


def main() -> int:
    """Run every measurement and report."""
    from bench import data_load as data_load_bench  # it imports this module
    from bench import feeds as feeds_bench  # it imports this module
    from bench import proxy as proxy_bench  # it imports this module
    from bench import reservation as reservation_bench
    from bench import team as team_bench  # it imports this module

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=int, default=5, help="seconds per wrk run of the load table"
    )
    parser.add_argument(
        "--load-rounds", type=int, default=5, help="rounds of the load table (median)"
    )
    parser.add_argument(
        "--warm-up",
        type=int,
        default=5,
        help="seconds of load per operation on each server before the load table's rounds",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--client-calls", type=int, default=1000, help="calls per client")
    parser.add_argument("--skip-prism", action="store_true", help="leave Prism out")
    parser.add_argument(
        "--skip-postgres",
        action="store_true",
        help="leave the sandbox on PostgreSQL out (the load table's rows, the team table)",
    )
    parser.add_argument(
        "--only",
        choices=SECTIONS,
        help="run this section alone (servers: the load table)",
    )
    parser.add_argument(
        "--scale-duration", type=int, default=3, help="seconds per wrk run of the data-scale table"
    )
    parser.add_argument(
        # five: its rounds spread by a quarter here, and three medians of them
        # spread 0.73 in one run where five gave 0.92
        "--scale-rounds",
        type=int,
        default=5,
        help="rounds of the data-scale table (median)",
    )
    parser.add_argument(
        "--scales",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=SCALES,
        help="refunds stored before each data-scale run (comma-separated)",
    )
    parser.add_argument(
        "--team-duration", type=int, default=3, help="seconds per wrk run of the team table"
    )
    parser.add_argument(
        "--team-rounds", type=int, default=3, help="rounds of the team table (median)"
    )
    parser.add_argument(
        "--team-warm-up",
        type=int,
        default=2,
        help="seconds of load per operation on each team server before its rounds",
    )
    proxy_bench.add_arguments(parser)
    reservation_bench.add_arguments(parser)
    args = parser.parse_args()
    wanted = {args.only} if args.only else set(SECTIONS)
    load_tools = bool(wanted - WITHOUT_LOAD_TOOLS)
    # a kill of the bench stops what it started, as Ctrl-C does (the blocks' exits run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if load_tools and not shutil.which("wrk"):
        sys.exit("bench needs wrk (make bench installs it with apt-get)")
    if load_tools and not args.skip_prism and not PRISM.exists():
        sys.exit(f"bench needs Prism at {PRISM} (make bench installs it with npm)")
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "duration": args.duration,
            "load_rounds": args.load_rounds,
            "connections": args.connections,
            "scale_duration": args.scale_duration,
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "servers" in wanted:
            results["servers"] = measure_servers(args, work)
        if "team" in wanted and _postgres_rows(args):
            log("measuring the team sandbox: 1 and 2 workers on PostgreSQL, and SQLite")
            results["team"] = team_bench.measure_team(args, work)
        if "scale" in wanted:
            results["scale"] = measure_scale(args, work)
        if "clients" in wanted:
            log("measuring client overhead")
            results["clients"] = measure_clients(work, args.client_calls)
        if "feeds" in wanted:
            log("measuring the console's feeds against another tenant's calls")
            results["feeds"] = feeds_bench.measure_feeds(work)
        if "data_load" in wanted:
            log("measuring a 100,000-order data file's load against a 10,000-order one")
            results["data_load"] = data_load_bench.measure_data_load(work)
        if "proxy" in wanted:
            log("measuring the validating proxy against direct")
            results["proxy"] = proxy_bench.measure_proxy(
                argparse.Namespace(**{**vars(args), "duration": args.duration_proxy}), work
            )
    if "contract" in wanted:
        results["contract"] = measure_contract()
    if "reservation" in wanted and _postgres_rows(args):
        log("measuring how pieces are reserved under races: row lock vs serializable")
        results["reservation"] = reservation_bench.measure_reservation(
            reservation_bench.settings_of(args)
        )
    # a section run alone keeps a report of its own: the whole run's stays as it was
    report = REPORT.with_name(f"bench-{args.only}.json") if args.only else REPORT
    report.parent.mkdir(exist_ok=True)
    report.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    if "team" in results:
        team_bench.print_team(results["team"])
    if "proxy" in results:
        proxy_bench.print_proxy(results["proxy"])
    if "feeds" in results:
        feeds_bench.print_feeds(results["feeds"])
    if "data_load" in results:
        data_load_bench.print_data_load(results["data_load"])
    if "reservation" in results:
        reservation_bench.print_reservation(results["reservation"])
    print(f"\nsaved to {report.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
