"""The errors the sandbox answers, each an HTTP status plus an ``ErrorCode`` of the spec."""

from __future__ import annotations

from kakaclo_client.models import ErrorCode


def error_body(code: int, message: str) -> dict[str, object]:
    """The envelope of every error answer: a non-10000 code, a message, data null."""
    return {"code": code, "message": message, "data": None}


class ApiError(Exception):
    """An error response: status, the envelope's code and message, extra headers."""

    def __init__(
        self, status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
