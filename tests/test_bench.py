"""The bench's own machinery: the bulk-preloaded refunds, the load table's medians, ratios,
CPU readers and printed rows, the bench's PostgreSQL cluster and its seeding, and the
profile's frame tables."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bench import postgres
from bench.cpu import cpu_seconds, descendants, tree_cpu_seconds
from bench.orders import ORDER_ID, PIECES, REFUND_BODY, add_over_http
from bench.profile import top_frames
from bench.run import (
    OPERATIONS,
    REFUNDS_PER_ORDER,
    LoadResult,
    _interleaved_us,
    median_load,
    paired_ratio,
    preload_refunds,
    preloaded_order,
    print_table,
    ratios,
    rotated,
    seed_bench_db,
    with_cpu,
)
from kakaclo_sandbox import create_app
from tests.tools import missing

AUTH = {"Authorization": "Bearer demo-token"}
API = "/openapi/openapi/v2/order/orders"


def test_preloaded_refunds_read_back_through_the_api_as_settled_refunds(tmp_path: Path) -> None:
    db = tmp_path / "scale.db"
    seed_bench_db(db)
    assert preload_refunds(db, 1_000) == 100
    assert preload_refunds(db, 1_000) == 0  # already there: nothing added
    assert preload_refunds(db, 2_000) == 100  # grows on from where it was
    with TestClient(create_app(db=str(db), rate_limit=None)) as client:
        for n in (1, 100, 200):
            order_id = preloaded_order(n)
            refunds = client.get(f"{API}/refund/{order_id}", headers=AUTH).json()["data"]
            assert refunds["total"] == REFUNDS_PER_ORDER
            assert {r["refundStatus"] for r in refunds["list"]} == {"refund_successfully"}
            order = client.get(API, params={"ids": order_id}, headers=AUTH).json()["data"]
            (shown,) = order["list"]
            assert shown["refundedAmount"] + shown["refundableAmount"] == shown["finalAmount"]
            assert shown["refundedAmount"] > 0
        # the copies are refundable like any order: half of the line's pieces are left
        answer = client.post(
            f"{API}/{preloaded_order(1)}/refund",
            json={"orderItems": [{**_line_of(client, preloaded_order(1)), "quantity": 10}]},
            headers=AUTH,
        )
        assert answer.status_code == 200, answer.text
        missing = client.get(f"{API}/refund/{preloaded_order(201)}", headers=AUTH)
        assert missing.status_code == 404  # 2,000 refunds: 200 orders, no more


def _line_of(client: TestClient, order_id: str) -> dict[str, object]:
    order = client.get(API, params={"ids": order_id}, headers=AUTH).json()["data"]["list"][0]
    line = order["orderItems"][0]
    return {
        "itemId": line["itemId"],
        "skuCode": line["skuCode"],
        "countryCode": line["countryCode"],
    }


def test_the_load_table_takes_the_median_of_its_rounds_and_counts_every_error() -> None:
    rounds = [
        LoadResult(900.0, 1.0, 9.0, 9000, 0, 0),
        LoadResult(5000.0, 0.5, 2.0, 50000, 2, 0),
        LoadResult(3000.0, 0.7, 4.0, 30000, 0, 1),
    ]
    row = median_load(rounds)
    assert (row["requests_per_second"], row["p50_ms"], row["p99_ms"]) == (3000.0, 0.7, 4.0)
    assert (row["requests"], row["non_2xx"], row["socket_errors"]) == (89000, 2, 1)
    assert row["rounds"] == [900, 5000, 3000]


def test_the_clients_are_timed_call_by_call_in_rotating_turns() -> None:
    order: list[str] = []

    def note(name: str) -> Callable[[], object]:
        return lambda: order.append(name)

    contenders = {name: note(name) for name in "abc"}
    times = _interleaved_us(contenders, 4)
    assert order == list("abcbcacababc")
    assert {name: len(samples) for name, samples in times.items()} == {"a": 4, "b": 4, "c": 4}
    assert all(sample >= 0 for samples in times.values() for sample in samples)


def test_top_frames_share_own_and_total_time() -> None:
    collapsed = "main;handle;query 6\nmain;handle;render 3\nmain;idle 1\nnot a stack line\n"
    own, total = top_frames(collapsed, 2)
    assert own == [("query", 0.6), ("render", 0.3)]
    assert total == [("main", 1.0), ("handle", 0.9)]
    assert top_frames("", 5) == ([], [])


def test_the_paced_load_sends_its_schedule_and_times_each_answer() -> None:
    import asyncio

    from bench.paced import paced
    from tests.proxy.servers import sandbox_app, upstream

    with upstream(sandbox_app()) as base_url:
        url = base_url + "/openapi/v2/order/orders/refund/10001"
        latencies = asyncio.run(paced(url, 100, 0.3, {"Authorization": "Bearer demo-token"}))
    assert len(latencies) == 30
    assert all(0 < latency < 10 for latency in latencies)


def test_the_load_table_rotates_who_leads_and_pairs_its_ratios() -> None:
    names = ["sandbox", "uncached", "prism", "floor"]
    leaders = [rotated(names, turn)[0] for turn in range(5)]
    assert leaders == ["sandbox", "uncached", "prism", "floor", "sandbox"]
    assert sorted(rotated(names, 6)) == sorted(names)
    # a slow spell halves both runs of round 2: the pairs keep the ratio at 3
    assert paired_ratio([3000, 1500, 3300], [1000, 500, 1100]) == 3.0
    assert paired_ratio([10, 20, 30], [10, 10, 10]) == 2.0  # the median of 1, 2, 3


def _load(rps: float, cpu_us: float | None = None) -> LoadResult:
    return LoadResult(rps, 1.0, 5.0, int(rps), 0, 0, cpu_us)


def test_the_postgres_rows_get_paired_ratios_against_sqlite_of_the_same_cache_setting() -> None:
    def rows(*rps: float) -> dict[str, list[LoadResult]]:
        return {operation: [_load(r) for r in rps] for operation in OPERATIONS}

    taken = {
        "sandbox": rows(4000, 2000),
        "uncached": rows(3000, 1500),
        "postgres": rows(2000, 1000),
        "pg-uncached": rows(600, 300),
        "prism": rows(500, 250),
    }
    found = ratios(taken)
    assert found["postgres"]["refund_order"] == {"vs_prism": 4.0, "vs_sqlite": 0.5}
    assert found["pg-uncached"]["query_refund"] == {"vs_prism": 1.2, "vs_sqlite": 0.2}
    assert found["sandbox"]["query_orders"] == {"vs_prism": 8.0}  # no floor measured
    assert "prism" not in found


def test_the_cpu_per_request_is_the_servers_cpu_time_around_the_run_and_its_median() -> None:
    readings = iter([10.0, 10.5])  # seconds of CPU before and after
    taken = with_cpu(lambda: _load(2000.0), lambda: next(readings))
    assert taken.cpu_us == 250.0  # 0.5 s over 2,000 requests
    assert median_load([_load(1, 300.0), taken, _load(1, 100.0)])["cpu_us_per_request"] == 250.0
    assert median_load([_load(1)])["cpu_us_per_request"] is None


def test_the_cpu_reader_counts_a_process_its_children_and_the_ones_that_ended() -> None:
    # A parent that forks a child burning CPU, then one that ends after burning some;
    # the parent waits for it, so the ended child's time is in the parent's cutime.
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    script = (
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, '-c', {burn!r}])\n"
        "sys.stdout.write('ended\\n'); sys.stdout.flush()\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'],"
        " stdin=subprocess.PIPE)\n"
        "sys.stdout.write(str(child.pid) + '\\n'); sys.stdout.flush()\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout is not None
            assert parent.stdout.readline() == "ended\n"
            child = int(parent.stdout.readline())
            assert descendants(parent.pid) == [child]
            own = cpu_seconds(parent.pid) + cpu_seconds(child)
            assert tree_cpu_seconds(parent.pid) >= own + 0.25  # the ended child's 0.3 s
        finally:
            parent.kill()


def _fake_row(rps: float, **extra: float) -> dict[str, Any]:
    return {
        "requests_per_second": rps,
        "p50_ms": 2.0,
        "p99_ms": 9.0,
        "cpu_us_per_request": 123.4,
        "non_2xx": 0,
        "rounds": [round(rps)],
        **extra,
    }


def _fake_server(rps: float, **extra: float) -> dict[str, Any]:
    return {
        **{operation: _fake_row(rps, **extra) for operation in OPERATIONS},
        "peak_rss_mb": 60.0,
        "refunds_created": 100,
        "every_request_a_real_refund": True,
    }


def test_the_load_table_prints_the_postgres_rows_and_the_goal_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = {
        "settings": {"connections": 32, "duration": 5, "load_rounds": 5},
        "servers": {
            "sandbox": _fake_server(4000, vs_prism=4.0),
            "postgres": _fake_server(2400, vs_prism=3.2, vs_sqlite=0.6),
            "pg-uncached": _fake_server(900, vs_prism=1.1, vs_sqlite=0.25),
            "prism": _fake_server(1000),
        },
    }
    print_table(results)  # only the load table: the sections not run are left out
    printed = capsys.readouterr().out
    (row,) = [line for line in printed.splitlines() if line.startswith("postgres     query_refund")]
    assert row.split()[2:] == ["2400", "2.00", "9.00", "0", "123", "0.60x", "3.20x", "2400"]
    assert len([line for line in printed.splitlines() if line.startswith("pg-uncached ")]) == 3
    assert (
        "Refund Order on PostgreSQL: 0.60x SQLite (goal >= 0.5x); "
        "PostgreSQL vs Prism: 3.20x, 3.20x, 3.20x (goal >= 3x)" in printed
    )
    assert "without the answer cache: Refund Order 0.25x SQLite; vs Prism: 1.10x" in printed
    assert "sharing the one server core" in printed


@pytest.fixture(scope="module")
def bench_cluster() -> Iterator[postgres.Cluster]:
    """The bench's PostgreSQL cluster (fsync off here: nothing is timed)."""
    why = postgres.missing()
    if why is not None:
        missing(why)
    pin = "0" if (os.cpu_count() or 1) >= 2 else None
    with postgres.cluster(pin, fsync=False) as cluster:
        yield cluster


