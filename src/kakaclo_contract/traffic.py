"""Every request the suite sends over the network passes through here.

One :class:`Traffic` per run paces requests (``--rate``), honours a 429's
``Retry-After`` (the suite's own requests resend after it; a paced run also
holds back its next request), counts answers and 429s per operation,
remembers operations that hung (later requests to them fail at once instead
of waiting out the timeout again), and notes every refund a server answered
200, so the run can print them. The requests session of schemathesis and the
httpx clients of the suite both plug into it.

Pacing assumes the server's bucket may already be full (a run just before,
another client of the same token): it never bursts, and spaces requests at
a share of the drain rate. A 429 holds every paced request back for its
``Retry-After`` (at most ``--max-retry-after``) and cuts the pace by
:data:`BACK_OFF`; each answer that is not a 429 raises it again by
:data:`CREEP` (additive increase, multiplicative decrease). The pace climbs
back to a limit that starts at :data:`CEILING` of the drain rate; a 429 sets
that limit just below the pace that met it (the share another client leaves),
and it rises again only at :data:`PROBE` of the pace's speed. Every wait for
a 429 of a second or more is printed as one line on stderr when it starts.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import urllib3
from kakaclo_client import spec_facts
from requests.adapters import HTTPAdapter

from kakaclo_contract.settings import DEFAULT_MAX_RETRY_AFTER, Rate
from kakaclo_contract.spec_check import label_of, operation_of
from kakaclo_refunds.bounds import (
    MAX_ANSWER_BYTES,
    MAX_DEPTH,
    BoundedTransport,
    json_depth_exceeds,
)

# Shares of the drain rate (``--rate``'s PER_SECOND) the pace moves between.
# Below the drain rate, a bucket another run left full still empties; the
# margin is room for jitter and for other traffic of the same token.
CEILING = 0.9
FLOOR = 0.1
BACK_OFF = 0.7  # the pace is multiplied by this on a 429 (once per hold)
CREEP = 0.01  # ... and raised by this share of the drain rate on every other answer
PROBE = 0.05  # the limit a 429 lowered rises at this share of CREEP
NOTICE = 1.0  # seconds: a wait for a 429 this long or longer is printed


class TargetHung(AssertionError):
    """An operation did not answer within the timeout (a contract violation)."""


@dataclass(frozen=True)
class CreatedRefund:
    """A refund a server answered 200 to, during this run."""

    order_id: str
    refund_no: str


class StderrLines:
    """Writes lines to stderr as it was when made, so pytest's capture, started later, keeps none.

    ``kakaclo contract`` makes its :class:`Traffic` before pytest starts; a
    wait printed from inside a test then still reaches the user as it happens.
    """

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.dup(sys.stderr.fileno())
        except (AttributeError, OSError, ValueError):  # stderr is not a file (a test runner's)
            self._fd = None

    def __call__(self, line: str) -> None:
        """Write one line."""
        if self._fd is None:
            print(line, file=sys.stderr, flush=True)
            return
        with contextlib.suppress(OSError):  # a closed stderr loses a notice, not the run
            os.write(self._fd, (line + "\n").encode("utf-8", "replace"))

    def __del__(self, close: Callable[[int], None] = os.close) -> None:
        if self._fd is not None:
            close(self._fd)


@dataclass
class Traffic:
    """Pacing, Retry-After, counts and hangs of one run (thread-safe).

    Unpaced, generated cases go out as fast as the server answers and a 429
    is just counted (the verdict fails a run with too many); paced, requests
    are spaced below the drain rate, and a 429's ``Retry-After`` holds back
    every later request and slows the pace.
    """

    rate: Rate | None = None
    timeout: float = 10.0
    token: str | None = None  # the merchant whose bucket the pacing protects
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER  # --max-retry-after
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    say: Callable[[str], None] = field(default_factory=StderrLines)  # the notices of waits
    answers: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    hung: dict[str, str] = field(default_factory=dict)
    refunds: list[CreatedRefund] = field(default_factory=list)
    _pace: float = 0.0  # requests per second now (paced runs); set from the rate
    _limit: float = 0.0  # the highest pace it climbs back to
    _next: float | None = None  # the earliest time of the next paced request
    _not_before: float = 0.0  # the end of a 429's hold
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate is not None:
            self._pace = self._limit = self.rate.per_second * CEILING

    @property
    def pace(self) -> float:
        """The pace paced requests go at now, in requests per second (0 unpaced)."""
        return self._pace

    def _paced(self, authorization: str | None) -> bool:
        """Whether a request counts against the bucket the pacing protects.

        The limit is the merchant's (per app and store): requests without the
        run's token (checks that drop or spoil it, the sandbox's control
        surface) do not drain it.
        """
        return self.token is None or authorization == f"Bearer {self.token}"

    # -- before a request -----------------------------------------------------

    def before(self, method: str, path: str, authorization: str | None = None) -> None:
        """Fail at once for an operation that hung; else wait for pacing and Retry-After."""
        label = self._label(method, path)
        if label in self.hung:
            raise TargetHung(self.hung[label] + " (earlier in this run; not sent again)")
        if not self._paced(authorization):
            return
        while True:
            with self._lock:
                wait = self._admit()
            if wait <= 0:
                return
            self.sleep(wait)

    def _admit(self) -> float:
        """0 to send now (and book the slot), else the seconds to wait first."""
        now = self.clock()
        if now < self._not_before:
            return self._not_before - now
        if self.rate is None:
            return 0.0
        if self._next is not None and now < self._next:
            return self._next - now
        # No credit for time the run spent elsewhere: that would be a burst.
        self._next = now + 1 / self._pace
        return 0.0

    # -- after an answer --------------------------------------------------------

    def after(
        self,
        method: str,
        path: str,
        status: int,
        retry_after: str | None,
        body: bytes,
        authorization: str | None = None,
    ) -> None:
        """Count the answer; pace after it (a 429 holds back and slows); note a refund made."""
        label = self._label(method, path)
        notice = None
        with self._lock:
            self.answers[label] += 1
            if status == 429:
                self.throttled[label] += 1
            if self.rate is not None and self._paced(authorization):
                if status == 429:
                    notice = self._back_off(label, asked_wait(retry_after))
                else:
                    self._climb(self.rate.per_second)
        if notice:
            self.say(notice)
        if status == 200 and operation_of(method, path) == spec_facts.REFUND_ORDER.operation_id:
            self._note_refund(path, body)

    def _climb(self, drain: float) -> None:
        self._limit = min(self._limit + PROBE * CREEP * drain, CEILING * drain)
        self._pace = min(self._pace + CREEP * drain, self._limit)

    def _back_off(self, label: str, asked: float) -> str | None:
        """Hold every paced request back for the 429's wait, slow down; the line to print."""
        assert self.rate is not None
        now = self.clock()
        holding = now < self._not_before
        if not holding:  # 429s to requests already in flight at the first one cut it once
            floor = self.rate.per_second * FLOOR
            self._limit = max(self._pace * CEILING, floor)
            self._pace = max(self._pace * BACK_OFF, floor)
        wait = min(asked, self.max_retry_after)
        longer = now + wait - max(now, self._not_before)
        self._not_before = max(self._not_before, now + wait)
        if longer < NOTICE:
            return None
        return (
            f"kakaclo contract: 429 from {label}; waiting {_seconds(wait)} s "
            f"({self._wait_reason(asked)}), then pacing at {self._pace:.2g} requests/s"
        )

    def resend_wait(
        self, method: str, path: str, retry_after: str | None, authorization: str | None = None
    ) -> float | None:
        """The seconds to wait before sending a request again after its 429, or None: do not.

        A Retry-After above ``--max-retry-after`` is not waited out: the 429
        stands (the run counts it as throttled). A paced request waits in
        :meth:`before`, for the hold its 429 set (and printed); an unpaced one
        waits the returned time, printed here when it is a second or more.
        """
        asked = asked_wait(retry_after)
        label = self._label(method, path)
        if asked > self.max_retry_after:
            if self.rate is None or not self._paced(authorization):
                self.say(
                    f"kakaclo contract: 429 from {label}; {self._wait_reason(asked)}: "
                    "not waited out, the 429 stands"
                )
            return None
        if self.rate is not None and self._paced(authorization):
            return 0.0
        if asked >= NOTICE:
            self.say(
                f"kakaclo contract: 429 from {label}; waiting {_seconds(asked)} s "
                "(Retry-After) before sending it again"
            )
        return asked

    def _wait_reason(self, asked: float) -> str:
        if asked <= self.max_retry_after:
            return "Retry-After"
        return (
            f"the server asked for {_seconds(asked)} s, more than --max-retry-after "
            f"{_seconds(self.max_retry_after)}"
        )

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


