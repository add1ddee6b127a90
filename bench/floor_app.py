"""The floor: a bare Starlette app on the same server stack, answering fixed bodies.

No validation, no state, no auth: what uvicorn[standard] + Starlette cost by
themselves, so the sandbox's figures can be read as a fraction of it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

REFUND = b'{"code":10000,"message":"ok","data":"1560897343230000001"}'
QUERY = (
    b'{"code":10000,"message":"success","data":{"total":1,"pageNumber":1,"pageSize":10,'
    b'"list":[{"refundNo":"1560897343230000001","refundStatus":"pending_review","id":"10001"}]}}'
)

# A real page of orders as the vendor answers it (one order with its lines).
ORDERS = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "fixtures"
    / "vendor"
    / "query-order-waiting-to-ship.json"
).read_bytes()


async def refund(request: Request) -> Response:
    """Read the body (as a real handler must), answer a fixed refund number."""
    await request.body()
    return Response(REFUND, media_type="application/json")


async def query(request: Request) -> Response:
    """Answer a fixed page of refunds."""
    return Response(QUERY, media_type="application/json")


async def orders(request: Request) -> Response:
    """Answer a fixed page of orders."""
    return Response(ORDERS, media_type="application/json")


app = Starlette(
    routes=[
        Route("/openapi/openapi/v2/order/orders/{id}/refund", refund, methods=["POST"]),
        Route("/openapi/openapi/v2/order/orders/refund/{id}", query, methods=["GET"]),
        Route("/openapi/openapi/v2/order/orders", orders, methods=["GET"]),
    ]
)
