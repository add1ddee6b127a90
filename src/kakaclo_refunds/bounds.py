"""Bounds on every answer a client of this project reads: a deadline, a size cap, a depth limit.

httpx's timeout bounds each read, so a server that sends one byte every
half second keeps a request open for ever. :class:`BoundedTransport` gives
each answer one deadline, from the connection to its last byte
(:data:`ANSWER_DEADLINE`, 30 s by default), caps its body at
:data:`MAX_ANSWER_BYTES` (8 MiB, far above a page of 250 orders, a few hundred
KB) and refuses JSON nested deeper than :data:`MAX_DEPTH` levels (the vendor's
own Query Order answers nest 8, with fulfillments). A gzip or deflate body is
decoded here, and the cap holds for what it decodes to as well, so a small
compressed body cannot hide a huge or deeply nested one (httpx would decode it
later without a bound). Each broken bound is an ``httpx`` error with a
one-line message: :class:`AnswerDeadlineExceeded` (a timeout),
:class:`AnswerTooLarge`, :class:`AnswerTooDeep` and :class:`AnswerUndecodable`
(transport errors).

The deadline reaches every read and write of the socket through the
connection pool's network backend (:class:`DeadlineBackend`), so it holds
for a drip in the head as well as in the body, and for reused connections.
:class:`AsyncBoundedTransport` does the same for the async client, with a
cancel scope around the whole answer.
"""

from __future__ import annotations

import contextvars
import re
import time
import typing
import zlib
from typing import Any

import anyio
import httpcore
import httpx

ANSWER_DEADLINE = 30.0  # seconds for one whole answer, connect to last byte
MAX_ANSWER_BYTES = 8 * 1024 * 1024  # the body as sent, and as decoded from gzip or deflate
MAX_DEPTH = 64  # JSON arrays and objects nested in one another

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "kakaclo_answer_deadline", default=None
)
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class AnswerDeadlineExceeded(httpx.ReadTimeout):
    """The whole answer did not arrive within the deadline."""


class AnswerTooLarge(httpx.TransportError):
    """The answer's body is larger than the cap."""


class AnswerTooDeep(httpx.TransportError):
    """The answer is JSON nested deeper than the limit."""


class AnswerUndecodable(httpx.TransportError):
    """The answer's ``Content-Encoding`` is one this client cannot decode, or its body is
    not what it says."""


# zlib's window bits: gzip or zlib header, detected; and a raw deflate stream
_GZIP_OR_ZLIB = zlib.MAX_WBITS | 32
_RAW_DEFLATE = -zlib.MAX_WBITS


def json_depth_exceeds(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether ``body``, read as JSON, nests arrays and objects deeper than ``limit``.

    Brackets inside strings do not count. Bodies that are not JSON are scanned
    the same way (cheaply): a parser then refuses them anyway.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def _remaining(timeout: float | None) -> float | None:
    """``timeout`` shortened to what is left of the answer's deadline; raise when none is."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the answer deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read and write ends by the answer's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read, within the deadline."""
        return self._stream.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write, within the deadline."""
        self._stream.write(buffer, _remaining(timeout))

    def close(self) -> None:
        """Close the stream."""
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """TLS over this stream, still within the deadline."""
        return DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, _remaining(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        """As the wrapped stream's."""
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with :class:`DeadlineStream` connections."""

    def __init__(self, backend: httpcore.NetworkBackend | None = None) -> None:
        self._backend = backend or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect, within the deadline."""
        stream = self._backend.connect_tcp(
            host, port, _remaining(timeout), local_address, socket_options
        )
        return DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect, within the deadline."""
        stream = self._backend.connect_unix_socket(path, _remaining(timeout), socket_options)
        return DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        """As the wrapped backend's."""
        self._backend.sleep(seconds)


def network_transport(**kwargs: Any) -> httpx.HTTPTransport:
    """``httpx.HTTPTransport`` whose connections keep the answer deadline (see the module)."""
    transport = httpx.HTTPTransport(**kwargs)
    pool = transport._pool  # httpx 0.28 / httpcore 1.0: the pool makes each connection from this
    pool._network_backend = DeadlineBackend(pool._network_backend)
    return transport


def _refused(body: bytes, max_depth: int, request: httpx.Request) -> None:
    if json_depth_exceeds(body, max_depth):
        raise AnswerTooDeep(
            f"the answer nests JSON deeper than {max_depth} levels", request=request
        )


def _too_large(max_bytes: int, request: httpx.Request) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"the answer is larger than {max_bytes // 2**20} MiB (the size cap)", request=request
    )


