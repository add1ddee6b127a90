"""The three operations of the vendor's page, one handler each.

Each handler is named after its ``operationId`` in snake case
(``refundOrder`` -> ``refund_order``); the app routes the spec's paths to them
and passes the operation id in.

Every handler: authenticate (401) and rate-limit (429), validate the request
against openapi.yaml (400/413), hand it to its use case
(:mod:`kakaclo_sandbox.service`: the rules, 404/409, and storage) and render
the answer in the vendor's envelope. Nothing is written unless the answer is 200.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, NamedTuple

import orjson
from kakaclo_client.models import ErrorCode
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from kakaclo_sandbox.clock import parse_instant
from kakaclo_sandbox.domain.errors import OrderNotFound, RuleViolation
from kakaclo_sandbox.domain.refunds import RefundRequest, RequestedItem
from kakaclo_sandbox.web import render
from kakaclo_sandbox.web.responses import JsonBytes, OrjsonResponse
from kakaclo_sandbox.web.state import GLANCED, Sandbox
from kakaclo_spec.errors import ApiError
from kakaclo_spec.validation import MAX_BODY_BYTES, RequestParameters, too_large


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox serving this request."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def read_limited_body(request: Request, headers: Mapping[str, str]) -> bytes:
    """The request body, refusing (413) more than MAX_BODY_BYTES without reading it all.

    Read from the ASGI messages themselves: Starlette's ``stream()`` adds a
    generator and its bookkeeping to every refund for nothing used here.
    """
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _refund_request(body: dict[str, Any] | None, default_reason: str) -> RefundRequest:
    body = body or {}
    items = body.get("orderItems")
    return RefundRequest(
        items=None
        if items is None
        else tuple(
            RequestedItem(
                item_id=item["itemId"],
                sku_code=item["skuCode"],
                quantity=int(item["quantity"]),  # 2.0 is a valid JSON Schema integer
                country_code=item["countryCode"],
            )
            for item in items
        ),
        reason=body.get("refundReason", default_reason),
        remark=body.get("remark"),
    )


def conflict(violation: RuleViolation) -> ApiError:
    """A rule violation as its 409 answer."""
    return ApiError(409, violation.code, violation.message)


def not_found(missing: OrderNotFound) -> ApiError:
    """A missing order as its 404 answer."""
    return ApiError(404, ErrorCode.ORDER_NOT_FOUND, str(missing))


class Call(NamedTuple):
    """How every operation begins: the sandbox, the caller's merchant (401, 429; what
    other processes changed taken in, and the write version read then), the request's
    values and the operation's parameters validated (400)."""

    sandbox: Sandbox
    merchant: str
    seen: int | None  # the write version read within this request (None: alone)
    values: RequestParameters
    params: dict[str, Any]


async def _caller(request: Request, operation_id: str) -> Call:
    """The operation's :class:`Call`."""
    sandbox = sandbox_of(request)
    values = RequestParameters.of(request.scope)
    merchant, seen = await sandbox.caller_seen(
        values.headers.get("authorization"), request.scope.get(GLANCED)
    )
    params = sandbox.validators[operation_id].read_parameters(values)
    return Call(sandbox, merchant, seen, values, params)


async def refund_order(request: Request, operation_id: str) -> OrjsonResponse:
    """Refund Order: ``POST /openapi/v2/order/orders/{id}/refund``."""
    sandbox, merchant, _, values, params = await _caller(request, operation_id)
    validator = sandbox.validators[operation_id]

    async def read() -> RefundRequest:
        # read by the use case, inside the Idempotency-Key's hold (a 40912 reads no body)
        validator.check_content_type(values.headers.get("content-type"))
        body = validator.read_body(await read_limited_body(request, values.headers))
        return _refund_request(body, sandbox.default_reason)

    try:
        refund_no = await sandbox.refunds.refund(
            merchant, params["id"], params.get("Idempotency-Key"), read
        )
    except RuleViolation as violation:
        raise conflict(violation) from None
    except OrderNotFound as missing:
        raise not_found(missing) from None
    sandbox.changes.changed(merchant)  # that merchant's console feeds show the new refund
    body = sandbox.checked(operation_id, 200, render.envelope(refund_no, "ok"))
    return OrjsonResponse(body)


def _page_window(params: dict[str, Any]) -> tuple[int, int]:
    # both have a default in the spec, which read_parameters fills in
    return int(params["pageNumber"]), int(params["pageSize"])


def _read_key(operation_id: str, merchant: str, params: dict[str, Any]) -> Hashable:
    """What a read's answer depends on besides the database: the validated parameters
    (defaults filled in, numbers as numbers) of one merchant."""
    return (operation_id, merchant, tuple(sorted(params.items())))


def _answer(
    sandbox: Sandbox, operation_id: str, key: Hashable, version: int, data: Any
) -> Response:
    """A read's answer, kept for the next same read while the database holds still."""
    body = orjson.dumps(sandbox.checked(operation_id, 200, render.envelope(data)))
    if sandbox.answers is not None:
        sandbox.answers.put(key, version, body)
    return JsonBytes(body)


def _kept(sandbox: Sandbox, key: Hashable, version: int) -> bytes | None:
    return None if sandbox.answers is None else sandbox.answers.get(key, version)


async def query_refund(request: Request, operation_id: str) -> Response:
    """Query Refund: ``GET /openapi/v2/order/orders/refund/{id}`` (id = order id)."""
    sandbox, merchant, seen, _, params = await _caller(request, operation_id)
    number, size = _page_window(params)
    key = _read_key(operation_id, merchant, params)
    version = await sandbox.queries.settled_version(seen)
    kept = _kept(sandbox, key, version)
    if kept is not None:
        return JsonBytes(kept)
    try:
        total, refunds = await sandbox.queries.refunds(
            merchant, params["id"], limit=size, offset=(number - 1) * size
        )
    except OrderNotFound as missing:
        raise not_found(missing) from None
    data = render.page(total, number, size, [render.refund(stored) for stored in refunds])
    return _answer(sandbox, operation_id, key, version, data)


def _range(params: dict[str, Any], start: str, end: str) -> tuple[float | None, float | None]:
    return (
        parse_instant(params[start]) if start in params else None,
        parse_instant(params[end]) if end in params else None,
    )


async def query_orders(request: Request, operation_id: str) -> Response:
    """Query Order: ``GET /openapi/v2/order/orders``."""
    sandbox, merchant, seen, _, params = await _caller(request, operation_id)
    number, size = _page_window(params)
    key = _read_key(operation_id, merchant, params)
    version = await sandbox.queries.settled_version(seen)
    kept = _kept(sandbox, key, version)
    if kept is not None:
        return JsonBytes(kept)
    total, stored = await sandbox.queries.orders(
        merchant,
        ids=params["ids"].split(",") if "ids" in params else None,
        created=_range(params, "createStartTime", "createEndTime"),
        modified=_range(params, "updateStartTime", "updateEndTime"),
        limit=size,
        offset=(number - 1) * size,
    )
    vendor = not sandbox.settings.clean
    orders = [render.order(order, vendor=vendor) for order in stored]
    data = render.page(total, number, size, orders, vendor_keys=vendor)
    return _answer(sandbox, operation_id, key, version, data)
