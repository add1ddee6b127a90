"""HAR 1.2 recordings of the proxy's exchanges, with every secret redacted, and their reader.

Entries are appended as they happen, each flushed, so a crash loses none: the
file then lacks only its closing brackets, and :func:`read_har` accepts it.
Bodies are kept as the wire carried them (base64 when they are compressed or
not UTF-8). ``Authorization`` and other credential headers, and query
parameters that look like secrets, are replaced by ``redacted-<digest>``;
the digest (HMAC with a key made for this recording and then forgotten) keeps
two merchants apart on replay without revealing either token. Any later
occurrence of a redacted value elsewhere (a body, a URL) is replaced too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from kakaclo_proxy.exchange import Exchange, Headers, header

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
    }
)
SECRET_WORDS = ("token", "secret", "password", "apikey", "api_key", "signature")
MIN_SECRET = 6  # shorter values are not searched for elsewhere (they would match by chance)
CLOSING = "\n]}}\n"


class Redactor:
    """Replaces secrets by a keyed digest, the same digest for the same secret."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._seen: dict[str, str] = {}

    def mask(self, secret: str) -> str:
        """``redacted-<digest>`` for one secret (remembered, to scrub it elsewhere)."""
        masked = self._seen.get(secret)
        if masked is None:
            digest = hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()[:12]
            masked = f"redacted-{digest}"  # URL-safe: it may replace a query value
            if len(secret) >= MIN_SECRET:
                self._seen[secret] = masked
                # longest first, so a token that contains another is masked whole
                self._seen = dict(sorted(self._seen.items(), key=lambda kv: -len(kv[0])))
        return masked

    def header(self, name: str, value: str) -> str:
        """A header's value as it may be recorded."""
        if name.lower() not in SECRET_HEADERS:
            return self.scrub(value)
        scheme, _, credentials = value.partition(" ")
        if credentials and scheme.lower() in ("bearer", "basic", "token", "digest"):
            return f"{scheme} {self.mask(credentials.strip())}"
        return self.mask(value)

    def query(self, query: str) -> str:
        """A query string with its secret-looking parameters masked."""
        if not query:
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        if not any(_secret_name(name) for name, _ in pairs):
            return self.scrub(query)
        return urlencode(
            [(n, self.mask(v) if _secret_name(n) else self.scrub(v)) for n, v in pairs]
        )

    def scrub(self, text: str) -> str:
        """``text`` with every secret seen so far masked."""
        for secret, masked in self._seen.items():
            if secret in text:
                text = text.replace(secret, masked)
        return text

    def merchant(self, headers: Headers) -> str:
        """Who sent a request: its masked Authorization (the same for the same token)."""
        value = header(headers, "authorization")
        return self.header("authorization", value) if value else ""


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


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
            "_upstream": upstream,
        }
        self._file.write(json.dumps({"log": head})[:-2] + ', "entries": [\n')
        self._file.flush()
        self._origin = upstream.rstrip("/")
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
        split = urlsplit(self._origin)
        query = r.query(exchange.query)
        url = f"{split.scheme}://{split.netloc}{r.scrub(exchange.path)}"
        url += f"?{query}" if query else ""
        request: dict[str, Any] = {
            "method": exchange.method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _headers(exchange.request_headers, r),
            "queryString": [
                {"name": n, "value": v} for n, v in parse_qsl(query, keep_blank_values=True)
            ],
            "headersSize": -1,
            "bodySize": len(exchange.request_body),
        }
        if exchange.request_body:
            text, encoding = _body(exchange.request_body, exchange.request_headers, r)
            request["postData"] = {
                "mimeType": header(exchange.request_headers, "content-type") or "",
                "text": text,
                **({"_encoding": encoding} if encoding else {}),
            }
        text, encoding = _body(exchange.response_body, exchange.response_headers, r)
        content: dict[str, Any] = {
            "size": len(exchange.response_body),
            "mimeType": header(exchange.response_headers, "content-type") or "",
            "text": text,
        }
        if encoding:
            content["encoding"] = encoding
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
                "headers": _headers(exchange.response_headers, r),
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
    return [{"name": name, "value": redactor.header(name, value)} for name, value in headers]


def _body(body: bytes, headers: Headers, redactor: Redactor) -> tuple[str, str | None]:
    """The body as HAR text: UTF-8 text (secrets scrubbed) or base64 when it is not text."""
    if not header(headers, "content-encoding"):
        try:
            return redactor.scrub(body.decode("utf-8")), None
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), "base64"


class NotARecording(ValueError):
    """A file that is not a HAR recording."""


def read_har(path: Path) -> tuple[str | None, list[Exchange]]:
    """The upstream URL (when the proxy recorded it) and the exchanges of a HAR file.

    A recording cut short by a crash (no closing brackets) is read up to its
    last whole entry.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NotARecording(f"cannot read {path}: {error}") from None
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


def iter_entries(path: Path) -> Iterator[Exchange]:
    """The exchanges of a HAR file, in order."""
    yield from read_har(path)[1]


def _parse(text: str) -> Any:
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
        merchant=header(request_headers, "authorization") or "",
        index=index,
    )


def _bytes(text: str, encoding: str | None) -> bytes:
    return base64.b64decode(text) if encoding == "base64" else text.encode("utf-8")
