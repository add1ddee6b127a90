"""The generated client against the server: the vendor's flows and spec-drawn request models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from kakaclo_client import AuthenticatedClient, spec_facts
from kakaclo_client.api.orders import query_orders
from kakaclo_client.api.refunds import query_refund, refund_order
from kakaclo_client.models import (
    CountryCode,
    Error,
    ErrorCode,
    QueryOrderResponse,
    QueryRefundResponse,
    RefundItem,
    RefundOrderResponse,
    RefundReason,
    RefundRequest,
    RefundStatus,
)
from kakaclo_client.types import Response

from kakaclo_contract.clients import generated_client
from kakaclo_contract.drawing import component_values
from kakaclo_contract.spec_check import SPEC, ResponseAudit
from kakaclo_contract.target import RefundCapReached, select_target

TARGET = select_target()
if TARGET.is_sandbox and not TARGET.in_process:
    TARGET.reset()
VENDOR_ORDER = "10001"
SKU = "FSZW08923_R_L_NUB"


@pytest.fixture
def refund_order_id() -> str:
    """The order the flow may refund (requested before ``audit``: a skip leaves nothing open)."""
    if not TARGET.may_refund:
        pytest.skip(
            "read-only against a server that is not a sandbox: pass --allow-refunds and "
            "--order-id ID (KAKACLO_ALLOW_REFUNDS=1, KAKACLO_REFUND_ORDER_IDS) to create refunds"
        )
    if TARGET.is_sandbox:
        TARGET.reset()
        return VENDOR_ORDER
    return TARGET.settings.refund_order_ids[0]


@pytest.fixture
def sandbox_order() -> Iterator[str]:
    """The vendor's example order on a freshly reset sandbox, its clock frozen for the test
    (over a network too, a refund stays pending until the test moves the clock)."""
    TARGET.require_sandbox("refunds a whole order; a real service gets one piece at a time")
    TARGET.reset()
    TARGET.freeze_clock()
    yield VENDOR_ORDER
    TARGET.resume_clock()


@pytest.fixture
def audit() -> Iterator[ResponseAudit]:
    seen = ResponseAudit()
    yield seen
    seen.assert_clean()


@pytest.fixture
def client(audit: ResponseAudit) -> Iterator[AuthenticatedClient]:
    with generated_client(TARGET, audit) as generated:
        yield generated


def _refund(client: AuthenticatedClient, order_id: str, body: RefundRequest) -> str:
    answer = refund_order.sync_detailed(order_id, client=client, body=body)
    assert answer.status_code == 200, answer.content
    assert isinstance(answer.parsed, RefundOrderResponse)
    assert answer.parsed.code == ErrorCode.SUCCESS
    number = str(answer.parsed.data)
    assert number.isdigit()
    return number


def _statuses(client: AuthenticatedClient, order_id: str) -> dict[str, RefundStatus]:
    answer = query_refund.sync_detailed(
        order_id, client=client, page_size=spec_facts.PAGE_SIZE_MAXIMUM
    )
    assert isinstance(answer.parsed, QueryRefundResponse), answer.content
    return {refund.refund_no: refund.refund_status for refund in answer.parsed.data.list_}


def test_vendor_flows_partial_then_whole_order_then_settled(
    sandbox_order: str, client: AuthenticatedClient
) -> None:
    order_id = sandbox_order
    partial = _refund(
        client,
        order_id,
        RefundRequest(
            remark="test",
            refund_reason=RefundReason.OTHER,
            order_items=[
                RefundItem(item_id="120001", sku_code=SKU, quantity=1, country_code=CountryCode.CN),
                RefundItem(item_id="120002", sku_code=SKU, quantity=2, country_code=CountryCode.US),
            ],
        ),
    )
    whole = _refund(client, order_id, RefundRequest(remark="other reason"))
    assert _statuses(client, order_id) == {
        whole: RefundStatus.PENDING_REVIEW,
        partial: RefundStatus.PENDING_REVIEW,
    }
    settle_after = float(
        (TARGET.sandbox_info or {}).get("settings", {}).get("settleAfterSeconds", 5)
    )
    TARGET.advance_clock(settle_after)
    assert set(_statuses(client, order_id).values()) == {RefundStatus.REFUND_SUCCESSFULLY}
    orders = query_orders.sync_detailed(client=client, ids=order_id)
    assert isinstance(orders.parsed, QueryOrderResponse)
    (order,) = orders.parsed.data.list_
    assert order.refundable_amount == 0
    assert order.refunded_amount == order.final_amount


def test_one_piece_refund_appears_in_query_refund(
    refund_order_id: str, client: AuthenticatedClient
) -> None:
    """The flow a real service allows: one piece of a real line, then Query Refund lists it."""
    order_id = refund_order_id
    if TARGET.is_sandbox:
        item = RefundItem(item_id="120001", sku_code=SKU, quantity=1, country_code=CountryCode.CN)
    else:
        try:
            piece = TARGET.next_piece(order_id)
        except RefundCapReached as cap:
            pytest.skip(str(cap))
        item = RefundItem.from_dict(piece.one_piece())
    number = _refund(client, order_id, RefundRequest(remark="kakaclo contract", order_items=[item]))
    statuses = _statuses(client, order_id)
    assert number in statuses, f"refund {number} answered 200 but Query Refund does not list it"
    if TARGET.is_sandbox:
        assert statuses[number] == RefundStatus.PENDING_REVIEW


def test_query_orders_pages_parse(client: AuthenticatedClient) -> None:
    answer = query_orders.sync_detailed(client=client, page_size=spec_facts.PAGE_SIZE_MAXIMUM)
    assert isinstance(answer.parsed, QueryOrderResponse), answer.content
    page = answer.parsed.data
    assert page.page_size == spec_facts.PAGE_SIZE_MAXIMUM
    assert page.total >= len(page.list_)


def test_errors_parse_into_the_error_model(
    client: AuthenticatedClient, audit: ResponseAudit
) -> None:
    answer: Response[Any] = query_refund.sync_detailed("99999999999999", client=client)
    assert answer.status_code == 404
    assert isinstance(answer.parsed, Error)
    if TARGET.is_sandbox:
        assert int(answer.parsed.code) == ErrorCode.ORDER_NOT_FOUND
    with generated_client(TARGET, audit, token="not-a-token") as anonymous:
        denied = query_orders.sync_detailed(client=anonymous)
    assert denied.status_code == 401
    assert isinstance(denied.parsed, Error)


def _documented_outcomes() -> set[tuple[int, int]]:
    codes: set[tuple[int, int]] = {(200, ErrorCode.SUCCESS)}
    for status in (404, 409):
        codes |= {
            (status, code)
            for code in SPEC.documented_error_codes(spec_facts.REFUND_ORDER.operation_id, status)
        }
    return codes


@given(body=component_values("RefundRequest"))
def test_request_models_from_the_spec_serialise_and_are_answered_as_documented(
    body: dict[str, Any],
) -> None:
    TARGET.require_sandbox("sends arbitrary refunds")
    audit = ResponseAudit()
    model = RefundRequest.from_dict(body)
    serialised = model.to_dict()
    assert not SPEC.component("RefundRequest").errors(serialised)
    TARGET.reset()
    with generated_client(TARGET, audit) as client:
        answer = refund_order.sync_detailed(VENDOR_ORDER, client=client, body=model)
    parsed = answer.parsed
    code = parsed.code if isinstance(parsed, (Error, RefundOrderResponse)) else None
    assert (int(answer.status_code), int(code or 0)) in _documented_outcomes(), answer.content
    audit.assert_clean()
