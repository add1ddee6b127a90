"""Send the request a curl command line describes (the README's and the vendor's examples)."""

from __future__ import annotations

import shlex

import httpx


def parse_curl(command: str) -> tuple[str, str, bytes, dict[str, str]]:
    """``curl -d BODY -X METHOD URL -H HEADER ...`` parsed with shlex: method, URL, body,
    headers."""
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[0] == "curl", command
    method, url, body, headers = "GET", "", b"", {}
    words = iter(argv[1:])
    for word in words:
        if word == "-d":
            body, method = next(words).encode(), "POST"
        elif word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        else:
            url = word
    return method, url, body, headers


def send_curl(command: str, client: httpx.Client | None = None) -> httpx.Response:
    """Send the request a curl command describes, with httpx (or ``client``: in-process).

    Parsing rather than running curl keeps the tests independent of a curl
    binary while sending the same method, URL, headers and body byte for byte.
    """
    method, url, body, headers = parse_curl(command)
    if client is not None:
        return client.request(method, url, content=body, headers=headers)
    return httpx.request(method, url, content=body, headers=headers)
