"""openapi.yaml loaded by schemathesis for one target, seeded, bounded and reported."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig

from contract_tests import summary
from contract_tests.target import Target

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
SEED = 20261126
# Examples per operation and generation mode, by profile.
MAX_EXAMPLES = {"quick": 25, "thorough": 300}
DEMO_REFUNDABLE = ("10001", "10002", "10007", "10008", "10009", "10010")


def profile() -> str:
    """The active profile name (``quick`` unless KAKACLO_PROFILE says otherwise)."""
    return os.environ.get("KAKACLO_PROFILE", "quick")


def schemathesis_config(target: Target) -> SchemathesisConfig:
    """Seeded, bounded settings.

    Reports come from pytest (``--junitxml``) and from schemathesis's failure
    messages, which carry the curl command of every failing case: schemathesis
    4.32.5's own pytest report writers import allure even when it is not used.
    """
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "base-url": target.base_url,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES[profile()],
                "deterministic": True,
                "database": "none",
            },
        }
    )


def load_schema(target: Target) -> Any:
    """The schema for ``target``: auth, read-only guard, in-process app."""
    schema: Any = schemathesis.openapi.from_path(SPEC, config=schemathesis_config(target))
    if target.in_process:
        schema.app = target.app
    if not target.may_refund:
        schema = schema.exclude(operation_id="refundOrder")

    @schema.auth(retry_on=[])
    class BearerToken:
        def get(self, case: Any, context: Any) -> str:
            return target.token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    allowed = target.refundable_ids(DEMO_REFUNDABLE)

    @schema.hook("map_path_parameters")
    def steer_order_ids(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        # A pure function of the drawn id, so hypothesis can replay and shrink.
        if not path_parameters:
            return path_parameters
        order_id = path_parameters.get("id")
        digits = order_id if isinstance(order_id, str) and order_id.isdigit() else None
        if context.operation.method.upper() == "POST" and not target.is_sandbox:
            # Against a real service a refund may only ever name an allowed order
            # (a negated, non-digit id names no order and is left alone).
            if digits:
                return {**path_parameters, "id": allowed[int(digits) % len(allowed)]}
            return path_parameters
        if target.is_sandbox and digits and int(digits) % 2 == 0:
            # Random digits almost never name an order: send half of the valid
            # cases to real demo orders, so rules, 200s and links get exercised.
            # (Negated ids are not digit strings and are left alone.)
            return {**path_parameters, "id": allowed[int(digits) // 2 % len(allowed)]}
        return path_parameters

    @schema.hook("after_validate")
    def tally(context: Any, case: Any, response: Any, results: list[Any]) -> None:
        label = f"{case.operation.method.upper()} {case.operation.path}"
        summary.record(label, response.status_code, results)

    return schema
