"""Fixtures of the client-layer tests: sandboxes whose clock the client's sleeps move.

Every test that takes ``client``, ``make_client`` or ``client_class`` runs twice:
against ``KakacloClient`` and against ``AsyncKakacloClient`` driven through
:class:`SyncView`, with the same transport and the same sabotage.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import pytest
from starlette.testclient import TestClient

from kakaclo_refunds import AsyncKakacloClient, KakacloClient, RetryPolicy
from kakaclo_sandbox import create_app

FLAVOURS = ("sync", "async")

BASE = "http://sandbox.local/openapi"


@dataclass
class Time:
    """One clock for the sandbox and the client: sleeping moves it, nothing waits."""

    now: float = 1_795_000_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Forward(httpx.BaseTransport):
    """A transport that hands requests to a TestClient, with optional sabotage."""

    def __init__(
        self,
        client: TestClient,
        sabotage: Callable[[httpx.Request, Callable[[], httpx.Response]], httpx.Response]
        | None = None,
    ) -> None:
        self.client = client
        self.sabotage = sabotage
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)

        def forward() -> httpx.Response:
            response = self.client.send(request)
            response.read()
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                content=response.content,
                request=request,
            )

        if self.sabotage is not None:
            return self.sabotage(request, forward)
        return forward()


class AsyncBridge(httpx.AsyncBaseTransport):
    """The async client's transport: the same :class:`Forward`, sabotage and record."""

    def __init__(self, forward: Forward) -> None:
        self.forward = forward

    @property
    def sent(self) -> list[httpx.Request]:
        return self.forward.sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = self.forward.handle_request(request)  # TestClient runs the app in a thread
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=response.content,
            request=request,
        )


async def _next(items: AsyncIterator[Any]) -> Any:
    return await anext(items)


class SyncView:
    """An ``AsyncKakacloClient`` seen as a ``KakacloClient``: each call runs to completion
    on one event loop, async iterators are walked one item per call, attributes pass."""

    def __init__(self, client: AsyncKakacloClient) -> None:
        self._client = client
        self._runner = asyncio.Runner()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if inspect.iscoroutinefunction(attribute):
            return lambda *args, **kwargs: self._runner.run(attribute(*args, **kwargs))
        if name == "iter_orders":
            return lambda *args, **kwargs: self._walk(attribute(*args, **kwargs))
        return attribute

    def _walk(self, items: AsyncIterator[Any]) -> Iterator[Any]:
        while True:
            try:
                yield self._runner.run(_next(items))
            except StopAsyncIteration:
                return

    def close(self) -> None:
        self._runner.run(self._client.close())
        self._runner.close()

    def __enter__(self) -> SyncView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(params=FLAVOURS)
def flavour(request: pytest.FixtureRequest) -> str:
    """Which client a test runs against."""
    return str(request.param)


@pytest.fixture
def client_class(flavour: str) -> Callable[..., KakacloClient]:
    """``KakacloClient``, or ``AsyncKakacloClient`` seen through :class:`SyncView`."""
    if flavour == "sync":
        return KakacloClient

    def build(*args: Any, **kwargs: Any) -> KakacloClient:
        return cast(KakacloClient, SyncView(AsyncKakacloClient(*args, **kwargs)))

    return build


@pytest.fixture
def clock() -> Time:
    return Time()


@pytest.fixture
def make_app(clock: Time) -> Callable[..., Any]:
    def build(**settings: Any) -> Any:
        return create_app(**{"db": ":memory:", "rate_limit": None, "clock": clock, **settings})

    return build


@pytest.fixture
def app(make_app: Callable[..., Any]) -> Any:
    return make_app()


@pytest.fixture
def make_client(clock: Time, flavour: str) -> Iterator[Callable[..., KakacloClient]]:
    made: list[KakacloClient] = []

    def build(
        app: Any, sabotage: Any = None, token: str = "demo-token", **options: Any
    ) -> KakacloClient:
        transport = Forward(TestClient(app, base_url="http://sandbox.local"), sabotage)
        options.setdefault("retry", RetryPolicy(jitter=lambda: 1.0))
        options.update(token=token, base_url=BASE, clock=clock)
        client: KakacloClient
        if flavour == "sync":
            client = KakacloClient(transport=transport, sleep=clock.sleep, **options)
        else:
            bridge = AsyncBridge(transport)
            twin = AsyncKakacloClient(transport=bridge, sleep=clock.async_sleep, **options)
            client = cast(KakacloClient, SyncView(twin))
        client.transport = transport  # type: ignore[attr-defined]
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(app: Any, make_client: Callable[..., KakacloClient]) -> KakacloClient:
    return make_client(app)
