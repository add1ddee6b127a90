"""The one redaction rule of the proxy's outputs: the HAR, findings, stderr and its 502s.

A value is a secret when the name that carries it says so: a credential header
(``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``X-Api-Key``...), a query
parameter or a JSON field whose name holds a credential word (``access_token``,
``token``, ``api_key``, ``password``, ``secret``...), or the password of the
upstream URL. Each secret becomes ``redacted-<digest>`` (an HMAC under a key made
for this run and then forgotten: the same secret gets the same digest, so two
merchants stay apart on replay, and the digest reveals neither). Once seen, a
secret is also masked wherever else it appears, in the forms it travels in:
as is, percent-encoded (either hex case, ``+`` or ``%20`` for a space), in base64,
and inside a Basic credential (``user:password``, and the password alone).

A body is read before it is masked (:func:`readable`): its content coding undone
(gzip, deflate; at most the proxy's answer cap of text) and its charset read (the
declared one, a byte order mark, UTF-8, UTF-16, else Latin-1), so a secret in a
compressed or non-UTF-8 body is found too. Such a body, once masked, is written
encoded again as it came; one the proxy cannot read (``br``, corrupt, over the cap)
is not written at all.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import gzip
import hashlib
import hmac
import json
import re
import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit

from kakaclo_proxy.exchange import Exchange, Headers, UndecodableBody, header, undo_coding
from kakaclo_proxy.upstream import DEFAULT_MAX_BODY

# Headers that carry nothing but a credential, whatever their name's words.
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
        "x-csrf-token",
        "x-amz-security-token",
    }
)
# A header, query parameter or JSON field whose name (lower case, ``-`` as ``_``)
# holds one of these words carries a secret.
SECRET_WORDS = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api_key",
    "signature",
    "credential",
    "session",
    "private_key",
    "client_secret",
)
SECRET_NAMES = frozenset({"key", "sig", "pwd", "pass", "auth", "code"})  # exact names only
SCHEMES = ("bearer", "basic", "token", "digest", "apikey")
MIN_SECRET = 6  # shorter values are not searched for elsewhere (they would match by chance)
# Every JSON string in order (so a string inside a value is never read as a key), with
# the string value that follows when it is a member's name.
_JSON_STRING = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*")(?:(?P<colon>\s*:\s*)(?P<value>"(?:[^"\\]|\\.)*"))?'
)
_HEX = re.compile(r"%[0-9A-F]{2}")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def secret_name(name: str) -> bool:
    """Whether a header, query parameter or JSON field of this name carries a secret."""
    lowered = name.lower().replace("-", "_")
    return lowered in SECRET_NAMES or any(word in lowered for word in SECRET_WORDS)


def _forms(secret: str) -> Iterator[str]:
    """The forms a secret travels in: as is, percent-encoded, and base64."""
    yield secret
    for encoded in (quote(secret, safe=""), quote_plus(secret, safe=""), quote(secret)):
        yield encoded
        yield _HEX.sub(lambda hit: hit.group().lower(), encoded)
    raw = secret.encode()
    yield base64.b64encode(raw).decode().rstrip("=")
    yield base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Unreadable(ValueError):
    """A body whose text the proxy cannot read, so cannot search for secrets."""


@dataclass(frozen=True)
class Readable:
    """A body's text, and how it was carried: its content codings and its charset."""

    text: str
    codings: tuple[str, ...]  # as applied, first to last
    charset: str

    def carried(self, text: str) -> bytes:
        """``text`` (the body masked) carried as the body was: same charset, same codings."""
        body = text.encode(self.charset)
        for coding in self.codings:
            body = gzip.compress(body, mtime=0) if "gzip" in coding else zlib.compress(body)
        return body


