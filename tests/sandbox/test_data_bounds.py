"""Data files and control orders against hostile sizes (issue 30, "Data"): amounts past what
is exact, coupons that make money negative, YAML alias bombs, JSON read as YAML."""

from __future__ import annotations

import copy
import itertools
import json
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.data import DataError, load, read_json, read_yaml
from kakaclo_spec import Spec
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, refund_url

SPEC = Spec.load()
MAX = Decimal(str(SPEC.document["components"]["schemas"]["Amount"]["maximum"]))
MAX_E4 = int(MAX * 10_000)
JSON_BODY = {**TOKEN_A, "Content-Type": "application/json"}
AMOUNTS = ("subTotalAmount", "freightAmount", "couponAmount", "finalAmount")


def _order(order_id: str = "5001", **fields: Any) -> dict[str, Any]:
    line = {"id": "1", "itemId": "777", "skuCode": "SKU", "countryCode": "CN"}
    return {
        "id": order_id,
        "status": "processing",
        "financialStatus": "paid",
        "fulfillmentStatus": "waiting_to_ship",
        "createDate": "2026-11-20T10:00:00Z",
        "orderItems": [{**line, "amount": 12.5, "productNum": 2}],
        **fields,
    }


def _file(tmp_path: Path, order: dict[str, Any], name: str = "data.json") -> Path:
    path = tmp_path / name
    document = {"merchants": [{"merchant": "m", "tokens": ["t"], "orders": [order]}]}
    path.write_text(json.dumps(document))
    return path


def _with_line(**line: Any) -> dict[str, Any]:
    order = _order()
    order["orderItems"][0].update(line)
    return order


