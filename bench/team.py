"""``make bench``'s team section: the sandbox on PostgreSQL as a team, beside one SQLite process.

Refund Order and Query Refund against five servers, all running at once, each
idle while another is measured, in rounds (in each, one operation on every
server back to back, in rotating order, as the load table does):

- ``sqlite``: one process on a SQLite file (the load table's ``sandbox``);
- ``pg-1``: ``--workers 1`` on PostgreSQL, alone on its database: its memory is the
  record, so a request reads nothing first;
- ``pg-1-shared``: the same, with a second, idle ``kakaclo-sandbox`` attached to its
  database: every request first runs the glance (one statement), every refund batch
  notifies the idle one, whose listener wakes for it;
- ``pg-2``: ``--workers 2``, two processes on one port, sharing;
- ``pg-2-bucket``: ``--workers 2`` with a rate limit no request reaches: every request
  also pours into its token's bucket row, and wrk sends every request with one token
  (``demo-token``), so every request updates that one row.

The PostgreSQL rows share one cluster (fsync on), a database each. Nothing is
pinned: on two cores the sandbox's processes, the cluster and wrk share both, so
the scaling ratio (``pg-2`` over ``pg-1``, paired per round) says what a second
process gains where the database and the load are on the same cores.

Around each run it reads each server's CPU time (every process of it, the idle
partner's and the whole cluster's included) and the cluster's transaction id
counter (``pg_current_snapshot()``'s xmax, which takes none: every transaction
that wrote took one, so the difference is the write commits, exact and at once).
Not ``pg_stat_database.xact_commit``: a backend reports it at most once a second,
and an idle one within 10 s, so around a run of a few seconds it mixes in the
previous run's transactions (a Refund Order run read 5 commits per request that
way, where the statements logged show one glance per request and a batch and a
version move per batch).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from bench import postgres, run
from bench.cpu import tree_cpu_seconds
from bench.orders import ORDER_ID, TOKEN, add_over_http

OPERATIONS = ("refund_order", "query_refund")
# A rate limit no run reaches (the sandbox's largest), so the bucket row is written by
# every request and refuses none.
UNREACHED_LIMIT = "1000000/1000000"
STOP_SECONDS = 10.0
PROC = Path("/proc")


@dataclass(frozen=True)
class Member:
    """One row of the team table: how its server runs."""

    name: str
    postgres: bool = True
    workers: int = 1
    partner: bool = False  # an idle second process attached to the same database
    bucket: bool = False  # the rate limit on (unreached): the bucket row in every request

    @property
    def processes(self) -> int:
        """The sandbox processes attached to its database while it serves."""
        return self.workers + (1 if self.partner else 0)

    @property
    def alone(self) -> bool:
        """Whether its one process is alone on its database (no glance)."""
        return self.processes == 1


TEAM = (
    Member("sqlite", postgres=False),
    Member("pg-1"),
    Member("pg-1-shared", partner=True),
    Member("pg-2", workers=2),
    Member("pg-2-bucket", workers=2, bucket=True),
)
# Each row's paired ratios besides vs sqlite: against the rows named here.
AGAINST = {
    "pg-1-shared": ("pg-1",),
    "pg-2": ("pg-1", "pg-1-shared"),
    "pg-2-bucket": ("pg-2",),
}
RATIO_COLUMNS = ("sqlite", "pg-1", "pg-1-shared", "pg-2")


# -- processes --------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    # after the command name: [0] state, [1] ppid, [2] process group
    return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()


def group(pgid: int) -> list[int]:
    """The living processes of process group ``pgid`` (zombies are dead: left out)."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(int(entry.name))
            except (OSError, IndexError):
                continue  # gone while we looked
            if fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return sorted(found)


