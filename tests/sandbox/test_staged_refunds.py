"""A refund's rows wait in memory until its batch commits, and nothing sees the difference.

Each test drives the store as Refund Order does (one event-loop turn, one
batch) and checks one promise of :mod:`kakaclo_sandbox.storage.staged_refunds`:
the rows are written with the batch's commit, with the numbers SQLite would
have given; whatever reads or writes in the same batch finds them written; a
refund undone after it was staged is gone, and only it; a batch whose rows
cannot be written is undone as a whole.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from kakaclo_sandbox import create_app
from kakaclo_sandbox.domain.errors import RuleViolation
from kakaclo_sandbox.domain.refunds import RefundRequest, RequestedItem
from kakaclo_sandbox.service.refunds import create_refund
from kakaclo_sandbox.service.running import run_now
from kakaclo_sandbox.storage import queries
from kakaclo_sandbox.storage.kept_orders import KeptOrders
from kakaclo_sandbox.storage.sqlite import BatchedRefund
from kakaclo_sandbox.storage.store import Batch, Store
from kakaclo_sandbox.web.state import Sandbox
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import FailingCommit, item, refund_url, sqlite_store

SKU = "FSZW08923_R_L_NUB"  # every line of the demo orders 10007 and 10008
T = TypeVar("T")


@pytest.fixture
def sandbox(fake_time: FakeTime) -> Iterator[Sandbox]:
    app = create_app(db=":memory:", rate_limit=None, validate_responses=True, clock=fake_time)
    sandbox: Sandbox = app.state.sandbox
    yield sandbox
    sandbox.close()


def _run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(scenario())


def _pieces(line_id: str, quantity: int, country: str = "CN") -> RefundRequest:
    return RefundRequest(items=(RequestedItem(line_id, SKU, quantity, country),), reason="test")


def _create(sandbox: Sandbox, db: sqlite3.Connection, order_id: str, request: RefundRequest) -> str:
    """A refund of merchant-a as Refund Order creates it, due in 60 s; its number."""
    return run_now(
        create_refund(
            BatchedRefund(db, sqlite_store(sandbox)),
            "merchant-a",
            order_id,
            request,
            rules=sandbox.rules,
            now=sandbox.now(),
            settle_at=sandbox.now() + 60,
        )
    )


def _stage(sandbox: Sandbox, order_id: str, request: RefundRequest) -> tuple[str, Batch]:
    """One refund as Refund Order makes it without a key: its number and batch."""
    with sqlite_store(sandbox).batched(refund=True, savepoint=False) as (db, batch):
        number = _create(sandbox, db, order_id, request)
    return number, batch


def _stage_then_fail(sandbox: Sandbox, order_id: str, request: RefundRequest) -> None:
    """A refund with a key whose block fails after staging, as a failed remember_answer."""
    with sqlite_store(sandbox).batched(refund=True, savepoint=True) as (db, _):
        _create(sandbox, db, order_id, request)
        raise sqlite3.OperationalError("disk I/O error")


def _row(store: Store, number: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = store.connection.execute(
        "SELECT r.*, o.id AS order_id FROM refunds r JOIN orders o ON o.pk = r.order_pk "
        "WHERE r.seq = ?",
        (queries.seq_of(number),),
    ).fetchone()
    return row


def _reserved(store: Store, order_id: str) -> dict[str, int]:
    rows = store.connection.execute(
        "SELECT l.id, l.reserved FROM order_lines l JOIN orders o ON o.pk = l.order_pk "
        "WHERE o.id = ?",
        (order_id,),
    )
    return {row["id"]: row["reserved"] for row in rows}


def _last_seq(store: Store) -> int:
    with store.reading() as db:
        return queries.last_refund_seq(db)


def test_a_staged_refund_reaches_the_database_with_its_batch_commit(sandbox: Sandbox) -> None:
    store = sqlite_store(sandbox)
    last = _last_seq(store)

    async def scenario() -> str:
        number, batch = _stage(sandbox, "10007", _pieces("120071", 2))
        assert number == queries.refund_no(last + 1)  # the number SQLite would give
        assert _row(store, number) is None  # staged, not written
        assert _reserved(store, "10007") == {"100071": 0, "100072": 0}
        assert not batch.committed.done()
        await batch.committed
        return number

    row = _row(store, _run(scenario))
    assert row is not None
    assert (row["order_id"], row["status"], row["reason"]) == ("10007", "pending_review", "test")
    assert row["settle_at"] == row["created_at"] + 60
    assert _reserved(store, "10007") == {"100071": 2, "100072": 0}
    order = store.connection.execute(
        "SELECT pending_refunds, modify_date FROM orders WHERE id = '10007'"
    ).fetchone()
    assert (order["pending_refunds"], order["modify_date"]) == (1, row["created_at"])
    assert len(store.staged_refunds) == 0


def test_refunds_of_one_batch_are_numbered_and_counted_as_one_by_one(
    sandbox: Sandbox, fake_time: FakeTime
) -> None:
    store = sqlite_store(sandbox)
    last = _last_seq(store)

    async def scenario() -> list[str]:
        first, batch = _stage(sandbox, "10007", _pieces("120071", 1))
        fake_time.value += 1
        second, same = _stage(sandbox, "10008", _pieces("120081", 1))
        fake_time.value += 1
        third, _ = _stage(sandbox, "10007", _pieces("120071", 1))
        assert same is batch
        await batch.committed
        return [first, second, third]

    numbers = _run(scenario)
    assert numbers == [queries.refund_no(last + n) for n in (1, 2, 3)]
    assert all(_row(store, number) is not None for number in numbers)
    # 10007's two refunds: both counted, and the order modified at the later one's time
    order = store.connection.execute(
        "SELECT pending_refunds, modify_date FROM orders WHERE id = '10007'"
    ).fetchone()
    assert (order["pending_refunds"], order["modify_date"]) == (2, fake_time.value)

    # a refund staged on its own and written at once (as a data file's) goes on from there
    async def alone() -> str:
        async with store.writing() as unit:
            return await create_refund(
                unit,
                "merchant-a",
                "10008",
                _pieces("120081", 1),
                rules=sandbox.rules,
                now=0,
                settle_at=0,
            )

    direct = run_now(alone())
    assert direct == queries.refund_no(last + 4)
    assert _reserved(store, "10007")["100071"] == 2
    assert _reserved(store, "10008")["100081"] == 2


def test_a_read_in_the_same_turn_finds_the_staged_refund_committed(sandbox: Sandbox) -> None:
    store = sqlite_store(sandbox)

    async def scenario() -> None:
        number, batch = _stage(sandbox, "10007", _pieces("120071", 1))
        with store.reading() as db:  # e.g. Query Refund, in the same turn of the loop
            assert db.execute(
                "SELECT 1 FROM refunds WHERE seq = ?", (queries.seq_of(number),)
            ).fetchone()
        assert batch.committed.done()
        await batch.committed

    _run(scenario)


def test_another_write_in_the_batch_finds_the_staged_refunds_written(sandbox: Sandbox) -> None:
    store = sqlite_store(sandbox)

    async def scenario() -> None:
        number, batch = _stage(sandbox, "10007", _pieces("120071", 1))
        with store.batched() as (db, same):  # e.g. a settlement on the refund path
            assert same is batch
            assert db.execute(
                "SELECT 1 FROM refunds WHERE seq = ?", (queries.seq_of(number),)
            ).fetchone()
            assert len(store.staged_refunds) == 0
            assert len(store.kept_orders) == 0
        _stage(sandbox, "10007", _pieces("120071", 4))  # read again: 1 of 5 reserved
        with pytest.raises(RuleViolation):
            _stage(sandbox, "10007", _pieces("120071", 1))
        await batch.committed

    _run(scenario)
    assert _reserved(store, "10007")["100071"] == 5


def test_a_refund_undone_after_staging_is_gone_and_the_others_stay(sandbox: Sandbox) -> None:
    store = sqlite_store(sandbox)

    async def scenario() -> list[str]:
        first, batch = _stage(sandbox, "10007", _pieces("120071", 2))
        with pytest.raises(sqlite3.OperationalError):
            _stage_then_fail(sandbox, "10008", _pieces("120081", 5))
        assert len(store.kept_orders) == 0  # 10008 was kept with the undone refund
        second, _ = _stage(sandbox, "10008", _pieces("120081", 5))  # its number is free again
        await batch.committed
        return [first, second]

    last = _last_seq(store)
    assert _run(scenario) == [queries.refund_no(last + 1), queries.refund_no(last + 2)]
    assert _reserved(store, "10007")["100071"] == 2
    assert _reserved(store, "10008")["100081"] == 5


def test_forgetting_kept_states_at_their_bound_forgets_no_staged_refund(
    sandbox: Sandbox,
) -> None:
    store = sqlite_store(sandbox)
    store.kept_orders = KeptOrders(limit=1)

    async def scenario() -> None:
        _, batch = _stage(sandbox, "10007", _pieces("120071", 5))  # the whole line
        _stage(sandbox, "10008", _pieces("120081", 1))  # 10007 is forgotten, not its refund
        assert len(store.kept_orders) == 1
        with pytest.raises(RuleViolation):  # read from the database: nothing is left
            _stage(sandbox, "10007", _pieces("120071", 1))
        await batch.committed

    _run(scenario)
    assert _reserved(store, "10007")["100071"] == 5
    assert _reserved(store, "10008")["100081"] == 1


def test_a_batch_whose_refunds_cannot_be_written_is_undone(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sqlite_store(sandbox)
    last = _last_seq(store)

    def broken(db: sqlite3.Connection, refunds: Any) -> None:
        db.execute("UPDATE orders SET remark = 'half written' WHERE id = '10007'")
        raise sqlite3.OperationalError("disk I/O error")

    async def scenario() -> list[str]:
        first, batch = _stage(sandbox, "10007", _pieces("120071", 2))
        second, _ = _stage(sandbox, "10008", _pieces("120081", 1))
        monkeypatch.setattr(queries, "insert_refunds", broken)
        with pytest.raises(sqlite3.OperationalError):
            await batch.committed  # what every request of the batch awaits
        monkeypatch.undo()
        assert (len(store.kept_orders), len(store.staged_refunds)) == (0, 0)
        again, next_batch = _stage(sandbox, "10007", _pieces("120071", 5))  # all 5 are back
        await next_batch.committed
        return [first, second, again]

    first, second, again = _run(scenario)
    assert again == first == queries.refund_no(last + 1)
    assert _row(store, second) is None
    assert _reserved(store, "10007")["100071"] == 5
    assert _reserved(store, "10008")["100081"] == 0
    remark = store.connection.execute("SELECT remark FROM orders WHERE id = '10007'").fetchone()
    assert remark[0] != "half written"


def test_refunds_sent_together_share_one_batch_and_get_their_own_numbers(
    fake_time: FakeTime,
) -> None:
    app = create_app(db=":memory:", rate_limit=None, validate_responses=True, clock=fake_time)
    store: Store = sqlite_store(app.state.sandbox)
    commits: list[int] = []
    real_commit = store.commit_batch

    def counted() -> None:
        if store._batch is not None:
            commits.append(len(store.staged_refunds))
        real_commit()

    store.commit_batch = counted  # type: ignore[method-assign]

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
        ) as http:
            bodies = [{"orderItems": [item("120071", 1)]}] * 6  # one more than the line has
            bodies.append({"orderItems": [item("120072", 1, "US")]})
            keyed = {**TOKEN_A, "Idempotency-Key": "together-1"}
            sends = [http.post(refund_url("10007"), json=body, headers=TOKEN_A) for body in bodies]
            sends.append(http.post(refund_url("10008"), json={}, headers=keyed))
            return list(await asyncio.gather(*sends))

    try:
        answers = _run(scenario)
    finally:
        app.state.sandbox.close()
    assert commits == [7]  # one batch, of every refund but the refused one
    assert [answer.status_code for answer in answers] == [200] * 5 + [409, 200, 200]
    seqs = sorted(queries.seq_of(a.json()["data"]) for a in answers if a.status_code == 200)
    assert seqs == list(range(seqs[0], seqs[0] + 7))


def test_a_batch_sqlite_rolled_back_itself_still_tells_its_requests(sandbox: Sandbox) -> None:
    store = sqlite_store(sandbox)
    real = store.connection

    async def scenario() -> None:
        _, batch = _stage(sandbox, "10007", _pieces("120071", 2))
        store.connection = FailingCommit(real, rolled_back=True)  # type: ignore[assignment]
        try:
            store.commit_batch()
        finally:
            store.connection = real
        with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
            await batch.committed

    _run(scenario)
    assert _reserved(store, "10007")["100071"] == 0
    assert not real.in_transaction


def test_a_batch_whose_write_fails_with_any_error_tells_its_requests(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only SQLite's errors: a batch whose rows cannot be built (a TypeError, say) is
    undone as a whole and every request of it gets the error, instead of waiting for
    ever on a commit that never comes (found by make mutation)."""
    store = sqlite_store(sandbox)

    def broken(db: sqlite3.Connection, refunds: Any) -> None:
        raise TypeError("a staged refund without pieces")

    async def scenario() -> None:
        _, batch = _stage(sandbox, "10007", _pieces("120071", 2))
        monkeypatch.setattr(queries, "insert_refunds", broken)
        store.commit_batch()
        monkeypatch.undo()
        assert batch.committed.done()  # told at once, not left waiting
        with pytest.raises(TypeError, match="without pieces"):
            await batch.committed

    _run(scenario)
    assert _reserved(store, "10007")["100071"] == 0
    assert not store.connection.in_transaction
