"""Order ids and line ids are each merchant's own (issue 30, "Ids that leak").

Two merchants may use the same order ids and line ids; each refunds and sees only its
own, and neither learns that the other uses them. Within one merchant a taken id is
refused as bad input (400 40002 from the control surface, a one-line DataError from a
data file), never a 500 or a traceback, and nothing changes.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app, demo
from kakaclo_sandbox.data import DataError, Dataset, check_order
from kakaclo_sandbox.domain.refunds import RefundRequest, RefundRules, RequestedItem
from kakaclo_sandbox.seeding import seed
from kakaclo_sandbox.service.refunds import create_refund
from kakaclo_sandbox.service.running import run_now
from kakaclo_sandbox.storage import queries
from kakaclo_sandbox.storage.schema import Connection
from kakaclo_sandbox.storage.sqlite import SqliteStore
from kakaclo_sandbox.storage.store import Store
from kakaclo_sandbox.web import console
from kakaclo_sandbox.web.state import Sandbox
from kakaclo_spec import Spec
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, TOKEN_B, FakeTime
from tests.sandbox.helpers import API, order, refund_url, refunds, snapshot

# merchant-a's demo order 10001 and its two lines, which merchant-b adds as its own
SHARED_ORDER = "10001"
SHARED_LINES = ("100011", "100012")


def _order(order_id: str, line_ids: tuple[str, ...], amount: float) -> dict[str, Any]:
    """An order in the Query Order shape: one line per id, two pieces of ``amount`` each."""
    return {
        "id": order_id,
        "status": "processing",
        "financialStatus": "paid",
        "fulfillmentStatus": "waiting_to_ship",
        "createDate": "2026-11-20T10:00:00Z",
        "payDate": "2026-11-20T10:00:04Z",
        "freightAmount": 0,
        "orderItems": [
            {
                "id": line_id,
                "itemId": f"77{i}",
                "skuCode": "MY_SKU",
                "countryCode": "CN",
                "amount": amount,
                "productNum": 2,
            }
            for i, line_id in enumerate(line_ids)
        ],
    }


def _my_piece(i: int = 0) -> dict[str, Any]:
    return {"itemId": f"77{i}", "skuCode": "MY_SKU", "countryCode": "CN", "quantity": 1}


def _sandbox(client: TestClient) -> Sandbox:
    sandbox: Sandbox = client.app.state.sandbox  # type: ignore[attr-defined]
    return sandbox


def _console_orders(client: TestClient, merchant: str) -> dict[str, list[str]]:
    """The console's feed state of ``merchant``: each order id with its refund numbers."""
    sandbox = _sandbox(client)
    state = console.state(sandbox, None, merchant)
    ids = [o["id"] for o in state["orders"]]
    assert len(ids) == len(set(ids))
    return {o["id"]: [r["refundNo"] for r in o["refunds"]] for o in state["orders"]}


