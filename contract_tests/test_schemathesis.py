"""Schemathesis over every operation: positive and negative data, all checks, and links."""

from __future__ import annotations

from typing import Any

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


TestLinkedSequences = LinkedCalls.TestCase
