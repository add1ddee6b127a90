"""The ASGI app factory: routes to handlers, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from kakaclo_client.models import ErrorCode
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from kakaclo_sandbox.clock import Now
from kakaclo_sandbox.data import Dataset
from kakaclo_sandbox.domain.refunds import RefundRules
from kakaclo_sandbox.service.settlement import settle_forever
from kakaclo_sandbox.settings import Settings
from kakaclo_sandbox.storage.interface import DatabaseGone, DatabaseUnavailable
from kakaclo_sandbox.web import console, control, docs, handlers
from kakaclo_sandbox.web.accesslog import AccessLog
from kakaclo_sandbox.web.failures import ForcedFailures
from kakaclo_sandbox.web.guard import ControlGuard
from kakaclo_sandbox.web.operations import (
    Operations,
    api_error_answer,
    client_gone_answer,
    database_gone_answer,
    database_unavailable_answer,
)
from kakaclo_sandbox.web.responses import OrjsonResponse
from kakaclo_sandbox.web.state import Sandbox
from kakaclo_spec.errors import ApiError, error_body

log = logging.getLogger("kakaclo_sandbox")


async def _api_error(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, ApiError)
    return api_error_answer(exc)


ROUTER_CODES = {404: ErrorCode.UNKNOWN_PATH, 405: ErrorCode.METHOD_NOT_ALLOWED}
# GET / names the docs with a relative link: no answer builds a URL from Host.
ROOT_HINT = (
    "no API operation at /; the operations are under /openapi/openapi/v2/, the docs at /docs"
)


async def _root(request: Request) -> Response:
    # A browser is sent to the docs; an API client gets the envelope naming them.
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/docs", status_code=307)
    return OrjsonResponse(
        error_body(ErrorCode.UNKNOWN_PATH, ROOT_HINT),
        404,
        headers={"Link": '</docs>; rel="help"'},
    )


async def _client_gone(request: Request, exc: Exception) -> Response:
    return client_gone_answer(request)


async def _database_gone(request: Request, exc: Exception) -> OrjsonResponse:
    # A control call after the database file went: the API's 503, no traceback.
    assert isinstance(exc, DatabaseGone)
    return database_gone_answer(exc)


async def _database_unavailable(request: Request, exc: Exception) -> OrjsonResponse:
    # A control call while the database server cannot be reached: the API's 503.
    assert isinstance(exc, DatabaseUnavailable)
    return database_unavailable_answer(exc)


async def _http_error(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, HTTPException)
    # Paths and methods the API does not have: not an operation, still the envelope.
    code = ROUTER_CODES.get(exc.status_code, exc.status_code * 100)
    return OrjsonResponse(error_body(code, exc.detail), exc.status_code, headers=exc.headers)


def _handler(operation_id: str) -> Callable[[Request], Awaitable[Response]]:
    """The handler of an operation: ``handlers.<operationId in snake case>``."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
    return functools.partial(getattr(handlers, name), operation_id=operation_id)


class SandboxApp(Starlette):
    """Starlette, with the API's own middleware in front of its error middleware.

    Starlette puts ``add_middleware`` middleware inside its
    ``ServerErrorMiddleware``, which wraps every answer's messages on their way
    out. The API's operations need none of it (:class:`Operations` answers
    their errors itself), so ``api_middleware`` runs first, outermost first,
    and only what it passes on meets Starlette's stack.
    """

    def __init__(self, *, api_middleware: Sequence[Middleware], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_middleware = list(api_middleware)

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack, inside the API's middleware."""
        app = super().build_middleware_stack()
        for cls, args, options in reversed(self.api_middleware):
            app = cls(app, *args, **options)
        return app


def create_app(
    settings: Settings | None = None,
    *,
    clock: Now | None = None,
    rules: RefundRules | None = None,
    dataset: Dataset | None = None,
    **overrides: object,
) -> Starlette:
    """Build a sandbox app.

    ``overrides`` are Settings fields; ``clock`` returns epoch seconds (the
    sandbox's clock runs from it); ``rules`` decides refunds (default: the
    vendor's rules, :class:`~kakaclo_sandbox.domain.refunds.RefundRules`);
    ``dataset``: the data file's content, read already (default: read from
    ``settings.data``).
    """
    settings = settings or Settings()
    if overrides:
        settings = dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]
    sandbox = Sandbox(settings, clock, rules or RefundRules(), dataset)
    sandbox.feeds.compute = functools.partial(console.feed_state, sandbox)

    # The operations are answered by the Operations middleware (web/operations.py).
    # Their routes here serve what it passes on: HEAD of a GET operation, and the
    # 405 of a method the path does not have.
    spec = sandbox.spec
    operation_handlers = {
        operation_id: _handler(operation_id) for operation_id in spec.operation_ids
    }
    routes = [
        Route(
            spec.server_root + path, operation_handlers[operation["operationId"]], methods=[method]
        )
        for method, path, operation in spec.operations()
    ]
    routes += [
        Route("/", _root, methods=["GET"]),
        Route("/openapi.yaml", docs.spec_file, methods=["GET"]),
        Route("/docs", docs.docs_page, methods=["GET"]),
        Route("/docs/docs.css", docs.docs_css, methods=["GET"]),
    ]
    if settings.control:
        routes += [
            Route("/_sandbox/reset", control.reset, methods=["POST"]),
            Route("/_sandbox/clock/advance", control.advance_clock, methods=["POST"]),
            Route("/_sandbox/clock/freeze", control.freeze_clock, methods=["POST"]),
            Route("/_sandbox/clock/resume", control.resume_clock, methods=["POST"]),
            Route("/_sandbox/info", control.info, methods=["GET"]),
            Route("/_sandbox/orders", control.create_order, methods=["POST"]),
            Route("/_sandbox/failures", control.add_failures, methods=["POST"]),
            Route("/_sandbox/failures", control.list_failures, methods=["GET"]),
            Route("/_sandbox/failures", control.clear_failures, methods=["DELETE"]),
            Route("/_sandbox/events", console.events, methods=["GET"]),
            Route("/console", console.console_page, methods=["GET"]),
            Route("/console/{name}", console.console_asset, methods=["GET"]),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settler = asyncio.create_task(settle_forever(sandbox.settlement, sandbox.now))
        loop = asyncio.get_running_loop()

        def changed_elsewhere(merchant: str | None) -> None:
            # another process sharing the database changed it: this one's consoles redraw
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(sandbox.changes.changed, merchant)

        sandbox.store.on_change(changed_elsewhere)
        log.info("sandbox ready: db=%s settle-after=%ss", settings.db_shown, settings.settle_after)
        try:
            yield
        finally:
            settler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await settler
            # The store stays open (test clients may run the lifespan more than once);
            # what this loop holds of it (PostgreSQL's pool) is let go.
            await sandbox.release()

    api_middleware = [Middleware(AccessLog)]
    if settings.control:
        api_middleware.append(Middleware(ControlGuard, allowed_hosts=settings.allowed_hosts))
        api_middleware.append(
            Middleware(ForcedFailures, plan=sandbox.failures, spec=spec, take=sandbox.take_failure)
        )
    api_middleware.append(Middleware(Operations, spec=spec, handlers=operation_handlers))
    app = SandboxApp(
        api_middleware=api_middleware,
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            DatabaseGone: _database_gone,
            DatabaseUnavailable: _database_unavailable,
        },
    )
    # An unknown path answers 404 with the envelope, never a redirect to the
    # same path with or without its trailing slash.
    app.router.redirect_slashes = False
    app.state.sandbox = sandbox
    app.state.docs_html = docs.render_docs(sandbox.spec)
    return app
