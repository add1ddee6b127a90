"""The proxy's reports: findings as NDJSON while they happen, then JUnit XML and a summary.

``findings.ndjson`` gets one line per finding, flushed at once, so a crash
loses none. At shutdown ``junit.xml`` has one test case per operation and
check (failed when the check found an error) and ``summary.json`` the same
tallies, which :func:`summary_table` prints.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal
from xml.etree import ElementTree

from kakaclo_proxy.findings import CHECKS, Finding

FailOn = Literal["error", "warning", "never"]
FAIL_ON: tuple[FailOn, ...] = ("error", "warning", "never")
OUTSIDE = "-"  # the operation column of exchanges outside the spec
CONTROL = "control surface"
MAX_JUNIT_MESSAGES = 20
# The JUnit file names at most MAX_JUNIT_MESSAGES per case; keeping more in memory would
# only grow it on a long run (the NDJSON file has every finding).
MAX_KEPT_FINDINGS = 4096
MAX_OUTSIDE_KEPT = 256  # distinct requests outside the spec named in summary.json
OTHERS = "(others)"


@dataclass
class Tally:
    """Per (operation, check): exchanges that passed, errors and warnings."""

    # (operation, the checks one exchange passed) -> exchanges: one count per exchange
    passed_together: Counter[tuple[str, tuple[str, ...]]] = field(default_factory=Counter)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    warnings: Counter[tuple[str, str]] = field(default_factory=Counter)
    exchanges: Counter[str] = field(default_factory=Counter)  # operation -> exchanges
    outside: Counter[str] = field(default_factory=Counter)  # "METHOD path -> status" -> count

    @property
    def passed(self) -> Counter[tuple[str, str]]:
        """(operation, check) -> exchanges that passed it."""
        counts: Counter[tuple[str, str]] = Counter()
        for (operation, checks), exchanges in self.passed_together.items():
            for check in checks:
                counts[(operation, check)] += exchanges
        return counts

    def rows(self) -> list[tuple[str, str, int, int, int]]:
        """``(operation, check, passed, errors, warnings)`` for every pair seen."""
        passed = self.passed
        keys = set(passed) | set(self.errors) | set(self.warnings)
        return [
            (
                op,
                check,
                passed[(op, check)],
                self.errors[(op, check)],
                self.warnings[(op, check)],
            )
            for op, check in sorted(keys, key=lambda k: (k[0], list(CHECKS).index(k[1])))
        ]


class Reports:
    """Findings and tallies of one proxy run (or one replay), written under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.findings_path = directory / "findings.ndjson"
        self._ndjson: IO[str] = self.findings_path.open("w", encoding="utf-8")
        self.tally = Tally()
        self.findings: list[Finding] = []  # kept for JUnit (bounded per test case there)
        self.started = time.time()

    def exchange(self, operation: str | None, passed: list[str], control: bool = False) -> None:
        """Count one exchange and the checks it passed."""
        name = CONTROL if control else (operation or OUTSIDE)
        self.tally.exchanges[name] += 1
        self.tally.passed_together[(name, tuple(passed))] += 1

    def outside(self, method: str, path: str, status: int) -> None:
        """Count a request to a path or method outside the spec (forwarded, never blocked)."""
        key = f"{method} {path} -> {status}"
        if key in self.tally.outside or len(self.tally.outside) < MAX_OUTSIDE_KEPT:
            self.tally.outside[key] += 1
        else:
            self.tally.outside[OTHERS] += 1

    def add(self, finding: Finding) -> None:
        """Write one finding now (one NDJSON line, flushed) and count it."""
        self._ndjson.write(json.dumps(finding.as_json(), ensure_ascii=False) + "\n")
        self._ndjson.flush()
        key = (finding.operation, finding.check)
        (self.tally.errors if finding.severity == "error" else self.tally.warnings)[key] += 1
        if len(self.findings) < MAX_KEPT_FINDINGS:
            self.findings.append(finding)

    def counts(self) -> tuple[int, int]:
        """(errors, warnings) so far."""
        return sum(self.tally.errors.values()), sum(self.tally.warnings.values())

    def failed(self, fail_on: FailOn) -> bool:
        """Whether the run fails under ``--fail-on``."""
        errors, warnings = self.counts()
        if fail_on == "never":
            return False
        return errors > 0 or (fail_on == "warning" and warnings > 0)

    def close(self, fail_on: FailOn) -> None:
        """Write the JUnit XML and the JSON summary (atomically) and close the NDJSON."""
        self._ndjson.close()
        _write_atomically(self.directory / "junit.xml", self._junit())
        summary = {
            "exchanges": dict(self.tally.exchanges),
            "errors": self.counts()[0],
            "warnings": self.counts()[1],
            "failOn": fail_on,
            "outsideTheSpec": dict(self.tally.outside.most_common()),
            "passed": not self.failed(fail_on),
            "checks": [
                {"operation": op, "check": check, "passed": p, "errors": e, "warnings": w}
                for op, check, p, e, w in self.tally.rows()
            ],
        }
        _write_atomically(self.directory / "summary.json", json.dumps(summary, indent=2) + "\n")

    def _junit(self) -> str:
        suites = ElementTree.Element("testsuites", name="kakaclo proxy")
        by_case: dict[tuple[str, str], list[Finding]] = {}
        for finding in self.findings:
            by_case.setdefault((finding.operation, finding.check), []).append(finding)
        operations: dict[str, list[tuple[str, int, int, int]]] = {}
        for op, check, passed, errors, warnings in self.tally.rows():
            operations.setdefault(op, []).append((check, passed, errors, warnings))
        for op, rows in operations.items():
            failures = sum(1 for _, _, errors, _ in rows if errors)
            suite = ElementTree.SubElement(
                suites,
                "testsuite",
                name=op,
                tests=str(len(rows)),
                failures=str(failures),
                errors="0",
                skipped="0",
                time=f"{time.time() - self.started:.3f}",
            )
            for check, passed, errors, warnings in rows:
                case = ElementTree.SubElement(suite, "testcase", classname=op, name=check)
                shown = by_case.get((op, check), [])[:MAX_JUNIT_MESSAGES]
                text = "\n".join(f.line() for f in shown)
                if errors:
                    failure = ElementTree.SubElement(
                        case,
                        "failure",
                        message=f"{errors} error(s), {warnings} warning(s) in "
                        f"{passed + errors + warnings} exchange(s): {CHECKS[check]}",
                    )
                    failure.text = text
                elif warnings:
                    ElementTree.SubElement(case, "system-out").text = text
        ElementTree.indent(suites)
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            + ElementTree.tostring(suites, encoding="unicode")
            + "\n"
        )


def summary_table(reports: Reports) -> str:
    """The per-operation, per-check table printed at shutdown."""
    rows = reports.tally.rows()
    errors, warnings = reports.counts()
    exchanges = sum(reports.tally.exchanges.values())
    lines = [f"{exchanges} exchange(s), {errors} error(s), {warnings} warning(s)"]
    if rows:
        width = max(len(op) for op, *_ in rows)
        check_width = max(len(check) for _, check, *_ in rows)
        lines.append(f"{'operation':<{width}}  {'check':<{check_width}}  passed  errors  warnings")
        lines += [
            f"{op:<{width}}  {check:<{check_width}}  {passed:>6}  {err:>6}  {warn:>8}"
            for op, check, passed, err, warn in rows
        ]
    outside = sum(reports.tally.outside.values())
    if outside:
        lines.append(
            f"outside the spec: {outside} exchange(s) forwarded "
            f"({len(reports.tally.outside)} distinct; outsideTheSpec in summary.json)"
        )
    control = reports.tally.exchanges.get(CONTROL)
    if control:
        lines.append(f"{CONTROL}: {control} exchange(s) forwarded, not checked")
    return "\n".join(lines)


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
