"""Everything one running sandbox holds: settings, store, clock, compiled spec, limits.

The composition root: the one place that builds the store (SQLite for a file, PostgreSQL
for a ``postgresql://`` URL: :mod:`kakaclo_sandbox.database_url`) and hands it to the use
cases.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, MutableMapping
from typing import Any, TypeVar

from kakaclo_client.models import ErrorCode

from kakaclo_sandbox import database_url, demo
from kakaclo_sandbox.clock import Now, SandboxClock
from kakaclo_sandbox.data import Dataset, SeedOrder
from kakaclo_sandbox.domain.orders import StoredOrder, TimelineRefund
from kakaclo_sandbox.domain.refunds import RefundRules
from kakaclo_sandbox.ratelimit import LeakyBucket
from kakaclo_sandbox.seeding import add_order
from kakaclo_sandbox.service.control import (
    CLOCK_KEYS,
    apply_clock,
    change_clock,
    restore_clock,
    save_clock,
)
from kakaclo_sandbox.service.queries import Queries
from kakaclo_sandbox.service.refunds import Refunds
from kakaclo_sandbox.service.running import run_now
from kakaclo_sandbox.service.settlement import Settlement
from kakaclo_sandbox.service.team import agree
from kakaclo_sandbox.settings import Settings
from kakaclo_sandbox.storage import timeline
from kakaclo_sandbox.storage.interface import Bucket, Glance, Store
from kakaclo_sandbox.storage.sqlite import SqliteStore
from kakaclo_sandbox.web import failures
from kakaclo_sandbox.web.answer_cache import AnswerCache
from kakaclo_sandbox.web.changes import Changes
from kakaclo_sandbox.web.failures import Failure, FailurePlan
from kakaclo_sandbox.web.feeds import Feeds, Reader
from kakaclo_spec import Spec
from kakaclo_spec.errors import ApiError
from kakaclo_spec.validation import OperationValidator

log = logging.getLogger("kakaclo_sandbox")
T = TypeVar("T")
# Runs a use case to its end before any event loop (startup): the engine's way.
RunNow = Callable[[Coroutine[Any, Any, T]], T]
# The console's read of a merchant through the feeds' own connection: the engine's.
ConsoleRead = Callable[
    [Reader | None, str, int, int], tuple[list[StoredOrder], list[TimelineRefund]]
]


def open_store(
    settings: Settings,
) -> tuple[Store, RunNow[Any], Callable[[], Reader | None], ConsoleRead]:
    """The store ``settings.db`` names, how startup runs its use cases, the console's
    reader and its read (PostgreSQL's modules are imported only for a URL: they need the
    ``[postgres]`` extra)."""
    database = database_url.parse(settings.db)
    if isinstance(database, database_url.PostgresUrl):
        from kakaclo_sandbox.storage.postgres import timeline as pg_timeline
        from kakaclo_sandbox.storage.postgres.store import PostgresStore

        url = database.url
        postgres = PostgresStore(url, fresh=settings.fresh)

        def read_postgres(
            reader: Reader | None, merchant: str, max_orders: int, max_refunds: int
        ) -> tuple[list[StoredOrder], list[TimelineRefund]]:
            if reader is not None:
                return pg_timeline.merchant_state(reader, merchant, max_orders, max_refunds)
            with pg_timeline.open_reader(url) as own:
                return pg_timeline.merchant_state(own, merchant, max_orders, max_refunds)

        return postgres, postgres.run_sync, lambda: pg_timeline.open_reader(url), read_postgres
    sqlite = SqliteStore(database.path, fresh=settings.fresh)

    def read_sqlite(
        reader: Reader | None, merchant: str, max_orders: int, max_refunds: int
    ) -> tuple[list[StoredOrder], list[TimelineRefund]]:
        if reader is not None:
            return timeline.merchant_state(reader, merchant, max_orders, max_refunds)
        with sqlite.reading() as shared:  # :memory:, which no other connection sees
            return timeline.merchant_state(shared, merchant, max_orders, max_refunds)

    return sqlite, run_now, lambda: timeline.open_reader(database.path), read_sqlite


# The request scope's key of the glance take_failure read for the request (the handlers
# hand it to Sandbox.caller).
GLANCED = "kakaclo.glanced"


def _token(authorization: str | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None for another scheme."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _bearer_token(scope: MutableMapping[str, Any]) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return _token(value.decode("latin-1"))
    return None


class Sandbox:
    """One sandbox: opened once at start, shared by every request."""

    def __init__(
        self,
        settings: Settings,
        clock: Now | None = None,
        rules: RefundRules | None = None,
        dataset: Dataset | None = None,
    ) -> None:
        self.settings = settings
        self.rules = rules or RefundRules()
        self.spec = Spec.load(settings.spec_path)
        self.default_reason = str(self.spec.default_of("RefundRequest", "refundReason"))
        self.validators = {op: OperationValidator(self.spec, op) for op in self.spec.operation_ids}
        # given: read already (a worker of --workers gets its parent's, not the file again)
        self.data = dataset or demo.dataset(settings.data, self.spec)
        self.store, run, reader, self._console_read = open_store(settings)
        self.clock = SandboxClock(clock or time.time)
        self.settlement = Settlement(self.store)
        try:
            # before any event loop: SQLite's use cases run synchronously
            # (service/running.py), PostgreSQL's in a loop of their own
            run(self._start(settings))
        except BaseException:
            self.store.close()
            raise
        self.refunds = Refunds(
            self.store,
            self.settlement,
            rules=self.rules,
            settle_after=settings.settle_after,
            now=self.now,
        )
        self.queries = Queries(self.store, self.settlement, self.now)
        self.limiter = LeakyBucket(settings.rate_limit) if settings.rate_limit else None
        self.failures = FailurePlan(self.store)
        self.feeds = Feeds(
            reader=reader,
            settle=lambda: self.settlement.settle_now(self.now()),
            next_due=self._next_due,
        )  # its compute is the console's (create_app binds it)
        self.changes = Changes(self.feeds)
        self.answers = AnswerCache() if settings.answer_cache else None

    async def _start(self, settings: Settings) -> None:
        """The data seeded (or checked), the clock restored, the next due refund read."""
        if settings.fresh or await self.store.is_new():
            await demo.reset(self.store, self.data)
        else:
            await demo.check_holds(self.store, self.data, settings.db_shown)
        await agree(self.store, settings)
        await restore_clock(self.store, self.clock)
        await self.settlement.reload()
        self.store.started()

    async def refresh(self, token: str | None = None, glanced: Glance | None = None) -> int | None:
        """Take in what another process sharing the database may have changed (the clock,
        when the next refund is due), and with a ``token`` count its request against the
        rate limit (429): at the start of every API request and clock action. A process
        alone on its database reads nothing: its memory is the record. ``glanced``: what
        :meth:`take_failure` read for this request, taken in already. The write version
        read within this request, if one was (None: the store's memory is the record)."""
        if glanced is not None:
            self._limit(glanced.wait)
            return glanced.version
        glance = await self.store.glance(CLOCK_KEYS, self._bucket(token))
        if glance is None:
            # real time, not the sandbox's: a frozen clock must not stop the bucket draining
            self._limit(self.limiter.take(token or "", self.clock.real()) if self.limiter else 0)
            return None
        self._take_in(glance)
        self._limit(glance.wait)
        return glance.version

    async def take_failure(self, operation: str, scope: MutableMapping[str, Any]) -> Failure | None:
        """The failure queued for this call of ``operation`` (the request's ``scope``),
        taken, if any. Where other processes share the database, in the statement of
        :meth:`refresh`, the caller's token poured into its bucket unless a failure is
        taken (a forced failure is not counted), and kept in ``scope`` for
        :meth:`caller`: a call costs one statement, not two."""
        if not self.store.alone:
            token = _bearer_token(scope)
            known = token is not None and self.store.merchant_of(token) is not None
            glance = await self.store.glance(
                CLOCK_KEYS, self._bucket(token) if known else None, take=operation
            )
            if glance is not None:  # None: alone since
                self._take_in(glance)
                if glance.failure is not None:
                    return failures.from_queue(glance.failure)
                if known:
                    scope[GLANCED] = glance
                return None
        taken = await self.store.take_failure(operation)  # alone (SQLite: always)
        return None if taken is None else failures.from_queue(taken)

    def _bucket(self, token: str | None) -> Bucket | None:
        limit = self.settings.rate_limit if token is not None else None
        return None if limit is None else Bucket(token or "", limit.burst, limit.per_second)

    def _take_in(self, glance: Glance) -> None:
        apply_clock(self.clock, *glance.meta)
        self.settlement.earliest = glance.next_due

    @staticmethod
    def _limit(wait: int) -> None:
        if wait:
            raise ApiError(
                429,
                ErrorCode.RATE_LIMITED,
                f"rate limit exceeded; retry after {wait} s",
                {"Retry-After": str(wait)},
            )

    def _next_due(self) -> float | None:
        due = self.settlement.earliest
        return None if due is None else due - self.now()

    def now(self) -> float:
        """The sandbox's current time."""
        return self.clock.now()

    async def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock and remember it across restarts (ValueError past
        LATEST: nothing moved)."""
        await self._change_clock(lambda clock: clock.advance(seconds))

    async def freeze_clock(self) -> None:
        """Stop the sandbox's clock on a whole second; it stays stopped across restarts."""
        await self._change_clock(SandboxClock.freeze)

    async def resume_clock(self) -> None:
        """Let the sandbox's clock run again from where it stands."""
        await self._change_clock(SandboxClock.resume)

    async def _change_clock(self, change: Callable[[SandboxClock], None]) -> None:
        # what is due is read again (another process may have moved the clock before)
        await self.refresh()
        await change_clock(self.store, self.clock, change)
        self.changes.changed()

    async def reset(self) -> None:
        """Back to the data file (or the demo data), the real time on a running clock and
        empty rate-limit buckets: as a new sandbox."""
        await demo.reset(self.store, self.data)
        await self.settlement.reload()
        await self.failures.clear()  # every process's queue
        self.clock.restart()
        await save_clock(self.store, self.clock)  # other processes' clocks restart too
        if self.limiter:
            self.limiter.reset()
        self.changes.changed()

    async def add_order(self, seeded: SeedOrder) -> StoredOrder:
        """Store an order of the control surface (DataError: nothing stored); as stored."""
        async with self.store.writing() as unit:
            await add_order(unit, seeded)
        await self.settlement.reload()  # the order's refunds were written through the data path
        self.changes.changed(seeded.order.merchant)
        stored = await self.store.stored_order(seeded.order.merchant, seeded.order.id)
        assert stored is not None
        return stored

    def console_read(
        self, reader: Reader | None, merchant: str, max_orders: int, max_refunds: int
    ) -> tuple[list[StoredOrder], list[TimelineRefund]]:
        """What the console shows of a merchant, read through the feeds' ``reader`` (in
        their worker thread), or the store's own connection (None)."""
        return self._console_read(reader, merchant, max_orders, max_refunds)

    def merchant_of(self, token: str) -> str | None:
        """The merchant a token belongs to, or None (no rate limit: the console's feed)."""
        return self.store.merchant_of(token)

    async def caller(self, authorization: str | None, glanced: Glance | None = None) -> str:
        """The caller's merchant from ``Authorization: Bearer <token>`` (401), its request
        counted against the rate limit (429), what other processes changed taken in
        (``glanced``: already, by :meth:`take_failure`)."""
        merchant, _ = await self.caller_seen(authorization, glanced)
        return merchant

    async def caller_seen(
        self, authorization: str | None, glanced: Glance | None = None
    ) -> tuple[str, int | None]:
        """:meth:`caller`, and the write version read within the request (:meth:`refresh`)."""
        token = _token(authorization)
        merchant = self.store.merchant_of(token) if token is not None else None
        if merchant is None:
            raise ApiError(401, ErrorCode.UNAUTHORIZED, "missing or unknown bearer token")
        return merchant, await self.refresh(token, glanced)

    def checked(self, operation_id: str, status: int, body: Any) -> Any:
        """``body``, after checking it against the spec when response validation is on."""
        if self.settings.validate_responses:
            errors = self.spec.response_schema(operation_id, status).errors(body)
            if errors:
                log.error("response of %s %s breaks the spec: %s", operation_id, status, errors)
                raise RuntimeError(f"response of {operation_id} {status} breaks the spec")
        return body

    async def release(self) -> None:
        """Let go of what the running event loop holds of the store (its pool), at shutdown."""
        await self.store.release()

    def close(self) -> None:
        """Close the database."""
        self.store.close()
