"""Which server the contract suite checks, chosen by environment variables.

- Default: an in-process ``kakaclo_sandbox.create_app(...)``, a fresh one per
  test module, rate limit off, its clock moved through the control surface.
- ``KAKACLO_BASE_URL`` (the server root as in the spec's ``servers``, e.g.
  ``http://127.0.0.1:8080/openapi``) and ``KAKACLO_TOKEN``: any running server.
  Against a server that is not a sandbox the suite is read-only unless
  ``KAKACLO_ALLOW_REFUNDS=1``, and then refunds only ``KAKACLO_REFUND_ORDER_IDS``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import httpx
import pytest

BASE_URL_ENV = "KAKACLO_BASE_URL"
TOKEN_ENV = "KAKACLO_TOKEN"
ALLOW_REFUNDS_ENV = "KAKACLO_ALLOW_REFUNDS"
REFUND_ORDER_IDS_ENV = "KAKACLO_REFUND_ORDER_IDS"
# Test-only: the meta-test plants one defect in the in-process sandbox through this.
PLANTED_FAULT_ENV = "KAKACLO_PLANTED_FAULT"
IN_PROCESS_BASE = "http://sandbox.local/openapi"
# The in-process sandbox's clock stands still unless the suite advances it, so
# what the server answers never depends on how fast the machine is.
FROZEN_AT = 1_795_132_800.0  # 2026-11-20T00:00:00Z
DEMO_TOKEN = "demo-token"
OTHER_MERCHANT_TOKEN = "demo-token-2"


class PoliteTransport(httpx.BaseTransport):
    """Over the network, wait out a 429 as its ``Retry-After`` says (a few times at most).

    A real server's rate limit is real time; the suite's own requests should
    not fail on it. (The in-process sandbox runs without a rate limit.)
    """

    ATTEMPTS = 4
    LONGEST_WAIT = 10.0

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, and resend after the server's Retry-After while it answers 429."""
        for _ in range(self.ATTEMPTS - 1):
            response = self.inner.handle_request(request)
            if response.status_code != 429:
                return response
            response.read()
            response.close()
            wait = float(response.headers.get("Retry-After", "1") or 1)
            time.sleep(min(wait, self.LONGEST_WAIT))
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


@dataclass
class Target:
    """One server under test and what the suite may do to it."""

    base_url: str
    token: str
    app: Any = None  # an ASGI app for in-process runs, else None
    allow_refunds_env: bool = False
    refund_order_ids: tuple[str, ...] = field(default_factory=tuple)

    @property
    def in_process(self) -> bool:
        """True for the embedded sandbox."""
        return self.app is not None

    @property
    def root(self) -> str:
        """The server root (base URL without the trailing ``/openapi``)."""
        return self.base_url.removesuffix("/").removesuffix("/openapi")

    def http(self) -> httpx.Client:
        """A raw httpx client for the server root (in-process or over the network)."""
        if self.in_process:
            from starlette.testclient import TestClient

            return TestClient(self.app, base_url=self.root, raise_server_exceptions=False)
        return httpx.Client(
            base_url=self.root, timeout=30.0, transport=PoliteTransport(httpx.HTTPTransport())
        )

    @cached_property
    def sandbox_info(self) -> dict[str, Any] | None:
        """``GET /_sandbox/info`` data when the server is a sandbox, else None."""
        if self.in_process:
            return {"sandbox": True}
        try:
            with self.http() as http:
                answer = http.get("/_sandbox/info")
        except httpx.TransportError:
            return None
        if answer.status_code != 200:
            return None
        data: dict[str, Any] = answer.json().get("data") or {}
        return data if data.get("sandbox") else None

    @property
    def is_sandbox(self) -> bool:
        """True when the control surface answers."""
        return self.sandbox_info is not None

    @property
    def may_refund(self) -> bool:
        """Whether the suite may create refunds on this server."""
        return self.is_sandbox or self.allow_refunds_env

    def refundable_ids(self, default: tuple[str, ...]) -> tuple[str, ...]:
        """Order ids refunds may be sent to (sandbox: ``default``)."""
        return default if self.is_sandbox else self.refund_order_ids

    def require_sandbox(self, why: str) -> None:
        """Skip the calling test, with a reason, when the server is not a sandbox."""
        if not self.is_sandbox:
            pytest.skip(f"needs a kakaclo sandbox (GET /_sandbox/info did not answer 200): {why}")

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock (pending refunds settle without waiting)."""
        with self.http() as http:
            answer = http.post("/_sandbox/clock/advance", params={"seconds": seconds})
            answer.raise_for_status()

    def reset(self) -> None:
        """Back to the demo data (sandbox only)."""
        with self.http() as http:
            http.post("/_sandbox/reset").raise_for_status()


def select_target(**sandbox_settings: Any) -> Target:
    """The target of this run: the environment's server, else a fresh in-process sandbox."""
    base_url = os.environ.get(BASE_URL_ENV, "").strip()
    if base_url:
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise pytest.UsageError(f"{BASE_URL_ENV} is set but {TOKEN_ENV} is not")
        ids = tuple(
            i.strip() for i in os.environ.get(REFUND_ORDER_IDS_ENV, "").split(",") if i.strip()
        )
        return Target(
            base_url=base_url.rstrip("/"),
            token=token,
            allow_refunds_env=os.environ.get(ALLOW_REFUNDS_ENV) == "1",
            refund_order_ids=ids,
        )
    from kakaclo_sandbox import create_app

    settings: dict[str, Any] = {"db": ":memory:", "rate_limit": None, **sandbox_settings}
    planted = [f for f in os.environ.get(PLANTED_FAULT_ENV, "").split(",") if f]
    app = create_app(faults=planted, clock=lambda: FROZEN_AT, **settings)
    return Target(base_url=IN_PROCESS_BASE, token=DEMO_TOKEN, app=app)