def test_the_bench_cluster_is_pinned_and_its_cpu_reader_finds_every_backend(
    bench_cluster: postgres.Cluster,
) -> None:
    import psycopg

    connection = psycopg.connect(bench_cluster.server.url(), autocommit=True)
    row = connection.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    backend = int(row[0])
    pids = bench_cluster.pids()
    assert pids[0] == bench_cluster.postmaster
    assert backend in pids  # forked after the start: found by its ppid
    assert len(pids) >= 4  # the checkpointer, the writers, the launchers
    if (os.cpu_count() or 1) >= 2:
        # pinned at the start, and the backend forked later inherited it
        assert {frozenset(os.sched_getaffinity(pid)) for pid in pids} == {frozenset({0})}
    connection.execute("SELECT count(*) FROM generate_series(1, 3000000)")
    during = bench_cluster.cpu_seconds()
    connection.close()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{backend}").exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for the postmaster to reap the backend
    assert backend not in bench_cluster.pids()
    # the ended backend's time stays counted (the postmaster's cutime)
    assert bench_cluster.cpu_seconds() >= during - 0.02


def test_the_bench_order_added_over_http_is_refundable_on_postgresql(
    bench_cluster: postgres.Cluster,
) -> None:
    url = bench_cluster.server.create_database()
    app = create_app(db=url, rate_limit=None)
    try:
        with TestClient(app) as client:
            add_over_http(client)
            for _ in range(2):
                answer = client.post(
                    f"{API}/{ORDER_ID}/refund",
                    content=REFUND_BODY,
                    headers={**AUTH, "Content-Type": "application/json"},
                )
                assert answer.status_code == 200, answer.text
            refunds = client.get(f"{API}/refund/{ORDER_ID}", headers=AUTH).json()["data"]
            assert refunds["total"] == 2
            order = client.get(API, params={"ids": ORDER_ID}, headers=AUTH).json()["data"]
            (line,) = order["list"][0]["orderItems"]
            assert line["productNum"] == PIECES
            demo = client.get(API, params={"ids": "10001"}, headers=AUTH).json()["data"]
            assert demo["total"] == 1  # the reads' demo order is there too
    finally:
        app.state.sandbox.close()