def test_two_merchants_use_the_same_order_and_line_ids(client: TestClient) -> None:
    a_before = snapshot(client, TOKEN_A)
    added = client.post(
        "/_sandbox/orders", json=_order(SHARED_ORDER, SHARED_LINES, 3.0), headers=TOKEN_B
    )
    assert added.status_code == 200, added.text
    assert [line["id"] for line in added.json()["data"]["orderItems"]] == list(SHARED_LINES)
    assert snapshot(client, TOKEN_A) == a_before  # A sees nothing of B's order

    # each sees its own 10001 only
    a_order, b_order = order(client, TOKEN_A, SHARED_ORDER), order(client, TOKEN_B, SHARED_ORDER)
    assert b_order == added.json()["data"]
    assert a_order == next(o for o in a_before["orders"]["list"] if o["id"] == SHARED_ORDER)
    assert (a_order["finalAmount"], b_order["finalAmount"]) != (6.0, 6.0)
    assert b_order["finalAmount"] == 12.0

    # each refunds its own: A all of it, B one piece of its first line
    a_refund = client.post(refund_url(SHARED_ORDER), json={}, headers=TOKEN_A)
    b_refund = client.post(
        refund_url(SHARED_ORDER), json={"orderItems": [_my_piece()]}, headers=TOKEN_B
    )
    assert (a_refund.status_code, b_refund.status_code) == (200, 200), b_refund.text
    a_no, b_no = a_refund.json()["data"], b_refund.json()["data"]
    assert a_no != b_no
    assert [r["refundNo"] for r in refunds(client, TOKEN_A, SHARED_ORDER)] == [a_no]
    assert [r["refundNo"] for r in refunds(client, TOKEN_B, SHARED_ORDER)] == [b_no]
    # B's pieces are B's lines': A's order has none left, B's has three
    more = client.post(refund_url(SHARED_ORDER), json={}, headers=TOKEN_B)
    assert more.status_code == 200, more.text
    b_all = [r["refundNo"] for r in refunds(client, TOKEN_B, SHARED_ORDER)]
    assert b_all == [more.json()["data"], b_no]
    assert client.post(refund_url(SHARED_ORDER), json={}, headers=TOKEN_A).status_code == 409

    assert _console_orders(client, "merchant-a")[SHARED_ORDER] == [a_no]
    assert _console_orders(client, "merchant-b") == {
        "20001": [],
        "20002": [],
        SHARED_ORDER: b_all,
    }

    # settlement counts each refund's pieces in its own merchant's lines
    settle_after = _sandbox(client).settings.settle_after
    moved = client.post(
        "/_sandbox/clock/advance",
        params={"seconds": settle_after + 1},
        headers={"Content-Type": "application/json"},
    )
    assert moved.json()["data"]["settled"] == 3
    a_order, b_order = order(client, TOKEN_A, SHARED_ORDER), order(client, TOKEN_B, SHARED_ORDER)
    assert (a_order["status"], a_order["refundedAmount"]) == ("cancel", a_order["finalAmount"])
    assert (b_order["status"], b_order["refundedAmount"]) == ("cancel", 12.0)
    assert [line["id"] for line in b_order["orderItems"]] == list(SHARED_LINES)


def test_a_line_id_taken_within_the_merchant_is_a_400_and_changes_nothing(
    client: TestClient,
) -> None:
    before = (snapshot(client, TOKEN_A), snapshot(client, TOKEN_B))
    taken = client.post(
        "/_sandbox/orders", json=_order("5001", ("50011", "100012"), 1.0), headers=TOKEN_A
    )
    assert (taken.status_code, taken.json()["code"]) == (400, 40002), taken.text
    assert taken.headers["content-type"].startswith("application/json")
    assert taken.json()["message"] == (
        "order.orderItems[1].id: line id 100012 is already a line of order 10001"
    )
    order_taken = client.post(
        "/_sandbox/orders", json=_order("10002", ("50011",), 1.0), headers=TOKEN_A
    )
    assert (order_taken.status_code, order_taken.json()["code"]) == (400, 40002)
    assert order_taken.json()["message"] == "order.id: order 10002 already exists"
    assert (snapshot(client, TOKEN_A), snapshot(client, TOKEN_B)) == before
    # nothing of the refused order stayed behind: its own ids are still free
    again = client.post("/_sandbox/orders", json=_order("5001", ("50011",), 1.0), headers=TOKEN_A)
    assert again.status_code == 200, again.text


def test_a_taken_id_is_one_of_the_callers_own_never_another_merchants(
    client: TestClient,
) -> None:
    # merchant-b's demo ids are free for merchant-a, and the answer says nothing of B
    b_ids = client.post(
        "/_sandbox/orders", json=_order("20001", ("200011", "200012"), 1.0), headers=TOKEN_A
    )
    assert b_ids.status_code == 200, b_ids.text
    listed = client.get(API, params={"ids": "20001"}, headers=TOKEN_A).json()["data"]["list"]
    assert listed == [b_ids.json()["data"]]
    b_own = client.get(API, params={"ids": "20001"}, headers=TOKEN_B).json()["data"]["list"]
    assert [line["id"] for line in b_own[0]["orderItems"]] == ["200011", "200012"]
    assert b_own[0] != b_ids.json()["data"]


