"""Request validation of one operation, compiled once from openapi.yaml.

Parameters are read from the path, query string and headers, coerced by the
type their schema declares (query strings are text), and validated with the
spec's schema; JSON bodies are size-limited, parsed strictly and validated.
Every failure raises :class:`ApiError` 400 (or 413) naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl

from kakaclo_client.models import ErrorCode

from kakaclo_spec import CompiledSchema, Spec
from kakaclo_spec.errors import ApiError

# Above the largest schema-valid Refund Order body (250 items of 64-character
# ids, every character a \u escaped surrogate pair: about 400 KB), so 413 is
# only ever the answer to a body the schema refuses anyway.
MAX_BODY_BYTES = 512 * 1024
JSON_MEDIA_TYPE = "application/json"


def bad_request(code: ErrorCode, message: str) -> ApiError:
    """A 400 answer."""
    return ApiError(400, code, message)


# The one lexical form of an integer parameter (the spec's PageNumber says so):
# ASCII digits, an optional sign, leading zeros, an optional fraction of zeros.
# Python's int() would also take other scripts' digits, "1_000" and " 5 ".
PLAIN_INTEGER = re.compile(r"[+-]?([0-9]+)(\.0*)?")
MAX_JSON_DEPTH = 32


def _coerce(text: str, kind: str | None) -> Any:
    """Read a parameter's text as the JSON type its schema declares, or leave it text."""
    if kind == "integer":
        match = PLAIN_INTEGER.fullmatch(text)
        if match and len(match[1]) <= 20:
            return int(text.split(".")[0])
    return text


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when arrays and objects nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class HasParameters(Protocol):
    """Where parameters come from: plain mappings of the request's text values."""

    @property
    def path_params(self) -> Mapping[str, Any]:
        """Path parameters by name."""

    @property
    def query_params(self) -> Mapping[str, str]:
        """Query parameters by name."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Headers by lower-case name."""


# slots, not frozen: built on every refund, and a frozen dataclass's __init__ costs
# four times as much. Nothing changes one once built.
@dataclass(slots=True)
class RequestParameters:
    """A request's path, query and header values as plain dicts, read once.

    The same values Starlette's ``Request`` gives (the last of a repeated query
    name, the first of a repeated header), without its multi-dicts, whose
    lookups cost more than validating the value.
    """

    path_params: dict[str, Any]
    query_params: dict[str, str]
    headers: dict[str, str]

    @classmethod
    def of(cls, scope: Mapping[str, Any]) -> RequestParameters:
        """The parameters of an ASGI HTTP request."""
        query = scope["query_string"]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        return cls(
            path_params=scope.get("path_params", {}),
            query_params=dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True))
            if query
            else {},
            headers=headers,
        )


@dataclass(frozen=True)
class ParameterRule:
    """One parameter of an operation."""

    name: str
    location: str
    required: bool
    kind: str | None
    schema: CompiledSchema
    default: Any = None  # the schema's `default`, used when the parameter is absent

    def label(self) -> str:
        """How messages name the parameter."""
        where = {"path": "path parameter", "query": "query parameter", "header": "header"}
        return f"{where.get(self.location, self.location)} {self.name}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every body (json.loads with an option builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json(raw: bytes) -> Any:
    """Parse a request body strictly: UTF-8, no NaN/Infinity, bounded depth and numbers."""
    try:
        body = _DECODER.decode(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise bad_request(
            ErrorCode.MALFORMED_JSON, f"request body is not valid UTF-8 (byte {error.start})"
        ) from None
    except RecursionError:
        raise bad_request(ErrorCode.MALFORMED_JSON, "request body is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, over-long integers, NaN
        raise bad_request(
            ErrorCode.MALFORMED_JSON, f"request body is not valid JSON: {error}"
        ) from None
    # Fewer brackets than the limit cannot nest deeper: most bodies skip the walk.
    brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > MAX_JSON_DEPTH and _depth_exceeds(body, MAX_JSON_DEPTH):
        raise bad_request(
            ErrorCode.MALFORMED_JSON,
            f"request body is nested deeper than {MAX_JSON_DEPTH} levels",
        )
    if b"\\u" in raw:  # only escapes can smuggle in a lone surrogate (not storable text)
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request(
                ErrorCode.MALFORMED_JSON, "request body has a \\u escape of a lone surrogate"
            ) from None
    return body


class OperationValidator:
    """Validates the parameters and body of one operation of the spec."""

    def __init__(self, spec: Spec, operation_id: str) -> None:
        _, _, operation = spec.operation(operation_id)
        self.operation_id = operation_id
        self.parameters: list[ParameterRule] = []
        for reference in operation.get("parameters", []):
            parameter = spec.resolve(reference)
            schema = spec.resolve(parameter["schema"])
            self.parameters.append(
                ParameterRule(
                    name=parameter["name"],
                    location=parameter["in"],
                    required=bool(parameter.get("required", False)),
                    kind=schema.get("type"),
                    schema=spec.compile(parameter["schema"]),
                    default=schema.get("default"),
                )
            )
        body = operation.get("requestBody")
        self.body_required = bool(body and body.get("required"))
        self.body_schema = (
            spec.compile(body["content"][JSON_MEDIA_TYPE]["schema"]) if body else None
        )

    def read_parameters(self, request: HasParameters) -> dict[str, Any]:
        """The operation's parameters by name, validated; absent ones get the spec's default."""
        values: dict[str, Any] = {}
        sources = {
            "path": request.path_params,
            "query": request.query_params,
            "header": request.headers,
        }
        for rule in self.parameters:
            text = sources[rule.location].get(
                rule.name.lower() if rule.location == "header" else rule.name
            )
            if text is None:
                if rule.required:
                    raise bad_request(ErrorCode.SCHEMA_VIOLATION, f"{rule.label()} is required")
                if rule.default is not None:
                    values[rule.name] = rule.default
                continue
            value = _coerce(text, rule.kind)
            errors = rule.schema.errors(value)
            if errors:
                raise bad_request(
                    ErrorCode.SCHEMA_VIOLATION, f"{rule.label()}: {errors[0].message}"
                )
            values[rule.name] = value
        return values

    def check_content_type(self, content_type: str | None) -> None:
        """Refuse a body that is not ``application/json``."""
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        if media_type != JSON_MEDIA_TYPE:
            shown = content_type or "no Content-Type"
            raise bad_request(
                ErrorCode.UNSUPPORTED_CONTENT_TYPE,
                f"Content-Type must be application/json, got {shown}",
            )

    def read_body(self, raw: bytes) -> Any:
        """Parse and validate a JSON body already read (at most MAX_BODY_BYTES)."""
        if self.body_schema is None:
            return None
        if not raw.strip():
            if self.body_required:
                raise bad_request(ErrorCode.SCHEMA_VIOLATION, "request body is required")
            return None
        body = parse_json(raw)
        errors = self.body_schema.errors(body)
        if errors:
            raise bad_request(
                ErrorCode.SCHEMA_VIOLATION, "; ".join(str(error) for error in errors[:5])
            )
        return body


def too_large() -> ApiError:
    """The 413 answer for a body over the limit."""
    return ApiError(
        413, ErrorCode.PAYLOAD_TOO_LARGE, f"request body is larger than {MAX_BODY_BYTES} bytes"
    )
