"""The model's rules checked across exchanges: what one answer says about later ones.

The rules are those of the reference model (``kakaclo_contract.model``): its
exact amounts (``e4``), the statuses a refund ends in, and the paging the spec
defines. The proxy sees only the traffic that passes through it, so a rule
that depends on the history of an order is an error only when the proxy saw
every refund of that order being created; otherwise (refunds made by other
clients, or before the proxy started) it is a warning.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kakaclo_client import spec_facts

from kakaclo_contract.model import FAILED, SUCCEEDED, e4
from kakaclo_proxy.exchange import Exchange
from kakaclo_proxy.findings import Finding, Severity

SETTLED = frozenset({str(SUCCEEDED), str(FAILED)})
REFUND_ORDER = spec_facts.REFUND_ORDER.operation_id
QUERY_REFUND = spec_facts.QUERY_REFUND.operation_id
QUERY_ORDERS = spec_facts.QUERY_ORDERS.operation_id
PAGED = (QUERY_REFUND, QUERY_ORDERS)
MAX_ORDERS = 50_000  # order views kept (least recently seen forgotten first)

Report = Callable[[str, str, Severity], None]


@dataclass
class OrderView:
    """What the proxy knows of one order of one merchant."""

    created: dict[str, float] = field(default_factory=dict)  # refund number -> answered at
    settled: dict[str, str] = field(default_factory=dict)  # refund number -> final status
    unseen: set[str] = field(default_factory=set)  # listed, but not created through the proxy

    def complete(self) -> bool:
        """True when every refund listed for the order was created through the proxy."""
        return not self.unseen


@dataclass
class Observations:
    """The cross-exchange state: one view per (merchant, order)."""

    orders: OrderedDict[tuple[str, str], OrderView] = field(default_factory=OrderedDict)
    max_orders: int = MAX_ORDERS

    def reset(self) -> None:
        """Forget everything (the sandbox was reset through the proxy)."""
        self.orders.clear()

    def view(self, merchant: str, order_id: str) -> OrderView:
        """The view of one order, made on first sight.

        The least recently seen order is forgotten beyond ``max_orders``, so memory
        stays flat on a long run; seen again, its refunds count as not seen created
        (its findings become warnings)."""
        key = (merchant, order_id)
        view = self.orders.get(key)
        if view is None:
            view = self.orders[key] = OrderView()
            if len(self.orders) > self.max_orders:
                self.orders.popitem(last=False)
        else:
            self.orders.move_to_end(key)
        return view

    def observe(
        self, exchange: Exchange, operation: str, parameters: dict[str, Any], body: Any
    ) -> tuple[list[Finding], list[str]]:
        """Check one answered exchange against what came before, then remember it.

        Returns the findings and the names of the checks that applied.
        """
        findings: list[Finding] = []
        evaluated: list[str] = []

        def report(check: str, message: str, severity: Severity) -> None:
            findings.append(Finding.about(exchange, operation, check, message, severity))

        if exchange.status != 200 or not isinstance(body, dict):
            return findings, evaluated
        data = body.get("data")
        if operation in PAGED and isinstance(data, dict) and parameters:
            evaluated.append("paging")
            check_paging(parameters, data, report)
        if operation == REFUND_ORDER and isinstance(data, (str, int)) and "id" in parameters:
            view = self.view(exchange.merchant, str(parameters["id"]))
            view.created.setdefault(str(data), exchange.started + exchange.duration)
        elif operation == QUERY_REFUND and isinstance(data, dict) and "id" in parameters:
            evaluated += ["refund-listed", "settled-final"]
            view = self.view(exchange.merchant, str(parameters["id"]))
            self._check_refunds(view, exchange, data, report)
        elif operation == QUERY_ORDERS and isinstance(data, dict):
            evaluated.append("amounts")
            for order in data.get("list") or []:
                if isinstance(order, dict):
                    check_amounts(order, report)
        return findings, evaluated

    def _check_refunds(
        self, view: OrderView, exchange: Exchange, data: dict[str, Any], report: Report
    ) -> None:
        listed = {
            str(refund.get("refundNo")): str(refund.get("refundStatus"))
            for refund in data.get("list") or []
            if isinstance(refund, dict)
        }
        view.unseen.update(number for number in listed if number not in view.created)
        severity: Severity = "error" if view.complete() else "warning"
        hedge = (
            ""
            if view.complete()
            else (
                " (the order has refunds this proxy did not see created: other clients or "
                "an earlier run changed it)"
            )
        )
        for number, status in listed.items():
            final = view.settled.get(number)
            if final is not None and status != final:
                report(
                    "settled-final", f"refund {number} was {final}, now {status}{hedge}", severity
                )
            elif status in SETTLED:
                view.settled[number] = status
        whole = data.get("pageNumber") == 1 and data.get("total") == len(listed)
        if whole:
            missing = sorted(
                number
                for number, answered in view.created.items()
                if answered <= exchange.started and number not in listed
            )
            if missing:
                report(
                    "refund-listed",
                    f"refund {', '.join(missing)} answered 200 earlier is not listed{hedge}",
                    severity,
                )


def check_paging(parameters: dict[str, Any], data: dict[str, Any], report: Report) -> None:
    """A page echoes the ``pageNumber`` and ``pageSize`` asked for (or their defaults)."""
    for name in ("pageNumber", "pageSize"):
        asked = parameters.get(name)
        if asked is not None and data.get(name) != asked:
            report("paging", f"asked for {name} {asked}, the page says {data.get(name)!r}", "error")


def check_amounts(order: dict[str, Any], report: Report) -> None:
    """``refundedAmount`` + ``refundableAmount`` = ``finalAmount``, exactly (ten-thousandths)."""
    amounts = [order.get(name) for name in ("refundedAmount", "refundableAmount", "finalAmount")]
    if not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in amounts):
        return  # the vendor leaves them out or null on some forms: nothing to add up
    refunded, refundable, final = amounts
    if e4(refunded) + e4(refundable) != e4(final):
        report(
            "amounts",
            f"order {order.get('id')}: refundedAmount {refunded} + "
            f"refundableAmount {refundable} != finalAmount {final}",
            "error",
        )