def test_without_postgresql_the_bench_says_how_to_get_it_and_leaves_its_rows_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from bench.run import _postgres_rows

    monkeypatch.setattr(postgres, "BINARIES", "/nonexistent/postgresql/*/bin/initdb")
    assert _postgres_rows(argparse.Namespace(skip_postgres=False)) is False
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "bench: the PostgreSQL rows are left out: needs PostgreSQL's server binaries: "
        "sudo apt-get install postgresql-15"
    )
    assert _postgres_rows(argparse.Namespace(skip_postgres=True)) is False
    assert "skipping PostgreSQL (--skip-postgres)" in capsys.readouterr().err


# -- the team section (bench/team.py) ------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs: not gone, not a zombie no one has reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


# A server that forks a worker which ignores SIGTERM (as a hung worker would), writes
# the worker's pid to a file and then answers HTTP on the port it is given.
_TEAM_SERVER = """
import http.server, signal, subprocess, sys
worker = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
open(sys.argv[2], "w").write(str(worker.pid))
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.BaseHTTPRequestHandler
    ).serve_forever()
"""


def _team_server(tmp_path: Path) -> tuple[list[str], str, Path]:
    from bench.run import free_port

    port = free_port()
    pid_file = tmp_path / "worker.pid"
    command = [sys.executable, "-c", _TEAM_SERVER, str(port), str(pid_file)]
    return command, f"http://127.0.0.1:{port}/", pid_file


