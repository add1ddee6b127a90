"""Per-operation counts of the schemathesis run: cases, checks applied, failures.

Filled by an ``after_validate`` hook on each loaded schema, printed by the
conftest at the end of the pytest run and written to reports/.
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
    """Count one validated case, its response status and the results of its checks."""
    tally = TALLIES[label]
    tally.cases += 1
    tally.statuses[status] += 1
    for result in results:
        tally.checks.add(result.name)
        tally.check_runs += 1
        if result.failure is not None:
            tally.failures += 1


def lines() -> list[str]:
    """The terminal summary table."""
    if not TALLIES:
        return []
    width = max(len(label) for label in TALLIES)
    out = [
        f"{'operation':<{width}}  {'cases':>6}  {'checks':>6}  {'check runs':>10}  "
        f"{'failures':>8}  statuses"
    ]
    for label in sorted(TALLIES):
        t = TALLIES[label]
        statuses = " ".join(f"{code}x{n}" for code, n in sorted(t.statuses.items()))
        out.append(
            f"{label:<{width}}  {t.cases:>6}  {len(t.checks):>6}  {t.check_runs:>10}  "
            f"{t.failures:>8}  {statuses}"
        )
    every = sorted(set().union(*(t.checks for t in TALLIES.values())))
    out.append("checks applied: " + ", ".join(every))
    if LINKS:
        out.append("links followed: " + ", ".join(f"{k} x{n}" for k, n in sorted(LINKS.items())))
    return out


def write(path: Path) -> None:
    """Save the tallies as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        label: {
            "cases": t.cases,
            "checks": sorted(t.checks),
            "checkRuns": t.check_runs,
            "failures": t.failures,
            "statuses": {str(code): n for code, n in sorted(t.statuses.items())},
        }
        for label, t in sorted(TALLIES.items())
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
