"""A proxy that breaks one rule of the spec in a conforming server's traffic: one mutant.

Test code for ``make mutation-http``: it sits between ``kakaclo contract`` and a
sandbox, forwards every request (httpx), and applies one :class:`Mutant` of
:mod:`contract_tests.mutants` to the API's requests and answers. A mutant is
made of small pure functions of a :class:`Request` and an :class:`Answer`, so
each one reads as the rule it breaks. Paths outside the API (``/_sandbox/...``,
the root) pass through unchanged.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from contract_tests.servers import ThreadServer

API_PREFIX = "/openapi/openapi/v2/order/orders"
QUERY_ORDER = "Query Order"
QUERY_REFUND = "Query Refund"
REFUND_ORDER = "Refund Order"
ANY_OPERATION = "every operation"
# Hop-by-hop headers, and the ones httpx or uvicorn set again for the new message.
_REQUEST_DROPPED = {"host", "content-length", "transfer-encoding", "connection", "accept-encoding"}
_ANSWER_DROPPED = {
    "content-length",
    "transfer-encoding",
    "connection",
    "content-encoding",
    "date",
    "server",
}
UPSTREAM_TIMEOUT = 30.0


def operation_of(method: str, path: str) -> str | None:
    """The spec operation a request names (by method and path), or None."""
    if not path.startswith(API_PREFIX):
        return None
    rest = path[len(API_PREFIX) :]
    if method == "GET" and rest == "":
        return QUERY_ORDER
    if method == "GET" and rest.startswith("/refund/") and rest.count("/") == 2:
        return QUERY_REFUND
    if method == "POST" and rest.endswith("/refund") and rest.count("/") == 2:
        return REFUND_ORDER
    return None


@dataclass(frozen=True)
class Request:
    """One request as the client sent it (``seen``: earlier identical reads by this proxy)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    seen: int = 0
    raw_target: str = ""  # the path and query exactly as sent, forwarded when nothing changed

    @property
    def operation(self) -> str | None:
        """The spec operation this request is for, or None."""
        return operation_of(self.method, self.path)

    @property
    def order_id(self) -> str | None:
        """The order id of a Query Refund or Refund Order path."""
        if self.operation == QUERY_REFUND:
            return self.path.rsplit("/", 1)[1]
        if self.operation == REFUND_ORDER:
            return self.path.rsplit("/", 2)[1]
        return None

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or None."""
        return next((value for key, value in self.query if key == name), None)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower case), or None."""
        return next((value for key, value in self.headers if key == name), None)

    @property
    def token(self) -> str | None:
        """The bearer token, or None."""
        value = self.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None

    def with_query(self, query: list[tuple[str, str]]) -> Request:
        """The same request with another query."""
        encoded = urlencode(query)
        return replace(
            self, query=tuple(query), raw_target=self.path + ("?" + encoded if encoded else "")
        )

    def without_params(self, *names: str) -> Request:
        """The same request without the query parameters ``names``."""
        return self.with_query([(k, v) for k, v in self.query if k not in names])

    def with_token(self, token: str) -> Request:
        """The same request with another bearer token."""
        headers = [(k, v) for k, v in self.headers if k != "authorization"]
        return replace(self, headers=(*headers, ("authorization", f"Bearer {token}")))

    def with_body(self, body: bytes) -> Request:
        """The same request with another body."""
        return replace(self, body=body)


