"""openapi.yaml loaded by schemathesis for one target, seeded, bounded and reported."""

from __future__ import annotations

from typing import Any

import schemathesis
from kakaclo_client import spec_facts
from schemathesis.config import SchemathesisConfig

from kakaclo_contract import checks as _checks  # registers the suite's own checks too
from kakaclo_contract import spec_coverage, summary
from kakaclo_contract.spec_check import SPEC
from kakaclo_contract.target import Target
from kakaclo_spec import default_spec_path

# schemathesis's defaults for negative data, and 413
NEGATIVE_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428"]
NEGATIVE_STATUSES += ["429", "5xx"]
REFUND_REQUEST = "RefundRequest"  # the body schema of Refund Order
DEMO_REFUNDABLE = ("10001", "10002", "10007", "10008", "10009", "10010")


def schemathesis_config(target: Target) -> SchemathesisConfig:
    """Seeded, bounded settings.

    Reports come from pytest (``--junitxml``) and from schemathesis's failure
    messages, which carry the curl command of every failing case: schemathesis
    4.32.5's own pytest report writers import allure even when it is not used.
    """
    return SchemathesisConfig.from_dict(
        {
            "seed": target.settings.seed,
            "base-url": target.base_url,
            "phases": {
                phase: {"enabled": phase in target.settings.phases}
                for phase in ("examples", "coverage", "fuzzing")
            },
            # openapi.yaml documents 413 for a body larger than any it accepts: for
            # schema-violating data that is a correct refusal too.
            "checks": {"negative_data_rejection": {"expected-statuses": NEGATIVE_STATUSES}},
            "generation": {
                "mode": "all",
                "max-examples": target.settings.examples,
                "deterministic": True,
                "database": "none",
            },
        }
    )


def load_schema(target: Target) -> Any:
    """The schema for ``target``: auth, read-only guard, in-process app."""
    schema: Any = schemathesis.openapi.from_path(
        default_spec_path(), config=schemathesis_config(target)
    )
    if target.in_process:
        schema.app = target.app
    if target.guarded:
        _checks.GUARDED[target.base_url] = target
    if not target.may_refund:
        schema = schema.exclude(operation_id=spec_facts.REFUND_ORDER.operation_id)

    @schema.auth(retry_on=[])
    class BearerToken:
        def get(self, case: Any, context: Any) -> str:
            return target.token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    @schema.hook("map_path_parameters")
    def steer_order_ids(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        # A pure function of the drawn id, so hypothesis can replay and shrink.
        # (On a real service guard_refund_case decides where a refund may go.)
        if not path_parameters or not target.is_sandbox:
            return path_parameters
        order_id = path_parameters.get("id")
        if isinstance(order_id, str) and order_id.isdigit() and int(order_id) % 2 == 0:
            # Random digits almost never name an order: send half of the valid
            # cases to real demo orders, so rules, 200s and links get exercised.
            # (Negated ids are not digit strings and are left alone.)
            demo_id = DEMO_REFUNDABLE[int(order_id) // 2 % len(DEMO_REFUNDABLE)]
            return {**path_parameters, "id": demo_id}
        return path_parameters

    @schema.hook("after_validate")
    def tally(context: Any, case: Any, response: Any, results: list[Any]) -> None:
        label = f"{case.operation.method.upper()} {case.operation.path}"
        summary.record(label, response.status_code, results)
        spec_coverage.observe(
            case.operation.method, case.operation.path, response.status_code, response.content
        )

    return schema


# The token a refund-mode case carries when it must reach no order: the server must answer 401.
SPOILT_TOKEN = "Bearer kakaclo-contract-not-a-token"


def _valid_order_id(order_id: str) -> bool:
    _, _, operation = SPEC.operation(spec_facts.REFUND_ORDER.operation_id)
    for parameter in operation.get("parameters", []):
        resolved = SPEC.resolve(parameter)
        if resolved.get("in") == "path" and resolved.get("name") == "id":
            return SPEC.compile(resolved["schema"]).is_valid(order_id)
    raise KeyError("Refund Order has no path parameter id")  # the spec changed under us


def _invalid_body(body: Any) -> bool:
    """A body that is sent and breaks the schema (a missing body is not: a real service
    might read it as a whole-order refund)."""
    sent = isinstance(body, dict | list | str | int | float)  # JSON true/false are ints
    return sent and not SPEC.component(REFUND_REQUEST).is_valid(body)


def guard_refund_case(target: Target, case: Any) -> None:
    """On a real service, only the guarded one-piece refund may refund anything.

    Every Refund Order case sent there is one of:

    - an id that fails the spec's ``OrderId`` pattern (it names no order anywhere), or a
      body that breaks the schema (refused before any order is read): sent as drawn;
    - a positive case: it becomes the guarded refund, one piece of a real line of an
      order named with ``--order-id`` (an empty body would refund the whole order);
      RefundCapReached once the run created as many refunds as it may;
    - any other case (negative only in a header or the query, say): it carries a token
      no merchant has, so it reaches no order (an id not named with ``--order-id`` can
      still be a real order of the same merchant).
    """
    if not target.guarded or case.operation.method.upper() != "POST":
        return
    order_id = (case.path_parameters or {}).get("id")
    if not isinstance(order_id, str) or not _valid_order_id(order_id):
        return
    if _invalid_body(case.body):
        return
    positive = case.meta is None or not case.meta.generation.mode.is_negative
    if not positive or not isinstance(case.body, dict):
        case.headers = {**(case.headers or {}), "Authorization": SPOILT_TOKEN}
        return
    allowed = target.settings.refund_order_ids
    if order_id not in allowed:
        # The spec's examples and the coverage phase use ids of their own (the vendor's
        # 10001): only an allowed id is ever refunded.
        order_id = allowed[sum(map(ord, order_id)) % len(allowed)]
        case.path_parameters = {**(case.path_parameters or {}), "id": order_id}
    case.body = {**case.body, "orderItems": [target.next_piece(order_id).one_piece()]}
