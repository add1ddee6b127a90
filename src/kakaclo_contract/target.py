"""Which server the contract suite checks, and what it may do to it.

- No ``KAKACLO_BASE_URL``: an in-process ``kakaclo_sandbox.create_app(...)``,
  a fresh one per test module, rate limit off, its clock frozen and moved
  only through the control surface.
- ``KAKACLO_BASE_URL`` + ``KAKACLO_TOKEN``: any running server, checked once
  by the preflight. Against a server that is not a sandbox the suite is
  read-only unless refunds are allowed, and then it refunds one piece at a
  time of the named orders only, at most ``KAKACLO_MAX_REFUNDS`` times.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest
from kakaclo_client import spec_facts

from kakaclo_contract import preflight, spec_coverage
from kakaclo_contract.preflight import PreflightFailed, RefundableLine, TargetFacts
from kakaclo_contract.settings import APP_ENV, RunSettings, SettingsError
from kakaclo_contract.traffic import Traffic, paced_session
from kakaclo_refunds.bounds import AsyncBoundedTransport

IN_PROCESS_BASE = "http://sandbox.local/openapi"
# The in-process sandbox's clock stands still unless the suite advances it, so
# what the server answers never depends on how fast the machine is.
FROZEN_AT = 1_795_132_800.0  # 2026-11-20T00:00:00Z
DEMO_TOKEN = "demo-token"
OTHER_MERCHANT_TOKEN = "demo-token-2"


# every control POST says it, body-less ones too (the sandbox refuses others: CSRF)
JSON_TYPE = {"Content-Type": "application/json"}


class RefundCapReached(Exception):
    """The run already created as many refunds as it may."""


@dataclass
class Target:
    """One server under test and what the suite may do to it."""

    settings: RunSettings
    base_url: str
    token: str
    app: Any = None  # an ASGI app for in-process runs, else None
    facts: TargetFacts = field(default_factory=lambda: TargetFacts(sandbox_info=None))
    traffic: Traffic = field(default_factory=Traffic)
    _lines: Any = None
    # the lines the guarded refunds named so far, by order (refund mode on a real service)
    named: dict[str, set[RefundableLine]] = field(default_factory=dict)
    _session: Any = None
    _build: Any = None  # in-process: makes a new app (see renew)

    @property
    def in_process(self) -> bool:
        """True for the embedded sandbox."""
        return self.app is not None

    @property
    def root(self) -> str:
        """The server root (base URL without the trailing ``/openapi``)."""
        return api_root(self.base_url)[0]

    @property
    def api(self) -> str:
        """What goes between the root and a spec path: ``/openapi``, or nothing for a
        server (a mock) that serves the spec's paths at its root."""
        return api_root(self.base_url)[1]

    def path(self, spec_path: str) -> str:
        """A spec path as the suite's clients send it (relative to :attr:`root`)."""
        return self.api + spec_path

    @property
    def is_sandbox(self) -> bool:
        """True for a kakaclo sandbox (in-process, or one whose control surface answers)."""
        return self.in_process or self.facts.is_sandbox

    @property
    def sandbox_info(self) -> dict[str, Any] | None:
        """``GET /_sandbox/info`` data of a sandbox over HTTP."""
        return self.facts.sandbox_info

    @property
    def may_refund(self) -> bool:
        """Whether the suite may create refunds on this server."""
        return self.is_sandbox or self.settings.allow_refunds

    @property
    def mode(self) -> str:
        """One phrase for the run's header."""
        if self.in_process:
            return "in-process sandbox (refunds, control surface)"
        if self.is_sandbox:
            return "sandbox over HTTP (refunds, control surface; reset by the suite)"
        if self.settings.allow_refunds:
            return (
                f"refunds allowed on orders {', '.join(self.settings.refund_order_ids)}, "
                f"at most {self.settings.max_refunds}, one piece each"
            )
        return "read-only (no Refund Order is sent)"

    # -- HTTP ------------------------------------------------------------------

    def http(self) -> httpx.Client:
        """A raw httpx client for the server root (in-process or over the network)."""
        if self.in_process:
            from starlette.testclient import TestClient

            client: httpx.Client = TestClient(
                self.app, base_url=self.root, raise_server_exceptions=False
            )
        else:
            from kakaclo_contract.traffic import PacedTransport

            client = httpx.Client(
                base_url=self.root,
                timeout=self.settings.timeout,
                transport=PacedTransport(self.traffic),
            )
        client.event_hooks["response"].append(spec_coverage.observe_response)
        return client

    def async_http(self) -> httpx.AsyncClient:
        """An async httpx client for the server root (concurrent requests), counted alike."""
        # over the network, each answer whole within --timeout, 8 MiB, JSON 64 deep (bounds.py)
        transport: httpx.AsyncBaseTransport = (
            httpx.ASGITransport(app=self.app)
            if self.in_process
            else AsyncBoundedTransport(deadline=self.settings.timeout)
        )
        return httpx.AsyncClient(
            base_url=self.root,
            transport=transport,
            timeout=self.settings.timeout,
            event_hooks={"response": [spec_coverage.observe_response_async]},
        )

    def call_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for schemathesis's ``case.call``: the paced session and timeout."""
        if self.in_process:
            return {}
        if self._session is None:
            self._session = paced_session(self.traffic)
        return {"session": self._session, "timeout": self.settings.timeout}

    # -- refunds on a server that is not a sandbox ------------------------------

    @property
    def guarded(self) -> bool:
        """True when refunds go to a real service and must be kept small."""
        return not self.is_sandbox and self.settings.allow_refunds

    def next_piece(self, order_id: str) -> RefundableLine:
        """A line of ``order_id`` to refund one piece of (rotating), or RefundCapReached."""
        if self.traffic.refunds_created() >= self.settings.max_refunds:
            raise RefundCapReached(
                f"{self.settings.max_refunds} refunds created (--max-refunds); not sending more"
            )
        if self._lines is None:
            self._lines = {
                order: itertools.cycle(lines)
                for order, lines in self.facts.refundable_lines.items()
            }
        line: RefundableLine = next(self._lines[order_id])
        self.named.setdefault(order_id, set()).add(line)
        return line

    def lines_changed_unasked(self, order: dict[str, Any]) -> list[str]:
        """The lines of an order named with --order-id whose ``refundStatus`` changed since
        the preflight although no guarded refund named them (a refund that took more)."""
        before = self.facts.refund_orders.get(str(order.get("id")), {})
        was = {
            line.get("id"): line.get("refundStatus")
            for line in before.get("orderItems") or []
            if isinstance(line, dict)
        }
        named = {
            (n.item_id, n.sku_code, n.country_code)
            for n in self.named.get(str(order.get("id")), ())
        }
        changed = []
        for line in order.get("orderItems") or []:
            if not isinstance(line, dict) or line.get("id") not in was:
                continue
            key = (str(line.get("itemId")), str(line.get("skuCode")), str(line.get("countryCode")))
            if line.get("refundStatus") != was[line.get("id")] and key not in named:
                changed.append(
                    f"line {line.get('id')} ({key[0]} {key[1]} {key[2]}) went from "
                    f"{was[line.get('id')]!r} to {line.get('refundStatus')!r}"
                )
        return changed

    # -- sandbox control ----------------------------------------------------------

    def require_sandbox(self, why: str) -> None:
        """Skip the calling test, with a reason, when the server is not a sandbox."""
        if not self.is_sandbox:
            pytest.skip(f"needs a kakaclo sandbox (GET /_sandbox/info did not answer): {why}")

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock (pending refunds settle without waiting)."""
        with self.http() as http:
            http.post(
                "/_sandbox/clock/advance",
                params={"seconds": seconds},
                headers=JSON_TYPE,
            ).raise_for_status()

    def freeze_clock(self) -> str:
        """Stop the sandbox's clock on a whole second; return that instant (ISO 8601, exact).

        Frozen, the clock moves only through :meth:`advance_clock`, so what a test
        expects over a network never depends on how long its requests took.
        """
        with self.http() as http:
            answer = http.post("/_sandbox/clock/freeze", headers=JSON_TYPE)
            answer.raise_for_status()
        return str(answer.json()["data"]["now"])

    def resume_clock(self) -> None:
        """Let the sandbox's clock run again (``POST /_sandbox/reset`` does that too)."""
        with self.http() as http:
            http.post("/_sandbox/clock/resume", headers=JSON_TYPE).raise_for_status()

    def renew(self) -> None:
        """In-process: a new sandbox app, so its set-up code runs again (a URL target: no-op)."""
        if self._build is not None:
            self.app = self._build()

    def reset(self) -> None:
        """Back to the demo data (sandbox only)."""
        with self.http() as http:
            http.post("/_sandbox/reset", headers=JSON_TYPE).raise_for_status()


