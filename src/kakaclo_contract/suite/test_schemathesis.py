"""Schemathesis over every operation: positive and negative data, all checks, and links."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

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
    """Sequences that follow the spec's links (Refund Order -> Query Refund of that order)."""

    class LinkedCalls(schema.as_state_machine()):  # type: ignore[misc]
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


def test_linked_sequences() -> None:
    if "stateful" not in TARGET.settings.phases:
        pytest.skip("the stateful phase is not among --phases")
    if not TARGET.is_sandbox:
        pytest.skip(
            "the spec's only link starts at Refund Order, and against a server that is not a "
            "sandbox every refund counts against --max-refunds; the flow tests follow it instead"
        )
    machine = _linked_calls()
    # schemathesis gives its machines settings of their own (random, no shrinking);
    # take the active profile's instead: seeded, bounded, and the same run every time.
    machine.TestCase.settings = settings(settings.default, suppress_health_check=list(HealthCheck))
    machine.TestCase().runTest()
    # Random data rarely creates a refund; a run that never followed the link proved nothing.
    assert sum(summary.LINKS.values()) > 0, "no Refund Order -> Query Refund transition ran"
