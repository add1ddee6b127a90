"""The spec's facts as code reads them: kakaclo_client.spec_facts and kakaclo_spec.Spec."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from kakaclo_client import spec_facts

from kakaclo_spec import Spec

SPEC = Spec.load(Path(__file__).resolve().parent.parent / "openapi.yaml")


def test_spec_facts_are_the_specs() -> None:
    assert spec_facts.SERVER_ROOT == SPEC.server_root == "/openapi"
    assert [op.operation_id for op in spec_facts.OPERATIONS] == list(SPEC.operation_ids)
    for operation in spec_facts.OPERATIONS:
        method, path, _ = SPEC.operation(operation.operation_id)
        assert (operation.method, operation.path) == (method, path)
    assert SPEC.default_of("RefundRequest", "refundReason") == spec_facts.DEFAULT_REFUND_REASON
    assert SPEC.rate_limit == (spec_facts.RATE_LIMIT_BURST, spec_facts.RATE_LIMIT_PER_SECOND)
    page_size = SPEC.document["components"]["parameters"]["PageSize"]["schema"]
    assert (
        page_size["default"],
        page_size["maximum"],
    ) == (spec_facts.PAGE_SIZE_DEFAULT, spec_facts.PAGE_SIZE_MAXIMUM)


def test_the_order_id_pattern_is_every_id_of_an_order_a_client_checks() -> None:
    components = SPEC.document["components"]
    assert components["parameters"]["OrderId"]["schema"]["pattern"] == (spec_facts.ORDER_ID_PATTERN)
    # kakaclo_refunds checks an order's and a line's id with it, the contract suite the ids
    # it refunds: one pattern while the spec keeps them one
    schemas = components["schemas"]
    assert {
        schemas[name]["properties"]["id"]["pattern"] for name in ("Order", "OrderItem", "Refund")
    } == {spec_facts.ORDER_ID_PATTERN}
    assert re.fullmatch(spec_facts.ORDER_ID_PATTERN, "1" * 20)
    assert not re.fullmatch(spec_facts.ORDER_ID_PATTERN, "1" * 21)
    key = components["parameters"]["IdempotencyKey"]["schema"]["pattern"]
    assert key == spec_facts.IDEMPOTENCY_KEY_PATTERN


@pytest.mark.parametrize(
    ("method", "path", "exact", "operation_id"),
    [
        ("POST", "/openapi/v2/order/orders/10001/refund", True, "refundOrder"),
        ("GET", "/openapi/v2/order/orders/refund/10001", True, "queryRefund"),
        ("GET", "/openapi/v2/order/orders", True, "queryOrders"),
        ("GET", "/openapi/openapi/v2/order/orders", True, None),  # under a base: not exact
        ("GET", "/openapi/openapi/v2/order/orders", False, "queryOrders"),
        ("DELETE", "/openapi/v2/order/orders", True, None),
        ("POST", "/openapi/v2/order/orders/1/2/refund", True, None),
    ],
)
def test_operation_of_a_request(
    method: str, path: str, exact: bool, operation_id: str | None
) -> None:
    assert SPEC.operation_of(method, path, exact=exact) == operation_id


def test_a_default_the_spec_does_not_give_is_an_error() -> None:
    with pytest.raises(KeyError, match=r"no default for RefundRequest\.remark"):
        SPEC.default_of("RefundRequest", "remark")