def test_a_team_server_and_everything_it_forked_are_stopped_when_the_block_ends(
    tmp_path: Path,
) -> None:
    from bench.team import started

    command, ready, pid_file = _team_server(tmp_path)
    with started("fake team", command, ready, stop_seconds=0.5) as pid:
        worker = int(pid_file.read_text())
        assert _alive(pid) and _alive(worker)
        assert os.getpgid(worker) == pid  # a process group of its own, the worker in it
        assert os.getpgid(pid) != os.getpgid(0)  # not the terminal's: Ctrl-C is the bench's
    assert not _alive(pid)
    assert not _alive(worker)  # it ignored SIGTERM: the group's SIGKILL ended it


def test_a_team_server_is_stopped_when_the_bench_fails_meanwhile(tmp_path: Path) -> None:
    from bench.team import started

    command, ready, pid_file = _team_server(tmp_path)
    pids: list[int] = []

    def interrupted() -> None:
        with started("fake team", command, ready, stop_seconds=0.5) as pid:
            pids.extend([pid, int(pid_file.read_text())])
            raise KeyboardInterrupt  # Ctrl-C in the middle of a run

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert len(pids) == 2
    assert not any(_alive(p) for p in pids)


def test_a_team_server_that_exits_at_start_is_reported_with_its_output() -> None:
    from bench.team import started

    command = [sys.executable, "-c", "import sys; print('no database'); sys.exit(2)"]
    with (
        pytest.raises(RuntimeError, match="broken exited early:\nno database"),
        started("broken", command, "http://127.0.0.1:9/"),
    ):
        pass  # never reached


def test_the_team_commands_set_workers_and_an_unreached_rate_limit_and_nothing_else() -> None:
    from bench.run import sandbox_command
    from bench.team import TEAM, UNREACHED_LIMIT, Member
    from bench.team import sandbox_command as team_command

    plain = sandbox_command("postgresql://x/db", 8000)
    assert team_command("postgresql://x/db", 8000, Member("pg-1")) == plain
    assert team_command("postgresql://x/db", 8000, Member("pg-2", workers=2)) == [
        *plain,
        "--workers",
        "2",
    ]
    bucket = team_command("postgresql://x/db", 8000, Member("b", workers=2, bucket=True))
    assert bucket[bucket.index("--rate-limit") + 1] == UNREACHED_LIMIT
    assert "off" not in bucket
    processes = {m.name: (m.processes, m.alone) for m in TEAM if m.postgres}
    assert processes == {
        "pg-1": (1, True),
        "pg-1-shared": (2, False),
        "pg-2": (2, False),
        "pg-2-bucket": (2, False),
    }