def stop(process: subprocess.Popen[bytes], stop_seconds: float = STOP_SECONDS) -> None:
    """Stop a server started in a session of its own: SIGTERM to it (a supervisor stops
    its workers), then SIGKILL to whatever is left of its process group, and wait until
    none of it runs."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=stop_seconds)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + stop_seconds
    while (left := group(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)  # a SIGKILL is delivered, not done, when kill() returns
    if left:
        raise RuntimeError(f"processes {left} of a bench server outlived SIGKILL")


@contextlib.contextmanager
def started(
    name: str,
    command: list[str],
    ready_url: str,
    *,
    timeout: float = 60.0,
    stop_seconds: float = STOP_SECONDS,
) -> Iterator[int]:
    """Run a server, unpinned, in a process group of its own until the block ends, however
    it ends (an exception, Ctrl-C: the group is not the terminal's, so the bench stops it);
    yield its pid once ``ready_url`` answers."""
    run.log(f"starting {name}")
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            run.wait_until_ready(name, process, out, ready_url, timeout)
            yield process.pid
        finally:
            stop(process, stop_seconds)


def sandbox_command(db: Path | str, port: int, member: Member) -> list[str]:
    """The load table's sandbox command, with the member's workers and rate limit."""
    command = run.sandbox_command(db, port)
    if member.workers > 1:
        command += ["--workers", str(member.workers)]
    if member.bucket:
        command[command.index("--rate-limit") + 1] = UNREACHED_LIMIT
    return command


# -- PostgreSQL's counters ----------------------------------------------------------


class Counters:
    """The cluster's counters, on one autocommit connection (each read a snapshot of now)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    def _one(self, query: str, *params: object) -> int:
        row = self.connection.execute(query, params).fetchone()
        assert row is not None
        return int(row[0])

    def xids(self) -> int:
        """The next transaction id: every transaction that wrote, so far (takes none)."""
        return self._one("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")

    def attached(self, database: str) -> tuple[int, bool]:
        """Sandbox processes attached to ``database``, and whether one of them is alone
        (membership.py's advisory locks: ``ATTACHED`` held shared by each, ``ALONE``
        exclusively by a process alone)."""
        from kakaclo_sandbox.storage.postgres.membership import ALONE, ATTACHED, NAMESPACE

        row = self.connection.execute(
            "SELECT count(*) FILTER (WHERE l.objid = %s AND l.mode = 'ShareLock'), "
            "bool_or(l.objid = %s AND l.mode = 'ExclusiveLock') "
            "FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND d.datname = %s",
            (ATTACHED, ALONE, NAMESPACE, database),
        ).fetchone()
        assert row is not None
        return int(row[0]), bool(row[1])

    def wait_attached(self, database: str, member: Member, timeout: float = 60.0) -> None:
        """Wait until the member's processes have all joined its database (and one is alone
        only where it should be): the rows measure what they claim."""
        deadline = time.monotonic() + timeout
        while (found := self.attached(database)) != (member.processes, member.alone):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{member.name}: {found[0]} process(es) attached to {database}, "
                    f"alone {found[1]}; expected {member.processes}, alone {member.alone}"
                )
            time.sleep(0.1)  # waiting for spawned workers to join


# -- one run -------------------------------------------------------------------------


@dataclass
class Run:
    """One wrk run of one member, with what its counters moved by."""

    load: run.LoadResult
    seconds: float
    partner_cpu: float | None = None  # CPU seconds of the idle partner
    write_commits: int | None = None


@dataclass
class Probe:
    """How to read one member's counters."""

    cpu: Callable[[], float]  # every process of the server, its partner, its cluster
    partner: Callable[[], float] | None = None
    xids: Callable[[], int] | None = None  # the cluster's transaction id counter

    def read(self) -> dict[str, float]:
        """The counters now."""
        now = {"cpu": self.cpu()}
        if self.partner is not None:
            now["partner"] = self.partner()
        if self.xids is not None:
            now["xids"] = self.xids()
        return now


def measured(load: Callable[[], run.LoadResult], probe: Probe) -> Run:
    """``load()`` with the member's counters read before and after."""
    before = probe.read()
    started_at = time.perf_counter()
    taken = load()
    seconds = time.perf_counter() - started_at
    after = probe.read()
    moved = {key: after[key] - before[key] for key in before}
    cpu_us = moved["cpu"] / taken.requests * 1e6 if taken.requests else None
    return Run(
        load=replace(taken, cpu_us=cpu_us),
        seconds=seconds,
        partner_cpu=moved.get("partner"),
        write_commits=int(moved["xids"]) if "xids" in moved else None,
    )


# -- figures ------------------------------------------------------------------------


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def summary(runs: list[Run]) -> dict[str, Any]:
    """A member's figures for one operation: the load table's medians, the write commits
    per second and the partner's CPU per request (medians of the rounds), and over all
    rounds together the write commits per 2xx answer and its inverse (Refund Order: the
    refunds per batch; None where nothing was written, as a read's few stray commits of
    the cluster's own would make a meaningless ratio of thousands)."""
    row = run.median_load([r.load for r in runs])
    counted = [r for r in runs if r.write_commits is not None]
    per_second = [r.write_commits / r.seconds for r in counted if r.write_commits is not None]
    partner = [r.partner_cpu / r.load.requests * 1e6 for r in runs if r.partner_cpu is not None]
    row["write_commits_per_second"] = _median(per_second)
    row["partner_cpu_us_per_request"] = _median(partner)
    commits = sum(r.write_commits or 0 for r in counted)
    answers = sum(r.load.requests - r.load.non_2xx for r in counted)
    row["write_commits_per_request"] = round(commits / answers, 4) if counted and answers else None
    # 1% of the answers: fewer commits than that are not the requests' own
    row["answers_per_write_commit"] = (
        round(answers / commits, 2) if counted and commits * 100 >= answers else None
    )
    return row


