"""Spec coverage of a run: which (operation, documented status) pairs and which ``ErrorCode``
values the run actually observed.

Every answer the suite sees is counted: schemathesis's cases (its
``after_validate`` hook), the generated client's answers (the response audit)
and the raw calls of the suite's own tests (a response hook on
``Target.http()`` clients). Against a sandbox the run must observe every
documented pair and code, or it fails naming the missing ones; against other
targets the counts are only reported.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx

from kakaclo_contract.spec_check import SPEC, operation_of

PAIRS: Counter[tuple[str, int]] = Counter()  # (operationId, status) -> answers
CODES: Counter[int] = Counter()  # envelope code -> answers


def documented_pairs() -> set[tuple[str, int]]:
    """Every (operationId, status) the spec documents."""
    return {
        (str(operation["operationId"]), int(status))
        for _, _, operation in SPEC.operations()
        for status in operation["responses"]
    }


def documented_codes() -> set[int]:
    """Every value of the spec's ``ErrorCode`` (10000, success, included)."""
    return {int(code) for code in SPEC.document["components"]["schemas"]["ErrorCode"]["enum"]}


def observe(method: str, path: str, status: int, content: bytes) -> None:
    """Count one answer: its operation's pair (when it is one) and its envelope's code."""
    operation_id = operation_of(method.upper(), path)
    if operation_id is not None:
        PAIRS[(operation_id, status)] += 1
    try:
        body = json.loads(content)
    except ValueError:
        return
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        CODES[body["code"]] += 1


# The last answer the suite's own clients received, to name it when a test fails unexpectedly.
LAST_ANSWER: list[str] = []


def remember(response: httpx.Response) -> None:
    """Note the last answer (named when a test fails unexpectedly)."""
    LAST_ANSWER[:] = [f"{response.request.method} {response.request.url} -> {response.status_code}"]


def observe_response(response: httpx.Response) -> None:
    """An httpx response hook (sync clients)."""
    response.read()
    remember(response)
    observe(
        response.request.method, response.request.url.path, response.status_code, response.content
    )


async def observe_response_async(response: httpx.Response) -> None:
    """An httpx response hook (async clients)."""
    await response.aread()
    remember(response)
    observe(
        response.request.method, response.request.url.path, response.status_code, response.content
    )


def snapshot() -> dict[str, Any]:
    """The observed pairs and codes as plain data (a worker of a parallel run sends them home)."""
    return {
        "pairs": [[operation_id, status, n] for (operation_id, status), n in PAIRS.items()],
        "codes": list(CODES.items()),
    }


def merge(counts: dict[str, Any]) -> None:
    """Add a worker's :func:`snapshot` to this process's counts."""
    for operation_id, status, n in counts["pairs"]:
        PAIRS[(operation_id, status)] += n
    CODES.update(dict(counts["codes"]))


def missing() -> tuple[list[tuple[str, int]], list[int]]:
    """The documented pairs and codes this run did not observe."""
    pairs = sorted(documented_pairs() - set(PAIRS))
    codes = sorted(documented_codes() - set(CODES))
    return pairs, codes


def as_json() -> dict[str, Any]:
    """The matrix for the JSON summary."""
    pairs: dict[str, dict[str, int]] = {}
    for operation_id, status in sorted(documented_pairs() | set(PAIRS)):
        pairs.setdefault(operation_id, {})[str(status)] = PAIRS.get((operation_id, status), 0)
    gaps, codes = missing()
    return {
        "pairs": pairs,
        "codes": {
            str(code): CODES.get(code, 0) for code in sorted(documented_codes() | set(CODES))
        },
        "missingPairs": [f"{operation_id} {status}" for operation_id, status in gaps],
        "missingCodes": codes,
    }


def lines() -> list[str]:
    """The matrix for the terminal."""
    if not PAIRS and not CODES:
        return []
    out = []
    by_operation: dict[str, list[str]] = {}
    for operation_id, status in sorted(documented_pairs()):
        by_operation.setdefault(operation_id, []).append(
            f"{status}x{PAIRS.get((operation_id, status), 0)}"
        )
    for operation_id, cells in sorted(by_operation.items()):
        out.append(f"spec coverage {operation_id}: {' '.join(cells)}")
    codes = " ".join(f"{code}x{CODES.get(code, 0)}" for code in sorted(documented_codes()))
    out.append(f"spec coverage codes: {codes}")
    gaps, unseen = missing()
    if gaps or unseen:
        out.append(
            "not observed: "
            + ", ".join([f"{o} {s}" for o, s in gaps] + [f"code {c}" for c in unseen])
        )
    return out


def gate_reason() -> str | None:
    """Why a sandbox run falls short of the spec (None when everything was observed)."""
    gaps, unseen = missing()
    if not gaps and not unseen:
        return None
    named = [f"{operation_id} {status}" for operation_id, status in gaps]
    named += [f"code {code}" for code in unseen]
    return "spec coverage: the run never observed " + ", ".join(named)
