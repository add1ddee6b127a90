"""Failures on demand: make calls of an operation fail, so integrators can test their error paths.

Two ways to ask, both part of the control surface (``--no-control`` turns them off):

- the ``Prefer`` header of one request (like Prism's ``Prefer: code=...``)::

      Prefer: code=503, retry-after=2     answer 503 with Retry-After: 2
      Prefer: code=429                    answer 429 (Retry-After: 1 unless given)
      Prefer: code=500                    answer 500
      Prefer: code=502                    answer 502 (what a gateway answers when
                                          the server behind it is down)
      Prefer: delay=1.5                   wait 1.5 s, then answer normally
      Prefer: drop                        close the connection without an answer
      Prefer: drop=after                  carry the request out, then drop the answer

- ``POST /_sandbox/failures`` with ``{"operation": "refundOrder", "count": 3,
  "code": 503}`` (or ``delay``, ``drop``): the next ``count`` calls of the
  operation (or of any, without ``operation``) fail so. At most MAX_QUEUED
  failures wait at once; the answer names what was added and the queue's length.
  The queue is the store's: where several processes share a PostgreSQL database it
  is a table, and a failure queued through one applies once, to the next matching
  call whichever process gets it.

A forced status answers the spec's error envelope (``SERVER_ERROR`` 50001,
``UPSTREAM_UNAVAILABLE`` 50201, ``SERVICE_UNAVAILABLE`` 50301, ``RATE_LIMITED``
42901) and carries nothing out.
A drop sends the status line and headers and closes the connection before the
body, so the client sees a broken answer (httpx: ``RemoteProtocolError``).
The answer names what was applied in ``Preference-Applied``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from kakaclo_client.models import ErrorCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kakaclo_sandbox.storage.interface import DatabaseUnavailable, QueuedFailure, Store
from kakaclo_sandbox.web.operations import database_unavailable_answer
from kakaclo_sandbox.web.responses import OrjsonResponse
from kakaclo_spec import Spec
from kakaclo_spec.errors import ApiError, error_body
from kakaclo_spec.validation import MAX_BODY_BYTES

log = logging.getLogger("kakaclo_sandbox.web.failures")

FORCED_CODES = {
    429: (ErrorCode.RATE_LIMITED, "rate limit exceeded (forced by the sandbox)"),
    500: (ErrorCode.SERVER_ERROR, "internal server error (forced by the sandbox)"),
    502: (ErrorCode.UPSTREAM_UNAVAILABLE, "upstream unavailable (forced by the sandbox)"),
    503: (ErrorCode.SERVICE_UNAVAILABLE, "service unavailable (forced by the sandbox)"),
}
MAX_DELAY = 60.0
MAX_RETRY_AFTER = 3600
MAX_COUNT = 1000
MAX_QUEUED = 10 * MAX_COUNT  # 10,000 failures queued at once, every operation together
DROP_MODES = ("before", "after")


@dataclass(frozen=True)
class Failure:
    """How one call fails: a status, a delay before the answer, or a dropped connection."""

    code: int | None = None
    retry_after: int | None = None
    delay: float = 0.0
    drop: str | None = None

    def describe(self) -> str:
        """The failure as a ``Prefer``/``Preference-Applied`` value."""
        parts = []
        if self.code is not None:
            parts.append(f"code={self.code}")
        if self.retry_after is not None:
            parts.append(f"retry-after={self.retry_after}")
        if self.delay:
            parts.append(f"delay={self.delay:g}")
        if self.drop is not None:
            parts.append("drop" if self.drop == "before" else f"drop={self.drop}")
        return ", ".join(parts)


class PreferenceError(ApiError):
    """A failure the sandbox cannot force (answered 400, ``UNSUPPORTED_PREFERENCE``)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, ErrorCode.UNSUPPORTED_PREFERENCE, message)


