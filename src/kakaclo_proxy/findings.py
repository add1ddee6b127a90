"""What the checks report: one finding per broken rule of one exchange (or of several)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from kakaclo_proxy.exchange import Exchange

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

# Every check, by name: what it asks of an exchange (the summary and JUnit list them all).
CHECKS: dict[str, str] = {
    "operation": "the request goes to an operation of the spec (other paths are forwarded)",
    "parameters": "the upstream refuses a request whose parameters break the spec",
    "request-body": "the upstream refuses a request whose body breaks the spec",
    "status": "the status is documented for the operation",
    "content-type": "the answer is application/json",
    "response-schema": "the body and the required headers conform to the response's schema",
    "envelope": "a 200 carries code 10000, an error never does",
    "refund-listed": "a refund number answered 200 appears in a later Query Refund of its order",
    "settled-final": "a settled refund never changes status",
    "amounts": "refundedAmount + refundableAmount = finalAmount",
    "paging": "a page echoes the pageNumber and pageSize asked for",
    "upstream": "the upstream answers, whole and within the caps (else a 502 or a cut answer)",
}
# Checks that look at more than one exchange: a warning when the proxy may not have seen
# everything (refunds of the order that other clients made).
CROSS_EXCHANGE = frozenset({"refund-listed", "settled-final"})


@dataclass(frozen=True)
class Finding:
    """One broken rule: which check, how bad, where, and what the exchange showed."""

    check: str
    severity: Severity
    operation: str  # operationId, or "-" outside the spec
    message: str
    exchange: int  # the index of the exchange (in the recording, when there is one)
    method: str
    target: str
    status: int
    time: float

    @classmethod
    def about(
        cls, exchange: Exchange, operation: str, check: str, message: str, severity: Severity
    ) -> Finding:
        """A finding of ``check`` about one exchange (its place, request and status)."""
        return cls(
            check=check,
            severity=severity,
            operation=operation,
            message=message,
            exchange=exchange.index,
            method=exchange.method,
            target=exchange.target,
            status=exchange.status,
            time=exchange.started,
        )

    def as_json(self) -> dict[str, Any]:
        """The finding as one NDJSON object."""
        return asdict(self)

    def line(self) -> str:
        """One line for a terminal."""
        return (
            f"{self.severity.upper()} {self.check}: {self.method} {self.target} -> "
            f"{self.status}: {self.message}"
        )