@dataclass(frozen=True)
class Answer:
    """One answer of the upstream server."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def content_type(self) -> str:
        """The content type header, or ''."""
        return next((v for k, v in self.headers if k == "content-type"), "")

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def with_json(self, value: Any) -> Answer:
        """The same answer with another JSON body."""
        return replace(self, body=json.dumps(value).encode())

    def with_status(self, status: int) -> Answer:
        """The same answer with another status."""
        return replace(self, status=status)

    def with_header(self, name: str, value: str) -> Answer:
        """The same answer with header ``name`` set to ``value``."""
        kept = [(k, v) for k, v in self.headers if k != name]
        return replace(self, headers=(*kept, (name, value)))


def _same_request(request: Request) -> Request:
    return request


def _same_answer(request: Request, answer: Answer) -> Answer:
    return answer


def _no_retry(request: Request, answer: Answer) -> Request | None:
    return None


@dataclass(frozen=True)
class Mutant:
    """One way to break one rule of the spec.

    - ``request``: what the server is sent instead of the client's request;
    - ``retry``: given the client's request and the answer, a request whose answer
      the client gets instead (or None), e.g. the same read with another token;
    - ``answer``: the answer the client gets, from its own request and the server's answer;
    - ``wrap``: instead of the three, an ASGI wrapper around the forwarding app
      (the faults of ``tests/proxy/faulty.py``).

    ``unobservable`` gives the reason when a read-only run cannot see the mutant; it
    must then fail refund mode.
    """

    name: str
    operation: str
    rule: str
    answer: Callable[[Request, Answer], Answer] = _same_answer
    request: Callable[[Request], Request] = _same_request
    retry: Callable[[Request, Answer], Request | None] = _no_retry
    wrap: Callable[[ASGIApp], ASGIApp] | None = None
    unobservable: str | None = None


@dataclass
class MutatingProxy:
    """An ASGI app: forwards to ``upstream`` (a server root), applying ``mutant`` (None: none).

    ``changed`` counts the exchanges the mutant changed (a mutant that never changes
    anything proves nothing); it stays None for a ``wrap`` mutant, which the proxy
    cannot see into.
    """

    upstream: str
    mutant: Mutant | None = None
    changed: int | None = 0
    exchanges: int = 0
    _client: httpx.AsyncClient | None = field(default=None, repr=False)
    _seen: Counter[tuple[str, str, str | None]] = field(default_factory=Counter, repr=False)
    _wrapped: ASGIApp | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.mutant is not None and self.mutant.wrap is not None:
            self._wrapped = self.mutant.wrap(self._forward_app)
            self.changed = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if self.mutant is None or not path.startswith(API_PREFIX):
            await self._forward_app(scope, receive, send)
        elif self._wrapped is not None:
            self.exchanges += 1
            await self._wrapped(scope, receive, send)
        else:
            await self._mutate(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = httpx.AsyncClient(
                    base_url=self.upstream, timeout=UPSTREAM_TIMEOUT, follow_redirects=False
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read(self, scope: Scope, receive: Receive) -> Request:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw_query = scope["query_string"].decode("latin-1")
        raw_path = scope.get("raw_path") or scope["path"].encode()
        target = raw_path.decode("latin-1") + ("?" + raw_query if raw_query else "")
        headers = tuple(
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]
        )
        request = Request(
            method=scope["method"],
            path=scope["path"],
            query=tuple(parse_qsl(raw_query, keep_blank_values=True)),
            headers=headers,
            body=b"".join(chunks),
            raw_target=target,
        )
        key = (request.method, target, request.token)
        seen = self._seen[key]
        self._seen[key] += 1
        return replace(request, seen=seen)

    async def _upstream(self, request: Request) -> Answer:
        assert self._client is not None, "the proxy serves only with its lifespan (uvicorn's)"
        headers = [(k, v) for k, v in request.headers if k not in _REQUEST_DROPPED]
        url = httpx.URL(self.upstream).copy_with(raw_path=request.raw_target.encode("latin-1"))
        try:
            response = await self._client.request(
                request.method, url, headers=headers, content=request.body
            )
        except httpx.HTTPError as error:
            body = json.dumps({"proxy": f"upstream failed: {error!r}"}).encode()
            return Answer(502, (("content-type", "application/json"),), body)
        kept = tuple(
            (k.lower(), v)
            for k, v in response.headers.multi_items()
            if k.lower() not in _ANSWER_DROPPED
        )
        return Answer(response.status_code, kept, response.content)

    @staticmethod
    async def _send(send: Send, answer: Answer) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def _forward_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._send(send, await self._upstream(await self._read(scope, receive)))

    async def _mutate(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.mutant is not None
        self.exchanges += 1
        request = await self._read(scope, receive)
        sent = self.mutant.request(request)
        answer = await self._upstream(sent)
        again = self.mutant.retry(request, answer)
        if again is not None:
            answer, sent = await self._upstream(again), again
        mutated = self.mutant.answer(request, answer)
        if (sent != request or mutated != answer) and self.changed is not None:
            self.changed += 1
        await self._send(send, mutated)


def ProxyServer(proxy: MutatingProxy) -> ThreadServer:
    """A :class:`MutatingProxy` served by uvicorn on a free port, in a thread of this process,
    with the lifespan on: the proxy's httpx client opens and closes in the server's own loop."""
    return ThreadServer(proxy, lifespan="on")
