"""The sandbox's control surface (not the vendor's): reset, clock, info.

``POST /_sandbox/reset``                  back to the demo data, on a running clock at the real time
``POST /_sandbox/clock/advance?seconds=N`` move the clock; due refunds settle at once
``POST /_sandbox/clock/freeze``            stop the clock on a whole second (advance still moves it)
``POST /_sandbox/clock/resume``            let the clock run again from where it stands
``GET  /_sandbox/info``                   version, settings, pid; 200 means "a sandbox"
``POST /_sandbox/orders``                 add an order (Query Order shape) for the token's merchant
``POST|GET|DELETE /_sandbox/failures``    queue, list or clear failures on demand
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from kakaclo_client.models import ErrorCode
from starlette.requests import Request

from kakaclo_sandbox.clock import LATEST, iso
from kakaclo_sandbox.data import DataError, check_order
from kakaclo_sandbox.web import failures, render
from kakaclo_sandbox.web.handlers import read_limited_body, sandbox_of
from kakaclo_sandbox.web.responses import OrjsonResponse
from kakaclo_sandbox.web.state import Sandbox
from kakaclo_serving.version import __version__
from kakaclo_spec.errors import ApiError
from kakaclo_spec.validation import parse_json

MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600
PLAIN_SECONDS = failures.PLAIN_SECONDS  # one reading of seconds, here and in Prefer: delay=


async def reset(request: Request) -> OrjsonResponse:
    """Wipe everything and seed the data file (or the demo data) again."""
    await sandbox_of(request).reset()
    return OrjsonResponse(render.envelope({"reset": True}, "ok"))


async def advance_clock(request: Request) -> OrjsonResponse:
    """Move the sandbox's clock forward by ``seconds`` and settle what fell due."""
    sandbox = sandbox_of(request)
    text = request.query_params.get("seconds", "")
    seconds = float(text) if PLAIN_SECONDS.fullmatch(text) else math.nan
    if not (math.isfinite(seconds) and 0 <= seconds <= _most(sandbox)):
        raise _seconds_refused(sandbox, text)
    try:
        await sandbox.advance_clock(seconds)
    except ValueError:  # another process moved the clock meanwhile: nothing moved
        raise _seconds_refused(sandbox, text) from None
    return await _clock_answer(sandbox)


def _most(sandbox: Sandbox) -> float:
    return min(MAX_ADVANCE_SECONDS, sandbox.clock.headroom())


def _seconds_refused(sandbox: Sandbox, text: str) -> ApiError:
    return ApiError(
        400,
        ErrorCode.SCHEMA_VIOLATION,
        f"query parameter seconds must be a number from 0 to {_plain(_most(sandbox))} (one "
        f"call moves the clock at most {MAX_ADVANCE_SECONDS} s, and never past "
        f"{iso(LATEST)}), got {text[:40]!r}",
    )


async def freeze_clock(request: Request) -> OrjsonResponse:
    """Stop the sandbox's clock on the next whole second (it stays there until advanced or
    resumed) and settle what fell due."""
    sandbox = sandbox_of(request)
    _no_parameters(request)
    await sandbox.freeze_clock()
    return await _clock_answer(sandbox)


async def resume_clock(request: Request) -> OrjsonResponse:
    """Let the sandbox's clock run again from the instant it stands at."""
    sandbox = sandbox_of(request)
    _no_parameters(request)
    await sandbox.resume_clock()
    return await _clock_answer(sandbox)


def _no_parameters(request: Request) -> None:
    # freeze?seconds=N or freeze?at=... would look like it does more than it does
    if request.query_params:
        names = ", ".join(sorted(request.query_params))[:80]
        raise ApiError(
            400,
            ErrorCode.SCHEMA_VIOLATION,
            f"{request.url.path} takes no query parameters, got {names}",
        )