def make_failure(
    code: int | None = None,
    retry_after: int | None = None,
    delay: float = 0.0,
    drop: str | None = None,
) -> Failure:
    """A checked failure; PreferenceError names what is wrong."""
    if code is not None and code not in FORCED_CODES:
        raise PreferenceError(
            f"code={code}: the sandbox can force {', '.join(map(str, FORCED_CODES))}"
        )
    if retry_after is not None and not (1 <= retry_after <= MAX_RETRY_AFTER):
        raise PreferenceError(f"retry-after must be 1 to {MAX_RETRY_AFTER} seconds")
    if retry_after is not None and code not in (429, 503):
        raise PreferenceError("retry-after goes with code=429 or code=503")
    if not (math.isfinite(delay) and 0 <= delay <= MAX_DELAY):
        raise PreferenceError(f"delay must be 0 to {MAX_DELAY:g} seconds")
    if drop is not None and drop not in DROP_MODES:
        raise PreferenceError(f"drop={drop}: say drop (before) or drop=after")
    if drop is not None and code is not None:
        raise PreferenceError("choose code or drop, not both")
    if code is None and drop is None and not delay:
        raise PreferenceError("say code, delay or drop")
    if code == 429 and retry_after is None:
        retry_after = 1  # the spec requires Retry-After on 429
    return Failure(code=code, retry_after=retry_after, delay=delay, drop=drop)


_PREFERENCE = re.compile(r'\s*([A-Za-z-]+)\s*(?:=\s*("[^"]*"|[^,;\s]*))?\s*')
KNOWN = ("code", "retry-after", "delay", "drop")


def parse_prefer(header: str) -> Failure | None:
    """The failure a ``Prefer`` header asks for; None when it names none of ours.

    Preferences the sandbox does not know (``return=minimal``, ...) are
    ignored, as RFC 7240 asks; a known one with a bad value is a PreferenceError.
    """
    values: dict[str, str | None] = {}
    for token in re.split(r"[,;]", header):
        if not token.strip():
            continue
        match = _PREFERENCE.fullmatch(token)
        if match is None:
            continue
        name, value = match.group(1).lower(), match.group(2)
        if name in KNOWN:
            values[name] = value.strip('"') if value is not None else None
    if not values:
        return None
    try:
        code = _integer(values, "code")
        retry_after = _integer(values, "retry-after")
        delay = _seconds(values["delay"] or "") if "delay" in values else 0.0
    except ValueError:
        message = f"Prefer: {header[:80]!r}: code, retry-after and delay take numbers"
        raise PreferenceError(message) from None
    drop = (values["drop"] or "before") if "drop" in values else None
    return make_failure(code, retry_after, delay, drop)


# ASCII digits with an optional fraction, as the clock endpoint reads seconds:
# float() would also take "1_0" (10), " 5 ", "inf" and other scripts' digits.
PLAIN_SECONDS = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")


def _seconds(text: str) -> float:
    if not PLAIN_SECONDS.fullmatch(text):
        raise ValueError(text)
    return float(text)


def _integer(values: dict[str, str | None], name: str) -> int | None:
    if name not in values:
        return None
    text = values[name] or ""
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise ValueError(name)
    return int(text)


class QueueFull(ApiError):
    """Queuing would pass MAX_QUEUED (answered 400 ``SCHEMA_VIOLATION``; nothing queued)."""

    def __init__(self, queued: int, count: int) -> None:
        message = (
            f"the failures queue holds at most {MAX_QUEUED}; {queued} are queued, "
            f"{count} more asked for (take or DELETE some first)"
        )
        super().__init__(400, ErrorCode.SCHEMA_VIOLATION, message)


