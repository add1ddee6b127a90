"""Malicious HTTP answers for the fuzz tests: drawn whole (status, headers, body, framing) and
served by one raw asyncio server whose behaviour each example swaps."""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hypothesis import strategies as st

from tests.fuzz.strategies import RAW_NUMBERS, texts, values

VENDOR = Path(__file__).resolve().parents[1] / "fixtures" / "vendor"
Framing = Literal["length", "chunked", "short", "chunks-cut", "close"]
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many", 503: "Unavailable"}


@dataclass(frozen=True)
class Answer:
    """One answer as the wire carries it."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    framing: Framing

    def wire(self) -> bytes:
        """The bytes sent (the connection is closed after them unless the framing is whole)."""
        head = f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'X')}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in self.headers)
        body = self.body
        if self.framing == "length":
            head += f"Content-Length: {len(body)}\r\n"
        elif self.framing == "short":  # promises more than it sends
            head += f"Content-Length: {len(body) + 100}\r\n"
        elif self.framing in ("chunked", "chunks-cut"):
            head += "Transfer-Encoding: chunked\r\n"
            body = f"{len(body):x}\r\n".encode() + body + b"\r\n"
            body += b"0\r\n\r\n" if self.framing == "chunked" else b"5\r\nab"
        else:
            head += "Connection: close\r\n"
        return (head + "\r\n").encode("latin-1") + body

    @property
    def whole(self) -> bool:
        """Whether the framing ends the answer (the connection may stay open)."""
        return self.framing in ("length", "chunked")


def _vendor(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((VENDOR / name).read_text())
    return body


def _poisoned(document: Any, text: str) -> Any:
    """Every string of ``document`` replaced by ``text`` (keys kept)."""
    if isinstance(document, dict):
        return {key: _poisoned(value, text) for key, value in document.items()}
    if isinstance(document, list):
        return [_poisoned(value, text) for value in document]
    return text if isinstance(document, str) else document


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")


ORDERS, REFUNDS = _vendor("query-order-waiting-to-ship.json"), _vendor("query-refund.json")
ESCAPES = st.sampled_from(
    ["\x1b]0;owned\x07", "\x1b[2J\x1b[H", "\x9b31m", "\x1b[31mred", "a\rb\x08c\x7f", "\x85\u2028"]
)
DEPTHS = st.sampled_from([63, 64, 65, 1_000, 100_000])
BODIES = st.one_of(
    st.binary(max_size=300),
    (ESCAPES | texts(long=False)).map(lambda text: _json(_poisoned(ORDERS, text))),
    (ESCAPES | texts(long=False)).map(lambda text: _json(_poisoned(REFUNDS, text))),
    st.tuples(st.sampled_from([40001, 40101, 40400, 42901, 50301, 10000]), ESCAPES | texts()).map(
        lambda pair: _json({"code": pair[0], "message": pair[1], "data": None})
    ),
    DEPTHS.map(lambda d: b'{"code": 10000, "message": "ok", "data": ' + b"[" * d + b"]" * d + b"}"),
    st.sampled_from([*RAW_NUMBERS, "9" * 5_000]).map(
        lambda n: f'{{"code": {n}, "message": "ok", "data": {{"total": {n}, "list": []}}}}'.encode()
    ),
    values().map(_json),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json; charset=latin-1",
        "text/html",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "application/json; charset=\x1b[31m",
    ]
)


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    """A hostile answer: any status, content type, Retry-After, coding, body and framing."""
    status = draw(
        st.sampled_from([200, 200, 200, 400, 401, 404, 409, 429, 500, 502, 503])
        | st.integers(200, 599)
    )
    headers: list[tuple[str, str]] = []
    if draw(st.integers(0, 5)):
        headers.append(("Content-Type", draw(CONTENT_TYPES)))
    if draw(st.integers(0, 3)) == 0:
        headers.append(
            ("Retry-After", draw(st.sampled_from(["0", "1", "3600", "-1", "1e9", "x\x1b"])))
        )
    body = draw(BODIES)
    if draw(st.integers(0, 6)) == 0:
        coding = draw(st.sampled_from(["gzip", "br", "deflate"]))
        headers.append(("Content-Encoding", coding))
        body = gzip.compress(body, mtime=0) if coding == "gzip" and draw(st.booleans()) else body
    framing: Framing = draw(
        st.sampled_from(["length", "length", "length", "chunked", "short", "chunks-cut", "close"])
    )
    return Answer(status, tuple(headers), body, framing)


class Swappable:
    """A behaviour for ``tests.client.hostile.HostileServer`` that serves ``answer``."""

    def __init__(self) -> None:
        self.answer = Answer(200, (), b"{}", "length")

    async def __call__(self, writer: asyncio.StreamWriter) -> None:
        answer = self.answer
        writer.write(answer.wire())
        await writer.drain()
        if not answer.whole:
            writer.close()
