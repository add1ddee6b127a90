"""Per-operation counts of a run: schemathesis cases, checks applied, failures, answers.

Filled by an ``after_validate`` hook on each loaded schema and by the
response audit of the suite's own clients; printed by the plugin at the end
of the run and written to the JSON summary.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class OperationTally:
    """What schemathesis did to one operation."""

    cases: int = 0
    checks: set[str] = field(default_factory=set)
    check_runs: int = 0
    failures: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


TALLIES: dict[str, OperationTally] = defaultdict(OperationTally)
LINKS: Counter[str] = Counter()  # stateful steps that followed a link, by link


def record(label: str, status: int, results: list[Any]) -> None:
    """Count one validated schemathesis case, its response status and its checks' results."""
    tally = TALLIES[label]
    tally.cases += 1
    tally.statuses[status] += 1
    for result in results:
        tally.checks.add(result.name)
        tally.check_runs += 1
        if result.failure is not None:
            tally.failures += 1


def record_answer(label: str, status: int) -> None:
    """Count one answer the suite's own clients validated against the spec."""
    TALLIES[label].statuses[status] += 1


def answered(label: str) -> int:
    """Validated answers of one operation, 429s not counted."""
    tally = TALLIES.get(label)
    if tally is None:
        return 0
    return sum(n for code, n in tally.statuses.items() if code != 429)


def lines() -> list[str]:
    """The terminal summary table."""
    if not TALLIES:
        return []
    width = max(len(label) for label in TALLIES)
    out = [
        f"{'operation':<{width}}  {'cases':>6}  {'checks':>6}  {'check runs':>10}  "
        f"{'failures':>8}  {'429s':>5}  statuses"
    ]
    for label in sorted(TALLIES):
        t = TALLIES[label]
        statuses = " ".join(f"{code}x{n}" for code, n in sorted(t.statuses.items()))
        out.append(
            f"{label:<{width}}  {t.cases:>6}  {len(t.checks):>6}  {t.check_runs:>10}  "
            f"{t.failures:>8}  {t.statuses[429]:>5}  {statuses}"
        )
    every = sorted(set().union(*(t.checks for t in TALLIES.values())))
    if every:
        out.append("checks applied: " + ", ".join(every))
    if LINKS:
        out.append("links followed: " + ", ".join(f"{k} x{n}" for k, n in sorted(LINKS.items())))
    return out


def checked_answers() -> tuple[int, int]:
    """Answers checked by the run (generated cases and the suite's own calls) and how many were 429.

    Requests that checks send on their own (without a token, with a wrong
    method) are left out: the rate limit never sees most of them.
    """
    total = sum(sum(t.statuses.values()) for t in TALLIES.values())
    return total, sum(t.statuses[429] for t in TALLIES.values())


def as_json() -> dict[str, Any]:
    """The tallies as JSON data, by operation."""
    return {
        label: {
            "cases": t.cases,
            "checks": sorted(t.checks),
            "checkRuns": t.check_runs,
            "failures": t.failures,
            "statuses": {str(code): n for code, n in sorted(t.statuses.items())},
        }
        for label, t in sorted(TALLIES.items())
    }


def snapshot() -> dict[str, Any]:
    """The tallies and links as plain data (a worker of a parallel run sends them home)."""
    return {
        "tallies": {
            label: [t.cases, sorted(t.checks), t.check_runs, t.failures, list(t.statuses.items())]
            for label, t in TALLIES.items()
        },
        "links": list(LINKS.items()),
    }


def merge(counts: dict[str, Any]) -> None:
    """Add a worker's :func:`snapshot` to this process's tallies."""
    for label, (cases, checks, check_runs, failures, statuses) in counts["tallies"].items():
        tally = TALLIES[label]
        tally.cases += cases
        tally.checks.update(checks)
        tally.check_runs += check_runs
        tally.failures += failures
        tally.statuses.update(dict(statuses))
    LINKS.update(dict(counts["links"]))


def write(path: Path, data: dict[str, Any]) -> None:
    """Save a summary as JSON (atomically: a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n")
    partial.replace(path)
