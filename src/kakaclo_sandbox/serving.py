"""uvicorn's server for a sandbox app: ``kakaclo-sandbox``'s one process, or each of its
``--workers`` (:mod:`kakaclo_sandbox.workers`)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from kakaclo_sandbox.web.state import Sandbox

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# a worker's lines name its process: the pid GET /_sandbox/info answers with
WORKER_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"


def uvicorn_config(app: Any, log_level: str, **options: Any) -> uvicorn.Config:
    """The sandbox's uvicorn settings for ``app`` (an app, or a factory with
    ``factory=True`` in ``options``)."""
    return uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        access_log=False,  # our own access log never shows query strings or headers
        # Nothing here reads the client's address (limits go by token), so uvicorn's
        # X-Forwarded-For middleware would only cost time on every request.
        proxy_headers=False,
        log_level=log_level,
        lifespan="on",
        **options,
    )


class SandboxServer(uvicorn.Server):
    """uvicorn's server, ending the console's live feeds first when it stops (an open
    browser never holds the stop up), and stopping when the database file went.

    ``sandbox`` gives the running sandbox, or None while it is not built yet (a worker
    builds its app once it runs).
    """

    def __init__(self, config: uvicorn.Config, sandbox: Callable[[], Sandbox | None]) -> None:
        super().__init__(config)
        self._sandbox = sandbox

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Close the console's feeds, then uvicorn's shutdown."""
        sandbox = self._sandbox()
        if sandbox is not None:
            sandbox.changes.close()
        await super().shutdown(sockets=sockets)

    async def on_tick(self, counter: int) -> bool:
        """Stop once the database file was removed or replaced under us (the store logged it)."""
        sandbox = self._sandbox()
        if sandbox is not None and not sandbox.store.still_there():
            self.should_exit = True
        return await super().on_tick(counter)