def asked_wait(retry_after: str | None) -> float:
    """The wait a 429's Retry-After header asks for, in seconds (1 when missing or unreadable)."""
    try:
        wait = float(retry_after) if retry_after else 1.0
    except ValueError:
        wait = 1.0  # an HTTP date or garbage: the spec says seconds
    return 1.0 if math.isnan(wait) else max(wait, 0.0)


def _seconds(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


class AnswerRefused(AssertionError):
    """An answer broke the size cap or the depth limit (a contract violation)."""


class _Timers(list[threading.Timer]):
    """The watchdogs armed for one answer, and its deadline."""

    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline


_WATCHDOG: contextvars.ContextVar[_Timers | None] = contextvars.ContextVar(
    "kakaclo_answer_watchdog", default=None
)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: nothing left to end
        sock.shutdown(socket.SHUT_RDWR)


class _DeadlineMixin:
    """A urllib3 connection whose answer the running send's deadline ends (the socket shut)."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        """Arm the watchdog of the running :meth:`PacedAdapter.send`, then read the head."""
        timers = _WATCHDOG.get()
        if timers is not None and self.sock is not None:
            left = max(timers.deadline - time.monotonic(), 0.0)
            timer = threading.Timer(left, _shut, (self.sock,))
            timer.daemon = True
            timer.start()
            timers.append(timer)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _DeadlineHTTPConnection(_DeadlineMixin, urllib3.connection.HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineMixin, urllib3.connection.HTTPSConnection):
    pass


class _DeadlineHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class PacedAdapter(HTTPAdapter):
    """requests adapter of the schemathesis session: every request goes through Traffic.

    Each answer is read whole within the run's timeout (a watchdog shuts the
    socket at the deadline, so a drip in the head ends too), at most
    ``MAX_ANSWER_BYTES`` long and nested at most ``MAX_DEPTH`` deep
    (:mod:`kakaclo_refunds.bounds`).
    """

    def __init__(self, traffic: Traffic) -> None:
        super().__init__()
        self.traffic = traffic

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """As requests', with connections that keep the answer deadline."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _DeadlineHTTPPool,
            "https": _DeadlineHTTPSPool,
        }

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        """Pace, send, count."""
        method, path = request.method or "GET", httpx.URL(request.url or "").path
        authorization = request.headers.get("Authorization")
        if isinstance(authorization, bytes):
            authorization = authorization.decode("latin-1")
        self.traffic.before(method, path, authorization)
        timers = _Timers(time.monotonic() + self.traffic.timeout)
        token = _WATCHDOG.set(timers)
        try:
            response = super().send(request, *args, **{**kwargs, "stream": True})
            response._content = self._body(response, method, path)  # read here, bounded
            response._content_consumed = True
        except (requests.Timeout, requests.ConnectionError, urllib3.exceptions.HTTPError) as error:
            if isinstance(error, requests.Timeout) or time.monotonic() >= timers.deadline:
                raise self.traffic.timed_out(method, path) from None
            raise
        finally:
            _WATCHDOG.reset(token)
            for timer in timers:
                timer.cancel()
        self.traffic.after(
            method,
            path,
            response.status_code,
            response.headers.get("Retry-After"),
            response.content,
            authorization,
        )
        return response

    def _body(self, response: requests.Response, method: str, path: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.raw.stream(65536, decode_content=True):
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise AnswerRefused(
                        f"{self.traffic._label(method, path)}: the answer is larger than "
                        f"{MAX_ANSWER_BYTES // 2**20} MiB (the size cap)"
                    )
                chunks.append(chunk)
        finally:
            response.close()
        body = b"".join(chunks)
        if json_depth_exceeds(body):
            raise AnswerRefused(
                f"{self.traffic._label(method, path)}: the answer nests JSON deeper than "
                f"{MAX_DEPTH} levels"
            )
        return body


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
    server's ``Retry-After`` a few times, unless it is above
    ``--max-retry-after``; every 429 still counts.
    """

    ATTEMPTS = 4

    def __init__(self, traffic: Traffic, inner: httpx.BaseTransport | None = None) -> None:
        self.traffic = traffic
        # Each answer whole within --timeout, at most 8 MiB, JSON at most 64 deep (bounds.py).
        self.inner = inner or BoundedTransport(deadline=traffic.timeout)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send (resending while the answer is 429), pacing and counting each attempt."""
        method, path = request.method, request.url.path
        authorization = request.headers.get("Authorization")
        for attempt in range(self.ATTEMPTS):
            self.traffic.before(method, path, authorization)
            try:
                response = self.inner.handle_request(request)
                response.read()
            except httpx.TimeoutException:
                raise self.traffic.timed_out(method, path) from None
            retry_after = response.headers.get("Retry-After")
            self.traffic.after(
                method, path, response.status_code, retry_after, response.content, authorization
            )
            if response.status_code != 429 or attempt == self.ATTEMPTS - 1:
                return response
            wait = self.traffic.resend_wait(method, path, retry_after, authorization)
            if wait is None:
                return response
            response.close()
            if wait > 0:
                self.traffic.sleep(wait)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()
