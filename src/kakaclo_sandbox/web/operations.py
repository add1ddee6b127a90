"""The API's operations, routed from the spec's paths straight to their handlers.

Every request under the spec's server root meets this middleware first. One
that is an operation of the spec (method and path) goes to its handler, and an
:class:`ApiError` it raises becomes the envelope answer here. Anything else,
including a spec path asked with a method it does not have (405) and every
path the spec does not have (404), passes on to the Starlette app: docs,
control surface, console and the router's own refusals.

Why not a Starlette ``Route`` per operation: the router, its exception
middleware and the per-route wrappers cost as much as validating a request,
on every call of the API. The operations are the sandbox's hot path, so this
middleware also sits in front of Starlette's error middleware
(:class:`~kakaclo_sandbox.web.app.SandboxApp`) and answers a handler's
unexpected error itself, with the spec's 500 envelope.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from kakaclo_client.models import ErrorCode
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from kakaclo_sandbox.storage.interface import DatabaseGone, DatabaseUnavailable
from kakaclo_sandbox.web.responses import OrjsonResponse
from kakaclo_spec import Spec
from kakaclo_spec.errors import ApiError, error_body

log = logging.getLogger("kakaclo_sandbox")

# An unreachable database is logged once per this many seconds, however many requests
# it turns away (one line, not one per request).
UNAVAILABLE_LOG_EVERY = 10.0
_unavailable_logged = -UNAVAILABLE_LOG_EVERY

Handler = Callable[[Request], Awaitable[Response]]


def api_error_answer(error: ApiError) -> OrjsonResponse:
    """The envelope answer of an :class:`ApiError`."""
    return OrjsonResponse(
        error_body(error.code, error.message), error.status, headers=error.headers
    )


def server_error_answer() -> OrjsonResponse:
    """What an operation whose handler failed unexpectedly answers: the spec's 500."""
    return OrjsonResponse(
        error_body(ErrorCode.SERVER_ERROR, "internal server error; the sandbox's log says why"),
        500,
    )


def database_gone_answer(error: DatabaseGone) -> OrjsonResponse:
    """What an operation answers once the database file was removed or replaced under
    the sandbox: the spec's 503, nothing carried out (the command stops itself)."""
    message = "the sandbox's database file was removed or replaced; the sandbox is stopping"
    return OrjsonResponse(error_body(ErrorCode.SERVICE_UNAVAILABLE, message), 503)


def database_unavailable_answer(error: DatabaseUnavailable) -> OrjsonResponse:
    """What an operation answers while the database server cannot be reached: the spec's
    503 with ``Retry-After``, nothing carried out; the sandbox goes on."""
    global _unavailable_logged
    now = time.monotonic()
    if now - _unavailable_logged >= UNAVAILABLE_LOG_EVERY:
        _unavailable_logged = now
        log.warning("%s (answering 503 while it lasts)", error)
    return OrjsonResponse(
        error_body(ErrorCode.SERVICE_UNAVAILABLE, f"{error}; retry after {error.retry_after} s"),
        503,
        headers={"Retry-After": str(error.retry_after)},
    )


def client_gone_answer(request: Request) -> Response:
    """What a request whose client hung up mid-body gets: nothing was read into a
    refund, nothing is written, and nobody is left to read the answer."""
    log.info(
        "%s %s: the client disconnected before its body ended", request.method, request.url.path
    )
    return Response(status_code=400)


class Operations:
    """ASGI middleware: the spec's operations to their handlers, the rest to ``app``."""

    def __init__(self, app: ASGIApp, spec: Spec, handlers: Mapping[str, Handler]) -> None:
        self.app = app
        self.spec = spec
        self.handlers = dict(handlers)
        self.root = spec.server_root
        self.prefix = self.root + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer an operation of the spec, or pass the request on."""
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.startswith(self.prefix):
                found = self.spec.match(scope["method"], path[len(self.root) :])
                if found is not None:
                    operation_id, path_params = found
                    scope["path_params"] = path_params
                    await self._answer(self.handlers[operation_id], scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(handler: Handler, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except ApiError as error:
            response = api_error_answer(error)
        except ClientDisconnect:
            response = client_gone_answer(request)
        except DatabaseGone as error:
            response = database_gone_answer(error)
        except DatabaseUnavailable as error:
            response = database_unavailable_answer(error)
        except Exception:
            # Nothing was sent yet: answer the spec's envelope, then let the server
            # log the error (and a test client raise it), as Starlette's own 500 does.
            await server_error_answer()(scope, receive, send)
            raise
        await response(scope, receive, send)
