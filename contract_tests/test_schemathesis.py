"""Schemathesis over every operation: positive and negative data, all checks, and links."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

from contract_tests import summary
from contract_tests.schema import load_schema
from contract_tests.target import select_target

TARGET = select_target()
if TARGET.is_sandbox and not TARGET.in_process:
    TARGET.reset()  # a sandbox over HTTP: start this module from the demo data
schema = load_schema(TARGET)


@schema.parametrize()
def test_every_operation_conforms(case: Any) -> None:
    case.call_and_validate()


# Stateful: sequences that follow the spec's links (Refund Order -> Query Refund of that order).
class LinkedCalls(schema.as_state_machine()):  # type: ignore[misc]
    """Each run starts from the demo data (on a sandbox), then follows links."""

    def setup(self) -> None:
        if TARGET.is_sandbox:
            TARGET.reset()

    def step(self, input: Any) -> Any:
        if input.transition is not None and input.applied_parameters:
            summary.LINKS[input.transition.id] += 1
        return super().step(input)


TestLinkedSequences = LinkedCalls.TestCase
# schemathesis gives its machines settings of their own (random, no shrinking);
# take the active profile's instead: seeded, bounded, and the same run every time.
TestLinkedSequences.settings = settings(
    settings.default,
    suppress_health_check=list(HealthCheck),
)


def test_the_stateful_run_followed_the_link() -> None:
    # Runs after TestLinkedSequences (pytest keeps the module's order).
    assert sum(summary.LINKS.values()) > 0, "no Refund Order -> Query Refund transition ran"
