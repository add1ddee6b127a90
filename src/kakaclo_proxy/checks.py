"""The checks of one exchange against openapi.yaml, with the sandbox's own validators.

A request is matched to its operation under the upstream's base path (the
``/openapi`` root of the vendor's URL), then checked with the sandbox's
:class:`~kakaclo_spec.validation.OperationValidator` (parameters,
content type, body) and the spec's compiled response schemas: one spec,
compiled once. A request the spec refuses is the upstream's problem only when
the upstream accepts it: a refusal (4xx) is the right answer, not a finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote

import orjson
from kakaclo_client.models import ErrorCode

from kakaclo_proxy.exchange import BodyTooLarge, Exchange, UndecodableBody, header, size
from kakaclo_proxy.findings import Finding, Severity
from kakaclo_proxy.upstream import DEFAULT_MAX_BODY, DEFAULT_MAX_REQUEST_BODY
from kakaclo_spec import CompiledSchema, Spec
from kakaclo_spec.errors import ApiError
from kakaclo_spec.validation import JSON_MEDIA_TYPE, OperationValidator, parse_json

SUCCESS = int(ErrorCode.SUCCESS)
CONTROL_PREFIX = "/_sandbox/"  # the sandbox's control surface: a known extension
MAX_MESSAGES = 3  # schema errors named per finding


class Report(Protocol):
    """Records one finding of the exchange being checked."""

    def __call__(self, check: str, message: str, severity: Severity = "error") -> None:
        """Add a finding of ``check``."""


@dataclass(frozen=True)
class Verdict:
    """What the checks made of one exchange."""

    operation: str | None  # operationId, None outside the spec
    findings: list[Finding]
    parameters: dict[str, Any]  # the request's parameters (defaults filled in), when valid
    body: Any  # the answer's JSON, when it is JSON
    passed: list[str]  # the checks this exchange passed (for the per-check tallies)
    control: bool = False  # a call of the sandbox's control surface
    outside: bool = False  # a path or method the spec has not


@dataclass(frozen=True)
class _Request:
    """The parameter sources an OperationValidator reads (a Starlette Request's shape)."""

    path_params: dict[str, str]
    query_params: dict[str, str]
    headers: dict[str, str]


class ExchangeChecker:
    """Checks exchanges of one spec, served under ``base_path`` (e.g. ``/openapi``).

    A compressed body is decoded to at most the cap of its direction (the proxy's
    ``--max-request-body`` and ``--max-answer-body``); one that decodes to more is not
    checked, and the exchange gets a finding that says so.
    """

    def __init__(
        self,
        spec: Spec,
        base_path: str | None,
        *,
        max_request_body: int = DEFAULT_MAX_REQUEST_BODY,
        max_answer_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.spec = spec
        self.max_request_body = max_request_body
        self.max_answer_body = max_answer_body
        # None: any base (a recording of unknown origin); the spec path ends the URL path
        self.base_path = None if base_path is None else base_path.rstrip("/")
        self._validators = {
            operation_id: OperationValidator(spec, operation_id)
            for operation_id in spec.operation_ids
        }

    def operation_path(self, path: str) -> str | None:
        """The spec path of a request path under the base, or None outside it."""
        if self.base_path is None:
            return self.spec.spec_path_in(path)
        if not self.base_path:
            return path
        if path.startswith(self.base_path + "/"):
            return path[len(self.base_path) :]
        return None

    def check(self, exchange: Exchange) -> Verdict:
        """Every per-exchange check of ``exchange``."""
        findings: list[Finding] = []
        passed: list[str] = []

        def report(check: str, message: str, severity: Severity = "error") -> None:
            findings.append(Finding.about(exchange, operation or "-", check, message, severity))

        operation: str | None = None
        if exchange.answered_by == "proxy":  # the upstream never answered
            report("upstream", _envelope_message(exchange))
            return Verdict(None, findings, {}, None, passed)
        if exchange.path.startswith(CONTROL_PREFIX):
            return Verdict(None, [], {}, None, passed, control=True)
        spec_path = self.operation_path(exchange.path)
        found = self.spec.match(exchange.method, spec_path) if spec_path is not None else None
        if found is None:
            # Refused (404, 405) is the answer the spec implies: no finding, only a count.
            refused = exchange.status in (404, 405)
            if spec_path is not None and self.spec.has_path(spec_path):
                if not refused:
                    report("operation", f"{exchange.method} is not an operation of {spec_path}")
            elif not refused:
                report(
                    "operation",
                    "no operation of the spec has this path, yet it was answered (forwarded)",
                    "warning",
                )
            return Verdict(None, findings, {}, None, passed, outside=True)
        operation, path_params = found
        passed.append("operation")
        parameters = self._check_request(exchange, operation, path_params, report, passed)
        if exchange.cut is not None:  # only the answer's start: its body cannot be checked
            if exchange.cut.broken:
                report("upstream", exchange.cut.reason)
            return Verdict(operation, findings, parameters, None, passed)
        body = self._check_response(exchange, operation, report, passed)
        return Verdict(operation, findings, parameters, body, passed)

    def _check_request(
        self,
        exchange: Exchange,
        operation: str,
        path_params: dict[str, str],
        report: Report,
        passed: list[str],
    ) -> dict[str, Any]:
        validator = self._validators[operation]
        accepted = 200 <= exchange.status < 300
        request = _Request(
            path_params={name: unquote(value) for name, value in path_params.items()},
            # the last value of a name wins, as in the sandbox (Starlette's QueryParams)
            query_params=dict(parse_qsl(exchange.query, keep_blank_values=True))
            if exchange.query
            else {},
            headers={name.lower(): value for name, value in exchange.request_headers},
        )
        parameters: dict[str, Any] = {}
        try:
            parameters = validator.read_parameters(request)
        except ApiError as refused:
            if accepted:
                report(
                    "parameters",
                    f"answered {exchange.status} to a request the spec refuses: {refused.message}",
                )
            else:
                passed.append("parameters")
            return {}
        passed.append("parameters")
        if validator.body_schema is None:
            return parameters
        try:
            raw = exchange.request_body_bytes(self.max_request_body)
            if raw.strip() or validator.body_required:
                validator.check_content_type(header(exchange.request_headers, "content-type"))
            validator.read_body(raw)
        except (ApiError, UndecodableBody) as refused:
            message = refused.message if isinstance(refused, ApiError) else str(refused)
            if isinstance(refused, BodyTooLarge):
                message = _not_checked("request's", refused, "--max-request-body")
            if accepted:
                report(
                    "request-body",
                    f"answered {exchange.status} to a request the spec refuses: {message}",
                )
            else:
                passed.append("request-body")
            return {}
        passed.append("request-body")
        return parameters

    def _check_response(
        self, exchange: Exchange, operation: str, report: Report, passed: list[str]
    ) -> Any:
        documented = self._documented(operation)
        if exchange.status not in documented:
            report(
                "status",
                f"{exchange.status} is not documented for {operation} "
                f"(documented: {', '.join(map(str, sorted(documented)))})",
            )
            return None
        passed.append("status")
        content_type = header(exchange.response_headers, "content-type") or ""
        if content_type.split(";", 1)[0].strip().lower() != JSON_MEDIA_TYPE:
            report(
                "content-type",
                f"content-type is {content_type or 'missing'}, not {JSON_MEDIA_TYPE}",
            )
            return None
        passed.append("content-type")
        try:
            raw = exchange.response_json_bytes(self.max_answer_body)
            body = orjson.loads(raw)  # fast; the strict parser names what is wrong
        except BodyTooLarge as error:  # as the client would: the answer breaks the cap
            report("upstream", _not_checked("answer's", error, "--max-answer-body"))
            return None
        except UndecodableBody as error:
            report("response-schema", str(error), "warning")
            return None
        except orjson.JSONDecodeError:
            try:
                body = parse_json(raw)
            except ApiError as error:
                report("response-schema", error.message.replace("request body", "the body"))
                return None
        problems = [
            str(e) for e in self.spec.response_schema(operation, exchange.status).errors(body)
        ]
        problems += list(self._header_problems(operation, exchange))
        if problems:
            shown = "; ".join(problems[:MAX_MESSAGES])
            more = len(problems) - MAX_MESSAGES
            report("response-schema", shown + (f" (and {more} more)" if more > 0 else ""))
        else:
            passed.append("response-schema")
        code = body.get("code") if isinstance(body, dict) else None
        if exchange.status == 200 and code != SUCCESS:
            report("envelope", f"a 200 carries code {code!r}, not {SUCCESS}")
        elif exchange.status != 200 and code == SUCCESS:
            report("envelope", f"a {exchange.status} carries the success code {SUCCESS}")
        else:
            passed.append("envelope")
        return body

    def _documented(self, operation: str) -> set[int]:
        return self._statuses[operation]

    @cached_property
    def _statuses(self) -> dict[str, set[int]]:
        return {
            str(op["operationId"]): {int(status) for status in op["responses"]}
            for _, _, op in self.spec.operations()
        }

    @cached_property
    def _headers(self) -> dict[tuple[str, int], list[tuple[str, bool, CompiledSchema]]]:
        found: dict[tuple[str, int], list[tuple[str, bool, CompiledSchema]]] = {}
        for _, _, op in self.spec.operations():
            for status, response in op["responses"].items():
                declared = self.spec.resolve(response).get("headers", {})
                found[(str(op["operationId"]), int(status))] = [
                    (
                        name,
                        bool(self.spec.resolve(h).get("required")),
                        self.spec.compile(self.spec.resolve(h)["schema"]),
                    )
                    for name, h in declared.items()
                ]
        return found

    def _header_problems(self, operation: str, exchange: Exchange) -> Iterator[str]:
        for name, required, schema in self._headers[(operation, exchange.status)]:
            value = header(exchange.response_headers, name)
            if value is None:
                if required:
                    yield f"header {name} is required"
                continue
            typed: Any = int(value) if value.strip().isdigit() else value
            if not schema.is_valid(typed):
                yield f"header {name}: {value!r} does not conform"


def _not_checked(whose: str, error: BodyTooLarge, flag: str) -> str:
    return (
        f"the {whose} {error.coding} body decodes to more than {size(error.limit)} "
        f"(the proxy's cap, {flag}), so it was not checked"
    )


def _envelope_message(exchange: Exchange) -> str:
    try:
        return str(json.loads(exchange.response_body)["message"])
    except (ValueError, KeyError, TypeError):
        return "the upstream did not answer"