def test_the_scaling_ratio_and_the_team_ratios_are_paired_per_round() -> None:
    from bench.team import OPERATIONS, team_ratios

    def rows(*rps: float) -> dict[str, list[LoadResult]]:
        return {operation: [_load(r) for r in rps] for operation in OPERATIONS}

    taken = {
        "sqlite": rows(4000, 2000, 4000),
        "pg-1": rows(2000, 1000, 2000),
        "pg-1-shared": rows(1000, 500, 1000),
        # a slow spell halves round 2 of every row: the paired ratios hold
        "pg-2": rows(1500, 750, 1500),
    }
    found = team_ratios(taken)
    assert found["pg-2"]["refund_order"] == {
        "vs_sqlite": 0.375,
        "vs_pg-1": 0.75,  # the scaling ratio: 2 workers / 1 worker
        "vs_pg-1-shared": 1.5,
    }
    assert found["pg-1-shared"]["query_refund"] == {"vs_sqlite": 0.25, "vs_pg-1": 0.5}
    assert found["pg-1"]["refund_order"] == {"vs_sqlite": 0.5}
    assert "sqlite" not in found
    assert team_ratios({"pg-2": rows(10)}) == {}  # nothing to pair with


def test_a_team_run_reads_its_cpu_commits_and_partner_around_the_load() -> None:
    from bench.team import Probe, measured, summary

    cpu, partner, xids = iter([1.0, 1.5]), iter([0.0, 0.01]), iter([100, 150])
    probe = Probe(cpu=lambda: next(cpu), partner=lambda: next(partner), xids=lambda: next(xids))
    taken = measured(lambda: LoadResult(1000.0, 1.0, 5.0, 1000, 0, 0), probe)
    assert taken.load.cpu_us == 500.0  # 0.5 s over 1,000 requests
    assert taken.write_commits == 50
    assert taken.partner_cpu == pytest.approx(0.01)
    second = replace(taken, load=LoadResult(900.0, 1.0, 5.0, 900, 100, 0), write_commits=100)
    row = summary([replace(taken, seconds=2.0), replace(second, seconds=2.0)])
    assert row["write_commits_per_second"] == 37.5  # the median of 25 and 50
    assert row["answers_per_write_commit"] == 12.0  # 1,800 answers over 150 commits
    assert row["write_commits_per_request"] == pytest.approx(0.0833, abs=1e-4)
    # a read: two stray commits of the cluster's own over 2,000 answers are no batches
    reads = summary([replace(taken, write_commits=1), replace(taken, write_commits=1)])
    assert reads["answers_per_write_commit"] is None
    assert reads["write_commits_per_request"] == 0.001
    assert row["partner_cpu_us_per_request"] == pytest.approx(10.6, abs=0.1)
    assert row["requests_per_second"] == 950.0
    # SQLite's row: no cluster, no partner
    alone = summary([measured(lambda: _load(10.0), Probe(cpu=lambda: 0.0))])
    assert alone["write_commits_per_second"] is None
    assert alone["answers_per_write_commit"] is None
    assert alone["partner_cpu_us_per_request"] is None


def _team_row(rps: float, **extra: float) -> dict[str, Any]:
    return {
        **_fake_row(rps, **extra),
        "write_commits_per_second": 250.0,
        "write_commits_per_request": 0.08,
        "answers_per_write_commit": 12.5,
    }


def test_the_team_table_prints_every_row_its_ratios_commits_and_pinning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.team import OPERATIONS, print_team

    def member(rps: float, **extra: float) -> dict[str, Any]:
        return {
            **{operation: _team_row(rps, **extra) for operation in OPERATIONS},
            "refunds_created": 100,
            "every_request_a_real_refund": True,
        }

    shared = member(1500, vs_sqlite=0.3, **{"vs_pg-1": 0.6})
    shared["refund_order"]["partner_cpu_us_per_request"] = 7.0
    team = {
        "rows": {
            "sqlite": member(5000),
            "pg-1": member(2500, vs_sqlite=0.5),
            "pg-1-shared": shared,
            "pg-2": member(1800, vs_sqlite=0.36, **{"vs_pg-1": 0.72, "vs_pg-1-shared": 1.2}),
        },
        "rounds": 3,
        "duration": 3,
        "connections": 32,
        "cpus": 2,
    }
    print_team(team)
    printed = capsys.readouterr().out
    (row,) = [line for line in printed.splitlines() if line.startswith("pg-2         refund")]
    assert row.split()[2:] == [
        *("1800", "2.00", "9.00", "0", "123"),
        *("0.36x", "0.72x", "1.20x"),
        *("250", "0.080", "1800"),
    ]
    assert len([line for line in printed.splitlines() if line.startswith("pg-1-shared ")]) == 2
    assert (
        "scaling ratio, 2 workers / 1 worker, paired per round: refund_order 0.72x "
        "(vs 1 worker that shares: 1.20x); query_refund 0.72x" in printed
    )
    assert "used 7 us of CPU per refund" in printed
    assert "refunds per write commit (a batch per process at a time): sqlite 12.5, " in printed
    assert "pinning: none; on 2 cores" in printed
    assert "every request a real refund: True" in printed


