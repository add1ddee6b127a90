"""The control surface refuses cross-site requests (CSRF and DNS rebinding).

Any web page a user opens can send ``POST /_sandbox/reset`` to a sandbox on
their machine: a ``text/plain`` POST is a "simple" request a browser sends
cross-origin without asking, and a page whose name is rebound to 127.0.0.1 is
even same-origin. So every request to ``/_sandbox/`` and ``/console``:

- names an allowed ``Host`` (``Settings.allowed_hosts``: the command's listen
  address, ``localhost`` and each ``--allowed-host``; the port is not
  compared), else 400 ``SCHEMA_VIOLATION`` (40002) naming the header;
- carries no ``Origin``, or the origin of that very ``Host`` (``http`` or
  ``https``), else 400 ``SCHEMA_VIOLATION`` (40002);
- and a ``POST`` says ``Content-Type: application/json``, a body-less one too
  (a browser cannot send that cross-origin without a CORS preflight, which the
  sandbox never grants), else 400 ``UNSUPPORTED_CONTENT_TYPE`` (40003).

Nothing is carried out for a refused request. The API's operations are not
guarded here: they need the merchant's bearer token.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from kakaclo_client.models import ErrorCode
from starlette.types import ASGIApp, Receive, Scope, Send

from kakaclo_sandbox.web.responses import OrjsonResponse
from kakaclo_spec.errors import error_body

GUARDED = ("/_sandbox/", "/console")


# A Host value: a name or IPv4 address, or an IPv6 address in brackets, and an optional
# port (RFC 9110 7.2). Anything else (userinfo, a path, spaces) names no allowed host.
_NAME = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
_IP6 = r"[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*"  # two colons at least: never name:port
_HOST = re.compile(rf"(?:(?P<name>{_NAME})|\[(?P<ip6>{_IP6})\])(?::[0-9]*)?")
_ALLOWED = re.compile(rf"{_NAME}|{_IP6}")


def host_name(host: str) -> str:
    """The name of a ``Host`` value without its port (``[::1]:8080`` → ``::1``), lowercase;
    "" for a value that is not a host and an optional port (``a:1@evil.test``)."""
    found = _HOST.fullmatch(host.strip().lower())
    if found is None:
        return ""
    return found["ip6"] or found["name"]


def valid_name(name: str) -> bool:
    """True for a host name or address ``--allowed-host`` may name: letters, digits, dots
    and hyphens, or an IPv6 address (bracketed or not); no port, no wildcard."""
    return len(name) <= 253 and _ALLOWED.fullmatch(bare_name(name)) is not None


def bare_name(name: str) -> str:
    """An allowed name as :func:`host_name` gives it: lowercase, an IPv6 address unbracketed."""
    bare = name.strip().lower()
    return bare[1:-1] if bare.startswith("[") and bare.endswith("]") else bare


class ControlGuard:
    """ASGI middleware: refuse a control request with a foreign Host or Origin, or a POST
    that is not ``application/json``."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...] | None) -> None:
        self.app = app
        # None: any Host (an app served by its builder, who chose where it listens)
        self.allowed = None if allowed_hosts is None else {bare_name(h) for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer why it is refused."""
        if scope["type"] == "http" and scope["path"].startswith(GUARDED):
            refused = self.refusal(scope)
            if refused is not None:
                status, code, message = refused
                await OrjsonResponse(error_body(code, message), status)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, ErrorCode, str] | None:
        """Why the request is refused (status, code, message), or None."""
        headers: dict[bytes, list[bytes]] = {}
        for name, value in scope["headers"]:
            if name in (b"host", b"origin", b"content-type"):
                headers.setdefault(name, []).append(value)
        hosts = headers.get(b"host", [])
        host = hosts[0].decode("latin-1") if len(hosts) == 1 else ""
        if self.allowed is not None and host_name(host) not in self.allowed:
            shown = host[:80] if len(hosts) == 1 else f"{len(hosts)} Host headers"
            allowed = ", ".join(sorted(self.allowed))
            return (
                400,
                ErrorCode.SCHEMA_VIOLATION,
                f"header Host: {shown!r} is not a name this sandbox answers its control "
                f"surface under ({allowed}; kakaclo-sandbox --allowed-host adds one)",
            )
        for origin in headers.get(b"origin", []):
            text = origin.decode("latin-1")
            parts = urlsplit(text)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
                return (
                    400,
                    ErrorCode.SCHEMA_VIOLATION,
                    f"header Origin: {text[:80]!r} is another site; the control surface "
                    "answers only its own pages and clients that send no Origin",
                )
        if scope["method"] == "POST":
            types = headers.get(b"content-type", [])
            media = types[0].decode("latin-1").split(";", 1)[0].strip().lower() if types else ""
            if len(types) != 1 or media != "application/json":
                shown = types[0].decode("latin-1")[:80] if types else "no Content-Type"
                return (
                    400,
                    ErrorCode.UNSUPPORTED_CONTENT_TYPE,
                    f"a control POST must say Content-Type: application/json (a body-less one "
                    f"too), got {shown}",
                )
        return None
