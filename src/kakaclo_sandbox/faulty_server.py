"""ASGI middleware planting the request- and response-level defects of :class:`Fault`."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kakaclo_sandbox.faults import Fault


class FaultyServer:
    """ASGI middleware planting the request- and response-level defects."""

    def __init__(self, app: ASGIApp, faults: frozenset[Fault]) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Alter the request or the response as the planted defects say."""
        if scope["type"] != "http" or not scope["path"].startswith("/openapi/openapi/"):
            await self.app(scope, receive, send)
            return
        headers = list(scope["headers"])
        if Fault.ACCEPT_MISSING_TOKEN in self.faults and not any(
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
        if Fault.ACCEPT_INVALID_BODY in self.faults and path.endswith("/refund") and status == 400:
            status, data = 200, {"code": 10000, "message": "ok", "data": "1560897343230999999"}
        if Fault.OMIT_REFUND_STATUS in self.faults and "/refund/" in path and status == 200:
            for entry in data["data"]["list"]:
                entry.pop("refundStatus", None)
        if Fault.TEXT_PLAIN in self.faults:
            content_type = b"text/plain; charset=utf-8"
        return status, json.dumps(data).encode(), content_type