def _plain(seconds: float) -> str:
    """Seconds as the parameter itself takes them (``315360000``, ``0.5``: no exponent)."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


async def _clock_answer(sandbox: Sandbox) -> OrjsonResponse:
    settled = await sandbox.settlement.settle_now(sandbox.now())
    data = {"now": iso(sandbox.now()), "frozen": sandbox.clock.frozen, "settled": settled}
    return OrjsonResponse(render.envelope(data, "ok"))


async def info(request: Request) -> OrjsonResponse:
    """Say that this is a sandbox, which version, and how it is set up."""
    sandbox = sandbox_of(request)
    await sandbox.refresh()  # its clock as another process sharing the database left it
    settings = sandbox.settings
    return OrjsonResponse(
        render.envelope(
            {
                "sandbox": True,
                "version": __version__,
                "now": iso(sandbox.now()),
                "honoursIdempotencyKey": True,
                # the process that answered, and how many answer on this port (--workers)
                "pid": os.getpid(),
                "workers": getattr(request.app.state, "workers", 1),
                "clock": {
                    "frozen": sandbox.clock.frozen,
                    "maxAdvanceSeconds": MAX_ADVANCE_SECONDS,
                    "latest": iso(LATEST),
                },
                "settings": {
                    "db": settings.db_shown,
                    "settleAfterSeconds": settings.settle_after,
                    "rateLimit": str(settings.rate_limit) if settings.rate_limit else "off",
                    "validateResponses": settings.validate_responses,
                    "answerCache": settings.answer_cache,
                    "clean": settings.clean,
                    "data": sandbox.data.source,
                },
            },
            "ok",
        )
    )


async def _json_body(request: Request) -> Any:
    """A control body, parsed as strictly as the API's own (depth, NaN, lone surrogates)."""
    raw = await read_limited_body(request, request.headers)
    return parse_json(raw or b"{}")


async def create_order(request: Request) -> OrjsonResponse:
    """Add an order (Query Order shape) for the merchant of the bearer token."""
    sandbox = sandbox_of(request)
    merchant = await sandbox.caller(request.headers.get("authorization"))
    body = await _json_body(request)
    try:
        stored = await sandbox.add_order(check_order(sandbox.spec, body, merchant, "order"))
    except DataError as error:
        raise ApiError(400, ErrorCode.SCHEMA_VIOLATION, " ".join(str(error).split())) from None
    rendered = render.order(stored, vendor=not sandbox.settings.clean)
    return OrjsonResponse(render.envelope(rendered, "ok"))


def failure_request(operations: Sequence[str]) -> dict[str, Any]:
    """The schema of a ``POST /_sandbox/failures`` body."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "operation": {"enum": list(operations)},
            "count": {"type": "integer", "minimum": 1, "maximum": failures.MAX_COUNT},
            "code": {"enum": list(failures.FORCED_CODES)},
            "retryAfter": {"type": "integer", "minimum": 1, "maximum": failures.MAX_RETRY_AFTER},
            "delay": {"type": "number", "minimum": 0, "maximum": failures.MAX_DELAY},
            "drop": {"enum": list(failures.DROP_MODES)},
        },
    }


async def add_failures(request: Request) -> OrjsonResponse:
    """Make the next ``count`` calls of an operation (or of any) fail as asked."""
    sandbox = sandbox_of(request)
    body = await _json_body(request)
    errors = sandbox.spec.compile(failure_request(sandbox.spec.operation_ids)).errors(body)
    if errors:
        raise ApiError(400, ErrorCode.SCHEMA_VIOLATION, str(errors[0]))
    failure = failures.make_failure(
        body.get("code"), body.get("retryAfter"), float(body.get("delay", 0)), body.get("drop")
    )
    operation = body.get("operation")  # None: any operation
    count = int(body.get("count", 1))
    length = await sandbox.failures.add(operation, failure, count)  # QueueFull: 400, nothing queued
    added = {"operation": body.get("operation"), "count": count, **failures.public(failure)}
    # what was added and the queue's length, never the whole queue (GET lists it)
    return OrjsonResponse(render.envelope({"added": added, "queueLength": length}, "ok"))


async def list_failures(request: Request) -> OrjsonResponse:
    """The failures still queued (at most failures.MAX_QUEUED), every process's."""
    queued = await sandbox_of(request).failures.pending()
    return OrjsonResponse(render.envelope({"queued": queued}, "ok"))


async def clear_failures(request: Request) -> OrjsonResponse:
    """Forget every queued failure (every process's)."""
    await sandbox_of(request).failures.clear()
    return OrjsonResponse(render.envelope({"queued": []}, "ok"))