@pytest.mark.parametrize(
    ("order", "message"),
    [
        # SQLite's integer overflowed (a 500) on ten-thousandths of 1e15
        (_with_line(amount=1e15), r"orders\[0\]\.orderItems\[0\]\.amount: .* maximum"),
        # past 9e11 a float loses the last 0.0001
        (
            _with_line(amount=999999999999.0001),
            r"orders\[0\]\.orderItems\[0\]\.amount: .* maximum",
        ),
        # each amount within the bound, their product not
        (
            _with_line(amount=50_000_000, productNum=3),
            r"orders\[0\]\.orderItems\[0\]\.total: amount \* productNum is 150000000, "
            r"more than the largest amount \(99999999\.9999\)",
        ),
        (
            _order(
                freightAmount=60_000_000,
                orderItems=[_with_line(amount=50_000_000, productNum=1)["orderItems"][0]],
            ),
            r"orders\[0\]\.finalAmount: subTotalAmount \+ freightAmount - couponAmount is "
            r"110000000, more than the largest amount",
        ),
        # finalAmount would be -10.5, and later refundedAmount too
        (
            _order(freightAmount=4.5, couponAmount=40),
            r"orders\[0\]\.couponAmount: 40 is more than subTotalAmount \+ freightAmount "
            r"\(29\.5\): finalAmount would be below 0",
        ),
    ],
    ids=["1e15", "inexact", "line-total", "final", "coupon"],
)
def test_amounts_past_the_bound_are_refused_naming_the_field(
    tmp_path: Path, order: dict[str, Any], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        load(_file(tmp_path, order), SPEC)
    app = create_app(db=":memory:", rate_limit=None, clock=FakeTime())
    with TestClient(app) as client:
        answer = client.post("/_sandbox/orders", json=order, headers=JSON_BODY)
        assert (answer.status_code, answer.json()["code"]) == (400, 40002), answer.text
        assert client.get(API, params={"ids": "5001"}, headers=TOKEN_A).json()["data"]["list"] == []


def test_a_coupon_of_the_whole_order_is_fine() -> None:
    app = create_app(db=":memory:", rate_limit=None, clock=FakeTime())
    with TestClient(app) as client:
        answer = client.post(
            "/_sandbox/orders", json=_order(freightAmount=4.5, couponAmount=29.5), headers=JSON_BODY
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["finalAmount"] == 0


def _billion_laughs(levels: int = 10, width: int = 10) -> str:
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels):
        refs = ", ".join(f"*a{level - 1}" for _ in range(width))
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append(f"merchants: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_file_is_refused_at_its_first_anchor(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(_billion_laughs())  # 10**9 "lol"s once expanded, 1 KB here
    assert path.stat().st_size < 1024
    tracemalloc.start()
    try:
        with pytest.raises(
            DataError,
            match=rf"^{path}: line 1: YAML aliases are not allowed in data files \(anchor &a0\)$",
        ):
            load(path, SPEC)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # bytes: the file's events, never its expansion


def test_an_alias_alone_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "alias.yaml"
    path.write_text("merchants:\n- merchant: m\n  tokens: [t]\n  orders: *missing\n")
    with pytest.raises(DataError, match=r": line 4: YAML aliases are not allowed .*\(\*missing\)"):
        load(path, SPEC)


def test_yaml_keeps_dates_as_strings_and_refuses_duplicate_keys(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text(
        "merchants:\n- merchant: m\n  tokens: [t]\n  orders:\n  - id: '5001'\n"
        "    status: processing\n    financialStatus: paid\n"
        "    fulfillmentStatus: waiting_to_ship\n"
        "    createDate: 2026-11-20T10:00:00Z\n"
        "    orderItems: [{id: '1', itemId: '7', skuCode: S, amount: 1.5, productNum: 1}]\n"
    )
    (seeded,) = load(path, SPEC).orders
    assert seeded.order.create_date == 1_795_168_800.0
    path.write_text(path.read_text() + "    status: cancel\n")
    with pytest.raises(DataError, match=r": line 11: duplicate key 'status'$"):
        load(path, SPEC)


def test_json_files_are_read_as_json(tmp_path: Path) -> None:
    order = _with_line(amount=0)
    text = json.dumps(_file(tmp_path, order) and json.loads((tmp_path / "data.json").read_text()))
    # YAML 1.1 reads 1e5 as the string "1e5" (no dot): "is not of type number"
    path = tmp_path / "data.json"
    path.write_text(text.replace('"amount": 0', '"amount": 1e5'))
    (seeded,) = load(path, SPEC).orders
    assert seeded.order.lines[0].amount_e4 == 100_000 * 10_000
    # JSON by its first character, whatever the file's name
    named = tmp_path / "data.txt"
    named.write_text("\n  " + path.read_text())
    assert load(named, SPEC).orders[0].order.lines[0].amount_e4 == 100_000 * 10_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"merchants": [], "merchants": []}',
            r': not JSON: duplicate key "merchants" in an object$',
        ),
        ('{"merchants": NaN}', r": not JSON: NaN is not a JSON number$"),
        ('{"merchants": [-Infinity]}', r": not JSON: -Infinity is not a JSON number$"),
        ('{\n  "merchants": [,]\n}', r": line 2 column 17: not JSON: Expecting value$"),
    ],
)
def test_json_files_refuse_what_json_does_not_say(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "data.json"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load(path, SPEC)


def _amount(e4: int) -> float:
    return float(Decimal(e4) / 10_000)


@st.composite
def _orders(draw: st.DrawFn) -> dict[str, Any]:
    """Orders around the bound: unit amounts up to it, a few pieces, freight and coupon."""
    cents = st.one_of(st.integers(0, MAX_E4), st.integers(0, 10**8), st.integers(0, 10**4))
    lines = []
    for n in range(draw(st.integers(1, 3))):
        lines.append(
            {
                "id": str(n + 1),
                "itemId": str(700 + n),
                "skuCode": "SKU",
                "countryCode": "CN",
                "amount": _amount(draw(cents)),
                "productNum": draw(st.integers(1, 3)),
            }
        )
    return _order(
        "0",
        orderItems=lines,
        freightAmount=_amount(draw(cents)),
        couponAmount=_amount(draw(st.one_of(st.just(0), cents))),
    )


def _e4(value: Any) -> int:
    return int(Decimal(str(value)) * 10_000)


def test_accepted_amounts_round_trip_exactly_and_add_up_at_every_refund() -> None:
    """Property: an order is accepted exactly when every amount, given or derived, is
    within 0 and the bound; its amounts come back exact from Query Order, and refunded +
    refundable == final after every settled refund of one piece."""
    clock = FakeTime()
    ids = itertools.count(6001)
    outcomes: list[bool] = []
    with TestClient(create_app(db=":memory:", rate_limit=None, clock=clock)) as client:

        def query(order_id: str) -> dict[str, Any]:
            answer = client.get(API, params={"ids": order_id}, headers=TOKEN_A)
            (found,) = json.loads(answer.text, parse_float=Decimal)["data"]["list"]
            return dict(found)

        @settings(max_examples=60, derandomize=True, deadline=None)
        @given(order=_orders())
        def check(order: dict[str, Any]) -> None:
            order = copy.deepcopy(order)
            order["id"] = str(next(ids))
            for line in order["orderItems"]:  # line ids are unique within a merchant
                line["id"] = f"{order['id']}{line['id']}"
            totals = [_e4(line["amount"]) * line["productNum"] for line in order["orderItems"]]
            subtotal, freight = sum(totals), _e4(order["freightAmount"])
            final = subtotal + freight - _e4(order["couponAmount"])
            fits = max(*totals, subtotal, final) <= MAX_E4 and final >= 0
            added = client.post("/_sandbox/orders", json=order, headers=JSON_BODY)
            assert added.status_code == (200 if fits else 400), added.text
            outcomes.append(fits)
            if not fits:
                return
            shown = query(order["id"])
            assert [_e4(line["total"]) for line in shown["orderItems"]] == totals
            assert [_e4(line["amount"]) for line in shown["orderItems"]] == [
                _e4(line["amount"]) for line in order["orderItems"]
            ]
            assert (_e4(shown["subTotalAmount"]), _e4(shown["finalAmount"])) == (subtotal, final)
            for line in order["orderItems"]:
                for _ in range(line["productNum"]):
                    piece = {key: line[key] for key in ("itemId", "skuCode", "countryCode")}
                    body = {"orderItems": [{**piece, "quantity": 1}]}
                    refund = client.post(refund_url(order["id"]), json=body, headers=TOKEN_A)
                    assert refund.status_code == 200, refund.text
                    clock.value += 3600  # past settle-after: the next read settles it
                    now = query(order["id"])
                    refunded, refundable = _e4(now["refundedAmount"]), _e4(now["refundableAmount"])
                    assert refunded + refundable == _e4(now["finalAmount"]) == final
                    assert 0 <= refunded <= final and 0 <= refundable <= MAX_E4
            assert _e4(query(order["id"])["refundedAmount"]) == final

        check()
    assert outcomes.count(True) >= 10 and outcomes.count(False) >= 10, outcomes


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        ("[" * 65 + "]" * 65, "deep.json", r": nested deeper than 64 levels$"),
        ("[" * 300 + "]" * 300, "deep.json", r": nested deeper than 64 levels$"),
        ("[" * 5000 + "]" * 5000, "deep.json", r": nested deeper than 64 levels$"),
        ("[" * 65 + "]" * 65, "deep.yaml", r": line 1: nested deeper than 64 levels$"),
        ('{"a\\nb\\u2028c": null}', "key.json", r": Additional properties .*a\\nb\\u2028c"),
    ],
    ids=["json-65", "json-300", "json-5000", "yaml-65", "line-breaks"],
)
def test_what_make_fuzz_found_is_one_data_error_line(
    tmp_path: Path, text: str, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=message) as refused:
        load(path, SPEC)
    assert len(str(refused.value).splitlines()) == 1


