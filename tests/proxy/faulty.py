"""A sandbox that breaks one rule of the spec on demand: one fault per proxy check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from kakaclo_client.models import RefundStatus
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SETTLED = {RefundStatus.REFUND_SUCCESSFULLY.value, RefundStatus.REFUND_FAILED.value}


def _data(body: dict[str, Any]) -> Any:
    return body.get("data")


def _break(fault: str, status: int, headers: dict[str, str], body: Any) -> tuple[int, Any]:
    data = _data(body) if isinstance(body, dict) else None
    if fault == "status":
        return 418, body
    if fault == "content-type":
        headers["content-type"] = "text/plain; charset=utf-8"
    elif fault == "envelope" and status == 200:
        body["code"] = 10001
    elif isinstance(data, dict) and status == 200:
        if fault == "response-schema":
            del data["total"]
        elif fault == "paging":
            data["pageNumber"] += 1
        elif fault == "refund-listed":
            data["list"], data["total"] = [], 0
        for entry in data.get("list") or []:
            if fault == "amounts" and "refundableAmount" in entry:
                entry["refundableAmount"] = round(entry["refundableAmount"] + 1, 4)
            if fault == "settled-final" and entry.get("refundStatus") in SETTLED:
                entry["refundStatus"] = RefundStatus.PENDING_REVIEW.value
    return status, body


@dataclass
class Faulty:
    """Wraps a sandbox app; set ``fault`` to the name of a check to break it from now on.

    Request faults rewrite what the sandbox sees, so it accepts what the client sent
    wrong (``parameters``: an invalid pageSize is dropped; ``request-body``: the body
    becomes ``{}``, a whole-order refund). Answer faults rewrite the sandbox's answer.
    """

    app: ASGIApp
    fault: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.fault
        if scope["type"] != "http" or fault is None or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        if fault == "parameters":
            kept = [(k, v) for k, v in parse_qsl(scope["query_string"].decode()) if k != "pageSize"]
            scope = {**scope, "query_string": urlencode(kept).encode()}
        inner_receive: Receive = receive
        if fault == "request-body":

            async def receive_empty() -> Message:
                while (await receive()).get("more_body"):
                    pass
                return {"type": "http.request", "body": b"{}", "more_body": False}

            inner_receive = receive_empty
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, inner_receive, keep)
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        status, body = _break(fault, start["status"], headers, json.loads(b"".join(chunks)))
        raw = json.dumps(body).encode()
        headers["content-length"] = str(len(raw))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": raw})