def team_ratios(taken: Mapping[str, Mapping[str, list[run.LoadResult]]]) -> dict[str, Any]:
    """Each member's paired ratios (the median of the rounds' req/s ratios): ``vs_sqlite``
    for every PostgreSQL row, and ``vs_<row>`` for the rows :data:`AGAINST` names; only
    against the rows measured."""
    found: dict[str, dict[str, dict[str, float]]] = {}
    for name, loads in taken.items():
        if name == "sqlite":
            continue
        for baseline in ("sqlite", *AGAINST.get(name, ())):
            if baseline not in taken:
                continue
            for operation, ours in loads.items():
                theirs = taken[baseline][operation]
                found.setdefault(name, {}).setdefault(operation, {})[f"vs_{baseline}"] = round(
                    run.paired_ratio(
                        [t.requests_per_second for t in ours],
                        [t.requests_per_second for t in theirs],
                    ),
                    3,
                )
    return found


# -- the section ----------------------------------------------------------------------


@dataclass
class Server:
    """A member running: where to send load, how to read it."""

    member: Member
    root: str
    probe: Probe
    pids: list[int] = field(default_factory=list)


def _start(
    member: Member,
    running: contextlib.ExitStack,
    work: Path,
    cluster: postgres.Cluster | None,
    counters: Counters | None,
) -> Server:
    port = run.free_port()
    info = f"http://127.0.0.1:{port}/_sandbox/info"
    if not member.postgres:
        db: Path | str = work / "team.db"
        run.seed_bench_db(Path(db))
        pid = running.enter_context(started(member.name, sandbox_command(db, port, member), info))
        return Server(member, f"http://127.0.0.1:{port}/openapi", Probe(run.cpu_reader(pid)), [pid])
    assert cluster is not None and counters is not None
    database = "team_" + member.name.replace("-", "_")
    db = cluster.server.create_database(database)
    pid = running.enter_context(started(member.name, sandbox_command(db, port, member), info))
    pids = [pid]
    partner: Callable[[], float] | None = None
    if member.partner:
        other = run.free_port()
        partner_pid = running.enter_context(
            started(
                f"{member.name}'s idle partner",
                sandbox_command(db, other, Member("partner", bucket=member.bucket)),
                f"http://127.0.0.1:{other}/_sandbox/info",
            )
        )
        pids.append(partner_pid)
        partner = cpu_of(partner_pid)
    counters.wait_attached(database, member)
    with httpx.Client() as http:  # its demo data is in; now the bench order
        add_over_http(http, f"http://127.0.0.1:{port}")
    whole = cluster

    def cpu() -> float:
        return sum(tree_cpu_seconds(p) for p in pids) + whole.cpu_seconds()

    return Server(
        member,
        f"http://127.0.0.1:{port}/openapi",
        Probe(cpu, partner, counters.xids),
        pids,
    )


def cpu_of(pid: int) -> Callable[[], float]:
    """The CPU seconds so far of ``pid`` and what it forked."""
    return lambda: tree_cpu_seconds(pid)


