"""Runs every check on an exchange and hands the results on (reports, recording, terminal).

The proxy calls it once an answer has been sent; ``kakaclo contract --replay``
calls it for each entry of a recording. Both see the same findings.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from kakaclo_proxy.checks import ExchangeChecker
from kakaclo_proxy.exchange import Exchange
from kakaclo_proxy.findings import Finding
from kakaclo_proxy.har import HarRecorder
from kakaclo_proxy.redaction import Redactor
from kakaclo_proxy.reports import Reports
from kakaclo_proxy.rules import Observations

log = logging.getLogger("kakaclo_proxy")
RESET_PATH = "/_sandbox/reset"


class Inspector:
    """Checks exchanges one after another, in the order they completed."""

    def __init__(
        self,
        checker: ExchangeChecker,
        reports: Reports,
        recorder: HarRecorder | None = None,
        on_finding: Callable[[Finding], None] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.checker = checker
        self.redactor = redactor or Redactor()
        self.observations = Observations()
        self.reports = reports
        self.recorder = recorder
        self.on_finding = on_finding
        self.count = 0

    def inspect(self, exchange: Exchange) -> list[Finding]:
        """Check one exchange, record it, and report what it broke."""
        exchange.index = self.count
        self.count += 1
        if self.recorder is not None:
            self.recorder.record(exchange)
        verdict = self.checker.check(exchange)
        findings = list(verdict.findings)
        passed = list(verdict.passed)
        if verdict.control and exchange.path == RESET_PATH and exchange.status == 200:
            self.observations.reset()
        elif verdict.operation is not None:
            crossed, evaluated = self.observations.observe(
                exchange, verdict.operation, verdict.parameters, verdict.body
            )
            findings += crossed
            failed = {finding.check for finding in crossed}
            passed += [check for check in evaluated if check not in failed]
        self.reports.exchange(verdict.operation, passed, control=verdict.control)
        if verdict.outside:
            path = self.redactor.scrub(exchange.path)
            self.reports.outside(exchange.method, path, exchange.status)
        if findings:
            self.redactor.learn(exchange)
        for finding in map(self.redact, findings):
            self.reports.add(finding)
            if self.on_finding is not None:
                self.on_finding(finding)
        return findings

    def redact(self, finding: Finding) -> Finding:
        """A finding as it may be written: its target and message without secrets."""
        return dataclasses.replace(
            finding,
            target=self.redactor.target(finding.target),
            message=self.redactor.scrub(finding.message),
        )