class FailurePlan:
    """Failures queued for the next calls, per operation (or for any): kept by the store,
    so every process sharing its database takes from one queue (SQLite's process keeps
    it in memory)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, operation: str | None, failure: Failure, count: int) -> int:
        """Make the next ``count`` calls of ``operation`` (None: of any) fail so, and
        answer how many failures are queued now; QueueFull (nothing queued) past MAX_QUEUED."""
        queued = await self.store.queue_failures(_stored(operation, failure), count, MAX_QUEUED)
        if not queued.added:
            raise QueueFull(queued.length, count)
        return queued.length

    def may_be_queued(self) -> bool:
        """False when no failure is queued for sure, known without a statement."""
        return self.store.may_have_failures()

    async def clear(self) -> None:
        """Forget every queued failure (every process's)."""
        await self.store.clear_failures()

    async def pending(self) -> list[dict[str, Any]]:
        """What is queued, per operation, in the order it will apply."""
        return [
            {"operation": queued.operation, **public(from_queue(queued))}
            for queued in await self.store.queued_failures()
        ]


def _stored(operation: str | None, failure: Failure) -> QueuedFailure:
    return QueuedFailure(operation, failure.code, failure.retry_after, failure.delay, failure.drop)


def from_queue(queued: QueuedFailure) -> Failure:
    """A queued failure as it applies."""
    return Failure(queued.code, queued.retry_after, queued.delay, queued.drop)


def public(failure: Failure) -> dict[str, Any]:
    """A failure as the control surface answers it (camelCase)."""
    body = asdict(failure)
    body["retryAfter"] = body.pop("retry_after")
    return body


# Takes the failure queued for a call of an operation (its scope), if any: the sandbox's
# (web/state.py's Sandbox.take_failure), which folds it into the call's one statement.
Take = Callable[[str, Scope], Awaitable[Failure | None]]


class ForcedFailures:
    """ASGI middleware: apply the failure a request asks for (Prefer) or that is queued."""

    def __init__(self, app: ASGIApp, plan: FailurePlan, spec: Spec, take: Take) -> None:
        self.app = app
        self.plan = plan
        self.spec = spec
        self.take = take

    def operation_of(self, method: str, path: str) -> str | None:
        """The spec operation a request is for, or None (docs, control, unknown paths)."""
        root = self.spec.server_root
        if not path.startswith(root + "/"):
            return None
        return self.spec.operation_of(method, path[len(root) :])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Fail the call as asked, or pass it on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        prefer = _prefer_headers(scope)
        # Most calls neither ask for a failure nor meet a queued one: they pass on
        # without being matched to an operation (Operations matches them next).
        if not prefer and not self.plan.may_be_queued():
            await self.app(scope, receive, send)
            return
        operation = self.operation_of(scope["method"], scope["path"])
        if operation is None:
            await self.app(scope, receive, send)
            return
        try:
            failure = await self._failure(prefer, operation, scope)
        except PreferenceError as error:
            await OrjsonResponse(error_body(error.code, error.message), error.status)(
                scope, receive, send
            )
            return
        except DatabaseUnavailable as error:  # the queue is the database's: 503
            await database_unavailable_answer(error)(scope, receive, send)
            return
        if failure is None:
            await self.app(scope, receive, send)
            return
        log.info("%s: forced failure %s", operation, failure.describe())
        if failure.delay:
            await asyncio.sleep(failure.delay)
        applied = {"Preference-Applied": failure.describe()}
        if failure.code is not None:
            code, message = FORCED_CODES[failure.code]
            if failure.retry_after is not None:
                applied["Retry-After"] = str(failure.retry_after)
                message += f"; retry after {failure.retry_after} s"
            answer = OrjsonResponse(error_body(code, message), failure.code, headers=applied)
            await answer(scope, receive, send)
        elif failure.drop == "before":
            await _drain(receive)  # a closed socket with unread data resets instead of closing
            await _drop(send)
        elif failure.drop == "after":
            await self.app(scope, receive, _swallow)
            await _drop(send)
        else:
            await self.app(scope, receive, _with_headers(send, applied))

    async def _failure(
        self, prefer: list[str] | None, operation: str, scope: Scope
    ) -> Failure | None:
        for header in prefer or ():
            asked = parse_prefer(header)
            if asked is not None:
                return asked
        if not self.plan.may_be_queued():  # a Prefer that names no failure of ours
            return None
        return await self.take(operation, scope)


def _prefer_headers(scope: Scope) -> list[str] | None:
    """The request's ``Prefer`` headers in order, or None without any (most calls)."""
    found: list[str] | None = None
    for name, value in scope["headers"]:
        if name == b"prefer":
            found = found or []
            found.append(value.decode("latin-1"))
    return found


async def _drop(send: Send) -> None:
    # Promise a body and never send it: the server closes the connection
    # mid-answer, which every HTTP client reports as a broken response.
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-length", b"64"), (b"connection", b"close")],
        }
    )


async def _drain(receive: Receive) -> None:
    """Read the request body to its end, at most MAX_BODY_BYTES (it is not carried out)."""
    read = 0
    while read <= MAX_BODY_BYTES:
        message = await receive()
        read += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _swallow(message: Message) -> None:
    return None


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = list(message.get("headers", [])) + [
                (name.lower().encode(), value.encode()) for name, value in headers.items()
            ]
        await send(message)

    return sending