def api_root(base_url: str) -> tuple[str, str]:
    """Split a base URL into the server root and the API prefix before the spec's paths.

    The vendor's base URL ends in ``/openapi`` (its control surface, on a sandbox,
    sits at the root); a mock such as Prism's or Specmatic's serves at its root.
    """
    base = base_url.rstrip("/")
    if base.endswith(spec_facts.SERVER_ROOT):
        return base.removesuffix(spec_facts.SERVER_ROOT), spec_facts.SERVER_ROOT
    return base, ""


@cache
def settings() -> RunSettings:
    """This process's settings, read once from the environment (a bad one stops the run)."""
    try:
        return RunSettings.from_env()
    except SettingsError as error:
        pytest.exit(f"kakaclo contract: {error}", returncode=2)


@cache
def preflighted(run: RunSettings) -> Target:
    """The URL target of ``run``, after its preflight (raises PreflightFailed)."""
    assert run.base_url is not None and run.token is not None
    target = Target(
        settings=run,
        base_url=run.base_url,
        token=run.token,
        traffic=Traffic(
            rate=run.rate,
            timeout=run.timeout,
            token=run.token,
            max_retry_after=run.max_retry_after,
        ),
    )
    with target.http() as http:
        target.facts = preflight.run(http, run)
    return target