def _inflate(body: bytes, wbits: int, max_bytes: int, request: httpx.Request) -> bytes:
    inflater = zlib.decompressobj(wbits)
    decoded = inflater.decompress(body, max_bytes + 1)  # never more than the cap, plus one
    if len(decoded) <= max_bytes:
        decoded += inflater.flush()
    if len(decoded) > max_bytes:
        raise AnswerTooLarge(
            f"the answer decodes to more than {max_bytes // 2**20} MiB (the size cap)",
            request=request,
        )
    return decoded


def _decoded(body: bytes, coding: str, max_bytes: int, request: httpx.Request) -> bytes:
    try:
        if coding in ("gzip", "x-gzip"):
            return _inflate(body, _GZIP_OR_ZLIB, max_bytes, request)
        try:  # deflate: zlib-wrapped as the standard says, or raw as some servers send it
            return _inflate(body, zlib.MAX_WBITS, max_bytes, request)
        except zlib.error:
            return _inflate(body, _RAW_DEFLATE, max_bytes, request)
    except zlib.error as error:
        raise AnswerUndecodable(
            f"the answer's body is not valid {coding} ({error})", request=request
        ) from None


def _whole(
    response: httpx.Response, body: bytes, request: httpx.Request, max_bytes: int, max_depth: int
) -> httpx.Response:
    """The answer with its whole body, decoded within the cap and checked for depth."""
    headers = response.headers
    codings = [
        coding.strip().lower()
        for coding in headers.get("content-encoding", "").split(",")
        if coding.strip() and coding.strip().lower() != "identity"
    ]
    if codings:
        for coding in reversed(codings):  # the last applied is undone first
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise AnswerUndecodable(
                    f"the answer's Content-Encoding {coding!r} is not gzip or deflate, the "
                    "ones this client asks for",
                    request=request,
                )
            body = _decoded(body, coding, max_bytes, request)
        headers = httpx.Headers(
            [(k, v) for k, v in headers.multi_items() if k.lower() != "content-encoding"]
        )
        headers["content-length"] = str(len(body))
    _refused(body, max_depth, request)
    return httpx.Response(
        response.status_code,
        headers=headers,
        stream=httpx.ByteStream(body),
        extensions=response.extensions,
        request=request,
    )


class AsyncBoundedTransport(httpx.AsyncBaseTransport):
    """:class:`BoundedTransport` for ``httpx.AsyncClient``: the deadline is a cancel scope."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        deadline: float = ANSWER_DEADLINE,
        max_bytes: int = MAX_ANSWER_BYTES,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send, and read the answer whole, or raise the bound it broke."""
        try:
            with anyio.fail_after(self.deadline):
                response = await self.inner.handle_async_request(request)
                try:
                    chunks: list[bytes] = []
                    size = 0
                    stream = response.stream
                    assert isinstance(stream, httpx.AsyncByteStream)
                    async for chunk in stream:
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise _too_large(self.max_bytes, request)
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except TimeoutError as error:
            raise AnswerDeadlineExceeded(
                f"no whole answer within {self.deadline:g} s (the answer deadline)",
                request=request,
            ) from error
        body = b"".join(chunks)
        return _whole(response, body, request, self.max_bytes, self.max_depth)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()


class BoundedTransport(httpx.BaseTransport):
    """Reads each answer whole within the deadline, the size cap and the depth limit."""

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        deadline: float = ANSWER_DEADLINE,
        max_bytes: int = MAX_ANSWER_BYTES,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.inner = inner or network_transport()
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, and read the answer whole, or raise the bound it broke."""
        deadline = time.monotonic() + self.deadline
        token = _DEADLINE.set(deadline)
        try:
            response = self.inner.handle_request(request)
            try:
                body = self._body(response, request)
            finally:
                response.close()
        except httpx.TimeoutException as error:
            if time.monotonic() >= deadline:
                raise AnswerDeadlineExceeded(
                    f"no whole answer within {self.deadline:g} s (the answer deadline)",
                    request=request,
                ) from error
            raise
        finally:
            _DEADLINE.reset(token)
        return _whole(response, body, request, self.max_bytes, self.max_depth)

    def _body(self, response: httpx.Response, request: httpx.Request) -> bytes:
        chunks: list[bytes] = []
        size = 0
        stream = response.stream
        assert isinstance(stream, httpx.SyncByteStream)
        for chunk in stream:
            size += len(chunk)
            if size > self.max_bytes:
                raise _too_large(self.max_bytes, request)
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()
