"""Failures on demand where several sandbox processes share one PostgreSQL database (issue
32): the queue is a table, so a failure queued through one process applies once, to the
next matching call whichever process gets it; its bound holds for the processes together;
listing, clearing and a reset are the team's. Two apps in this process stand for two
processes (each holds its own connections and advisory locks), as in
test_postgres_membership.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import RateLimit, create_app
from kakaclo_sandbox.storage.interface import QueuedFailure
from kakaclo_sandbox.storage.postgres.store import PostgresStore
from kakaclo_sandbox.web.failures import MAX_COUNT, MAX_QUEUED
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import API, refund_url

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

FAILURES = "/_sandbox/failures"
JSON = {"Content-Type": "application/json"}
LINE = {"itemId": "120071", "skuCode": "FSZW08923_R_L_NUB", "countryCode": "CN", "quantity": 1}


def _query(client: TestClient) -> int:
    return int(client.get(API, params={"ids": "10007"}, headers=TOKEN_A).status_code)


def _queued(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get(FAILURES)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"]["queued"])


def _queue(client: TestClient, **body: Any) -> Any:
    return client.post(FAILURES, json=body)


@pytest.fixture
def pair(postgres_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    """Two processes on one database (A started first, then B joined)."""
    one = create_app(db=postgres_url, rate_limit=None)
    try:
        two = create_app(db=postgres_url, rate_limit=None)
        try:
            with TestClient(one) as a, TestClient(two) as b:
                yield a, b
        finally:
            two.state.sandbox.close()
    finally:
        one.state.sandbox.close()


def test_a_failure_queued_through_one_process_is_answered_by_the_other_once(
    pair: tuple[TestClient, TestClient],
) -> None:
    a, b = pair
    queued = _queue(a, operation="queryOrders", code=503, retryAfter=2)
    assert queued.json()["data"]["queueLength"] == 1
    failed = b.get(API, params={"ids": "10007"}, headers=TOKEN_A)
    assert (failed.status_code, failed.json()["code"]) == (503, 50301)
    assert failed.headers["retry-after"] == "2"
    assert _query(a) == 200  # taken once: by B, not again by A
    assert _query(b) == 200


def test_the_operation_own_failures_come_before_those_for_any_in_queue_order(
    pair: tuple[TestClient, TestClient],
) -> None:
    a, b = pair
    _queue(a, code=500)  # any operation
    _queue(b, operation="queryOrders", code=502)
    _queue(a, operation="queryOrders", code=503)
    assert [_query(b), _query(a), _query(b), _query(a)] == [502, 503, 500, 200]


def test_each_failure_is_taken_once_by_calls_racing_over_both_processes(
    pair: tuple[TestClient, TestClient],
) -> None:
    a, b = pair
    _queue(a, operation="queryOrders", code=503, count=12)
    with ThreadPoolExecutor(6) as pool:  # B gets two calls in three: 20 of the 30
        statuses = list(pool.map(lambda n: _query(a if n % 3 == 0 else b), range(30)))
    assert statuses.count(503) == 12
    assert statuses.count(200) == 18
    assert _queued(a) == _queued(b) == []


def test_the_queue_bound_holds_for_both_processes_together(
    pair: tuple[TestClient, TestClient],
) -> None:
    a, b = pair
    for n in range(MAX_QUEUED // MAX_COUNT):
        added = _queue((a, b)[n % 2], operation="refundOrder", code=503, count=MAX_COUNT)
        assert added.status_code == 200, added.text
    assert added.json()["data"]["queueLength"] == MAX_QUEUED
    refused = _queue(b, code=500)
    assert (refused.status_code, refused.json()["code"]) == (400, 40002)
    assert f"{MAX_QUEUED} are queued" in refused.json()["message"]
    assert len(_queued(a)) == MAX_QUEUED  # nothing queued by the refusal
    assert _query(a) == 200  # the queue is refundOrder's


def test_two_processes_queuing_at_once_cannot_pass_the_bound(postgres_url: str) -> None:
    """Two stores (two processes) each queue MAX_COUNT when only MAX_COUNT more fit: one
    is refused, whatever the interleaving of their statements."""
    first = PostgresStore(postgres_url)
    first.started()  # a process alone lets others join once started
    second = PostgresStore(postgres_url)
    failure = QueuedFailure("refundOrder", 503, None, 0.0, None)

    async def race() -> list[bool]:
        try:
            await first.queue_failures(failure, MAX_QUEUED - MAX_COUNT, MAX_QUEUED)
            outcomes = []
            for _ in range(5):
                both = await asyncio.gather(
                    first.queue_failures(failure, MAX_COUNT, MAX_QUEUED),
                    second.queue_failures(failure, MAX_COUNT, MAX_QUEUED),
                )
                outcomes.append(sorted(queued.added for queued in both) == [False, True])
                assert len(await second.queued_failures()) == MAX_QUEUED
                for _ in range(MAX_COUNT):  # room for MAX_COUNT again
                    assert await first.take_failure("refundOrder") is not None
            return outcomes
        finally:
            await first.release()
            await second.release()

    try:
        assert asyncio.run(race()) == [True] * 5
    finally:
        first.close()
        second.close()


def test_get_on_one_process_lists_what_the_other_queued_and_delete_clears_it_for_both(
    pair: tuple[TestClient, TestClient],
) -> None:
    a, b = pair
    _queue(a, operation="refundOrder", code=503, count=2)
    _queue(b, drop="after")
    _queue(a, operation="refundOrder", delay=0.5)
    expected = [
        {"operation": "refundOrder", "code": 503, "retryAfter": None, "delay": 0.0, "drop": None},
        {"operation": "refundOrder", "code": 503, "retryAfter": None, "delay": 0.0, "drop": None},
        {"operation": "refundOrder", "code": None, "retryAfter": None, "delay": 0.5, "drop": None},
        {"operation": None, "code": None, "retryAfter": None, "delay": 0.0, "drop": "after"},
    ]
    assert _queued(b) == _queued(a) == expected
    assert b.delete(FAILURES).json()["data"]["queued"] == []
    assert _queued(a) == []
    assert _query(a) == 200


def test_a_reset_through_one_process_clears_the_queue_for_both(
    pair: tuple[TestClient, TestClient],
) -> None:
    a, b = pair
    _queue(b, code=500, count=3)
    assert a.post("/_sandbox/reset", headers=JSON).status_code == 200
    assert _queued(b) == []
    assert _query(b) == 200


def test_what_a_lone_process_queued_applies_in_the_process_that_joins(
    postgres_url: str,
) -> None:
    one = create_app(db=postgres_url, rate_limit=None)
    try:
        with TestClient(one) as a:
            assert one.state.sandbox.store.alone
            assert not one.state.sandbox.store.may_have_failures()  # no statement per call
            _queue(a, operation="refundOrder", code=503, count=2)
            assert one.state.sandbox.store.may_have_failures()
            two = create_app(db=postgres_url, rate_limit=None)
            try:
                assert not one.state.sandbox.store.alone
                with TestClient(two) as b:
                    made = b.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
                    assert made.status_code == 503
                made = a.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
                assert made.status_code == 503
                assert _queued(a) == []
            finally:
                two.state.sandbox.close()
    finally:
        one.state.sandbox.close()


def test_a_lone_process_counts_its_queue_and_starts_with_none_queued(postgres_url: str) -> None:
    one = create_app(db=postgres_url, rate_limit=None)
    try:
        with TestClient(one) as a:
            store = one.state.sandbox.store
            _queue(a, code=503)
            _queue(a, operation="queryOrders", code=500)
            assert [_query(a), _query(a), _query(a)] == [500, 503, 200]
            assert not store.may_have_failures()  # the count came back to 0: the fast path
            _queue(a, code=502, count=3)
            assert a.delete(FAILURES).status_code == 200
            assert not store.may_have_failures()
            _queue(a, code=502, count=2)  # left queued when it stops
    finally:
        one.state.sandbox.close()
    again = create_app(db=postgres_url, rate_limit=None)
    try:
        with TestClient(again) as a:
            assert not again.state.sandbox.store.may_have_failures()
            assert _queued(a) == []  # a process alone starts with none, as on SQLite
            assert _query(a) == 200
    finally:
        again.state.sandbox.close()


def test_a_forced_failure_is_not_counted_by_the_shared_rate_limit_and_meets_any_token(
    postgres_url: str,
) -> None:
    """As with one process: a queued failure answers before the token is checked and the
    request counted, whichever process takes it."""
    limit = RateLimit(2, 0.001)
    one = create_app(db=postgres_url, rate_limit=limit)
    two = create_app(db=postgres_url, rate_limit=limit)
    try:
        with TestClient(one) as a, TestClient(two) as b:
            _queue(a, operation="queryOrders", code=503, count=3)
            assert b.get(API, params={"ids": "10007"}).status_code == 503  # no token
            assert [_query(b), _query(a)] == [503, 503]  # not counted: the bucket is full
            assert [_query(b), _query(a), _query(b)] == [200, 200, 429]
            assert b.get(API, params={"ids": "10007"}).status_code == 401
    finally:
        one.state.sandbox.close()
        two.state.sandbox.close()


def test_a_process_that_shares_takes_failures_in_the_statement_every_call_runs(
    pair: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The take is folded into the glance (the clock, the due time, the bucket) that every
    call of a process that shares runs anyway: no statement of its own."""
    a, b = pair
    _queue(a, operation="refundOrder", code=503)
    statements: list[str] = []
    execute = psycopg.AsyncConnection.execute

    async def counted(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "execute", counted)
    assert _query(b) == 200
    failed = b.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
    assert failed.status_code == 503
    glances = [sql for sql in statements if "LEFT JOIN meta m" in sql]
    assert len(glances) == 2  # one a call
    assert all("queued_failures" in sql for sql in glances)
    assert [sql for sql in statements if "queued_failures" in sql] == glances
