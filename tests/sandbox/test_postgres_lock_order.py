"""Two processes' batches that each hold one order and want the other's never deadlock
(storage/postgres/batches.py): a batch that holds a row takes the next with SKIP LOCKED
and, when another transaction holds it, commits what it has and waits in a new batch
holding nothing. Two apps in this process stand for two processes."""

from __future__ import annotations

import asyncio

import pytest

from kakaclo_sandbox import create_app
from kakaclo_sandbox.domain.orders import OrderState
from kakaclo_sandbox.storage.interface import Store

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

FIRST, SECOND = "10007", "10008"  # demo orders of demo-token's merchant
DEADLINE = 60.0  # a deadlock is broken by PostgreSQL after 1 s; this only bounds a hang


async def _state(store: Store, merchant: str, order_id: str) -> OrderState:
    async with store.refunding(key=False) as unit:
        order = await unit.order_state(merchant, order_id)
    assert order is not None
    return order


def _refunds_of(url: str, order_id: str) -> int:
    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT count(*) FROM refunds r JOIN orders o ON o.pk = r.order_pk WHERE o.id = %s",
            (order_id,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_batches_of_two_processes_that_want_each_others_order_both_go_through(
    postgres_url: str,
) -> None:
    """A's batch holds FIRST with a refund staged, and its next refund wants SECOND; B's
    batch holds SECOND and wants FIRST. Waiting for both would be a deadlock (PostgreSQL
    aborts one batch after a second: 500s). Both reads are answered, and A's refund,
    committed when its batch gave way, is stored."""
    apps = [create_app(db=postgres_url, rate_limit=None) for _ in range(2)]
    a_store: Store = apps[0].state.sandbox.store
    b_store: Store = apps[1].state.sandbox.store
    merchant = a_store.merchant_of("demo-token")
    assert merchant is not None

    async def run() -> tuple[OrderState, OrderState, OrderState]:
        a_holds, b_holds = asyncio.Event(), asyncio.Event()
        before = await _state(a_store, merchant, FIRST)  # each loop's pool and batches first
        await _state(b_store, merchant, SECOND)

        async def a_refund() -> None:
            async with a_store.refunding(key=False) as unit:
                order = await unit.order_state(merchant, FIRST)
                assert order is not None
                line = order.lines[0]
                await unit.add_refund(
                    merchant, order, {line.id: 1}, reason="r", remark=None, now=1.0, settle_at=2.0
                )
                a_holds.set()
                await b_holds.wait()

        async def a_next() -> OrderState:
            # queued behind a_refund in the same batch (before the batch's commit)
            async with a_store.refunding(key=False) as unit:
                order = await unit.order_state(merchant, SECOND)
            assert order is not None
            return order

        async def b_refund() -> OrderState:
            async with b_store.refunding(key=False) as unit:
                assert await unit.order_state(merchant, SECOND) is not None
                b_holds.set()
                await a_holds.wait()
                order = await unit.order_state(merchant, FIRST)
            assert order is not None
            return order

        try:
            _, a_read, b_read = await asyncio.wait_for(
                asyncio.gather(a_refund(), a_next(), b_refund()), DEADLINE
            )
        finally:
            for app in apps:
                await app.state.sandbox.release()
        return before, a_read, b_read

    try:
        before, a_read, b_read = asyncio.run(run())
    finally:
        for app in apps:
            app.state.sandbox.close()
    assert (a_read.id, b_read.id) == (SECOND, FIRST)
    assert _refunds_of(postgres_url, FIRST) == 1
    # B read FIRST once A's refund was committed: it sees the piece reserved
    assert b_read.lines[0].reserved == before.lines[0].reserved + 1


async def _until_a_backend_waits_for_a_lock(url: str) -> None:
    """Return once some backend of the database waits for a lock (polled: the state is
    the database's, not this process's)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as db:
        for _ in range(int(DEADLINE / 0.01)):
            cursor = await db.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            row = await cursor.fetchone()
            if row is not None and row[0]:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("no backend came to wait for a lock")


def test_a_reset_through_one_process_while_anothers_batch_holds_an_order_goes_through(
    postgres_url: str,
) -> None:
    """B's batch holds FIRST with a refund staged while a reset through A deletes every
    row: the reset waits for B's batch (it locks what writers lock, in their order,
    before deleting anything), B's refund is committed, and then the reset empties the
    sandbox. Deleting table by table, the reset held FIRST's lines when B's commit
    needed them, and waited for FIRST's row, which B held: a deadlock (one aborted)."""
    apps = [create_app(db=postgres_url, rate_limit=None) for _ in range(2)]
    b_store: Store = apps[1].state.sandbox.store
    merchant = b_store.merchant_of("demo-token")
    assert merchant is not None

    async def run() -> None:
        b_holds = asyncio.Event()
        await _state(b_store, merchant, FIRST)  # the loop's pool and batches first

        async def b_refund() -> None:
            async with b_store.refunding(key=False) as unit:
                order = await unit.order_state(merchant, FIRST)
                assert order is not None
                await unit.add_refund(
                    merchant,
                    order,
                    {order.lines[0].id: 1},
                    reason="r",
                    remark=None,
                    now=1.0,
                    settle_at=2.0,
                )
                b_holds.set()
                await _until_a_backend_waits_for_a_lock(postgres_url)

        async def a_reset() -> None:
            await b_holds.wait()
            await apps[0].state.sandbox.reset()

        try:
            await asyncio.wait_for(asyncio.gather(b_refund(), a_reset()), DEADLINE)
        finally:
            for app in apps:
                await app.state.sandbox.release()

    try:
        asyncio.run(run())
    finally:
        for app in apps:
            app.state.sandbox.close()
    assert _refunds_of(postgres_url, FIRST) == 0  # the reset came after B's refund
