"""The console's feeds by their structure (web/feeds.py), no timers: a change is computed
once, for the merchant it touched, in a worker thread; a feed that does not read is
dropped after MAX_QUEUED_EVENTS states, never waited for; at most MAX_FEEDS are open."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from kakaclo_sandbox import create_app
from kakaclo_sandbox.web.feeds import MAX_FEEDS, MAX_QUEUED_EVENTS, Feeds, FeedsFull, Subscriber
from tests.sandbox.conftest import TOKEN_B
from tests.sandbox.helpers import item, refund_url

A, B = "merchant-a", "merchant-b"


def _run(tmp_path: Path, scenario: Callable[[Any, httpx.AsyncClient], Awaitable[None]]) -> None:
    """Run ``scenario(sandbox, client)`` on one event loop against a sandbox on a file."""
    app = create_app(db=str(tmp_path / "sandbox.db"), rate_limit=None, settle_after=60.0)
    sandbox = app.state.sandbox

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            try:
                await scenario(sandbox, client)
            finally:
                sandbox.changes.close()

    try:
        asyncio.run(main())
    finally:
        sandbox.close()


def _drain(subscriber: Subscriber) -> list[dict[str, Any]]:
    states = []
    while not subscriber.queue.empty():
        payload = subscriber.queue.get_nowait()
        states.append(orjson.loads(payload.split(b"data: ", 1)[1]))
    return states


def test_a_refund_is_computed_once_for_its_merchant_only_off_the_loop(tmp_path: Path) -> None:
    async def scenario(sandbox: Any, client: httpx.AsyncClient) -> None:
        feeds: Feeds = sandbox.feeds
        loop_thread = threading.get_ident()
        threads: list[int] = []
        compute = feeds.compute
        assert compute is not None

        def recording(db: Any, merchant: str) -> bytes:
            threads.append(threading.get_ident())
            return compute(db, merchant)

        feeds.compute = recording
        a_feeds = [feeds.subscribe(A) for _ in range(10)]
        b_feed = feeds.subscribe(B)
        await feeds.settled()
        assert sorted(feeds.computations) == [A, B]  # once per merchant, not per feed
        for feed in [*a_feeds, b_feed]:
            assert len(_drain(feed)) == 1
        feeds.computations.clear()

        answer = await client.post(
            refund_url("20001"), json={"orderItems": [item("220011", 1)]}, headers=TOKEN_B
        )
        assert answer.status_code == 200, answer.text
        await feeds.settled()
        assert feeds.computations == [B]  # one computation, for the merchant it touched
        assert all(_drain(feed) == [] for feed in a_feeds)  # A's ten feeds: nothing
        (state,) = _drain(b_feed)
        refunds = [r["refundNo"] for order in state["orders"] for r in order["refunds"]]
        assert answer.json()["data"] in refunds
        assert threads and loop_thread not in threads  # every computation off the loop

    _run(tmp_path, scenario)


def test_a_change_nobody_watches_is_not_computed_and_a_clock_move_once_per_merchant(
    tmp_path: Path,
) -> None:
    async def scenario(sandbox: Any, client: httpx.AsyncClient) -> None:
        feeds: Feeds = sandbox.feeds
        a_feeds = [feeds.subscribe(A) for _ in range(5)]
        await feeds.settled()
        feeds.computations.clear()
        answer = await client.post(
            refund_url("20001"), json={"orderItems": [item("220011", 1)]}, headers=TOKEN_B
        )
        assert answer.status_code == 200
        await feeds.settled()
        assert feeds.computations == []  # B has no feed: nothing computed
        feeds.subscribe(B)
        await feeds.settled()
        feeds.computations.clear()
        advanced = await client.post(
            "/_sandbox/clock/advance",
            params={"seconds": 5},
            headers={"Content-Type": "application/json"},
        )
        assert advanced.status_code == 200
        await feeds.settled()
        assert sorted(feeds.computations) == [A, B]  # every watched merchant, once each
        assert all(len(_drain(feed)) == 2 for feed in a_feeds)

    _run(tmp_path, scenario)


def test_a_feed_that_does_not_read_is_dropped_after_its_queue_fills(tmp_path: Path) -> None:
    async def scenario(sandbox: Any, client: httpx.AsyncClient) -> None:
        feeds: Feeds = sandbox.feeds
        idle = feeds.subscribe(A)
        reading = feeds.subscribe(A)
        await feeds.settled()
        _drain(reading)
        for change in range(2, MAX_QUEUED_EVENTS + 1):  # the first state was change 1
            sandbox.changes.changed(A)
            await feeds.settled()
            assert idle.queue.qsize() == change and not idle.dropped.is_set()
            _drain(reading)
        sandbox.changes.changed(A)  # one more than the idle feed's queue holds
        await feeds.settled()
        assert idle.dropped.is_set() and feeds.dropped == 1
        assert not reading.dropped.is_set() and len(_drain(reading)) == 1
        assert feeds.open_feeds() == 1  # the idle one is gone
        computed = len(feeds.computations)
        sandbox.changes.changed(A)
        await feeds.settled()
        assert len(feeds.computations) == computed + 1  # still one per change
        assert idle.queue.qsize() == MAX_QUEUED_EVENTS  # nothing more offered to it

    _run(tmp_path, scenario)


def test_at_most_max_feeds_are_open(tmp_path: Path) -> None:
    async def scenario(sandbox: Any, client: httpx.AsyncClient) -> None:
        feeds: Feeds = sandbox.feeds
        opened = [feeds.subscribe(A) for _ in range(MAX_FEEDS)]
        with pytest.raises(FeedsFull):
            feeds.subscribe(B)
        answer = await client.get("/_sandbox/events", params={"token": "demo-token-2"})
        assert (answer.status_code, answer.json()["code"]) == (503, 50301)
        feeds.unsubscribe(opened[0])
        assert feeds.subscribe(B).merchant == B

    _run(tmp_path, scenario)
