"""Refund mode never refunds by accident: only the guarded one-piece case reaches an order.

Cases are drawn from the spec (schemathesis's own strategies, positive and
negative) and passed through ``guard_refund_case`` as the suite does before
sending them to a real service. Every case that still carries the real token,
an id of the ``OrderId`` pattern and a body the schema accepts must be the
guarded refund: one piece of a line of an order named with ``--order-id``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kakaclo_client import spec_facts
from schemathesis import GenerationMode

from kakaclo_contract.preflight import RefundableLine, TargetFacts
from kakaclo_contract.schema import (
    _invalid_body,
    _valid_order_id,
    guard_refund_case,
    load_schema,
)
from kakaclo_contract.settings import RunSettings
from kakaclo_contract.target import RefundCapReached, Target

TOKEN = "real-token"
LINE = RefundableLine("10007", "120071", "FSZW08923_R_L_NUB", "CN")


def _target() -> Target:
    run = RunSettings(
        base_url="http://vendor.invalid/openapi",
        token=TOKEN,
        allow_refunds=True,
        refund_order_ids=("10007",),
        max_refunds=10**9,
    )
    facts = TargetFacts(sandbox_info=None, refundable_lines={"10007": (LINE,)})
    return Target(settings=run, base_url=run.base_url or "", token=TOKEN, facts=facts)


TARGET = _target()
OPERATION = load_schema(TARGET)[spec_facts.REFUND_ORDER.path]["POST"]
CASES = st.one_of(
    OPERATION.as_strategy(generation_mode=GenerationMode.POSITIVE),
    OPERATION.as_strategy(generation_mode=GenerationMode.NEGATIVE),
)


def _reaches_an_order(case: Any) -> bool:
    """What a real service could act on: the real token, a real-looking id, a body it reads."""
    headers = {k.lower(): v for k, v in (case.headers or {}).items()}
    order_id = (case.path_parameters or {}).get("id")
    return (
        headers.get("authorization") == f"Bearer {TOKEN}"
        and isinstance(order_id, str)
        and _valid_order_id(order_id)
        and not _invalid_body(case.body)
    )


@settings(max_examples=300, derandomize=True, suppress_health_check=list(HealthCheck))
@given(case=CASES)
def test_only_the_guarded_piece_reaches_an_order(case: Any) -> None:
    try:
        guard_refund_case(TARGET, case)
    except RefundCapReached:  # pragma: no cover - the cap is out of reach here
        pytest.fail("the cap cannot be reached with max_refunds = 10**9")
    if _reaches_an_order(case):
        assert case.path_parameters["id"] == "10007"
        assert case.body["orderItems"] == [LINE.one_piece()], case.body
        assert case.meta is None or not case.meta.generation.mode.is_negative


def test_a_refund_that_took_a_line_it_did_not_name_is_found() -> None:
    before: dict[str, Any] = {
        "id": "10007",
        "orderItems": [
            {
                "id": "100071",
                "itemId": "120071",
                "skuCode": "FSZW08923_R_L_NUB",
                "countryCode": "CN",
                "refundStatus": "NULL",
            },
            {
                "id": "100072",
                "itemId": "120072",
                "skuCode": "FSZW08923_R_L_NUB",
                "countryCode": "US",
                "refundStatus": "NULL",
            },
        ],
    }
    target = _target()
    target.facts = TargetFacts(
        sandbox_info=None, refundable_lines={"10007": (LINE,)}, refund_orders={"10007": before}
    )
    target.next_piece("10007")  # the guarded refund names line 120071 CN
    after: dict[str, Any] = {**before, "orderItems": [dict(i) for i in before["orderItems"]]}
    after["orderItems"][0]["refundStatus"] = "refunding"
    assert target.lines_changed_unasked(after) == []
    after["orderItems"][1]["refundStatus"] = "refunding"  # the whole order went
    assert target.lines_changed_unasked(after) == [
        "line 100072 (120072 FSZW08923_R_L_NUB US) went from 'NULL' to 'refunding'"
    ]
