"""The suite's own schemathesis checks: rules of openapi.yaml that no schema expresses.

Registered once, on import, for every schema the suite loads (schemathesis
runs registered checks next to its built-in ones, in every phase and in the
stateful runs).
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

from kakaclo_contract.spec_check import envelope_problem


@schemathesis.check
def envelope_code_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 200 carries code 10000; an error status carries a code its response lists (x-codes)."""
    operation_id = case.operation.definition.raw.get("operationId")
    if not operation_id:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None  # not JSON: content_type_conformance and the schema check report it
    broken = envelope_problem(operation_id, response.status_code, body)
    if broken:
        raise AssertionError(f"Envelope rule broken: {broken}")
    return True