def _dataset(spec: Spec, orders: list[tuple[str, dict[str, Any]]]) -> Dataset:
    return Dataset(
        source="test data",
        tokens={"token-1": "m1", "token-2": "m2"},
        orders=tuple(
            check_order(spec, body, merchant, f"orders[{n}]")
            for n, (merchant, body) in enumerate(orders)
        ),
    )


ONE_OF_MY_FIRST_LINE = (RequestedItem("770", "MY_SKU", 1, "CN"),)


def _refund_one(
    store: SqliteStore,
    merchant: str,
    order_id: str,
    items: tuple[RequestedItem, ...] | None = ONE_OF_MY_FIRST_LINE,
) -> str:
    """Store one refund (of ``items``; None: all that is left) as a data file's."""

    async def write() -> str:
        async with store.writing() as unit:
            return await create_refund(
                unit,
                merchant,
                order_id,
                RefundRequest(items, "Other"),
                rules=RefundRules(),
                now=0,
                settle_at=0,
            )

    return run_now(write())


def _lines(db: Connection, merchant: str, order_id: str) -> dict[str, tuple[int, int, int]]:
    """The merchant's order's lines: id -> (amount in ten-thousandths, reserved, refunded)."""
    stored = queries.stored_order(db, merchant, order_id)
    assert stored is not None
    return {line.id: (line.amount_e4, line.reserved, line.refunded) for line in stored.lines}


def test_a_data_file_gives_two_merchants_the_same_ids() -> None:
    spec = Spec.load()
    settled = {"refunds": [{"refundStatus": "refund_successfully", "orderItems": [_my_piece(1)]}]}
    data = _dataset(
        spec,
        [
            ("m1", _order("5001", ("50011", "50012"), 1.0)),
            ("m2", {**_order("5001", ("50011", "50012"), 2.0), **settled}),
        ],
    )
    store = SqliteStore(":memory:")
    run_now(demo.reset(store, data))
    first, second = _refund_one(store, "m1", "5001"), _refund_one(store, "m2", "5001")
    with store.reading() as db:
        m1 = queries.refunds_page(db, "m1", "5001", limit=10, offset=0)
        m2 = queries.refunds_page(db, "m2", "5001", limit=10, offset=0)
        lines = {merchant: _lines(db, merchant, "5001") for merchant in ("m1", "m2")}
    store.close()
    assert m1 is not None and m2 is not None
    assert [r.refund_no for r in m1[1]] == [first]
    seeded = [r.refund_no for r in m2[1]]
    assert seeded[0] == second and len(seeded) == 2 and first not in seeded
    assert lines == {
        "m1": {"50011": (10_000, 1, 0), "50012": (10_000, 0, 0)},
        "m2": {"50011": (20_000, 1, 0), "50012": (20_000, 1, 1)},
    }


def test_a_data_file_with_a_line_id_taken_within_a_merchant_is_a_data_error() -> None:
    spec = Spec.load()
    data = _dataset(
        spec,
        [
            ("m1", _order("5001", ("50011",), 1.0)),
            ("m2", _order("5002", ("50021",), 1.0)),
            ("m2", _order("5003", ("50031", "50021"), 1.0)),
        ],
    )
    store = SqliteStore(":memory:")

    async def seed_it() -> None:
        async with store.writing() as unit:
            await seed(unit, data)

    with pytest.raises(DataError) as raised:
        run_now(seed_it())
    assert str(raised.value) == (
        "orders[2].orderItems[1].id: line id 50021 is already a line of order 5002"
    )
    assert store.is_empty()  # rolled back: not even the merchants stayed
    store.close()


