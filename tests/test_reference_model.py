"""The contract suite's reference model on its own: independent of the sandbox, rules as stated."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kakaclo_contract import model

MODEL_FILE = Path(model.__file__)


def _order() -> model.Order:
    # like demo order 10001: 2 CN + 3 US pieces at 7.23, freight 9.1
    return model.Order(
        id="10001",
        status="processing",
        financial_status="paid",
        fulfillment_status="waiting_to_ship",
        freight_e4=91_000,
        coupon_e4=0,
        lines=[
            model.Line("100011", "120001", "SKU", "CN", 72_300, 2),
            model.Line("100012", "120002", "SKU", "US", 72_300, 3),
        ],
    )


def _model() -> model.Model:
    return model.Model(orders={"10001": _order()}, settle_after=5.0)


def _refund(m: model.Model, number: str, *items: model.Item, remark: str | None = None) -> None:
    request = model.Request("10001", tuple(items) if items else None, remark)
    expected = m.expect(request)
    assert expected.status == 200, expected
    m.apply(request, expected, number)


def test_the_model_never_imports_the_sandbox() -> None:
    tree = ast.parse(MODEL_FILE.read_text())
    imported = {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
        )
    }
    assert not {name for name in imported if name.startswith("kakaclo_sandbox")}


def test_money_goes_with_the_last_settled_piece_and_a_failure_holds_nothing() -> None:
    m = _model()
    _refund(m, "1", model.Item("120002", "SKU", 3, "US"), remark="[fail]")
    _refund(m, "2", model.Item("120001", "SKU", 2, "CN"))
    m.advance(5)
    order = m.orders["10001"]
    assert [r.status for r in order.refunds] == [model.FAILED, model.SUCCEEDED]
    assert order.refunded_e4() == 144_600  # two pieces, no freight: three are left
    assert order.refund_status() == "partial_refund"
    _refund(m, "3")  # the whole rest
    m.advance(5)
    assert order.refunded_e4() == order.final_e4() == 452_500
    assert (order.refundable_e4(), order.refund_status(), order.status) == (0, "refunded", "cancel")


@pytest.mark.parametrize(
    ("items", "code", "index"),
    [
        ((model.Item("999", "SKU", 1, "CN"), model.Item("120001", "SKU", 9, "CN")), 40902, 0),
        ((model.Item("120001", "SKU", 1, "CN"), model.Item("120001", "SKU", 1, "CN")), 40903, 1),
        ((model.Item("120001", "SKU", 3, "CN"), model.Item("999", "SKU", 1, "CN")), 40904, 0),
    ],
)
def test_the_first_item_that_breaks_a_rule_decides(
    items: tuple[model.Item, ...], code: int, index: int
) -> None:
    expected = _model().expect(model.Request("10001", items))
    assert (expected.status, expected.code, expected.item) == (409, code, index)
    assert expected.names("10001")[0] == f"orderItems[{index}]"
    if code == model.DUPLICATE_ITEM:
        assert expected.names("10001") == ["orderItems[1]", "orderItems[0]"]


def test_pending_pieces_count_and_a_failure_releases_them() -> None:
    m = _model()
    _refund(m, "1", model.Item("120001", "SKU", 2, "CN"), remark="please [fail]")
    again = model.Request("10001", (model.Item("120001", "SKU", 1, "CN"),))
    assert m.expect(again).code == model.QUANTITY_EXCEEDS_REFUNDABLE
    m.advance(5)
    assert m.expect(again).status == 200


def test_keys_replay_refuse_another_body_and_expire_after_a_day() -> None:
    m = _model()
    first = model.Request("10001", (model.Item("120001", "SKU", 1, "CN"),), key="k")
    m.apply(first, m.expect(first), "1")
    assert m.expect(first) == model.Expected(200, replay_of="1")
    other = model.Request("10001", (model.Item("120001", "SKU", 1, "CN"),), "x", key="k")
    assert m.expect(other) == model.Expected(409, model.IDEMPOTENCY_KEY_REUSED)
    assert m.expect(other).names("10001") == ["Idempotency-Key"]
    m.advance(model.KEY_LIFETIME)
    assert m.expect(other).status == 200 and m.expect(other).replay_of is None


def test_orders_that_may_not_be_refunded() -> None:
    m = _model()
    m.orders["10001"].fulfillment_status = "partially_shipped"
    assert m.expect(model.Request("10001", None)) == model.Expected(409, 40901)
    assert m.expect(model.Request("20001", None)) == model.Expected(404, 40401)
    assert m.expect(model.Request("20001", None)).names("20001") == ["order 20001"]
