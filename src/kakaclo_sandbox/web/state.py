"""Everything one running sandbox holds: settings, store, clock, compiled spec, limits."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from kakaclo_client.models import ErrorCode

from kakaclo_sandbox import demo
from kakaclo_sandbox.clock import LATEST, Now, SandboxClock
from kakaclo_sandbox.domain.idempotency import InFlight
from kakaclo_sandbox.domain.refunds import RefundRules
from kakaclo_sandbox.ratelimit import LeakyBucket
from kakaclo_sandbox.service import Settlement
from kakaclo_sandbox.settings import Settings
from kakaclo_sandbox.storage import timeline
from kakaclo_sandbox.storage.store import Store
from kakaclo_sandbox.web.answer_cache import AnswerCache
from kakaclo_sandbox.web.changes import Changes
from kakaclo_sandbox.web.failures import FailurePlan
from kakaclo_sandbox.web.feeds import Feeds
from kakaclo_spec import Spec
from kakaclo_spec.errors import ApiError
from kakaclo_spec.validation import OperationValidator

CLOCK_OFFSET = "clock_offset"
CLOCK_FROZEN_AT = "clock_frozen_at"  # empty while the clock runs
log = logging.getLogger("kakaclo_sandbox")


class Sandbox:
    """One sandbox: opened once at start, shared by every request."""

    def __init__(
        self,
        settings: Settings,
        clock: Now | None = None,
        rules: RefundRules | None = None,
    ) -> None:
        self.settings = settings
        self.rules = rules or RefundRules()
        self.spec = Spec.load(settings.spec_path)
        self.default_reason = str(self.spec.default_of("RefundRequest", "refundReason"))
        self.validators = {op: OperationValidator(self.spec, op) for op in self.spec.operation_ids}
        self.data = demo.dataset(settings.data, self.spec)
        self.store = Store(settings.db, fresh=settings.fresh)
        try:
            if settings.fresh or self.store.is_empty():
                demo.reset(self.store, self.data)
            else:
                demo.check_holds(self.store, self.data)
        except BaseException:
            self.store.close()
            raise
        offset = float(self.store.get_meta(CLOCK_OFFSET) or 0.0)
        frozen_at = float(self.store.get_meta(CLOCK_FROZEN_AT) or "nan")
        self.clock = SandboxClock(clock or time.time, offset)
        if math.isfinite(frozen_at) and frozen_at <= LATEST:
            self.clock.frozen_at = frozen_at  # frozen before a restart: still frozen
        if not math.isfinite(self.clock.now()) or self.clock.now() > LATEST:
            # a database from a version without the bound: back to the real time
            log.warning("the stored clock offset is out of range; the clock starts from now")
            self.clock.restart()
        self.limiter = LeakyBucket(settings.rate_limit) if settings.rate_limit else None
        self.in_flight = InFlight()
        self.settlement = Settlement(self.store)
        self.failures = FailurePlan()
        self.feeds = Feeds(
            reader=lambda: timeline.open_reader(settings.db),
            settle=lambda: self.settlement.settle_now(self.now()),
            next_due=self._next_due,
        )  # its compute is the console's (create_app binds it)
        self.changes = Changes(self.feeds)
        self.answers = AnswerCache() if settings.answer_cache else None

    def _next_due(self) -> float | None:
        due = self.settlement.earliest
        return None if due is None else due - self.now()

    def now(self) -> float:
        """The sandbox's current time."""
        return self.clock.now()

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock and remember it across restarts."""
        self.clock.advance(seconds)
        self._clock_moved()

    def freeze_clock(self) -> None:
        """Stop the sandbox's clock on a whole second; it stays stopped across restarts."""
        self.clock.freeze()
        self._clock_moved()

    def resume_clock(self) -> None:
        """Let the sandbox's clock run again from where it stands."""
        self.clock.resume()
        self._clock_moved()

    def _clock_moved(self) -> None:
        frozen_at = self.clock.frozen_at
        with self.store.transaction() as db:
            self.store.set_meta(db, CLOCK_OFFSET, repr(self.clock.offset))
            self.store.set_meta(db, CLOCK_FROZEN_AT, "" if frozen_at is None else repr(frozen_at))
        self.changes.changed()

    def reset(self) -> None:
        """Back to the data file (or the demo data), the real time on a running clock and
        empty rate-limit buckets: as a new sandbox."""
        demo.reset(self.store, self.data)
        self.settlement.reload()
        self.failures.clear()
        self.clock.restart()
        if self.limiter:
            self.limiter.reset()
        self.changes.changed()

    def merchant(self, authorization: str | None) -> str:
        """The caller's merchant from ``Authorization: Bearer <token>``, or 401."""
        scheme, _, token = (authorization or "").partition(" ")
        merchant = self.store.merchant_of(token.strip()) if scheme.lower() == "bearer" else None
        if merchant is None:
            raise ApiError(401, ErrorCode.UNAUTHORIZED, "missing or unknown bearer token")
        if self.limiter:
            # real time, not the sandbox's: a frozen clock must not stop the bucket draining
            wait = self.limiter.take(token.strip(), self.clock.real())
            if wait:
                raise ApiError(
                    429,
                    ErrorCode.RATE_LIMITED,
                    f"rate limit exceeded; retry after {wait} s",
                    {"Retry-After": str(wait)},
                )
        return merchant

    def checked(self, operation_id: str, status: int, body: Any) -> Any:
        """``body``, after checking it against the spec when response validation is on."""
        if self.settings.validate_responses:
            errors = self.spec.response_schema(operation_id, status).errors(body)
            if errors:
                log.error("response of %s %s breaks the spec: %s", operation_id, status, errors)
                raise RuntimeError(f"response of {operation_id} {status} breaks the spec")
        return body

    def close(self) -> None:
        """Close the database."""
        self.store.close()
