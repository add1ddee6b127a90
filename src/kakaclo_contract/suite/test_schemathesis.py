"""Schemathesis over every operation: positive and negative data, all checks, and links."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from kakaclo_client import spec_facts

from kakaclo_contract import summary
from kakaclo_contract.schema import guard_refund_case, load_schema
from kakaclo_contract.target import RefundCapReached, select_target

TARGET = select_target()
if TARGET.is_sandbox and not TARGET.in_process:
    TARGET.reset()  # a sandbox over HTTP: start this module from the demo data
schema = load_schema(TARGET)
CALL = TARGET.call_kwargs()


@schema.parametrize()
def test_every_operation_conforms(case: Any) -> None:
    try:
        guard_refund_case(TARGET, case)
    except RefundCapReached:
        return  # a real service: this run already created as many refunds as it may
    case.call_and_validate(**CALL)


def _linked_calls() -> Any:
    """Sequences that follow the spec's links (Refund Order -> Query Refund of that order,
    Query Order -> Query Refund of the first order listed)."""
    # On a server that is not a sandbox the machine only reads: every refund there is
    # the guarded piece of the flow tests, counted against --max-refunds.
    linked = (
        schema.exclude(operation_id=spec_facts.REFUND_ORDER.operation_id)
        if TARGET.guarded
        else schema  # a sandbox's, or read-only's, which has no Refund Order already
    )

    class LinkedCalls(linked.as_state_machine()):  # type: ignore[misc]
        """Each run starts from the demo data (on a sandbox), then follows links."""

        def setup(self) -> None:
            if TARGET.is_sandbox:
                TARGET.reset()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return dict(CALL)

        def step(self, input: Any) -> Any:
            if input.transition is not None and input.applied_parameters:
                summary.LINKS[input.transition.id] += 1
            return super().step(input)

    return LinkedCalls


def _lists_an_order() -> bool:
    with TARGET.http() as http:
        answer = http.get(
            TARGET.path(spec_facts.QUERY_ORDERS.path),
            params={"pageSize": 1},
            headers={"Authorization": f"Bearer {TARGET.token}"},
        )
    return answer.status_code == 200 and bool(answer.json().get("data", {}).get("list"))


def test_linked_sequences() -> None:
    if "stateful" not in TARGET.settings.phases:
        pytest.skip("the stateful phase is not among --phases")
    machine = _linked_calls()
    # schemathesis gives its machines settings of their own (random, no shrinking);
    # take the active profile's instead: seeded, bounded, and the same run every time.
    bound: dict[str, Any] = {}
    if not TARGET.is_sandbox:  # reads of someone's account, at its rate limit: a few walks
        bound = {"max_examples": min(TARGET.settings.examples, 5), "stateful_step_count": 4}
    machine.TestCase.settings = settings(
        settings.default, suppress_health_check=list(HealthCheck), **bound
    )
    machine.TestCase().runTest()
    if not sum(summary.LINKS.values()) and not TARGET.is_sandbox:
        # read-only, a few short sequences: too few to promise that one reaches a link
        pytest.skip(
            "no read-only sequence reached a link within the case budget (--max-examples)"
            if _lists_an_order()
            else "Query Order lists no order for this token: no link to follow"
        )
    # Random data rarely creates a refund; a run that never followed a link proved nothing.
    assert sum(summary.LINKS.values()) > 0, "no transition along a link ran"
