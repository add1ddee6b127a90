"""One request and its answer, as the proxy saw them (or as a recording holds them)."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from typing import Literal

Headers = list[tuple[str, str]]
AnsweredBy = Literal["upstream", "proxy"]
# Who cut an answer short: the client left; only the recording stopped at the cap (the
# client got it all); the proxy cut the client's answer at the cap; the upstream broke.
CutBy = Literal["client", "recording", "cap", "upstream"]
CUT_BY: tuple[CutBy, ...] = ("client", "recording", "cap", "upstream")


def header(headers: Headers, name: str) -> str | None:
    """The first value of a header (names compare case-insensitively)."""
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


class UndecodableBody(ValueError):
    """A body in a content coding the checks cannot read."""


def decoded(body: bytes, content_encoding: str | None) -> bytes:
    """The body without its content coding (gzip, deflate or identity)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):  # the last coding applied is undone first
        if coding == "identity":
            continue
        try:
            if coding in ("gzip", "x-gzip"):
                body = gzip.decompress(body)
            elif coding == "deflate":
                body = zlib.decompress(body)
            else:
                raise UndecodableBody(f"the body is {coding}-encoded, which the checks cannot read")
        except (OSError, zlib.error, EOFError) as error:
            raise UndecodableBody(f"the {coding} body is corrupt: {error}") from None
    return body


@dataclass(frozen=True)
class Cut:
    """Why the answer's body an exchange holds is not the whole answer."""

    by: CutBy
    reason: str

    @property
    def broken(self) -> bool:
        """Whether the client got a broken answer (the cap, or the upstream, cut it)."""
        return self.by in ("cap", "upstream")


@dataclass
class Exchange:
    """A request, its answer, who answered (the upstream, or the proxy itself), and when."""

    method: str
    path: str  # as sent, percent-encoded, without the query
    query: str
    request_headers: Headers
    request_body: bytes
    status: int
    response_headers: Headers
    response_body: bytes
    started: float  # epoch seconds
    duration: float  # seconds until the whole answer was in
    answered_by: AnsweredBy = "upstream"
    merchant: str = ""  # who sent it (a digest of the token, never the token)
    cut: Cut | None = None  # the answer's body is only its start (streamed, then cut)
    index: int = field(default=0)

    @property
    def target(self) -> str:
        """The path with its query, as in a request line."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def response_json_bytes(self) -> bytes:
        """The answer's body without its content coding."""
        return decoded(self.response_body, header(self.response_headers, "content-encoding"))

    def request_body_bytes(self) -> bytes:
        """The request's body without its content coding."""
        return decoded(self.request_body, header(self.request_headers, "content-encoding"))
