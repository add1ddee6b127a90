"""Load openapi.yaml once and compile its schemas into fast validators.

The sandbox validates every request and response against the spec itself,
never against a second model of it. Schemas are compiled with jsonschema-rs
(Draft 2020-12, the dialect of OpenAPI 3.1) with the spec's `components`
placed in each compiled document, so `#/components/...` references resolve.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import yaml

SPEC_ENV = "KAKACLO_SPEC"
SHIPPED_SPEC = Path(__file__).resolve().parent / "openapi.yaml"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

JSON = Any


def default_spec_path() -> Path:
    """Where openapi.yaml is: ``$KAKACLO_SPEC``, else the copy shipped in this package.

    In a checkout the shipped file is a symbolic link to the repository's
    ``openapi.yaml``; a built wheel carries the file itself.
    """
    configured = os.environ.get(SPEC_ENV)
    if configured:
        return Path(configured)
    return SHIPPED_SPEC


@dataclass(frozen=True)
class SchemaError:
    """One way an instance breaks a schema: where (a JSON path) and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def json_path(parts: list[str | int]) -> str:
    """Render an instance path as ``orderItems[0].quantity``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class CompiledSchema:
    """A schema of the spec compiled once; cheap to call per request."""

    schema: JSON
    validator: jsonschema_rs.Validator

    def is_valid(self, instance: JSON) -> bool:
        """True when ``instance`` conforms."""
        return bool(self.validator.is_valid(instance))

    def errors(self, instance: JSON) -> list[SchemaError]:
        """Every violation, each with the path of the offending field."""
        if self.validator.is_valid(instance):  # the common case, several times faster
            return []
        return [
            SchemaError(json_path(list(error.instance_path)), error.message)
            for error in self.validator.iter_errors(instance)
        ]


@dataclass
class Spec:
    """The parsed openapi.yaml and the validators compiled from it."""

    document: dict[str, Any]
    path: Path | None = None
    _compiled: dict[str, CompiledSchema] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> Spec:
        """Parse the spec file (default: :func:`default_spec_path`)."""
        path = path or default_spec_path()
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        if not isinstance(document, dict) or "openapi" not in document:
            raise ValueError(f"{path} is not an OpenAPI document")
        return cls(document=document, path=path)

    @cached_property
    def text(self) -> str:
        """The spec file as it is on disk (served at /openapi.yaml)."""
        if self.path is None:
            return yaml.safe_dump(self.document, sort_keys=False)
        return self.path.read_text(encoding="utf-8")

    def compile(self, schema: JSON) -> CompiledSchema:
        """Compile a schema of this spec, with the components in scope."""
        document = {"$schema": DIALECT, "components": self.document.get("components", {})}
        document.update(schema if isinstance(schema, dict) else {"allOf": [schema]})
        validator = jsonschema_rs.Draft202012Validator(document, validate_formats=True)
        return CompiledSchema(schema=schema, validator=validator)

    def component(self, name: str) -> CompiledSchema:
        """The compiled ``#/components/schemas/<name>`` (cached)."""
        key = f"#/components/schemas/{name}"
        if key not in self._compiled:
            if name not in self.document["components"]["schemas"]:
                raise KeyError(f"the spec has no schema {name!r}")
            self._compiled[key] = self.compile({"$ref": key})
        return self._compiled[key]

    def resolve(self, node: JSON) -> JSON:
        """Follow a local ``$ref`` (repeatedly) to the node it names."""
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"]
            if not pointer.startswith("#/"):
                raise ValueError(f"only local references are supported, got {pointer}")
            node = self.document
            for part in pointer[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def default_of(self, schema: str, prop: str | None = None) -> JSON:
        """The ``default`` of a component schema, or of one of its properties."""
        node: JSON = self.document["components"]["schemas"][schema]
        if prop is not None:
            node = self.resolve(node)["properties"][prop]
        while isinstance(node, dict):
            if "default" in node:
                return node["default"]
            if "$ref" not in node:
                break
            node = self.resolve({"$ref": node["$ref"]})
        raise KeyError(f"the spec gives no default for {schema}{'.' + prop if prop else ''}")

    @cached_property
    def rate_limit(self) -> tuple[int, float]:
        """The vendor's limit, ``x-rate-limit`` of the 429 response: (burst, per second)."""
        limit = self.document["components"]["responses"]["TooManyRequests"]["x-rate-limit"]
        return int(limit["burst"]), float(limit["perSecond"])

    @cached_property
    def server_root(self) -> str:
        """The path of the first server's URL (``/openapi``): where the spec's paths hang."""
        return str(urlsplit(self.document["servers"][0]["url"]).path).rstrip("/")

    @cached_property
    def _path_patterns(self) -> list[tuple[str, re.Pattern[str], str]]:
        return [
            (method, _path_pattern(path), str(operation["operationId"]))
            for method, path, operation in self.operations()
        ]

    def operation_of(self, method: str, url_path: str, *, exact: bool = True) -> str | None:
        """The ``operationId`` of a request: its path is a spec path (``exact``), or ends
        with one (a URL path under any base)."""
        for op_method, pattern, operation_id in self._path_patterns:
            if op_method != method:  # a string comparison first: it spares most regexes
                continue
            if pattern.fullmatch(url_path) if exact else pattern.search(url_path):
                return operation_id
        return None

    def match(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        """The ``operationId`` and path parameters of a request to a spec path, or None."""
        for op_method, pattern, operation_id in self._path_patterns:
            if op_method != method:
                continue
            found = pattern.fullmatch(path)
            if found:
                return operation_id, found.groupdict()
        return None

    def spec_path_in(self, url_path: str) -> str | None:
        """The spec path a URL path ends with (under whatever base), or None."""
        for _, pattern, _ in self._path_patterns:
            found = pattern.search(url_path)
            if found:
                return url_path[found.start() :]
        return None

    def has_path(self, path: str) -> bool:
        """True when ``path`` is one of the spec's paths, whatever the method."""
        return any(pattern.fullmatch(path) for _, pattern, _ in self._path_patterns)

    @cached_property
    def operation_ids(self) -> tuple[str, ...]:
        """Every ``operationId``, in the spec's order."""
        return tuple(operation["operationId"] for _, _, operation in self.operations())

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Yield ``(method, path, operation)`` for every operation of the spec."""
        for path, item in self.document["paths"].items():
            for method, operation in item.items():
                if method in {"get", "put", "post", "delete", "patch", "head", "options"}:
                    yield method.upper(), path, operation

    def operation(self, operation_id: str) -> tuple[str, str, dict[str, Any]]:
        """The ``(method, path, operation)`` with this ``operationId``."""
        for method, path, operation in self.operations():
            if operation.get("operationId") == operation_id:
                return method, path, operation
        raise KeyError(f"the spec has no operation {operation_id!r}")

    def response_schema(self, operation_id: str, status: int) -> CompiledSchema:
        """The compiled JSON body schema of one response of one operation (cached)."""
        key = f"{operation_id} {status}"
        if key not in self._compiled:
            _, _, operation = self.operation(operation_id)
            response = self.resolve(operation["responses"][str(status)])
            self._compiled[key] = self.compile(response["content"]["application/json"]["schema"])
        return self._compiled[key]

    def codes(self, operation_id: str, status: int) -> frozenset[int] | None:
        """The envelope ``code`` values one response allows (its ``x-codes``).

        None when the operation does not document the status at all.
        """
        _, _, operation = self.operation(operation_id)
        documented = operation["responses"].get(str(status))
        if documented is None:
            return None
        return frozenset(int(code) for code in self.resolve(documented).get("x-codes", ()))

    def documented_error_codes(self, operation_id: str, status: int) -> set[int]:
        """The error ``code`` values one response documents (its ``x-codes``)."""
        return set(self.codes(operation_id, status) or ())

    def example_codes(self, operation_id: str, status: int) -> set[int]:
        """The ``code`` values of one response's examples (named, or its one ``example``)."""
        _, _, operation = self.operation(operation_id)
        media = self.resolve(operation["responses"][str(status)])["content"]["application/json"]
        bodies = [self.resolve(example)["value"] for example in media.get("examples", {}).values()]
        if "example" in media:
            bodies.append(media["example"])
        return {body["code"] for body in bodies}


def _path_pattern(template: str) -> re.Pattern[str]:
    # /orders/{id}/refund -> /orders/(?P<id>[^/]+)/refund (re.escape turns { into \{)
    return re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


@cache
def shipped_spec() -> Spec:
    """The spec of :func:`default_spec_path`, loaded once per process."""
    return Spec.load()
