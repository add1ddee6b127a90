"""Planted defects, so the contract suite can prove that it fails when a server is wrong.

They live here, with the suite's self-proof, and reach the sandbox only from
outside: the rule defects as :class:`RefundRules` subclasses passed to
``create_app(rules=...)``, the request and response defects as an ASGI
wrapper around the app. A child ``pytest`` gets one through ``KAKACLO_APP``
(``contract_tests.planted:app``) and ``KAKACLO_PLANTED_FAULT``.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kakaclo_sandbox import create_app
from kakaclo_sandbox.domain.orders import Line, OrderState
from kakaclo_sandbox.domain.refunds import RefundRules, RequestedItem

FAULT_ENV = "KAKACLO_PLANTED_FAULT"
APP = "contract_tests.planted:app"


class Fault(StrEnum):
    """One defect the sandbox can be built with."""

    ACCEPT_MISSING_TOKEN = "accept_missing_token"  # a request without a token acts as merchant A
    REFUND_SHIPPED_ORDERS = "refund_shipped_orders"  # the shipping state is not checked
    OVER_REFUND = "over_refund"  # quantities are not checked against what is left
    OMIT_REFUND_STATUS = "omit_refund_status"  # Query Refund leaves out a required field
    TEXT_PLAIN = "text_plain"  # JSON bodies are labelled text/plain
    ACCEPT_INVALID_BODY = "accept_invalid_body"  # a schema-breaking Refund Order answers 200


class ShippedOrdersRefundable(RefundRules):
    """Refunds any order, whatever its payment and shipping state."""

    def check_refundable(self, order: OrderState) -> None:
        """Check nothing."""


class NoQuantityCheck(RefundRules):
    """Takes any quantity, even more than is left of the line."""

    def check_quantity(self, index: int, item: RequestedItem, line: Line) -> None:
        """Check nothing."""


RULES: dict[Fault, type[RefundRules]] = {
    Fault.REFUND_SHIPPED_ORDERS: ShippedOrdersRefundable,
    Fault.OVER_REFUND: NoQuantityCheck,
}


def app(**options: Any) -> ASGIApp:
    """The sandbox with the defect ``KAKACLO_PLANTED_FAULT`` names (``create_app``'s keywords)."""
    fault = Fault(os.environ[FAULT_ENV])
    if fault in RULES:
        return create_app(rules=RULES[fault](), **options)
    return FaultyServer(create_app(**options), fault)


class FaultyServer:
    """ASGI wrapper planting one request- or response-level defect."""

    def __init__(self, app: ASGIApp, fault: Fault) -> None:
        self.app = app
        self.fault = fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Alter the request or the response as the planted defect says."""
        if scope["type"] != "http" or not scope["path"].startswith("/openapi/openapi/"):
            await self.app(scope, receive, send)
            return
        headers = list(scope["headers"])
        if self.fault is Fault.ACCEPT_MISSING_TOKEN and not any(
            name == b"authorization" for name, _ in headers
        ):
            headers.append((b"authorization", b"Bearer demo-token"))
            scope = {**scope, "headers": headers}
        path: str = scope["path"]
        start: Message | None = None

        async def altered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message  # held back until the body is known
                return
            if message["type"] == "http.response.body" and start is not None:
                status, body, content_type = self._alter(
                    path, start["status"], message.get("body", b"")
                )
                kept = [
                    (k, v)
                    for k, v in start["headers"]
                    if k not in {b"content-length", b"content-type"}
                ]
                kept += [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", content_type),
                ]
                await send({**start, "status": status, "headers": kept})
                await send({**message, "body": body})
                return
            await send(message)

        await self.app(scope, receive, altered)

    def _alter(self, path: str, status: int, body: bytes) -> tuple[int, bytes, bytes]:
        content_type = b"application/json"
        data = json.loads(body)
        if self.fault is Fault.ACCEPT_INVALID_BODY and path.endswith("/refund") and status == 400:
            status, data = 200, {"code": 10000, "message": "ok", "data": "1560897343230999999"}
        if self.fault is Fault.OMIT_REFUND_STATUS and "/refund/" in path and status == 200:
            for entry in data["data"]["list"]:
                entry.pop("refundStatus", None)
        if self.fault is Fault.TEXT_PLAIN:
            content_type = b"text/plain; charset=utf-8"
        return status, json.dumps(data).encode(), content_type
