"""Refund Order on PostgreSQL in batches (storage/postgres/batches.py): the refunds of one
moment share one transaction and one commit, and a batch is exact on every path: a
refused refund leaves the others, a refund undone in its block gives back what it
reserved, a batch that fails tells each of its refunds and stores none of them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from kakaclo_sandbox import create_app
from kakaclo_sandbox.storage.postgres.store import PostgresStore
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import query_refund_url, refund_url, write_version

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

ORDER_ID = "70001"
PIECES = 30
ORDER: dict[str, Any] = {
    "id": ORDER_ID,
    "status": "processing",
    "financialStatus": "paid",
    "fulfillmentStatus": "waiting_to_ship",
    "createDate": "2026-11-03T00:00:00Z",
    "payDate": "2026-11-03T00:00:04Z",
    "orderItems": [
        {
            "id": "7000011",
            "itemId": "700001",
            "skuCode": "BATCH_SKU",
            "countryCode": "CN",
            "amount": 2.5,
            "productNum": PIECES,
        }
    ],
}
ONE_PIECE = {
    "orderItems": [{"itemId": "700001", "skuCode": "BATCH_SKU", "quantity": 1, "countryCode": "CN"}]
}
HEADERS = {**TOKEN_A, "Content-Type": "application/json"}


def _line(url: str) -> tuple[int, int, int]:
    """(refunds stored, pieces reserved, pending refunds counted) of the test's order."""
    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT (SELECT COUNT(*) FROM refunds r WHERE r.order_pk = o.pk), l.reserved, "
            "o.pending_refunds FROM orders o JOIN order_lines l ON l.order_pk = o.pk "
            "WHERE o.id = %s",
            (ORDER_ID,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


Work = Callable[[httpx.AsyncClient], Awaitable[Any]]


def _with_sandbox(url: str, work: Work) -> Any:
    """Run ``work`` against one in-process sandbox on ``url`` with the test's order."""
    app = create_app(db=url, rate_limit=None, settle_after=3600.0, validate_responses=True)

    async def run() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            added = await client.post("/_sandbox/orders", json=ORDER, headers=HEADERS)
            assert added.status_code == 200, added.text
            try:
                return await work(client)
            finally:
                await app.state.sandbox.release()

    try:
        return asyncio.run(run())
    finally:
        app.state.sandbox.close()


def test_refunds_that_arrive_together_share_commits_and_never_over_refund(
    postgres_url: str,
) -> None:
    """40 refunds of one piece of a 30-piece line at once: exactly 30 are answered 200,
    each listed once under its own number, the other 10 are refused by the rules, and the
    30 took fewer commits than refunds (the write version moves once per commit)."""

    async def work(client: httpx.AsyncClient) -> tuple[list[httpx.Response], dict[str, Any]]:
        before = write_version(postgres_url)
        answers = await asyncio.gather(
            *(client.post(refund_url(ORDER_ID), json=ONE_PIECE, headers=TOKEN_A) for _ in range(40))
        )
        commits = write_version(postgres_url) - before
        listed = await client.get(
            query_refund_url(ORDER_ID), params={"pageSize": 100}, headers=TOKEN_A
        )
        return answers, {"commits": commits, "listed": listed.json()["data"]}

    answers, seen = _with_sandbox(postgres_url, work)
    accepted = [a.json()["data"] for a in answers if a.status_code == 200]
    refused = [a.json()["code"] for a in answers if a.status_code != 200]
    assert len(accepted) == PIECES and len(set(accepted)) == PIECES
    assert len(refused) == 10 and len(set(refused)) == 1
    assert sorted(r["refundNo"] for r in seen["listed"]["list"]) == sorted(accepted)
    assert seen["listed"]["total"] == PIECES
    assert 1 <= seen["commits"] < PIECES
    assert _line(postgres_url) == (PIECES, PIECES, PIECES)


def test_keyed_refunds_of_one_batch_are_each_replayed_with_their_own_number(
    postgres_url: str,
) -> None:
    """The answers of a batch's keys are stored with its refunds: each key replays its
    own refund, and a key sent again with another body is refused."""

    async def work(client: httpx.AsyncClient) -> tuple[list[str], list[str], int]:
        def post(key: str, body: dict[str, Any]) -> Awaitable[httpx.Response]:
            return client.post(
                refund_url(ORDER_ID), json=body, headers={**TOKEN_A, "Idempotency-Key": key}
            )

        first = await asyncio.gather(*(post(f"batch-{n}", ONE_PIECE) for n in range(8)))
        again = await asyncio.gather(*(post(f"batch-{n}", ONE_PIECE) for n in range(8)))
        other = await post("batch-0", {**ONE_PIECE, "remark": "another body"})
        return (
            [a.json()["data"] for a in first],
            [a.json()["data"] for a in again],
            other.status_code,
        )

    first, again, other = _with_sandbox(postgres_url, work)
    assert len(set(first)) == 8
    assert again == first
    assert other == 409
    assert _line(postgres_url) == (8, 8, 8)


async def _refund_in_unit(
    store: PostgresStore, pieces: int, *, then: BaseException | None = None
) -> str:
    """One refund through the storage interface, as the use case makes it (``pieces`` are
    not checked by the rules here); ``then`` is raised inside its block."""
    async with store.refunding(key=False) as unit:
        order = await unit.order_state("merchant-a", ORDER_ID)
        assert order is not None
        number = await unit.add_refund(
            "merchant-a",
            order,
            {order.lines[0].id: pieces},
            reason="Other",
            remark=None,
            now=1_795_000_000.0,
            settle_at=1_795_003_600.0,
        )
        if then is not None:
            raise then
    return number


def _store_with_order(url: str) -> PostgresStore:
    _with_sandbox(url, lambda client: asyncio.sleep(0))  # creates the schema and the order
    return PostgresStore(url)


def test_a_refund_undone_in_its_block_gives_back_what_it_reserved(postgres_url: str) -> None:
    """Three refunds in one batch, the middle one raising after it was staged: the other
    two are stored, and the order counts only their pieces."""
    store = _store_with_order(postgres_url)

    async def run() -> list[Any]:
        try:
            outcomes = await asyncio.gather(
                _refund_in_unit(store, 2),
                _refund_in_unit(store, 5, then=RuntimeError("undone")),
                _refund_in_unit(store, 3),
                return_exceptions=True,
            )
            return list(outcomes)
        finally:
            await store.release()

    try:
        first, undone, third = asyncio.run(run())
    finally:
        store.close()  # its membership's listener too
    assert isinstance(first, str) and isinstance(third, str)
    assert isinstance(undone, RuntimeError)
    assert _line(postgres_url) == (2, 5, 2)


def test_a_batch_that_cannot_be_written_fails_each_of_its_refunds_and_stores_none(
    postgres_url: str,
) -> None:
    """A batch holding a refund the database refuses (more pieces than the line has, past
    the rules): every refund of that batch gets the error, none is stored, and the next
    refund, in a batch of its own, is."""
    store = _store_with_order(postgres_url)

    async def run() -> tuple[list[Any], str]:
        try:
            failed = await asyncio.gather(
                _refund_in_unit(store, 1),
                _refund_in_unit(store, PIECES + 1),
                return_exceptions=True,
            )
            return list(failed), await _refund_in_unit(store, 1)
        finally:
            await store.release()

    try:
        failed, later = asyncio.run(run())
    finally:
        store.close()  # its membership's listener too
    assert all(isinstance(outcome, psycopg.errors.CheckViolation) for outcome in failed), failed
    assert isinstance(later, str)
    assert _line(postgres_url) == (1, 1, 1)
