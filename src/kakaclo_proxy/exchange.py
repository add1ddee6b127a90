"""One request and its answer, as the proxy saw them (or as a recording holds them)."""

from __future__ import annotations

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


MIB = 1024 * 1024
_GZIP, _ZLIB = 31, 15  # zlib's window bits for a gzip member and a zlib stream


def size(count: int) -> str:
    """A byte count for a message: in MiB when it is a whole number of them."""
    return f"{count // MIB} MiB" if count and count % MIB == 0 else f"{count} bytes"


class UndecodableBody(ValueError):
    """A body in a content coding the proxy cannot read (unknown, corrupt, cut short)."""


class BodyTooLarge(UndecodableBody):
    """A body that decodes to more than its cap (it is never decoded past the cap)."""

    def __init__(self, coding: str, limit: int) -> None:
        super().__init__(f"the {coding} body decodes to more than {size(limit)}")
        self.coding = coding
        self.limit = limit


def undo_coding(body: bytes, coding: str, limit: int) -> bytes:
    """``body`` without one content coding (gzip or deflate); at most ``limit`` bytes
    come out (:class:`BodyTooLarge` past them), so a small bomb costs little memory."""
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise UndecodableBody(f"a {coding}-encoded body, which the proxy cannot read")
    out = bytearray()
    try:
        while body:  # gzip may hold several members, one after another
            inflater = zlib.decompressobj(_ZLIB if coding == "deflate" else _GZIP)
            out += inflater.decompress(body, limit + 1 - len(out))  # the cap, plus one
            if len(out) > limit or inflater.unconsumed_tail:
                raise BodyTooLarge(coding, limit)
            if not inflater.eof:
                raise UndecodableBody(f"a {coding} body cut short")
            body = inflater.unused_data if coding != "deflate" else b""
    except zlib.error as error:
        raise UndecodableBody(f"a corrupt {coding} body ({error})") from None
    return bytes(out)


def decoded(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body without its content codings (gzip, deflate or identity), decoded to at
    most ``limit`` bytes (:class:`BodyTooLarge` past them)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):  # the last coding applied is undone first
        if coding != "identity":
            body = undo_coding(body, coding, limit)
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

    def response_json_bytes(self, limit: int) -> bytes:
        """The answer's body without its content coding (at most ``limit`` bytes of it)."""
        coding = header(self.response_headers, "content-encoding")
        return decoded(self.response_body, coding, limit)

    def request_body_bytes(self, limit: int) -> bytes:
        """The request's body without its content coding (at most ``limit`` bytes of it)."""
        coding = header(self.request_headers, "content-encoding")
        return decoded(self.request_body, coding, limit)
