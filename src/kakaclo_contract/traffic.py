"""Every request the suite sends over the network passes through here.

One :class:`Traffic` per run paces requests (``--rate``), honours a 429's
``Retry-After`` (the suite's own requests resend after it; a paced run also
holds back its next request), counts answers and 429s per
operation, remembers operations that hung (later requests to them fail at
once instead of waiting out the timeout again), and notes every refund a
server answered 200, so the run can print them. The requests session of
schemathesis and the httpx clients of the suite both plug into it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
from kakaclo_client import spec_facts
from requests.adapters import HTTPAdapter

from kakaclo_contract.settings import Rate
from kakaclo_contract.spec_check import label_of, operation_of

# A server may ask for a long pause; the suite waits at most this long per 429.
LONGEST_RETRY_AFTER = 60.0


class TargetHung(AssertionError):
    """An operation did not answer within the timeout (a contract violation)."""


@dataclass(frozen=True)
class CreatedRefund:
    """A refund a server answered 200 to, during this run."""

    order_id: str
    refund_no: str


@dataclass
class Traffic:
    """Pacing, Retry-After, counts and hangs of one run (thread-safe).

    Unpaced, generated cases go out as fast as the server answers and a 429
    is just counted (the verdict fails a run with too many); paced, a 429's
    ``Retry-After`` also holds back every later request.
    """

    rate: Rate | None = None
    timeout: float = 10.0
    token: str | None = None  # the merchant whose bucket the pacing protects
    max_retry_after: float = LONGEST_RETRY_AFTER  # --max-retry-after
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    answers: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    hung: dict[str, str] = field(default_factory=dict)
    refunds: list[CreatedRefund] = field(default_factory=list)
    _level: float = 0.0
    _since: float | None = None
    _not_before: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- before a request -----------------------------------------------------

    def before(self, method: str, path: str, authorization: str | None = None) -> None:
        """Fail at once for an operation that hung; else wait for pacing and Retry-After.

        Only requests with the run's token are paced: the limit is the
        merchant's (per app and store), and requests without it (checks that
        drop or spoil the token, the sandbox's control surface) do not drain it.
        """
        label = self._label(method, path)
        if label in self.hung:
            raise TargetHung(self.hung[label] + " (earlier in this run; not sent again)")
        if self.token is not None and authorization != f"Bearer {self.token}":
            return
        while True:
            with self._lock:
                wait = self._admit()
            if wait <= 0:
                return
            self.sleep(wait)

    def _admit(self) -> float:
        now = self.clock()
        if now < self._not_before:
            return self._not_before - now
        if self.rate is None:
            return 0.0
        if self._since is not None:
            self._level = max(0.0, self._level - (now - self._since) * self.rate.per_second)
        self._since = now
        if self._level + 1 <= self.rate.burst:
            self._level += 1
            return 0.0
        return (self._level + 1 - self.rate.burst) / self.rate.per_second

    # -- after an answer --------------------------------------------------------

    def after(
        self, method: str, path: str, status: int, retry_after: str | None, body: bytes
    ) -> None:
        """Count the answer; hold off after a 429; note a refund answered 200."""
        label = self._label(method, path)
        with self._lock:
            self.answers[label] += 1
            if status == 429:
                self.throttled[label] += 1
                if self.rate is not None:  # paced: the server's word beats our estimate
                    self._not_before = max(self._not_before, self.clock() + seconds(retry_after))
        if status == 200 and operation_of(method, path) == spec_facts.REFUND_ORDER.operation_id:
            self._note_refund(path, body)

    def timed_out(self, method: str, path: str) -> TargetHung:
        """Remember a hang and return the failure to raise."""
        label = self._label(method, path)
        message = f"{label} did not answer within {self.timeout:g} s (request timeout)"
        with self._lock:
            self.hung[label] = message
        return TargetHung(message)

    def _note_refund(self, path: str, body: bytes) -> None:
        try:
            number = json.loads(body).get("data")
        except (ValueError, AttributeError):
            return
        created = CreatedRefund(path.rstrip("/").split("/")[-2], str(number))
        with self._lock:
            if created not in self.refunds:  # an idempotent replay is not a new refund
                self.refunds.append(created)

    @staticmethod
    def _label(method: str, path: str) -> str:
        operation_id = operation_of(method.upper(), path)
        return label_of(operation_id) if operation_id else f"{method.upper()} (outside the spec)"

    # -- the run's figures --------------------------------------------------------

    @property
    def total(self) -> int:
        """Answers seen over the network."""
        return sum(self.answers.values())

    @property
    def throttled_share(self) -> float:
        """The share of answers that were 429."""
        return sum(self.throttled.values()) / self.total if self.total else 0.0

    def refunds_created(self) -> int:
        """Refunds answered 200 so far."""
        with self._lock:
            return len(self.refunds)


def seconds(retry_after: str | None) -> float:
    """The wait a Retry-After header asks for, in seconds (bounded)."""
    try:
        wait = float(retry_after) if retry_after else 1.0
    except ValueError:
        wait = 1.0  # an HTTP date or garbage: the spec says seconds
    return min(max(wait, 0.0), LONGEST_RETRY_AFTER)


class PacedAdapter(HTTPAdapter):
    """requests adapter of the schemathesis session: every request goes through Traffic."""

    def __init__(self, traffic: Traffic) -> None:
        super().__init__()
        self.traffic = traffic

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        """Pace, send, count."""
        method, path = request.method or "GET", httpx.URL(request.url or "").path
        authorization = request.headers.get("Authorization")
        if isinstance(authorization, bytes):
            authorization = authorization.decode("latin-1")
        self.traffic.before(method, path, authorization)
        try:
            response = super().send(request, *args, **kwargs)
        except requests.Timeout:
            raise self.traffic.timed_out(method, path) from None
        self.traffic.after(
            method,
            path,
            response.status_code,
            response.headers.get("Retry-After"),
            response.content,
        )
        return response


def paced_session(traffic: Traffic) -> requests.Session:
    """A requests session for schemathesis whose traffic is paced and counted."""
    session = requests.Session()
    adapter = PacedAdapter(traffic)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class PacedTransport(httpx.BaseTransport):
    """httpx transport of the suite's own clients: paced, counted, and patient with 429.

    The suite's own requests (flows, rules, preflight) resend after the
    server's ``Retry-After`` a few times; every 429 still counts.
    """

    ATTEMPTS = 4

    def __init__(self, traffic: Traffic, inner: httpx.BaseTransport | None = None) -> None:
        self.traffic = traffic
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send (resending while the answer is 429), pacing and counting each attempt."""
        for attempt in range(self.ATTEMPTS):
            self.traffic.before(
                request.method, request.url.path, request.headers.get("Authorization")
            )
            try:
                response = self.inner.handle_request(request)
                response.read()
            except httpx.TimeoutException:
                raise self.traffic.timed_out(request.method, request.url.path) from None
            self.traffic.after(
                request.method,
                request.url.path,
                response.status_code,
                response.headers.get("Retry-After"),
                response.content,
            )
            if response.status_code != 429 or attempt == self.ATTEMPTS - 1:
                return response
            response.close()
            self.traffic.sleep(seconds(response.headers.get("Retry-After")))
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()
