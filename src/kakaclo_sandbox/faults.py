"""Planted defects, so the contract suite can prove that it fails when a server is wrong.

Only reachable from Python, through ``create_app(faults=...)``: there is no
command-line option, environment variable or HTTP route for them, so no
normal run of the sandbox can switch one on. With no fault the middleware is
not even installed. The request- and response-level ones live in
:mod:`kakaclo_sandbox.faulty_server`; the rule ones in :mod:`kakaclo_sandbox.refunds`.
"""

from __future__ import annotations

from enum import StrEnum


class Fault(StrEnum):
    """One defect the sandbox can be built with."""

    ACCEPT_MISSING_TOKEN = "accept_missing_token"  # a request without a token acts as merchant A
    REFUND_SHIPPED_ORDERS = "refund_shipped_orders"  # the shipping state is not checked
    OVER_REFUND = "over_refund"  # quantities are not checked against what is left
    OMIT_REFUND_STATUS = "omit_refund_status"  # Query Refund leaves out a required field
    TEXT_PLAIN = "text_plain"  # JSON bodies are labelled text/plain
    ACCEPT_INVALID_BODY = "accept_invalid_body"  # a schema-breaking Refund Order answers 200


RULE_FAULTS = frozenset({Fault.REFUND_SHIPPED_ORDERS, Fault.OVER_REFUND})
