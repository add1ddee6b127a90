"""Order states kept between refunds never outlive a write that is not a refund.

Each test below fails when one of the places that forget the kept states is
left out: a settlement on the refund path, a transaction (the control surface),
a rolled-back savepoint and a failed commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.domain.orders import Line, OrderState
from kakaclo_sandbox.storage import queries
from kakaclo_sandbox.storage.kept_orders import KeptOrders
from kakaclo_sandbox.storage.store import Store
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import FailingCommit, item, refund_url

WHOLE = {"remark": "please"}
WHOLE_FAILING = {"remark": "[fail] on purpose"}


def _store(client: TestClient) -> Store:
    store: Store = client.app.state.sandbox.store  # type: ignore[attr-defined]
    return store


@pytest.fixture
def sandbox(fake_time: FakeTime) -> Iterator[TestClient]:
    # No `with`: the lifespan (and its background settler) does not run, so what is
    # due settles on the request paths alone, as the tests need.
    app = create_app(db=":memory:", rate_limit=None, validate_responses=True, clock=fake_time)
    yield TestClient(app, raise_server_exceptions=False)
    app.state.sandbox.close()


def _refund(client: TestClient, body: dict[str, Any], **headers: str) -> int:
    answer = client.post(refund_url("10007"), json=body, headers={**TOKEN_A, **headers})
    status: int = answer.status_code
    return status


def test_a_refund_keeps_its_order_with_the_pieces_reserved(sandbox: TestClient) -> None:
    assert _refund(sandbox, {"orderItems": [_item("120071", 2)]}) == 200
    kept = _store(sandbox).kept_orders.get("merchant-a", "10007")
    assert kept is not None
    assert {line.id: line.reserved for line in kept.lines} == _reserved_in_database(sandbox)
    assert _refund(sandbox, {"orderItems": [_item("120071", 4)]}) == 409  # 3 are left
    assert _refund(sandbox, {"orderItems": [_item("120071", 3)]}) == 200
    assert _refund(sandbox, WHOLE) == 200  # the other line's 5
    assert _refund(sandbox, WHOLE) == 409  # nothing left


def test_a_kept_order_is_read_from_memory(
    sandbox: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A kept order is read once; reading it again would also miss the reservations of
    # refunds staged and not yet written (test_staged_refunds.py).
    reads: list[str] = []
    real = queries.order_state

    def counted(db: sqlite3.Connection, merchant: str, order_id: str) -> OrderState | None:
        reads.append(order_id)
        return real(db, merchant, order_id)

    monkeypatch.setattr(queries, "order_state", counted)
    assert _refund(sandbox, {"orderItems": [_item("120071", 1)]}) == 200
    assert _refund(sandbox, {"orderItems": [_item("120071", 1)]}) == 200
    assert _refund(sandbox, {"orderItems": [_item("120072", 1)]}) == 200
    assert reads == ["10007"]


def test_a_settlement_on_the_refund_path_is_seen(sandbox: TestClient, fake_time: FakeTime) -> None:
    assert _refund(sandbox, WHOLE_FAILING) == 200
    fake_time.value += 3600  # due, and nothing has read the order since
    # The refund's own batch settles the failed refund first: its pieces are back.
    assert _refund(sandbox, WHOLE) == 200


def test_a_reset_is_seen(sandbox: TestClient) -> None:
    assert _refund(sandbox, WHOLE) == 200
    assert (
        sandbox.post("/_sandbox/reset", headers={"Content-Type": "application/json"}).status_code
        == 200
    )
    assert _refund(sandbox, WHOLE) == 200


def test_a_rolled_back_refund_is_seen(sandbox: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    # The refund's rows and its kept state are written, then the key's entry fails:
    # the savepoint rolls it all back.
    monkeypatch.setattr(queries, "remember_answer", broken)
    assert _refund(sandbox, WHOLE, **{"Idempotency-Key": "k-1"}) == 500
    monkeypatch.undo()
    assert _reserved_in_database(sandbox) == {"100071": 0, "100072": 0}
    assert _refund(sandbox, WHOLE) == 200


def test_a_failed_commit_is_seen(sandbox: TestClient) -> None:
    store = _store(sandbox)
    real = store.connection
    store.connection = FailingCommit(real)  # type: ignore[assignment]
    try:
        assert _refund(sandbox, WHOLE) == 500
    finally:
        store.connection = real
    assert _reserved_in_database(sandbox) == {"100071": 0, "100072": 0}
    assert _refund(sandbox, WHOLE) == 200


def test_kept_states_say_when_they_reach_their_bound() -> None:
    # The store forgets them all then, once the staged refunds are written
    # (test_staged_refunds.py::test_forgetting_kept_states_at_their_bound_forgets_no_staged_refund).
    kept = KeptOrders(limit=2)
    kept.reserve("m", _order("1"), {})
    assert not kept.full()
    kept.reserve("m", _order("2"), {})
    assert kept.full() and len(kept) == 2
    kept.reserve("m", _order("2"), {"l": 1})  # a kept order is replaced, not counted
    assert len(kept) == 2
    state = kept.get("m", "2")
    assert state is not None and state.lines[0].reserved == 2
    assert kept.get("other merchant", "2") is None
    kept.forget()
    assert len(kept) == 0 and not kept.full()


def _order(order_id: str) -> OrderState:
    line = Line("l", "item", "sku", "CN", product_num=5, reserved=1, key=1)
    return OrderState(order_id, "processing", "paid", "waiting_to_ship", (line,), key=1)


def _item(item_id: str, quantity: int) -> dict[str, Any]:
    # order 10007's two lines: 120071 in CN, 120072 in US
    return item(item_id, quantity, "CN" if item_id == "120071" else "US")


def _reserved_in_database(client: TestClient) -> dict[str, int]:
    with _store(client).reading() as db:
        rows = db.execute(
            "SELECT l.id, l.reserved FROM order_lines l JOIN orders o ON o.pk = l.order_pk "
            "WHERE o.id = '10007'"
        )
        return {row["id"]: row["reserved"] for row in rows}
