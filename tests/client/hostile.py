"""Malicious HTTP servers for the bounds tests: raw asyncio in a thread, one behaviour each."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType

Behaviour = Callable[[asyncio.StreamWriter], Awaitable[None]]
JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


async def drip_body(writer: asyncio.StreamWriter) -> None:
    """A head, then one byte of the body every 0.5 s, for ever."""
    writer.write(JSON_HEAD + b"Content-Length: 1000000\r\n\r\n")
    while True:
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.5)


async def drip_head(writer: asyncio.StreamWriter) -> None:
    """The head itself, one byte every 0.5 s, for ever."""
    writer.write(JSON_HEAD + b"X-Slow: ")
    while True:
        writer.write(b"a")
        await writer.drain()
        await asyncio.sleep(0.5)


async def endless_chunks(writer: asyncio.StreamWriter) -> None:
    """A chunked JSON body that never ends."""
    writer.write(JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"[" + b"1," * 32_000 + b"\r\n"
    line = f"{len(chunk) - 2:x}\r\n".encode() + chunk
    while True:
        writer.write(line)
        await writer.drain()


def fixed(body: bytes) -> Behaviour:
    """A 200 JSON answer with this body."""

    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(JSON_HEAD + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await writer.drain()

    return answer


def by_path(answers: dict[bytes, Behaviour], server: list[HostileServer]) -> Behaviour:
    """The answer whose path fragment the last request's target holds (first match)."""

    async def answer(writer: asyncio.StreamWriter) -> None:
        target = server[0].heads[-1].split(b" ", 2)[1]
        for fragment, behaviour in answers.items():
            if fragment in target:
                await behaviour(writer)
                return
        await fixed(b'{"code": 40400, "message": "not found", "data": null}')(writer)

    return answer


DEEP = fixed(b'{"code": 10000, "message": "ok", "data": ' + b"[" * 100_000 + b"}")


class HostileServer:
    """Serves ``behaviour`` to every request on 127.0.0.1, in a thread, until the block ends."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0
        self._server: asyncio.Server | None = None
        self.heads: list[bytes] = []

    @property
    def base_url(self) -> str:
        """The API base URL (ends in /openapi)."""
        return f"http://127.0.0.1:{self.port}/openapi"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(
                ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError
            ):
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")  # the requests have no body
                    self.heads.append(head)
                    await self.behaviour(writer)
        finally:
            writer.close()

    def __enter__(self) -> HostileServer:
        self.thread.start()
        start = asyncio.start_server(self._handle, "127.0.0.1", 0)
        self._server = asyncio.run_coroutine_threadsafe(start, self.loop).result(timeout=15)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