def url_target() -> Target:
    """The URL target of this process (a failed preflight stops the run with one line)."""
    try:
        return preflighted(settings())
    except PreflightFailed as failed:
        pytest.exit(f"kakaclo contract: preflight: {failed}", returncode=2)


def select_target(**sandbox_settings: Any) -> Target:
    """The target of this run: the environment's server, else a fresh in-process sandbox."""
    run = settings()
    if run.base_url is not None:
        return url_target()
    try:
        factory = app_factory(run.app)
    except SettingsError as error:
        pytest.exit(f"kakaclo contract: {error}", returncode=2)
    options: dict[str, Any] = {"db": ":memory:", "rate_limit": None, **sandbox_settings}

    def build() -> Any:
        return factory(clock=lambda: FROZEN_AT, **options)

    return Target(
        settings=run, base_url=IN_PROCESS_BASE, token=DEMO_TOKEN, app=build(), _build=build
    )


def app_factory(spec: str | None) -> Callable[..., Any]:
    """The in-process app factory: ``KAKACLO_APP``'s ``module:factory``, else the sandbox's.

    Raises SettingsError when the module or the factory cannot be found.
    """
    if not spec:
        from kakaclo_sandbox import create_app

        return create_app
    module_name, _, name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise SettingsError(f"{APP_ENV}={spec}: {error}") from None
    if not callable(factory):
        raise SettingsError(f"{APP_ENV}={spec} is not callable")
    return factory  # type: ignore[no-any-return]
