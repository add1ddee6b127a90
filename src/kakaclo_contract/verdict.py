"""The outcome of a contract run, as an exit code and its reasons.

| exit | outcome | meaning |
|---|---|---|
| 0 | ``passed`` | every check passed, enough answers reached the server |
| 1 | ``violations`` | the server (or the suite's view of it) breaks the contract |
| 2 | ``could-not-run`` | unreachable, not the API, token rejected, bad settings, |
|   |   | throttled, too few answers |
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kakaclo_client import spec_facts

from kakaclo_contract import spec_coverage, summary
from kakaclo_contract.settings import MIN_READ_ANSWERS, RunSettings
from kakaclo_contract.spec_check import label_of

EXIT_PASSED, EXIT_VIOLATIONS, EXIT_CANNOT_RUN = 0, 1, 2
OUTCOMES = {EXIT_PASSED: "passed", EXIT_VIOLATIONS: "violations", EXIT_CANNOT_RUN: "could-not-run"}
READ_OPERATIONS = tuple(
    label_of(operation.operation_id)
    for operation in (spec_facts.QUERY_ORDERS, spec_facts.QUERY_REFUND)
)
# pytest's own exit statuses other than 0 and 1
PYTEST_TROUBLE = {
    2: "the run was interrupted",
    3: "the suite hit an internal error",
    4: "pytest was called wrongly",
    5: "no test was collected",
}


@dataclass(frozen=True)
class Verdict:
    """Exit code, outcome word and the reasons behind them."""

    code: int
    reasons: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """``passed``, ``violations`` or ``could-not-run``."""
        return OUTCOMES[self.code]


def gate_reasons(settings: RunSettings) -> list[str]:
    """Why a run whose tests passed still proves nothing (empty when it does)."""
    reasons = []
    total, throttled = summary.checked_answers()
    share = throttled / total if total else 0.0
    if share > settings.max_429_share:
        advice = (
            f"the run was paced at --rate {settings.rate} and backed off on every 429, so the "
            "server's limit is lower than that or another client is using most of this "
            "token's: give --rate the server's limit, or run while the token is idle"
            if settings.rate
            else "pace the run to the server's limit (--rate 120/2 is the vendor's) and fit the "
            "case budget to it (--max-examples)"
        )
        reasons.append(
            f"the checks did not reach the server: {throttled} of {total} checked answers "
            f"({share:.0%}) were 429, more than the {settings.max_429_share:.0%} allowed; " + advice
        )
    for label in READ_OPERATIONS:
        seen = summary.answered(label)
        if seen < MIN_READ_ANSWERS:
            reasons.append(
                f"only {seen} answers of {label} were checked; a run needs at least "
                f"{MIN_READ_ANSWERS} per read operation"
            )
    return reasons


def decide(pytest_status: int, settings: RunSettings, sandbox: bool = False) -> Verdict:
    """The verdict of a finished run from pytest's exit status and the run's figures.

    Against a sandbox, a run that never observed some documented answer of the
    spec proves too little: it fails with the missing pairs and codes.
    """
    if pytest_status == 1:
        return Verdict(EXIT_VIOLATIONS, ["contract violations: see the failed tests above"])
    if pytest_status != 0:
        reason = PYTEST_TROUBLE.get(pytest_status, f"pytest exited {pytest_status}")
        return Verdict(EXIT_CANNOT_RUN, [reason])
    reasons = gate_reasons(settings)
    if reasons:
        return Verdict(EXIT_CANNOT_RUN, reasons)
    gap = spec_coverage.gate_reason() if sandbox else None
    if gap is not None:
        return Verdict(EXIT_VIOLATIONS, [gap])
    return Verdict(EXIT_PASSED, [])
