"""--data FILE: merchants, tokens and orders checked field by field; POST /_sandbox/orders."""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app, data
from kakaclo_sandbox.data import DEMO_DATA, DataError, load
from kakaclo_spec import Spec
from tests.live import LiveSandbox
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, MY_ORDER, refund_url

MY_TOKEN = {"Authorization": "Bearer my-token"}
ORDER: dict[str, Any] = {
    **MY_ORDER,
    "orderItems": [{**MY_ORDER["orderItems"][0], "option1": '{"name":"color", "value":"Teal"}'}],
}
DATA: dict[str, Any] = {
    "merchants": [{"merchant": "my-shop", "tokens": ["my-token"], "orders": [ORDER]}]
}
ONE_PIECE = {"itemId": "777", "skuCode": "MY_SKU", "countryCode": "CN", "quantity": 1}


class _NoAliases(yaml.SafeDumper):
    """Objects the test shares are written out each time: data files refuse aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _write(tmp_path: Path, data: Any, name: str = "data.yaml") -> Path:
    path = tmp_path / name
    text = json.dumps(data) if name.endswith(".json") else yaml.dump(data, Dumper=_NoAliases)
    path.write_text(text)
    return path


def _edited(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(DATA)
    edit(data["merchants"][0]["orders"][0], data)
    return data


def _app(data: Path, **settings: Any) -> Any:
    return create_app(db=":memory:", rate_limit=None, data=data, clock=FakeTime(), **settings)


@pytest.mark.parametrize("name", ["data.yaml", "data.json"])
def test_a_data_file_replaces_the_demo_data(tmp_path: Path, name: str) -> None:
    with TestClient(_app(_write(tmp_path, DATA, name), validate_responses=True)) as client:
        orders = client.get(API, headers=MY_TOKEN).json()["data"]
        assert [order["id"] for order in orders["list"]] == ["5001"]
        order = orders["list"][0]
        assert (order["subTotalAmount"], order["finalAmount"]) == (25.0, 29.5)
        assert order["orderItems"][0]["option1"] == '{"name":"color", "value":"Teal"}'
        assert client.get(API, headers=TOKEN_A).status_code == 401  # no demo tokens
        answer = client.post(refund_url("5001"), json={"orderItems": [ONE_PIECE]}, headers=MY_TOKEN)
        assert answer.status_code == 200, answer.text
        client.post("/_sandbox/reset", headers={"Content-Type": "application/json"})
        assert client.get(f"{API}/refund/5001", headers=MY_TOKEN).json()["data"]["total"] == 0


def test_settled_refunds_in_the_file_go_through_the_rules(tmp_path: Path) -> None:
    def add_refunds(order: dict[str, Any], _: Any) -> None:
        order["refunds"] = [
            {"refundStatus": "refund_successfully", "orderItems": [ONE_PIECE]},
            {"refundStatus": "refund_failed", "orderItems": [ONE_PIECE], "remark": "declined"},
        ]

    with TestClient(_app(_write(tmp_path, _edited(add_refunds)), validate_responses=True)) as c:
        refunds = c.get(f"{API}/refund/5001", headers=MY_TOKEN).json()["data"]["list"]
        assert [r["refundStatus"] for r in refunds] == ["refund_failed", "refund_successfully"]
        order = c.get(API, headers=MY_TOKEN).json()["data"]["list"][0]
        assert order["refundStatus"] == "partial_refund"
        assert order["refundedAmount"] == 12.5
        assert order["orderItems"][0]["refundStatus"] == "refunded"


def _set(path: str, value: Any) -> Any:
    def edit(order: dict[str, Any], data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = {"order": order, "data": data}
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "names"),
    [
        (_set("order.orderItems.0.amount", "12.5"), "orders[0].orderItems[0].amount"),
        (_set("order.orderItems.0.productNum", 0), "orders[0].orderItems[0].productNum"),
        (_set("order.status", "shipped_to_mars"), "orders[0].status"),
        (_set("order.id", "A-1"), "orders[0].id"),
        (_set("order.createDate", "yesterday"), "orders[0].createDate"),
        (_set("order.orderItems.0.amount", 12.34567), "12.34567 has more than 4 decimals"),
        (_set("order.finalAmount", 30), "orders[0].finalAmount: 30 is not subTotalAmount"),
        (_set("order.orderItems.0.total", 1), "orders[0].orderItems[0].total"),
        (_set("order.refundStatus", "refunded"), "orders[0].refundStatus"),
        (
            _set(
                "order.refunds",
                [
                    {
                        "refundStatus": "refund_successfully",
                        "orderItems": [{**ONE_PIECE, "quantity": 3}],
                    }
                ],
            ),
            "refunds[0]: orderItems[0]: quantity 3 exceeds",
        ),
        (_set("order.fulfillments", [{"items": [{"id": "nope"}]}]), "fulfillments[0].items[0].id"),
        (_set("data.merchants.0.tokens", []), "merchants[0].tokens"),
        (_set("data.surprise", 1), "surprise"),
    ],
    ids=[
        "amount-as-text",
        "no-pieces",
        "unknown-status",
        "id-not-digits",
        "bad-date",
        "five-decimals",
        "final-does-not-add-up",
        "total-does-not-add-up",
        "refund-state-not-from-refunds",
        "seeded-refund-breaks-a-rule",
        "parcel-of-an-unknown-line",
        "no-token",
        "unknown-top-level-key",
    ],
)
def test_a_bad_file_names_the_field(tmp_path: Path, edit: Any, names: str) -> None:
    path = _write(tmp_path, _edited(edit))
    with pytest.raises(DataError) as raised:
        _app(path)  # loads the file, then seeds it (the refunds go through the rules)
    message = str(raised.value)
    assert message.startswith(f"{path}: ") and names in message, message


def test_duplicates_across_the_file_are_refused(tmp_path: Path) -> None:
    data = copy.deepcopy(DATA)
    data["merchants"].append({"merchant": "other", "tokens": ["my-token"], "orders": []})
    with pytest.raises(DataError, match=r"merchants\[1\]\.tokens\[0\]: token 'my-token'"):
        load(_write(tmp_path, data), Spec.load())
    data["merchants"][1] = {"merchant": "other", "tokens": ["t2"], "orders": []}
    data["merchants"][0]["orders"].append(
        {**ORDER, "orderItems": [{**ORDER["orderItems"][0], "id": "1"}]}
    )
    with pytest.raises(
        DataError,
        match=r"merchants\[0\]\.orders\[1\]\.id: order 5001 of merchant 'my-shop' is already "
        r"merchants\[0\]\.orders\[0\]$",
    ):
        load(_write(tmp_path, data), Spec.load())


def test_ids_are_a_merchants_own_in_the_file(tmp_path: Path) -> None:
    """The same order id and line id under two merchants: two orders (issue 30)."""
    data = copy.deepcopy(DATA)
    data["merchants"].append({"merchant": "other", "tokens": ["t2"], "orders": [ORDER]})
    dataset = load(_write(tmp_path, data), Spec.load())
    assert [(s.order.merchant, s.order.id) for s in dataset.orders] == [
        ("my-shop", "5001"),
        ("other", "5001"),
    ]
    twin = {**ORDER, "id": "5002", "orderItems": [ORDER["orderItems"][0]]}
    data["merchants"][0]["orders"].append(twin)
    with pytest.raises(
        DataError,
        match=r"merchants\[0\]\.orders\[1\]\.orderItems\[0\]\.id: line id 50011 is already "
        r"a line of order 5001 \(merchants\[0\]\.orders\[0\]\) of merchant 'my-shop'$",
    ):
        load(_write(tmp_path, data), Spec.load())


def test_the_demo_data_is_a_data_file() -> None:
    dataset = load(DEMO_DATA, Spec.load())
    assert set(dataset.tokens) == {"demo-token", "demo-token-2", "demo-token-vendor"}
    assert len(dataset.orders) == 16


def _sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kakaclo_sandbox", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_stops_on_bad_data_with_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, _edited(_set("order.orderItems.0.amount", "12.5")))
    done = _sandbox("--db", ":memory:", "--data", str(path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "orders[0].orderItems[0].amount" in done.stderr
    missing = _sandbox("--db", ":memory:", "--data", str(tmp_path / "missing.yaml"))
    assert missing.returncode == 2 and "cannot read it" in missing.stderr


def test_a_database_with_other_data_is_kept_until_fresh(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    data = _write(tmp_path, DATA)
    live = LiveSandbox(db=db, args=["--rate-limit", "off"]).start()  # the demo data
    live.stop()
    refused = _sandbox("--db", str(db), "--data", str(data))
    assert refused.returncode == 2
    assert "pass --fresh" in refused.stderr and "demo.yaml" in refused.stderr
    live = LiveSandbox(db=db, args=["--rate-limit", "off", "--data", str(data), "--fresh"]).start()
    try:
        import httpx

        answer = httpx.get(live.base_url + "/openapi/v2/order/orders", headers=MY_TOKEN)
        assert [o["id"] for o in answer.json()["data"]["list"]] == ["5001"]
    finally:
        live.stop()
    # the same data again: no --fresh needed, nothing replaced
    LiveSandbox(db=db, args=["--rate-limit", "off", "--data", str(data)]).start().stop()


def test_a_data_file_edited_in_place_says_what_changed_and_how_to_load_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sandbox.db"
    data = _write(tmp_path, DATA)
    LiveSandbox(db=db, args=["--rate-limit", "off", "--data", str(data)]).start().stop()
    _write(tmp_path, _edited(_set("order.remark", "edited in place")))  # the same file
    refused = _sandbox("--db", str(db), "--data", str(data))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert f"{data} changed since {db} was seeded from it" in refused.stderr
    assert "pass --fresh" in refused.stderr and "holds the data of" not in refused.stderr


def test_an_order_can_be_added_at_runtime(client: TestClient) -> None:
    added = client.post("/_sandbox/orders", json=ORDER, headers=TOKEN_A)
    assert added.status_code == 200, added.text
    assert added.json()["data"]["finalAmount"] == 29.5
    listed = client.get(API, params={"ids": "5001"}, headers=TOKEN_A).json()["data"]["list"]
    assert listed == [added.json()["data"]]
    refund = client.post(refund_url("5001"), json={"orderItems": [ONE_PIECE]}, headers=TOKEN_A)
    assert refund.status_code == 200
    again = client.post("/_sandbox/orders", json=ORDER, headers=TOKEN_A)
    assert (again.status_code, again.json()["code"]) == (400, 40002)
    assert "order 5001 already exists" in again.json()["message"]
    bad = client.post(
        "/_sandbox/orders", json={**ORDER, "id": "5002", "status": 7}, headers=TOKEN_A
    )
    assert bad.status_code == 400 and bad.json()["message"].startswith("order.status: ")
    assert client.post("/_sandbox/orders", json=ORDER).status_code == 401
    client.post("/_sandbox/reset", headers={"Content-Type": "application/json"})
    assert client.get(API, params={"ids": "5001"}, headers=TOKEN_A).json()["data"]["total"] == 0


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (
            _set("order.financialStatus", "payed"),
            'orders[0].financialStatus: "payed" is not one of the allowed values: '
            '"waiting", "paid" or null',
        ),
        (
            _set("order.orderItems.0.countryCode", "DE"),
            'orders[0].orderItems[0].countryCode: "DE" is not one of the allowed values: '
            '"CN", "US" or null',
        ),
    ],
    ids=["order-enum", "line-enum"],
)
def test_a_value_outside_an_enumeration_lists_the_allowed_ones(
    tmp_path: Path, edit: Any, says: str
) -> None:
    path = _write(tmp_path, _edited(edit))
    with pytest.raises(DataError) as raised:
        load(path, Spec.load())
    assert str(raised.value) == f"{path}: merchants[0].{says}"
    assert "oneOf" not in str(raised.value)


def test_a_large_file_logs_its_progress_and_the_demo_data_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(data, "PROGRESS_EVERY", 2)
    orders = [
        {**ORDER, "id": str(6000 + n), "orderItems": [{**ORDER["orderItems"][0], "id": str(n)}]}
        for n in range(5)
    ]
    path = _write(tmp_path, {"merchants": [{"merchant": "m", "tokens": ["t"], "orders": orders}]})
    with caplog.at_level(logging.INFO, logger=data.__name__):
        load(path, Spec.load())
    assert caplog.messages == [f"{path}: 2 of 5 orders checked", f"{path}: 4 of 5 orders checked"]
    caplog.clear()
    monkeypatch.setattr(data, "PROGRESS_EVERY", 10_000)
    with caplog.at_level(logging.INFO, logger=data.__name__):
        load(DEMO_DATA, Spec.load())
    assert caplog.messages == []
