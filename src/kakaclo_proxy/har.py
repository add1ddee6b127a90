"""HAR 1.2 recordings of the proxy's exchanges, with every secret redacted, and their reader.

Entries are appended as they happen, each flushed, so a crash loses none: the
file then lacks only its closing brackets, and :func:`read_har` accepts it.
Bodies are kept as the wire carried them (base64 when they are compressed or
not UTF-8); one that held a secret is masked in its text and then encoded again
as it came, and one whose text the proxy cannot read (a ``br`` coding, a corrupt
or over-large one) is left out, with a ``comment`` saying why. Every secret is
masked by the proxy's one rule
(:mod:`kakaclo_proxy.redaction`): credential headers, query parameters and
JSON or form fields, the upstream URL's password, and any later occurrence of
one of them elsewhere, in its encoded forms too.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from kakaclo_proxy.exchange import CUT_BY, Cut, Exchange, Headers, header, size
from kakaclo_proxy.redaction import Redactor, Unreadable, readable

CLOSING = "\n]}}\n"


class HarRecorder:
    """Appends exchanges to a HAR 1.2 file as they happen."""

    def __init__(self, path: Path, upstream: str, version: str, redactor: Redactor) -> None:
        self.path = path
        self.redactor = redactor
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("w", encoding="utf-8")
        head = {
            "version": "1.2",
            "creator": {"name": "kakaclo-sandbox proxy", "version": version},
            "_upstream": redactor.url(upstream),
        }
        self._file.write(json.dumps({"log": head})[:-2] + ', "entries": [\n')
        self._file.flush()
        split = urlsplit(redactor.url(upstream))
        self._origin = f"{split.scheme}://{split.netloc.rpartition('@')[2]}"  # no user info
        self._count = 0

    def record(self, exchange: Exchange) -> None:
        """Append one exchange (flushed)."""
        entry = self._entry(exchange)
        self._file.write(
            ("" if self._count == 0 else ",\n") + json.dumps(entry, ensure_ascii=False)
        )
        self._file.flush()
        self._count += 1

    def close(self) -> None:
        """Close the entries and the file: a complete HAR document."""
        if not self._file.closed:
            self._file.write(CLOSING)
            self._file.close()

    def _entry(self, exchange: Exchange) -> dict[str, Any]:
        r = self.redactor
        # every secret of the exchange is learnt before anything that may repeat it is written
        request_headers = _headers(exchange.request_headers, r)
        response_headers = _headers(exchange.response_headers, r)
        query = r.query(exchange.query)
        request: dict[str, Any] = {
            "method": exchange.method,
            "url": "",
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": request_headers,
            "queryString": [],
            "headersSize": -1,
            "bodySize": len(exchange.request_body),
        }
        if exchange.request_body:
            text, encoding, comment = _body(exchange.request_body, exchange.request_headers, r)
            request["postData"] = {
                "mimeType": header(exchange.request_headers, "content-type") or "",
                "text": text,
                **({"_encoding": encoding} if encoding else {}),
                **({"comment": comment} if comment else {}),
            }
        text, encoding, comment = _body(exchange.response_body, exchange.response_headers, r)
        content: dict[str, Any] = {
            "size": len(exchange.response_body),
            "mimeType": header(exchange.response_headers, "content-type") or "",
            "text": text,
        }
        if encoding:
            content["encoding"] = encoding
        if comment:
            content["comment"] = comment
        if exchange.cut is not None:  # the text is only the answer's start
            content["_cut"] = {"by": exchange.cut.by, "reason": r.scrub(exchange.cut.reason)}
        query = r.scrub(query)
        request["url"] = f"{self._origin}{r.scrub(exchange.path)}" + (f"?{query}" if query else "")
        request["queryString"] = [
            {"name": n, "value": v} for n, v in parse_qsl(query, keep_blank_values=True)
        ]
        milliseconds = round(exchange.duration * 1000, 3)
        return {
            "startedDateTime": datetime.fromtimestamp(exchange.started, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "time": milliseconds,
            "request": request,
            "response": {
                "status": exchange.status,
                "statusText": "",
                "httpVersion": "HTTP/1.1",
                "cookies": [],
                "headers": response_headers,
                "content": content,
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": len(exchange.response_body),
            },
            "cache": {},
            "timings": {"send": 0, "wait": milliseconds, "receive": 0},
            "_answeredBy": exchange.answered_by,
            "_rawBodies": True,
        }


def _headers(headers: Headers, redactor: Redactor) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in redactor.headers(headers)]


def _body(body: bytes, headers: Headers, redactor: Redactor) -> tuple[str, str | None, str | None]:
    """The body as HAR text, its encoding and a comment: UTF-8 text with its secrets masked;
    else base64 of the bytes as they came, or, when they held a secret, of the masked text
    encoded as they were; or nothing, when the proxy cannot read the body to mask it."""
    content_type = header(headers, "content-type")
    if not header(headers, "content-encoding"):
        try:
            return redactor.body(body.decode("utf-8"), content_type), None, None
        except UnicodeDecodeError:
            pass
    try:
        read = readable(body, headers)
    except Unreadable as why:
        return "", None, f"body left out: {why} (it may hold a secret)"
    masked = redactor.body(read.text, content_type)
    if masked == read.text:
        return base64.b64encode(body).decode("ascii"), "base64", None
    carried = read.carried(masked)
    how = ", ".join((*read.codings, read.charset))
    return base64.b64encode(carried).decode("ascii"), "base64", f"secrets masked ({how})"


# The most a recording may hold. It is parsed whole, in memory (a few times its size
# once parsed), and the proxy records each body up to its 8 MiB cap, in base64: 256 MiB
# holds some twenty answers at the cap, or tens of thousands of ordinary exchanges (a
# few KiB each), and bounds what a replay reads of a huge file, a pipe or /dev/zero.
MAX_RECORDING = 256 * 1024 * 1024
_CHUNK = 1024 * 1024


class NotARecording(ValueError):
    """A file that is not a HAR recording."""


def read_har(path: Path, max_bytes: int = MAX_RECORDING) -> tuple[str | None, list[Exchange]]:
    """The upstream URL (when the proxy recorded it) and the exchanges of a HAR file.

    A recording cut short by a crash (no closing brackets) is read up to its
    last whole entry. One of more than ``max_bytes`` is refused, having read at
    most one byte more (a pipe, or ``/dev/zero``, is never read further).
    """
    text = _text(path, max_bytes)
    try:
        document = _parse(text)
    except NotARecording as error:
        raise NotARecording(f"{path} is not a HAR file: {error}") from None
    log = document.get("log") if isinstance(document, dict) else None
    if not isinstance(log, dict) or not isinstance(log.get("entries"), list):
        raise NotARecording(f"{path} is not a HAR file (no log.entries)")
    upstream = log.get("_upstream") if isinstance(log.get("_upstream"), str) else None
    exchanges = []
    for index, entry in enumerate(log["entries"]):
        try:
            exchanges.append(_exchange(entry, index))
        except (KeyError, TypeError, ValueError) as error:
            raise NotARecording(f"{path}: entry {index} is not a HAR entry ({error!r})") from None
    return upstream, exchanges


def _text(path: Path, max_bytes: int) -> str:
    """The UTF-8 text of ``path``; :class:`NotARecording` past ``max_bytes``."""
    chunks: list[bytes] = []
    held = 0
    try:
        with path.open("rb") as file:
            status = os.fstat(file.fileno())
            if stat.S_ISREG(status.st_mode) and status.st_size > max_bytes:
                held = status.st_size  # a file says its size: refused unread
            while held <= max_bytes:
                chunk = file.read(min(_CHUNK, max_bytes + 1 - held))
                if not chunk:
                    break
                chunks.append(chunk)
                held += len(chunk)
    except OSError as error:
        raise NotARecording(f"cannot read {path}: {error}") from None
    if held > max_bytes:
        raise NotARecording(
            f"{path} is larger than {size(max_bytes)}, the most a recording may hold"
        )
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotARecording(f"cannot read {path}: {error}") from None


def iter_entries(path: Path) -> Iterator[Exchange]:
    """The exchanges of a HAR file, in order."""
    yield from read_har(path)[1]


MAX_DEPTH = 64  # a recording nests about 6 deep; bodies are strings in it
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _too_deep(text: str) -> bool:
    """Whether ``text`` nests JSON arrays and objects deeper than :data:`MAX_DEPTH`."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _parse(text: str) -> Any:
    if _too_deep(text):
        raise NotARecording(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except ValueError:
        pass
    # cut short: drop a partial last entry, then close the brackets
    body = text.rstrip()
    for end in (len(body), body.rfind("}\n,") + 1, body.rfind("},\n") + 1):
        if end <= 0:
            continue
        try:
            return json.loads(body[:end].rstrip().rstrip(",") + CLOSING)
        except ValueError:
            continue
    raise NotARecording("not JSON, and not a recording cut short")


def _exchange(entry: dict[str, Any], index: int) -> Exchange:
    request, response = entry["request"], entry["response"]
    raw = bool(entry.get("_rawBodies"))
    url = urlsplit(request["url"])
    request_headers = [(h["name"], h["value"]) for h in request.get("headers", [])]
    response_headers = [(h["name"], h["value"]) for h in response.get("headers", [])]
    post = request.get("postData") or {}
    request_body = _bytes(post.get("text", ""), post.get("_encoding"))
    content = response.get("content") or {}
    response_body = _bytes(content.get("text", ""), content.get("encoding"))
    if not raw:  # other tools record bodies decoded: the coding header no longer applies
        response_headers = [(n, v) for n, v in response_headers if n.lower() != "content-encoding"]
    started = datetime.fromisoformat(entry["startedDateTime"].replace("Z", "+00:00"))
    return Exchange(
        method=request["method"].upper(),
        path=url.path or "/",
        query=url.query,
        request_headers=request_headers,
        request_body=request_body,
        status=int(response["status"]),
        response_headers=response_headers,
        response_body=response_body,
        started=started.timestamp(),
        duration=float(entry.get("time") or 0) / 1000,
        answered_by="proxy" if entry.get("_answeredBy") == "proxy" else "upstream",
        cut=_cut(content.get("_cut")),
        merchant=header(request_headers, "authorization") or "",
        index=index,
    )


def _cut(cut: Any) -> Cut | None:
    """Why a recorded answer is only its start (the proxy's ``_cut``), if it is."""
    if not isinstance(cut, dict) or cut.get("by") not in CUT_BY:
        return None
    return Cut(cut["by"], str(cut.get("reason", "")))


def _bytes(text: str, encoding: str | None) -> bytes:
    return base64.b64decode(text) if encoding == "base64" else text.encode("utf-8")