def test_the_team_counters_see_who_is_attached_and_count_write_transactions(
    bench_cluster: postgres.Cluster,
) -> None:
    from bench.team import Counters, Member

    url = bench_cluster.server.create_database("team_counters")
    counters = Counters(bench_cluster.server.url())
    assert counters.attached("team_counters") == (0, False)
    first = create_app(db=url, rate_limit=None)
    second = None
    try:
        with TestClient(first) as client:
            counters.wait_attached("team_counters", Member("pg-1"), timeout=10)
            second = create_app(db=url, rate_limit=None)
            with TestClient(second):
                # the first lets ALONE go once the second joins: both check the database
                counters.wait_attached("team_counters", Member("s", partner=True), timeout=10)
                before = counters.xids()
                assert client.get(f"{API}/refund/10001", headers=AUTH).status_code == 200
                assert counters.xids() == before  # a read took no transaction id
                add_over_http(client)
                assert counters.xids() > before  # a write took one
                with pytest.raises(RuntimeError, match=r"pg-1: 2 process\(es\) attached"):
                    counters.wait_attached("team_counters", Member("pg-1"), timeout=0)
    finally:
        first.state.sandbox.close()
        if second is not None:
            second.state.sandbox.close()
        counters.close()


# -- the reservation section (bench/reservation.py) ----------------------------------


def test_the_reservation_check_finds_an_over_reserved_line_and_pieces_that_do_not_add_up() -> None:
    from bench.reservation import problems

    assert problems([(1, 5, 5, 5), (2, 9, 0, 0)], acknowledged=5, stored=5) == []
    assert problems([(1, 5, 6, 6)], acknowledged=6, stored=6) == [
        "line 1 over-reserved: 6 of 5 pieces"
    ]
    assert problems([(1, 5, 3, 2)], acknowledged=2, stored=2) == [
        "line 1: 3 reserved, its refunds hold 2"
    ]
    assert problems([(1, 5, 2, 2)], acknowledged=3, stored=2) == [
        "2 refunds stored, 3 acknowledged"
    ]


