"""The sandbox's JSON answers, serialised by orjson.

The bytes are those of Starlette's ``JSONResponse`` (compact separators, UTF-8,
keys in insertion order) for every value the sandbox answers; orjson writes
them in a fraction of the time, which shows on the larger Query Order pages.
The one difference, floats below 1e-4 written without an exponent, cannot
occur: amounts are rounded to four decimals.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse, Response


class OrjsonResponse(JSONResponse):
    """A ``JSONResponse`` rendered by orjson."""

    def render(self, content: Any) -> bytes:
        """The body's bytes."""
        return orjson.dumps(content)


class JsonBytes(Response):
    """A JSON answer already serialised (headers as ``OrjsonResponse`` sends them)."""

    media_type = "application/json"
