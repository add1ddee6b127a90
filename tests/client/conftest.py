"""Fixtures of the client-layer tests: sandboxes whose clock the client's sleeps move."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from kakaclo_refunds import KakacloClient, RetryPolicy
from kakaclo_sandbox import create_app

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
def make_client(clock: Time) -> Iterator[Callable[..., KakacloClient]]:
    made: list[KakacloClient] = []

    def build(
        app: Any, sabotage: Any = None, token: str = "demo-token", **options: Any
    ) -> KakacloClient:
        transport = Forward(TestClient(app, base_url="http://sandbox.local"), sabotage)
        options.setdefault("retry", RetryPolicy(jitter=lambda: 1.0))
        client = KakacloClient(
            token=token,
            base_url=BASE,
            transport=transport,
            sleep=clock.sleep,
            clock=clock,
            **options,
        )
        client.transport = transport  # type: ignore[attr-defined]
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(app: Any, make_client: Callable[..., KakacloClient]) -> KakacloClient:
    return make_client(app)