class _Attempts:
    """An attempt that fails with ``errors`` in turn, then answers ``"made"``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.told: list[Exception] = []  # what the retry loop told its on_abort

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "made"


def _retry(attempt: _Attempts, tries: int) -> tuple[tuple[str, int], list[float]]:
    import asyncio
    import random

    from bench.reservation import RetryPolicy, retried

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(tries=tries, first_backoff=0.001, max_backoff=0.004)
    told = attempt.told.append
    return asyncio.run(retried(attempt, policy, random.Random(1), sleep, told)), waits


def test_the_retry_loop_retries_serialization_failures_and_deadlocks_with_bounded_waits() -> None:
    from psycopg import errors

    attempt = _Attempts(
        errors.SerializationFailure("x"),
        errors.DeadlockDetected("y"),
        errors.SerializationFailure(),
    )
    (result, waits) = _retry(attempt, tries=10)
    assert result == ("made", 3)  # made on the fourth try: three aborted
    assert attempt.calls == 4
    assert [type(e).__name__ for e in attempt.told] == [
        "SerializationFailure",
        "DeadlockDetected",
        "SerializationFailure",
    ]
    assert len(waits) == 3
    # up to 1 ms before the first retry, doubled after each, capped at 4 ms
    assert all(0 <= wait <= cap for wait, cap in zip(waits, (0.001, 0.002, 0.004), strict=True))


def test_the_retry_loop_gives_up_after_its_bound_and_never_retries_another_error() -> None:
    from psycopg import errors

    from bench.reservation import GaveUp, RetryPolicy

    attempt = _Attempts(*(errors.SerializationFailure() for _ in range(5)))
    with pytest.raises(GaveUp) as gave_up:
        _retry(attempt, tries=3)
    assert gave_up.value.tries == 3
    assert attempt.calls == 3
    assert len(attempt.told) == 3
    assert isinstance(gave_up.value.__cause__, errors.SerializationFailure)

    other = _Attempts(errors.UniqueViolation("dup"), errors.SerializationFailure())
    with pytest.raises(errors.UniqueViolation):
        _retry(other, tries=3)
    assert other.calls == 1
    assert other.told == []
    with pytest.raises(ValueError, match="at least one try"):
        RetryPolicy(tries=0)


def _reservation_cell(
    way: str, shape: str, clients: int, rps: float, **extra: Any
) -> dict[str, Any]:
    return {
        "way": way,
        "shape": shape,
        "clients": clients,
        "refunds_per_second": rps,
        "p50_ms": 1.5,
        "p99_ms": 9.25,
        "retries_per_refund": 0.0,
        "aborted": 0,
        "rw_dependencies": 0,
        "gave_up": 0,
        "refused": 0,
        "refunds": int(rps * 2),
        "rounds_refunds_per_second": [rps, rps + 10],
        "correct": True,
        "problems": [],
        **extra,
    }


def test_the_reservation_table_and_verdict_print_from_the_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.reservation import print_reservation, verdict

    cells = [
        _reservation_cell("row_lock", "hot", 8, 900.0),
        _reservation_cell(
            "serializable",
            "hot",
            8,
            450.0,
            retries_per_refund=2.5,
            aborted=2300,
            rw_dependencies=700,
            gave_up=12,
        ),
        _reservation_cell("row_lock", "spread", 8, 1000.0),
        _reservation_cell("serializable", "spread", 8, 1030.0, correct=False),
    ]
    ratios = {"hot/8": 2.0, "hot/32": 4.5, "spread/8": 0.97}
    line = verdict(ratios, cells)
    assert line == (
        "row lock vs serializable refunds/s: 2.00x at 8, 4.50x at 32 on one hot order "
        "(row lock ahead); 0.97x at 8 spread (on par within 10%); serializable gave 12 "
        "refunds up (errors to their callers); WRONG ROWS after serializable spread/8"
    )
    assert verdict({"hot/8": 0.5, "spread/8": 0.8, "spread/32": 1.3}, cells[:1]).endswith(
        "0.50x at 8 on one hot order (serializable ahead); 0.80x at 8, 1.30x at 32 spread "
        "(mixed); every run correct"
    )
    settings = {
        "duration": 2.0,
        "rounds": 3,
        "tries": 10,
        "first_backoff_ms": 1.0,
        "max_backoff_ms": 50.0,
    }
    print_reservation({"settings": settings, "cells": cells, "verdict": line})
    printed = capsys.readouterr().out
    assert "2.0 s runs, 3 rounds, fsync on; serializable retried up to 10 tries" in printed
    rows = [row.split() for row in printed.splitlines() if row.startswith(("row_lock", "serial"))]
    assert rows[1] == [
        "serializable", "hot", "8", "450", "1.50", "9.25", "2.500", "2300", "700", "12", "0",
        "yes", "450", "460",
    ]  # fmt: skip
    assert rows[3][11] == "NO"
    assert line in printed


@pytest.fixture
def reservation_db(bench_cluster: postgres.Cluster) -> str:
    """A database seeded as the reservation section seeds its own: the hot order and 3."""
    import asyncio

    from bench.reservation import seed

    url = bench_cluster.server.create_database()
    asyncio.run(seed(url, spread=3))
    return url


def test_the_reservation_check_reads_a_real_database_and_catches_what_is_wrong(
    reservation_db: str,
) -> None:
    import asyncio

    import psycopg

    from bench.reservation import HOT_ORDER, SPREAD_PIECES, check, refund_once

    async def refund(way: str) -> bool:
        async with await psycopg.AsyncConnection.connect(reservation_db, autocommit=True) as db:
            return await refund_once(db, way, HOT_ORDER)

    assert asyncio.run(refund("row_lock")) is True
    assert asyncio.run(refund("serializable")) is True
    assert check(reservation_db, acknowledged=2) == []
    assert check(reservation_db, acknowledged=3) == ["2 refunds stored, 3 acknowledged"]
    with psycopg.connect(reservation_db, autocommit=True) as db:
        # without its CHECK constraint the schema would let a line be over-reserved
        db.execute("ALTER TABLE order_lines DROP CONSTRAINT order_lines_check")
        db.execute("UPDATE order_lines SET reserved = product_num + 1 WHERE id = 's1-1'")
        row = db.execute("SELECT pk FROM order_lines WHERE id = 's1-1'").fetchone()
    assert row is not None
    assert check(reservation_db, acknowledged=2) == [
        f"line {row[0]} over-reserved: {SPREAD_PIECES + 1} of {SPREAD_PIECES} pieces",
        f"line {row[0]}: {SPREAD_PIECES + 1} reserved, its refunds hold 0",
    ]


def test_a_serializable_reservation_that_raced_a_commit_fails_with_a_retried_sqlstate(
    reservation_db: str,
) -> None:
    import asyncio

    import psycopg

    from bench.reservation import BEGIN, HOT_ORDER, _unlocked_room, is_retried, refund_once
    from kakaclo_sandbox.storage.postgres import queries

    async def race() -> BaseException | None:
        connect = psycopg.AsyncConnection.connect
        async with (
            await connect(reservation_db, autocommit=True) as late,
            await connect(reservation_db, autocommit=True) as early,
        ):
            await late.execute(BEGIN["serializable"])
            room = await _unlocked_room(late, HOT_ORDER)  # its snapshot: before the other
            assert await refund_once(early, "row_lock", HOT_ORDER) is True
            try:
                await queries.insert_refund(
                    late,
                    room.order_key,
                    {room.line_key: 1},
                    reason="Other",
                    remark=None,
                    now=0.0,
                    settle_at=1.0,
                )
                await late.execute("COMMIT")
            except psycopg.Error as error:
                await late.execute("ROLLBACK")
                return error
            return None

    error = asyncio.run(race())
    assert error is not None and is_retried(error)
    assert getattr(error, "sqlstate", None) == "40001"


def test_a_short_reservation_run_of_each_way_is_correct(reservation_db: str) -> None:
    import asyncio

    from bench.reservation import HOT_ORDER, RetryPolicy, check, reset, run_clients

    for way in ("row_lock", "serializable"):
        reset(reservation_db)
        tally = asyncio.run(
            run_clients(reservation_db, way, [HOT_ORDER], 3, 0.3, RetryPolicy(), seed=1)
        )
        assert tally.refunds > 0
        assert len(tally.latencies) == tally.refunds
        if way == "row_lock":
            assert tally.aborted == 0  # it waits for the lock: nothing to retry
        assert check(reservation_db, tally.refunds) == []


def test_the_reservation_options_make_its_settings_and_refuse_bad_counts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse

    from bench.reservation import RetryPolicy, Settings, add_arguments, settings_of

    parser = argparse.ArgumentParser(prog="bench")
    add_arguments(parser)
    assert settings_of(parser.parse_args([])) == Settings()
    args = parser.parse_args(
        [
            "--reservation-clients",
            "4,16",
            "--reservation-tries",
            "3",
            "--reservation-backoff-ms",
            "0",
        ]
    )
    assert settings_of(args).clients == (4, 16)
    assert settings_of(args).policy == RetryPolicy(tries=3, first_backoff=0.0)
    for option, value, said in (
        ("--reservation-clients", "8,0", "must be more than 0, not 0"),
        ("--reservation-rounds", "two", "not a number: 'two'"),
        ("--reservation-backoff-ms", "-1", "must be 0 or more, not -1"),
    ):
        with pytest.raises(SystemExit):
            parser.parse_args([option, value])
        assert f"argument {option}: {said}" in capsys.readouterr().err


def test_a_run_tells_an_ssi_abort_from_two_writes_of_one_row() -> None:
    from psycopg import errors

    from bench.reservation import Tally

    tally = Tally()
    # PostgreSQL's two messages of SQLSTATE 40001
    tally.abort(
        errors.SerializationFailure(
            "could not serialize access due to read/write dependencies among transactions"
        )
    )
    tally.abort(errors.SerializationFailure("could not serialize access due to concurrent update"))
    tally.abort(errors.DeadlockDetected("deadlock detected"))
    assert (tally.aborted, tally.rw_dependencies) == (3, 1)
    total = Tally()
    total.add(tally)
    total.add(tally)
    assert (total.aborted, total.rw_dependencies) == (6, 2)
