"""The console's live feeds: each merchant's state computed once per change, off the loop.

Every open feed (``GET /_sandbox/events``) subscribes to its merchant here.
One publisher task per sandbox does the work, so the cost of a change never
grows with the number of feeds:

- :meth:`Feeds.changed` marks the merchants a change touched (a refund or a
  new order: that merchant; a reset, a clock move or a refund falling due:
  every merchant with an open feed) and wakes the publisher. Changes that
  arrive while it works are coalesced: at most one computation per merchant
  per round, and none for a merchant nobody watches.
- The publisher computes each marked merchant's state once, in a worker
  thread (``asyncio.to_thread``), one computation at a time, so the event
  loop keeps answering every tenant meanwhile. For a database file the worker
  reads through a read-only connection of its own (WAL: it never waits for
  the writer, nor the writer for it).
- The state's bytes go to each of the merchant's feeds through a queue of at
  most ``MAX_QUEUED_EVENTS``. A feed whose reader does not keep up (its queue
  is full) is dropped: its connection is closed, never waited for. A browser
  reconnects by itself (``retry:``) and gets the state anew.
- At most ``MAX_FEEDS`` feeds are open at once; one more answers 503 50301.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("kakaclo_sandbox.web.feeds")

MAX_QUEUED_EVENTS = 8  # states waiting for one feed's reader before the feed is dropped
MAX_FEEDS = 100  # feeds open at once, every merchant together
MIN_WAIT = 0.05  # seconds the publisher sleeps at least before a refund falls due
KEEP_ALIVE = 15.0  # seconds between comments on a quiet feed (proxies drop silent streams)

# The worker thread's own reader of the database, opaque here (the composition root opens
# it: web/state.py); None when the store's own must be used (an in-memory database).
Reader = Any
# A merchant's state as the feed's bytes, read through the reader given.
Compute = Callable[[Reader | None, str], bytes]


@dataclass(eq=False)
class Subscriber:
    """One open feed: its merchant and the states waiting for its reader."""

    merchant: str
    queue: asyncio.Queue[bytes] = field(
        default_factory=lambda: asyncio.Queue(maxsize=MAX_QUEUED_EVENTS)
    )
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, payload: bytes) -> bool:
        """Queue a state without waiting; False (and the feed dropped) when the queue is full."""
        if self.dropped.is_set():
            return False
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.dropped.set()
            return False
        return True


class FeedsFull(Exception):
    """MAX_FEEDS feeds are open."""


class Feeds:
    """The publisher of every console feed of one sandbox (on its event loop)."""

    def __init__(
        self,
        compute: Compute | None = None,
        reader: Callable[[], Reader | None] = lambda: None,
        settle: Callable[[], Awaitable[object]] | None = None,
        next_due: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.compute = compute  # create_app binds the console's
        self._reader = reader  # opens the worker's connection (None: compute reads the store)
        self._settle = settle  # settles what is due, on the loop, before a round
        self._next_due = next_due  # seconds until the next refund falls due, or None
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._marked: set[str] = set()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._connection: Reader | None = None
        self._thread_lock = threading.Lock()  # one computation at a time
        self.closed = False
        self.publishing = False
        self.computations: list[str] = []  # merchants computed, in order (the tests read it)
        self.dropped = 0

    # -- feeds ------------------------------------------------------------

    def subscribe(self, merchant: str) -> Subscriber:
        """Open a feed of ``merchant``, its first state on the way; FeedsFull past MAX_FEEDS.
        Every feed opened is closed with :meth:`unsubscribe`."""
        if self.open_feeds() >= MAX_FEEDS:
            raise FeedsFull
        subscriber = Subscriber(merchant)
        self._subscribers.setdefault(merchant, set()).add(subscriber)
        self._start()
        self._mark({merchant})
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """The feed is closed."""
        self._forget(subscriber)

    def _forget(self, subscriber: Subscriber) -> None:
        feeds = self._subscribers.get(subscriber.merchant)
        if feeds is not None:
            feeds.discard(subscriber)
            if not feeds:
                del self._subscribers[subscriber.merchant]

    def open_feeds(self) -> int:
        """How many feeds are open."""
        return sum(map(len, self._subscribers.values()))

    # -- changes ----------------------------------------------------------

    def changed(self, merchants: set[str] | frozenset[str] | None = None) -> None:
        """Something a console shows has changed: for ``merchants``, or for every one (None)."""
        self._mark(set(self._subscribers) if merchants is None else set(merchants))

    def _mark(self, merchants: set[str]) -> None:
        watched = merchants & set(self._subscribers)
        if not watched:
            return  # nobody watches: nothing to compute
        self._marked |= watched
        if self._wake is not None:
            self._wake.set()

    def close(self) -> None:
        """The server stops: every feed ends."""
        self.closed = True
        for feeds in self._subscribers.values():
            for subscriber in feeds:
                subscriber.dropped.set()
        if self._task is not None:
            self._task.cancel()
        with self._thread_lock:
            self._drop_connection()

    # -- the publisher ----------------------------------------------------

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            # (a test client may run each request on a loop of its own)
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        assert self._wake is not None
        while not self.closed:
            if not self._marked:
                due = self._next_due() if self._subscribers else None
                wait = None if not self._subscribers else KEEP_ALIVE
                if due is not None:
                    wait = min(KEEP_ALIVE, max(MIN_WAIT, due))
                try:
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                except TimeoutError:
                    if due is not None and wait is not None and due <= wait:
                        self.changed()  # a refund fell due: every watched merchant
                    continue
            self._wake.clear()
            await self.publish()

    async def publish(self) -> None:
        """One round: compute each marked merchant's state once and offer it to its feeds."""
        self.publishing = True
        try:
            await self._publish()
        finally:
            self.publishing = False

    async def settled(self) -> None:
        """Wait (yielding to the loop, no timer) until every change is published."""
        while self._marked or self.publishing:
            await asyncio.sleep(0)

    async def _publish(self) -> None:
        try:
            if self._settle is not None:
                await self._settle()
        except Exception:  # the database gone, say: the feeds still show what they can
            log.exception("due refunds could not be settled for the console feeds")
        while self._marked:
            merchant = self._marked.pop()
            if merchant not in self._subscribers:
                continue
            try:
                payload = await asyncio.to_thread(self._computed, merchant)
            except Exception as error:  # the database gone, say: one line, tried next round
                reason = " ".join(str(error).split()) or type(error).__name__
                log.warning("the console state of a merchant could not be computed: %s", reason)
                log.debug("the console's failed computation", exc_info=True)
                continue
            for subscriber in list(self._subscribers.get(merchant, ())):
                if not subscriber.offer(payload):
                    self.dropped += 1
                    self._forget(subscriber)
                    log.info("a console feed that does not read was dropped")

    def _computed(self, merchant: str) -> bytes:
        """In the worker thread: the merchant's state, through the worker's own connection."""
        with self._thread_lock:
            if self.closed:
                return b""
            if getattr(self._connection, "closed", False):
                self._drop_connection()  # lost (a database server restarted): a new one
            if self._connection is None:
                self._connection = self._reader()
            self.computations.append(merchant)
            assert self.compute is not None, "create_app binds the feeds' compute"
            try:
                return self.compute(self._connection, merchant)
            except Exception:
                self._drop_connection()  # whatever broke it, the next round opens another
                raise

    def _drop_connection(self) -> None:
        """Close the worker's connection (if any) and forget it; under the thread lock."""
        connection, self._connection = self._connection, None
        close = getattr(connection, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # closing a broken connection may fail too: it is gone anyway
                log.debug("closing the console's connection failed", exc_info=True)
