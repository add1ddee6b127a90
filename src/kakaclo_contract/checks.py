"""The suite's own schemathesis checks: rules of openapi.yaml that no schema expresses.

Registered once, on import, for every schema the suite loads (schemathesis
runs registered checks next to its built-in ones, in every phase and in the
stateful runs).
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from kakaclo_client import spec_facts

from kakaclo_contract.spec_check import envelope_problem

# Set by load_schema in refund mode on a real service: the targets whose refunds are
# guarded, by base URL (the check meets a case, not a target: its operation's base URL
# tells which target, also when a process loads more than one schema, as tests do).
GUARDED: dict[str, Any] = {}


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


@schemathesis.check
def guarded_refund_took_only_what_it_named(ctx: Any, response: Any, case: Any) -> bool | None:
    """Refund mode: after a refund answered 200, no line it did not name has changed."""
    target = GUARDED.get(case.operation.base_url)
    if target is None or response.status_code != 200:
        return None
    if case.operation.definition.raw.get("operationId") != spec_facts.REFUND_ORDER.operation_id:
        return None
    order_id = str((case.path_parameters or {}).get("id"))
    with target.http() as http:
        answer = http.get(
            target.path(spec_facts.QUERY_ORDERS.path),
            params={"ids": order_id},
            headers={"Authorization": f"Bearer {target.token}"},
        )
    listed = answer.json().get("data", {}).get("list", []) if answer.status_code == 200 else []
    for order in listed:
        changed = target.lines_changed_unasked(order)
        if changed:
            raise AssertionError(
                f"Refund Order took more than it named: order {order_id}: " + "; ".join(changed)
            )
    return True
