"""The console: a page for the demo merchant, and the live feed it reads.

``GET /console`` serves a page shipped in this package (``static/console.*``,
no CDN). It reads ``GET /_sandbox/events?token=...``, a feed of server-sent
events of the control surface: the merchant's orders with each line's
refundable pieces (none, with the reason, when the refund rules refuse the
order or every piece of a line is taken) and every refund with its status and
times, sent again
whenever one of them changes (a refund created or settled, a reset, a clock
move, a new order). It acts through the public API (Refund Order, with the
token) and the control surface (advance the clock, reset). It never polls the
rate-limited API, so it never eats into a user's bucket. ``--no-control``
turns the page and the feed off.
"""

from __future__ import annotations

import asyncio
import contextlib
from importlib import resources
from typing import Any

import orjson
from kakaclo_client.models import ErrorCode
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send

from kakaclo_sandbox.clock import iso
from kakaclo_sandbox.domain.errors import RuleViolation
from kakaclo_sandbox.domain.orders import Line, OrderState, StoredLine, StoredOrder
from kakaclo_sandbox.domain.refunds import RefundRules
from kakaclo_sandbox.web import render
from kakaclo_sandbox.web.feeds import KEEP_ALIVE, MAX_FEEDS, Feeds, FeedsFull, Reader, Subscriber
from kakaclo_sandbox.web.handlers import sandbox_of
from kakaclo_sandbox.web.responses import OrjsonResponse
from kakaclo_sandbox.web.state import Sandbox
from kakaclo_spec.errors import ApiError, error_body

MAX_ORDERS = 1000  # orders a console shows (the demo merchant has ten)
MAX_REFUNDS = 5000  # refunds a console shows, newest first
RETRY_MS = 1000  # how soon a browser reconnects a dropped feed
STATIC = resources.files("kakaclo_sandbox").joinpath("static")
ASSETS = {
    "console.js": "text/javascript",
    "console.css": "text/css",
}


def feed_state(sandbox: Sandbox, db: Reader | None, merchant: str) -> bytes:
    """A feed's ``event: state``, read through ``db`` (the feeds' worker thread's own
    reader; None: the store's). The feeds settle what is due before they compute."""
    return b"event: state\ndata: " + orjson.dumps(state(sandbox, db, merchant)) + b"\n\n"


def state(sandbox: Sandbox, db: Reader | None, merchant: str) -> dict[str, Any]:
    """What the console shows, read through ``db``: the clock, the orders (at most
    MAX_ORDERS) with their lines and refunds (at most MAX_REFUNDS)."""
    now = sandbox.now()
    stored, refunds = sandbox.console_read(db, merchant, MAX_ORDERS, MAX_REFUNDS)
    orders = []
    for order_stored in reversed(stored):  # oldest first: the demo's 10001 leads
        order = render.order(order_stored, vendor=False)
        refused = refusal(sandbox.rules, order_stored)
        order["notRefundable"] = refused
        for line, line_stored in zip(order["orderItems"], order_stored.lines, strict=True):
            line["refundable"] = 0 if refused else line_stored.product_num - line_stored.reserved
            line["notRefundable"] = refused or taken(line_stored)
        order["refunds"] = [
            {
                "refundNo": r.refund_no,
                "refundStatus": r.status,
                "remark": r.remark,
                "createdAt": iso(r.created_at),
                "settledAt": iso(r.settled_at) if r.settled_at is not None else None,
            }
            for r in refunds
            if r.order_id == order_stored.id
        ]
        orders.append(order)
    return {"now": iso(now), "settleAfter": sandbox.settings.settle_after, "orders": orders}


def refusal(rules: RefundRules, stored: StoredOrder) -> str | None:
    """Why the refund rules refuse every refund of this order now (their words), or None."""
    order = OrderState(
        id=stored.id,
        status=stored.status,
        financial_status=stored.financial_status,
        fulfillment_status=stored.fulfillment_status,
        lines=tuple(
            Line(
                id=line.id,
                item_id=line.item_id,
                sku_code=line.sku_code,
                country_code=line.country_code,
                product_num=line.product_num,
                reserved=line.reserved,
                key=line.key,
            )
            for line in stored.lines
        ),
        key=stored.key,
    )
    try:
        rules.check_refundable(order)
    except RuleViolation as refused:
        return refused.message.split(": ", 1)[-1]  # "financialStatus is waiting"
    return None


def taken(line: StoredLine) -> str | None:
    """Why no piece of a line is left to refund (refunded, or held by pending refunds)."""
    if line.product_num > line.reserved:
        return None
    pending = line.reserved - line.refunded
    if not pending:
        return "every piece is refunded"
    if not line.refunded:
        return "every piece is in a pending refund"
    return f"{line.refunded} refunded, {pending} in a pending refund"


async def events(request: Request) -> Response:
    """The live feed: an ``event: state`` now and after every change, until the client
    leaves, reads too slowly (web/feeds.py) or the server stops."""
    sandbox = sandbox_of(request)
    token = request.query_params.get("token", "")
    merchant = sandbox.merchant_of(token)
    if merchant is None:
        raise ApiError(401, ErrorCode.UNAUTHORIZED, "query parameter token: unknown token")
    return FeedResponse(sandbox.feeds, merchant)


class FeedResponse(Response):
    """Server-sent events of one merchant's feed, fed by :class:`Feeds`."""

    media_type = "text/event-stream"

    def __init__(self, feeds: Feeds, merchant: str) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]
        self.feeds = feeds
        self.merchant = merchant

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream until the client leaves, the feed is dropped or the server stops."""
        try:
            subscriber = self.feeds.subscribe(self.merchant)
        except FeedsFull:
            message = f"{MAX_FEEDS} console feeds are open; close one and retry"
            answer = OrjsonResponse(
                error_body(ErrorCode.SERVICE_UNAVAILABLE, message), 503, {"Retry-After": "5"}
            )
            await answer(scope, receive, send)
            return
        try:
            streaming = asyncio.create_task(self._stream(subscriber, send))
            ending = [
                asyncio.create_task(_disconnected(receive)),
                asyncio.create_task(subscriber.dropped.wait()),
            ]
            await asyncio.wait([streaming, *ending], return_when=asyncio.FIRST_COMPLETED)
            for task in (streaming, *ending):
                task.cancel()
            await asyncio.gather(streaming, *ending, return_exceptions=True)
            if self.feeds.closed and streaming.cancelled():
                # the server stops: end the answer properly (a dropped reader gets no more)
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self.feeds.unsubscribe(subscriber)

    async def _stream(self, subscriber: Subscriber, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send(_chunk(f"retry: {RETRY_MS}\n\n".encode()))
        while True:
            try:
                async with asyncio.timeout(KEEP_ALIVE):
                    payload = await subscriber.queue.get()
            except TimeoutError:
                payload = b": keep-alive\n\n"
            await send(_chunk(payload))


def _chunk(body: bytes) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": True}


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def console_page(request: Request) -> HTMLResponse:
    """The console's page."""
    return HTMLResponse(STATIC.joinpath("console.html").read_text(encoding="utf-8"))


async def console_asset(request: Request) -> Response:
    """The console's script and stylesheet, shipped in the package."""
    name = request.path_params["name"]
    if name not in ASSETS:
        raise ApiError(404, ErrorCode.UNKNOWN_PATH, f"no console asset {name!r}")
    return Response(STATIC.joinpath(name).read_text(encoding="utf-8"), media_type=ASSETS[name])
