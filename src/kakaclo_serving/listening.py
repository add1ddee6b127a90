"""The listening socket of a server command: bound first, listening once the server is ready."""

from __future__ import annotations

import socket

BACKLOG = 2048  # uvicorn's own default


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, not yet listening: the port is claimed, and a
    client's connection is refused (never left waiting) until :func:`start_listening`.

    ``OSError`` with one readable line when the port is taken or the host is wrong.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock


def start_listening(sock: socket.socket) -> socket.socket:
    """Let connections queue on a socket from :func:`bind` (``OSError``: one line)."""
    try:
        sock.listen(BACKLOG)
    except OSError as error:
        host, port = sock.getsockname()[:2]
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    return sock


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening (connections queue from now on).

    ``OSError`` with one readable line when the port is taken or the host is wrong.
    """
    return start_listening(bind(host, port))
