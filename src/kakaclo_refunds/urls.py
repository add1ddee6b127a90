"""Base URLs: checked once, at the start, and never shown with their password.

:func:`base_url_problem` says why a base URL cannot be used (another scheme,
no host, a malformed IPv6 address, a port out of range, a space or a control
character), so that a command refuses it in one line before any request,
instead of retrying it as a network failure or raising a traceback. A URL
with ``user:password@`` is refused too: httpx would send it as Basic auth in
place of the bearer token, and the password would end up in logs and reports.
:func:`masked_url` is how a refused URL is shown: its password as ``***``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

MASK = "***"
# scheme://, the authority (up to the first / ? #), the rest: what urlsplit reads,
# without its checks, so that a URL it refuses is still masked
_AUTHORITY = re.compile(r"(?s)([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)(.*)")
_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f-\x9f]")


def masked_url(url: str) -> str:
    """``url`` with the password of its ``user:password@`` replaced by ``***``."""
    found = _AUTHORITY.fullmatch(url)
    if found is None:
        return url
    scheme, authority, rest = found.groups()
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{user}:{MASK}@{host}{rest}"


def base_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an API base URL (one phrase), or None when it can."""
    if _UNPRINTABLE.search(url):
        return "it holds a space or a control character"
    try:
        split = urlsplit(url)
        split.port  # noqa: B018 - reading it checks the port (ValueError when out of range)
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as error:
        return f"it is not a valid URL ({error})"
    if split.scheme not in ("http", "https") or not split.hostname:
        return "it is not an http:// or https:// URL with a host"
    if split.username is not None or split.password is not None:
        # httpx would send them as Basic auth in place of the merchant's bearer token
        return "it carries user:password@, which the API does not take (it takes the bearer token)"
    return None