def refunds_created(root: str) -> int:
    """The refunds the bench order holds (Query Refund's total)."""
    answer = httpx.get(
        root + run.QUERY_PATH.format(id=ORDER_ID), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    return int(answer.json()["data"]["total"])


def measure_team(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The team table: every member of :data:`TEAM` under wrk, in rounds, unpinned."""
    with contextlib.ExitStack() as running:
        run.log("starting PostgreSQL for the team rows (fsync on, unpinned)")
        cluster = running.enter_context(postgres.cluster(None))
        counters = Counters(cluster.server.url())
        running.callback(counters.close)
        servers = {m.name: _start(m, running, work, cluster, counters) for m in TEAM}
        names = list(servers)
        for name in names:
            run.log(f"warming up {name} ({args.team_warm_up} s per operation)")
            for operation in OPERATIONS:
                run.load_one(
                    servers[name].root, operation, args.team_warm_up, args.connections, cpu=None
                )
        taken: dict[str, dict[str, list[Run]]] = {
            name: {operation: [] for operation in OPERATIONS} for name in names
        }
        for round_number in range(args.team_rounds):
            run.log(f"team round {round_number + 1}/{args.team_rounds}")
            for turn, operation in enumerate(OPERATIONS):
                for name in run.rotated(names, round_number * len(OPERATIONS) + turn):
                    server = servers[name]
                    taken[name][operation].append(
                        measured(
                            functools.partial(
                                run.load_one,
                                server.root,
                                operation,
                                args.team_duration,
                                args.connections,
                                cpu=None,
                            ),
                            server.probe,
                        )
                    )
        rows: dict[str, Any] = {
            name: {op: summary(runs) for op, runs in taken[name].items()} for name in names
        }
        loads = {
            name: {op: [r.load for r in runs] for op, runs in ops.items()}
            for name, ops in taken.items()
        }
        for name, operations in team_ratios(loads).items():
            for operation, found in operations.items():
                rows[name][operation].update(found)
        for name in names:
            refunds = rows[name]["refund_order"]
            rows[name]["refunds_created"] = refunds_created(servers[name].root)
            rows[name]["every_request_a_real_refund"] = (
                refunds["non_2xx"] == 0 and refunds["socket_errors"] == 0
            )
            rows[name]["processes"] = servers[name].member.processes
    return {
        "rows": rows,
        "rounds": args.team_rounds,
        "duration": args.team_duration,
        "connections": args.connections,
        "cpus": os.cpu_count(),
    }


# -- the table ---------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def scaling_line(rows: Mapping[str, Any]) -> str | None:
    """The scaling ratio's line (2 workers / 1 worker, alone and sharing), or None."""
    if "pg-2" not in rows:
        return None
    parts = []
    for operation in OPERATIONS:
        row = rows["pg-2"][operation]
        parts.append(
            f"{operation} {_ratio(row.get('vs_pg-1'))} "
            f"(vs 1 worker that shares: {_ratio(row.get('vs_pg-1-shared'))})"
        )
    return "scaling ratio, 2 workers / 1 worker, paired per round: " + "; ".join(parts)


def print_team(team: Mapping[str, Any]) -> None:
    """The team table, its ratios, commits and the legend."""
    rows = team["rows"]
    print(
        f"\nTeam: wrk -t1 -c{team['connections']} -d{team['duration']}s, "
        f"the median of {team['rounds']} rounds in rotating order; nothing pinned"
    )
    print(
        f"{'server':<12} {'operation':<13} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'non-2xx':>7} {'cpu us':>7} "
        + " ".join(f"{'vs ' + c:>14}" for c in RATIO_COLUMNS)
        + f" {'commits/s':>9} {'commits/req':>11}  rounds req/s"
    )
    for name, row in rows.items():
        for operation in OPERATIONS:
            figures = row[operation]
            print(
                f"{name:<12} {operation:<13} {figures['requests_per_second']:>7.0f} "
                f"{figures['p50_ms']:>7.2f} {figures['p99_ms']:>7.2f} {figures['non_2xx']:>7} "
                f"{_number(figures.get('cpu_us_per_request')):>7} "
                + " ".join(f"{_ratio(figures.get('vs_' + c)):>14}" for c in RATIO_COLUMNS)
                + f" {_number(figures.get('write_commits_per_second')):>9}"
                f" {_number(figures.get('write_commits_per_request'), 3):>11}  "
                + " ".join(str(r) for r in figures.get("rounds", []))
            )
    line = scaling_line(rows)
    if line is not None:
        print(line)
    shared = rows.get("pg-1-shared", {}).get("refund_order", {})
    if shared.get("partner_cpu_us_per_request") is not None:
        print(
            "NOTIFY fan-out: the idle process attached to pg-1-shared's database used "
            f"{shared['partner_cpu_us_per_request']:.0f} us of CPU per refund "
            "(its listener woken by each batch's notification)"
        )
    batches = [
        f"{name} {rows[name]['refund_order']['answers_per_write_commit']:.1f}"
        for name in rows
        if rows[name]["refund_order"].get("answers_per_write_commit") is not None
    ]
    if batches:
        print("refunds per write commit (a batch per process at a time): " + ", ".join(batches))
    made = ", ".join(f"{n} {rows[n]['refunds_created']}" for n in rows)
    real = all(rows[n]["every_request_a_real_refund"] for n in rows)
    print(f"refunds created: {made} (every request a real refund: {real})")
    print(
        "sqlite: one process on a SQLite file; pg-1: --workers 1 on PostgreSQL, alone on its "
        "database (no glance); pg-1-shared: pg-1 with a second, idle kakaclo-sandbox attached "
        "to its database (every request glances, every batch notifies it); pg-2: --workers 2; "
        "pg-2-bucket: pg-2 with a rate limit no request reaches (each request updates its "
        "token's bucket row; wrk sends one token, so one row)\n"
        "pinning: none; on "
        f"{team['cpus']} cores the sandbox's processes, the PostgreSQL cluster (fsync on) and "
        "wrk share all of them, so a second worker competes with the cluster and wrk for the "
        "same cores\n"
        "cpu us: CPU time per request of every process of the row (workers, supervisor, the idle "
        "partner) plus the whole cluster's; commits/s, commits/req: write commits (transaction "
        "ids taken, exact) per second and per 2xx answer"
    )