def test_an_order_needs_its_lines(tmp_path: Path) -> None:
    order = _order()
    del order["orderItems"]
    with pytest.raises(DataError, match=r"orders\[0\]: \"orderItems\" is a required property"):
        load(_file(tmp_path, order), SPEC)


def test_a_control_order_nested_too_deep_is_a_400() -> None:
    """make fuzz: 256 levels answered 500 text/plain (jsonschema-rs's recursion limit). A
    control body is parsed as strictly as the API's own: 32 levels, 400 40001."""
    deep: Any = None
    for _ in range(300):
        deep = [deep]
    with TestClient(create_app(db=":memory:", rate_limit=None, clock=FakeTime())) as client:
        answer = client.post("/_sandbox/orders", json=_order(remark=deep), headers=JSON_BODY)
        assert (answer.status_code, answer.json()["code"]) == (400, 40001), answer.text
        assert answer.json()["message"] == "request body is nested deeper than 32 levels"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1: 1\n", r": line 1: a mapping key must be a string, not 1 \(quote it\)$"),
        ("merchants:\n- {null: 1}\n", r": line 2: a mapping key must be a string, not null"),
        ("true: 1\n", r": line 1: a mapping key must be a string, not true \(quote it\)$"),
        ("? [a]\n: 1\n", r": line 1: a mapping key must be a string, not a sequence$"),
    ],
    ids=["int", "null", "bool", "sequence"],
)
def test_yaml_keys_are_strings_as_in_json(tmp_path: Path, text: str, message: str) -> None:
    """make fuzz: an int or null key escaped as jsonschema-rs's ValueError."""
    path = tmp_path / "keys.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load(path, SPEC)


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("NO", "NO"),  # YAML 1.1 made Norway's country code false
        ("yes", "yes"),
        ("off", "off"),
        ("1_000", "1_000"),
        ("0x1F", "0x1F"),
        ("1:20", "1:20"),  # YAML 1.1: sexagesimal 80
        ("012", 12),  # YAML 1.1: octal 10
        ("1e5", 100000.0),  # YAML 1.1: a string
        ("true", True),
        ("~", None),
    ],
)
def test_yaml_plain_scalars_are_yaml_1_2s_core(scalar: str, value: object) -> None:
    """A stranger's `countryCode: NO` became `false is not one of the allowed values`."""
    assert read_yaml(f"a: {scalar}\n", "f.yaml") == {"a": value}


@pytest.mark.parametrize(
    ("text", "name"),
    [('{"a": 1e400}', "f.json"), ("a: 1e400\n", "f.yaml"), ("a: .inf\n", "f.yaml")],
)
def test_a_number_too_large_for_a_float_is_named(text: str, name: str) -> None:
    """1e400 used to say `null is not of types "null", "number"`."""
    read = read_json if name.endswith(".json") else read_yaml
    with pytest.raises(DataError, match=r"(1e400|\.inf) is not a finite number$"):
        read(text, name)


def test_a_byte_order_mark_is_allowed_and_another_encoding_is_named(tmp_path: Path) -> None:
    spec = Spec.load()
    data = tmp_path / "bom.json"
    data.write_bytes(
        b"\xef\xbb\xbf" + b'{"merchants": [{"merchant": "m", "tokens": ["t"], "orders": []}]}'
    )
    assert load(data, spec).tokens == {"t": "m"}
    data.write_text('{"merchants": []}', encoding="utf-16")
    with pytest.raises(DataError, match=r"bom.json: is not UTF-8 text \(byte 0\)$"):
        load(data, spec)