def readable(body: bytes, headers: Headers, limit: int = DEFAULT_MAX_BODY) -> Readable:
    """A body's text: its content codings undone (at most ``limit`` bytes come out) and its
    charset read; :class:`Unreadable` when that cannot be done."""
    codings = tuple(
        c.strip().lower()
        for c in (header(headers, "content-encoding") or "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    )
    for coding in reversed(codings):  # the last coding applied is undone first
        body = _undone(body, coding, limit)
    text, charset = _text(body, header(headers, "content-type"))
    return Readable(text, codings, charset)


def _undone(body: bytes, coding: str, limit: int) -> bytes:
    try:
        return undo_coding(body, coding, limit)
    except UndecodableBody as why:
        raise Unreadable(str(why)) from None


def _text(body: bytes, content_type: str | None) -> tuple[str, str]:
    """The body's text and charset: a byte order mark's, the declared one, UTF-8, UTF-16
    (JSON without a mark: a zero byte in its first two), else Latin-1 (any bytes read)."""
    candidates = [charset for mark, charset in _BOMS if body.startswith(mark)][:1]
    declared = _CHARSET.search(content_type or "")
    candidates += [declared.group(1)] if declared else []
    candidates.append("utf-8")
    if b"\x00" in body[:2] and len(body) % 2 == 0:
        candidates.append("utf-16-be" if body[:1] == b"\x00" else "utf-16-le")
    for charset in candidates:
        try:
            return body.decode(charset), codecs.lookup(charset).name
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("latin-1"), "latin-1"


class Redactor:
    """Replaces secrets by a keyed digest, the same digest for the same secret."""

    def __init__(self, upstream: str | None = None) -> None:
        self._key = secrets.token_bytes(32)
        self._seen: dict[str, str] = {}  # every form of every secret -> its mask
        self._pattern: re.Pattern[str] | None = None
        if upstream:
            split = urlsplit(upstream)
            if split.password:
                self.mask(unquote_plus(split.password))
                self.mask(f"{split.username or ''}:{unquote_plus(split.password)}")

    def mask(self, secret: str) -> str:
        """``redacted-<digest>`` for one secret (remembered in all its forms, to mask
        it wherever else it appears)."""
        masked = self._seen.get(secret)
        if masked is not None:
            return masked
        digest = hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()[:12]
        masked = f"redacted-{digest}"  # URL-safe: it may replace a query value
        if len(secret) >= MIN_SECRET:
            for form in _forms(secret):
                self._remember(form, masked)
        return masked

    def _remember(self, form: str, masked: str) -> None:
        if len(form) >= MIN_SECRET and form not in self._seen:
            self._seen[form] = masked
            self._pattern = None

    def scrub(self, text: str) -> str:
        """``text`` with every secret seen so far masked, in every form."""
        if not self._seen:
            return text
        if self._pattern is None:  # longest first: a secret that holds another is masked whole
            forms = sorted(self._seen, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in forms))
        return self._pattern.sub(lambda hit: self._seen[hit.group()], text)

    def header(self, name: str, value: str) -> str:
        """A header's value as it may be written."""
        if name.lower() not in SECRET_HEADERS and not secret_name(name):
            return self.scrub(value)
        scheme, _, credentials = value.strip().partition(" ")
        credentials = credentials.strip()
        if not credentials or scheme.lower() not in SCHEMES:
            return self.mask(value)
        if scheme.lower() == "basic":
            self._basic(credentials)
        return f"{scheme} {self.mask(credentials)}"

    def _basic(self, credentials: str) -> None:
        """Remember a Basic credential's ``user:password`` and its password alone."""
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return
        _, colon, password = decoded.partition(":")
        if colon:
            self.mask(decoded)
            self.mask(password)

    def headers(self, headers: Headers) -> Headers:
        """Every header with its value as it may be written."""
        return [(name, self.header(name, value)) for name, value in headers]

    def query(self, query: str) -> str:
        """A query string as sent (its encoding kept), secret parameters masked."""
        if not query:
            return query
        parts = []
        for part in query.split("&"):
            name, equals, value = part.partition("=")
            if equals and value and secret_name(unquote_plus(name)):
                parts.append(f"{name}={self.mask(unquote_plus(value))}")
            else:
                parts.append(part)
        return self.scrub("&".join(parts))

    def target(self, target: str) -> str:
        """A request target (path and query) as it may be written."""
        path, question, query = target.partition("?")
        return self.scrub(path) + (question + self.query(query) if question else "")

    def url(self, url: str) -> str:
        """A URL with its password and secret query parameters masked."""
        split = urlsplit(url)
        netloc = split.netloc
        if split.password is not None:
            user, _, host = netloc.rpartition("@")
            name = user.partition(":")[0]
            netloc = f"{name}:{self.mask(unquote_plus(split.password))}@{host}"
        query = self.query(split.query)
        return (
            f"{split.scheme}://{netloc}{self.scrub(split.path)}"
            + (f"?{query}" if query else "")
            + (f"#{split.fragment}" if split.fragment else "")
        )

    def body(self, text: str, content_type: str | None) -> str:
        """A text body with its credential fields masked (JSON members and form fields
        named like secrets, at any depth) and every known secret scrubbed."""
        kind = (content_type or "").lower()
        if "x-www-form-urlencoded" in kind:
            return self.query(text)
        if "json" in kind:
            text = _JSON_STRING.sub(self._member, text)
        return self.scrub(text)

    def _member(self, hit: re.Match[str]) -> str:
        value = hit.group("value")
        if value is None or not secret_name(_json_text(hit.group("key"))):
            return hit.group()
        masked = self.mask(_json_text(value))
        self._remember(value[1:-1], masked)  # as the JSON text writes it, escapes and all
        return f'{hit.group("key")}{hit.group("colon")}"{masked}"'

    def learn(self, exchange: Exchange) -> None:
        """Remember the secrets of an exchange's headers and query, to mask them elsewhere."""
        for name, value in (*exchange.request_headers, *exchange.response_headers):
            if name.lower() in SECRET_HEADERS or secret_name(name):
                self.header(name, value)
        self.query(exchange.query)
        for body, headers in (
            (exchange.request_body, exchange.request_headers),
            (exchange.response_body, exchange.response_headers),
        ):
            try:
                self.body(readable(body, headers).text, header(headers, "content-type"))
            except Unreadable:
                continue  # a body the proxy cannot read is never written either

    def merchant(self, headers: Headers) -> str:
        """Who sent a request: its masked Authorization (the same for the same token)."""
        value = header(headers, "authorization")
        return self.header("authorization", value) if value else ""


def _json_text(literal: str) -> str:
    """The text of a JSON string literal (its quotes included)."""
    try:
        text = json.loads(literal)
    except ValueError:
        return literal[1:-1]
    return text if isinstance(text, str) else literal[1:-1]
