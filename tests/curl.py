"""Send the request a curl command line describes (the README's and the vendor's examples)."""

from __future__ import annotations

import shlex

import httpx


def send_curl(command: str) -> httpx.Response:
    """Parse ``curl -d BODY -X METHOD URL -H HEADER ...`` with shlex and send it with httpx.

    Parsing rather than running curl keeps the tests independent of a curl
    binary while sending the same method, URL, headers and body byte for byte.
    """
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
    return httpx.request(method, url, content=body, headers=headers)
