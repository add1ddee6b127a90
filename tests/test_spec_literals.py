"""Derive, don't restate: no literal the spec defines reappears in src/.

The list of literals comes from openapi.yaml itself: every string enum value
(statuses, reasons, country codes), every path and operation id, the server
root, every error code, the query parameters' defaults and maxima from 100 up
(smaller numbers are too common to attribute), ``x-rate-limit``'s burst, and
every ``pattern`` (with its anchors or without: ``re.fullmatch`` needs none).
Code reaches these through the generated client (its enums and
``kakaclo_client.spec_facts``) or the loaded spec. A string that contains the
fixed part of a path counts too (``"/openapi" + path`` written out by hand).

Not counted: docstrings, and keys of a row or mapping (``row["refunded"]`` is a
column). Where a number or a word only coincides with one of the spec's, it is
listed in COINCIDENCES with the reason; the test also fails on an entry that no
longer occurs, so the list cannot rot.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kakaclo_spec import Spec

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

COINCIDENCES: dict[tuple[str, object], str] = {
    ("kakaclo_sandbox/domain/money.py", 10_000): "ten-thousandths per unit, not the success code",
    ("kakaclo_contract/model.py", 10_000): "the model's own ten-thousandths, not the success code",
    ("kakaclo_sandbox/ratelimit.py", 1_000_000): "the bound of --rate-limit, not pageNumber's",
    ("kakaclo_refunds/cli.py", "refunded"): "a column title of kakaclo orders list",
    ("kakaclo_sandbox/storage/tables.py", "refunded"): "a line's column: its refunded pieces",
}
# Restatements found and not yet derived, each with its fix; an entry that no longer occurs
# fails the test too, so the fix removes it.
NOT_YET_DERIVED: dict[tuple[str, object], str] = {}


def spec_literals(spec: Spec) -> tuple[set[str], set[int], set[str]]:
    """(exact strings, exact integers, strings no literal may contain), read from the spec."""
    strings: set[str] = {spec.server_root}
    numbers: set[int] = set()
    for node in _nodes(spec.document):
        for value in node.get("enum", []) if isinstance(node.get("enum"), list) else []:
            if isinstance(value, str):
                strings.add(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                numbers.add(value)
        if node.get("in") == "query":
            for fact in ("default", "maximum"):
                value = node.get("schema", {}).get(fact)
                if isinstance(value, int) and value >= 100:
                    numbers.add(value)
        if "x-rate-limit" in node:
            numbers.add(int(node["x-rate-limit"]["burst"]))
        if isinstance(node.get("pattern"), str):
            pattern = node["pattern"]
            strings.update({pattern, pattern.removeprefix("^").removesuffix("$")})
    fixed_parts: set[str] = set()
    for _, path, operation in spec.operations():
        strings.update({path, operation["operationId"]})
        fixed_parts.add(path.split("{", 1)[0].rstrip("/"))
    return strings, numbers, fixed_parts


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def constants(tree: ast.AST) -> Iterator[ast.Constant]:
    """The constants of a module that are code: not docstrings, not subscript keys."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skipped.add(id(body[0].value))
        if isinstance(node, ast.Subscript):
            skipped.add(id(node.slice))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in skipped:
            yield node


def restated(tree: ast.AST, spec: Spec) -> list[tuple[int, object]]:
    """(line, value) of every literal in ``tree`` that restates the spec."""
    strings, numbers, fixed_parts = spec_literals(spec)
    found: list[tuple[int, object]] = []
    for node in constants(tree):
        value = node.value
        if isinstance(value, bool):
            continue
        if (
            isinstance(value, str)
            and (value in strings or any(part in value for part in fixed_parts))
        ) or (isinstance(value, int) and value in numbers):
            found.append((node.lineno, value))
    return found


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.load(ROOT / "openapi.yaml")


def test_src_restates_no_literal_of_the_spec(spec: Spec) -> None:
    problems: list[str] = []
    seen: set[tuple[str, object]] = set()
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        for line, value in restated(ast.parse(path.read_text(encoding="utf-8")), spec):
            if (name, value) in COINCIDENCES or (name, value) in NOT_YET_DERIVED:
                seen.add((name, value))
            else:
                problems.append(f"src/{name}:{line}: {value!r} is the spec's; derive it")
    problems += [
        f"COINCIDENCES or NOT_YET_DERIVED entry no longer occurs: {entry}"
        for entry in (COINCIDENCES.keys() | NOT_YET_DERIVED.keys()) - seen
    ]
    assert not problems, "\n".join(problems)


def test_the_literal_list_comes_from_the_spec(spec: Spec) -> None:
    strings, numbers, fixed_parts = spec_literals(spec)
    assert {"pending_review", "refundOrder", "Other", "NULL", "/openapi"} <= strings
    assert {"^[0-9]{1,20}$", "[0-9]{1,20}"} <= strings
    assert {10000, 40901, 250, 120} <= numbers
    assert "/openapi/v2/order/orders" in fixed_parts


@pytest.mark.parametrize(
    "source",
    [
        'STATUS = "pending_review"',
        "PAGE = {'pageSize': 250}",
        "CODE = 40901",
        'URL = "/openapi/openapi/v2/order/orders/refund/" + order_id',
        'OPERATION = "queryOrders"',
        'ORDER_ID = re.compile("[0-9]{1,20}")',
        'SCHEMA = {"type": "string", "pattern": "^[0-9]{1,20}$"}',
    ],
)
def test_a_restated_literal_is_found(spec: Spec, source: str) -> None:
    assert restated(ast.parse(source), spec)


@pytest.mark.parametrize(
    "source",
    [
        '"""A docstring may say pending_review."""',
        'x = row["refunded"]',
        "STATUS = RefundStatus.PENDING_REVIEW",
        "TIMEOUT = 10",
    ],
)
def test_docstrings_keys_and_derived_names_are_not(spec: Spec, source: str) -> None:
    assert not restated(ast.parse(source), spec)
