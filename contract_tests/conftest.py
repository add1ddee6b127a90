"""Contract suite plumbing: the terminal summary and the report files."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract_tests import summary

REPORT = Path(__file__).resolve().parent.parent / "reports" / "contract-summary.json"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    table = summary.lines()
    if table:
        terminalreporter.section("kakaclo contract summary (schemathesis)")
        for line in table:
            terminalreporter.write_line(line)
        summary.write(REPORT)
        terminalreporter.write_line(f"summary saved to {REPORT.relative_to(Path.cwd())}")
