"""The sandbox's control surface (not the vendor's): reset, clock, info.

``POST /_sandbox/reset``                  back to the demo data
``POST /_sandbox/clock/advance?seconds=N`` move the clock; due refunds settle at once
``GET  /_sandbox/info``                   version and settings; 200 means "a sandbox"
"""

from __future__ import annotations

import math
import re

from kakaclo_client.models import ErrorCode
from starlette.requests import Request
from starlette.responses import JSONResponse

from kakaclo_sandbox import render
from kakaclo_sandbox.clock import LATEST, iso
from kakaclo_sandbox.errors import ApiError
from kakaclo_sandbox.handlers import sandbox_of
from kakaclo_sandbox.settle import settle_due
from kakaclo_sandbox.version import __version__

MAX_ADVANCE_SECONDS = 10 * 365 * 24 * 3600
# ASCII digits with an optional fraction: float() would also take "1_0", " 5 ",
# "inf" and other scripts' digits.
PLAIN_SECONDS = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")


async def reset(request: Request) -> JSONResponse:
    """Wipe everything and seed the demo data again."""
    sandbox_of(request).reset()
    return JSONResponse(render.envelope({"reset": True}, "ok"))


async def advance_clock(request: Request) -> JSONResponse:
    """Move the sandbox's clock forward by ``seconds`` and settle what fell due."""
    sandbox = sandbox_of(request)
    text = request.query_params.get("seconds", "")
    seconds = float(text) if PLAIN_SECONDS.fullmatch(text) else math.nan
    most = min(MAX_ADVANCE_SECONDS, sandbox.clock.headroom())
    if not (math.isfinite(seconds) and 0 <= seconds <= most):
        raise ApiError(
            400,
            ErrorCode.SCHEMA_VIOLATION,
            f"query parameter seconds must be a number from 0 to {most:g} (one call moves the "
            f"clock at most {MAX_ADVANCE_SECONDS} s, and never past {iso(LATEST)}), "
            f"got {text[:40]!r}",
        )
    sandbox.advance_clock(seconds)
    with sandbox.store.transaction() as db:
        settled = settle_due(db, sandbox.now())
    return JSONResponse(render.envelope({"now": iso(sandbox.now()), "settled": settled}, "ok"))


async def info(request: Request) -> JSONResponse:
    """Say that this is a sandbox, which version, and how it is set up."""
    sandbox = sandbox_of(request)
    settings = sandbox.settings
    return JSONResponse(
        render.envelope(
            {
                "sandbox": True,
                "version": __version__,
                "now": iso(sandbox.now()),
                "honoursIdempotencyKey": True,
                "clock": {
                    "maxAdvanceSeconds": MAX_ADVANCE_SECONDS,
                    "latest": iso(LATEST),
                },
                "settings": {
                    "db": settings.db,
                    "settleAfterSeconds": settings.settle_after,
                    "rateLimit": str(settings.rate_limit) if settings.rate_limit else "off",
                    "validateResponses": settings.validate_responses,
                },
            },
            "ok",
        )
    )
