"""The layer against a real sandbox process over HTTP (both clients, real transports)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from kakaclo_client.models import RefundStatus

from kakaclo_refunds import Item, KakacloClient
from tests.live import LiveSandbox

SKU = "FSZW08923_R_L_NUB"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LiveSandbox]:
    live = LiveSandbox(db=tmp_path / "http.db", args=["--settle-after", "0"]).start()
    yield live
    live.stop()


class DropFirstRefund(httpx.HTTPTransport):
    """Sends the first Refund Order, then drops the connection before the answer."""

    dropped = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and not self.dropped:
            self.dropped = True
            response.read()
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return response


class AsyncDropFirstRefund(httpx.AsyncHTTPTransport):
    """The async twin of :class:`DropFirstRefund`."""

    dropped = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if request.method == "POST" and not self.dropped:
            self.dropped = True
            await response.aread()
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return response


def test_vendor_flows_over_http(
    sandbox: LiveSandbox, client_class: Callable[..., KakacloClient]
) -> None:
    with client_class(token="demo-token", base_url=sandbox.base_url) as client:
        partial = client.refund_order(
            "10001", [Item("120001", SKU, 1, "CN"), Item("120002", SKU, 2, "US")], remark="test"
        )
        whole = client.refund_order("10001", remark="other reason")
        for number in (partial, whole):
            refund = client.wait_for_refund("10001", number, timeout=10)
            assert refund.refund_status == RefundStatus.REFUND_SUCCESSFULLY


def test_dropped_connection_after_commit_over_http(
    sandbox: LiveSandbox, client_class: Callable[..., KakacloClient], flavour: str
) -> None:
    transport = DropFirstRefund() if flavour == "sync" else AsyncDropFirstRefund()
    with client_class(token="demo-token", base_url=sandbox.base_url, transport=transport) as client:
        number = client.refund_order("10002")
        assert [r.refund_no for r in client.list_refunds("10002")] == [number]