def test_the_command_refuses_such_a_data_file_in_one_line(tmp_path: Path) -> None:
    line = {"itemId": "777", "skuCode": "MY_SKU", "countryCode": "CN", "amount": 1, "productNum": 1}
    orders = [
        {**_order(order_id, (), 1.0), "orderItems": [{**line, "id": "91"}]}
        for order_id in ("5001", "5002")
    ]
    path = tmp_path / "data.yaml"
    path.write_text(
        yaml.safe_dump({"merchants": [{"merchant": "m", "tokens": ["t"], "orders": orders}]})
    )
    ran = subprocess.run(
        [sys.executable, "-m", "kakaclo_sandbox", "--data", str(path), "--db", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 2, ran.stderr
    assert "Traceback" not in ran.stderr and ran.stderr.count("\n") == 1
    assert (
        "merchants[0].orders[1].orderItems[0].id: line id 91 is already a line of order 5001"
        in (ran.stderr)
    )


def test_a_database_of_schema_3_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE refunds (seq INTEGER PRIMARY KEY, order_id TEXT)")
    old.execute("PRAGMA user_version = 3")
    old.commit()
    old.close()
    with pytest.raises(ValueError, match="schema 3") as refused:
        Store(path)
    assert str(refused.value) == (
        f"{path} was made by another version of kakaclo-sandbox (schema 3, this one needs 4); "
        "move it away or pass another --db"
    )


def test_the_same_idempotency_key_on_the_same_order_id_is_each_merchants_own(
    client: TestClient,
) -> None:
    added = client.post(
        "/_sandbox/orders", json=_order(SHARED_ORDER, SHARED_LINES, 3.0), headers=TOKEN_B
    )
    assert added.status_code == 200, added.text
    numbers = {}
    for name, token, body in (("a", TOKEN_A, {}), ("b", TOKEN_B, {"orderItems": [_my_piece()]})):
        headers = {**token, "Idempotency-Key": "same-key"}
        first = client.post(refund_url(SHARED_ORDER), json=body, headers=headers)
        replay = client.post(refund_url(SHARED_ORDER), json=body, headers=headers)
        assert (first.status_code, replay.status_code) == (200, 200), first.text
        assert replay.json()["data"] == first.json()["data"]
        numbers[name] = first.json()["data"]
    assert numbers["a"] != numbers["b"]
    assert [r["refundNo"] for r in refunds(client, TOKEN_B, SHARED_ORDER)] == [numbers["b"]]


def test_fresh_replaces_a_database_of_schema_3(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE orders (id TEXT PRIMARY KEY, merchant TEXT);"
        "CREATE TABLE refunds (seq INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT "
        "REFERENCES orders (id));"
        "INSERT INTO orders VALUES ('10001', 'merchant-a');"
        "INSERT INTO refunds (order_id) VALUES ('10001');"
        "PRAGMA user_version = 3;"
    )
    old.close()
    store = SqliteStore(path, fresh=True)
    assert store.is_empty()
    run_now(demo.reset(store, demo.dataset(None, Spec.load())))
    number = _refund_one(store, "merchant-a", "10007", None)
    with store.reading() as db:
        page = queries.refunds_page(db, "merchant-a", "10007", limit=10, offset=0)
    assert page is not None and [r.refund_no for r in page[1]] == [number]
    store.close()
    again = Store(path)  # now of this schema: opened as it is, without --fresh
    assert not again.is_empty()
    again.close()


def test_a_data_file_of_two_merchants_with_the_same_ids_serves_each_its_own(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data.yaml"
    merchants = [
        {"merchant": name, "tokens": [f"{name}-token"], "orders": [_order("5001", ("50011",), a)]}
        for name, a in (("m1", 1.0), ("m2", 2.0))
    ]
    path.write_text(yaml.safe_dump({"merchants": merchants}))
    app = create_app(db=":memory:", rate_limit=None, data=path, clock=FakeTime())
    with TestClient(app) as client:
        seen = {}
        for name in ("m1", "m2"):
            headers = {"Authorization": f"Bearer {name}-token"}
            refunded = client.post(refund_url("5001"), json={}, headers=headers)
            assert refunded.status_code == 200, refunded.text
            listed = client.get(API, headers=headers).json()["data"]["list"]
            final = {"m1": 2.0, "m2": 4.0}[name]  # two pieces of the merchant's own amount
            assert [(o["id"], o["finalAmount"]) for o in listed] == [("5001", final)]
            seen[name] = [r["refundNo"] for r in refunds(client, headers, "5001")]
        assert len(seen["m1"]) == len(seen["m2"]) == 1 and seen["m1"] != seen["m2"]
