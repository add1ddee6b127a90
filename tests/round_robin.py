"""A test transport: one address in front of several sandbox processes, each request
handed to the next in turn (issue 32's model run; not a product feature: any load
balancer does this in front of a team sandbox)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence

import httpx
from starlette.types import Message, Receive, Scope, Send

# hop-by-hop headers, which a proxy does not pass on
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "content-length"}


class RoundRobin:
    """An ASGI app that sends each HTTP request to the next of ``roots`` in turn."""

    def __init__(self, roots: Sequence[str]) -> None:
        self._next = itertools.cycle(roots)
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = httpx.AsyncClient(timeout=60)
                await send({"type": "lifespan.startup.complete"})
            message = await receive()
            if self._client is not None:
                await self._client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert scope["type"] == "http" and self._client is not None

        async def body() -> AsyncIterator[bytes]:
            # streamed as it comes: a slow body holds its request open at the backend
            while True:
                part: Message = await receive()
                yield part.get("body", b"")
                if not part.get("more_body"):
                    return

        url = next(self._next) + scope["raw_path"].decode()
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode()
        headers = [
            (name.decode(), value.decode())
            for name, value in scope["headers"]
            if name.decode().lower() not in HOP and name.decode().lower() != "host"
        ]
        answer = await self._client.request(scope["method"], url, headers=headers, content=body())
        await send(
            {
                "type": "http.response.start",
                "status": answer.status_code,
                "headers": [
                    (name.encode(), value.encode())
                    for name, value in answer.headers.items()
                    # the body is passed on decoded
                    if name.lower() not in HOP and name.lower() != "content-encoding"
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.content})
