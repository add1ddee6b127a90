"""Validate every raw response the generated client receives against openapi.yaml.

The generated ``from_dict`` checks almost nothing, so the suite checks the
raw JSON itself: an httpx response hook finds the operation by method and
path, then validates the body with the spec's schema for that status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
from kakaclo_client.models import RefundStatus

from kakaclo_contract import summary
from kakaclo_refunds.cli_output import terminal_safe
from kakaclo_spec import Spec

SPEC = Spec.load()
# The statuses a refund ends in; the spec says it never changes again.
SETTLED = frozenset({RefundStatus.REFUND_SUCCESSFULLY, RefundStatus.REFUND_FAILED})


def operation_of(method: str, url_path: str) -> str | None:
    """The operationId a request went to (its URL path ends with a spec path), or None."""
    return SPEC.operation_of(method, url_path, exact=False)


def observe(method: str, path: str, status: int, content: bytes) -> None:
    """Count an answer in the run's spec coverage (imported late: it imports this module)."""
    from kakaclo_contract import spec_coverage

    spec_coverage.observe(method, path, status, content)


def envelope_problem(operation_id: str, status: int, body: object) -> str | None:
    """The envelope rule: a 200 carries 10000, an error a code its response lists (``x-codes``).

    None when the rule holds, or when it does not apply: a status the operation
    does not document, or a body that is not an envelope (the schema checks
    report those).
    """
    allowed = SPEC.codes(operation_id, status)
    if not allowed or not isinstance(body, dict) or "code" not in body:
        return None
    code = body["code"]
    if isinstance(code, bool) or not isinstance(code, int | float) or code not in allowed:
        listed = ", ".join(str(c) for c in sorted(allowed))
        return (
            f"the envelope's code is {code!r}, but a {status} answer carries "
            f"{'only ' if len(allowed) == 1 else 'one of '}{listed} (openapi.yaml, x-codes)"
        )
    return None


def label_of(operation_id: str) -> str:
    """``METHOD /path`` of an operation, as the summary names it."""
    method, path, _ = SPEC.operation(operation_id)
    return f"{method} {path}"


def _problems(operation_id: str, response: httpx.Response) -> list[str]:
    """How one answer breaks the spec (the server's values in it as they came)."""
    _, _, operation = SPEC.operation(operation_id)
    if str(response.status_code) not in operation["responses"]:
        return ["status not documented"]
    if not response.headers.get("content-type", "").startswith("application/json"):
        return [f"content-type {response.headers.get('content-type')}"]
    try:
        body = json.loads(response.content)
    except ValueError as error:
        return [f"the body is not JSON ({error})"]
    errors = SPEC.response_schema(operation_id, response.status_code).errors(body)
    broken = envelope_problem(operation_id, response.status_code, body)
    return [str(problem) for problem in [*errors, *([broken] if broken else [])]]


@dataclass
class ResponseAudit:
    """Collects every spec violation seen in responses."""

    problems: list[str] = field(default_factory=list)
    checked: int = 0
    observe_coverage: bool = True  # False when the client's own hook counts spec coverage

    def __call__(self, response: httpx.Response) -> None:
        """The httpx response hook."""
        operation_id = operation_of(response.request.method, response.request.url.path)
        if operation_id is None:
            return
        response.read()
        self.checked += 1
        from kakaclo_contract import spec_coverage  # late: it imports this module

        spec_coverage.remember(response)
        summary.record_answer(label_of(operation_id), response.status_code)
        if self.observe_coverage:
            observe(
                response.request.method,
                response.request.url.path,
                response.status_code,
                response.content,
            )
        where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        # The lines carry the server's values: a terminal must show its controls, not obey them.
        self.problems.extend(
            terminal_safe(f"{where}: {problem}") for problem in _problems(operation_id, response)
        )

    def assert_clean(self) -> None:
        """Fail with every problem seen."""
        assert self.checked, "no response was checked"
        assert not self.problems, "responses break openapi.yaml:\n" + "\n".join(self.problems)
