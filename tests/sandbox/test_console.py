"""The console's live feed (control surface): the state now and after every change, from
the sandbox itself, never from the rate-limited API; off with --no-control."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.ratelimit import RateLimit
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.proxy.servers import sandbox_app, serving
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import API, item, refund_url


def _states(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The ``state`` events of a feed, as they come."""
    event = ""
    for line in lines:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "state":
            yield json.loads(line.removeprefix("data: "))


def _order(state: dict[str, Any], order_id: str) -> dict[str, Any]:
    return next(order for order in state["orders"] if order["id"] == order_id)


def test_the_feed_sends_the_state_now_and_after_each_change() -> None:
    app = sandbox_app(settle_after=60.0)
    with serving(uvicorn.Config(app, lifespan="on", log_level="warning")) as port:
        root = f"http://127.0.0.1:{port}"
        with (
            httpx.Client(base_url=root, timeout=10) as http,
            http.stream("GET", "/_sandbox/events", params={"token": "demo-token"}) as feed,
        ):
            assert feed.headers["content-type"].startswith("text/event-stream")
            states = _states(feed.iter_lines())
            first = _order(next(states), "10001")
            assert first["refunds"] == []
            assert [line["refundable"] for line in first["orderItems"]] == [2, 3]
            answer = http.post(
                refund_url("10001"), json={"orderItems": [item("120001", 1)]}, headers=TOKEN_A
            )
            number = answer.json()["data"]
            pending = _order(next(states), "10001")
            assert [(r["refundNo"], r["refundStatus"]) for r in pending["refunds"]] == [
                (number, "pending_review")
            ]
            assert pending["orderItems"][0]["refundable"] == 1
            http.post(
                "/_sandbox/clock/advance",
                params={"seconds": 60},
                headers={"Content-Type": "application/json"},
            )
            settled = _order(next(states), "10001")
            assert settled["refunds"][0]["refundStatus"] == "refund_successfully"
            assert settled["refunds"][0]["settledAt"].endswith("Z")
            http.post("/_sandbox/reset", headers={"Content-Type": "application/json"})
            assert _order(next(states), "10001")["refunds"] == []


def test_the_feed_never_spends_the_tokens_rate_limit() -> None:
    one_request = RateLimit(burst=1, per_second=0.001)
    app = create_app(db=":memory:", rate_limit=one_request)
    with TestClient(app) as client:
        for _ in range(3):
            page = client.get("/console")
            assert page.status_code == 200
        with client.stream("GET", "/_sandbox/events", params={"token": "demo-token"}) as feed:
            assert next(_states(feed.iter_lines()))["orders"]
        # the bucket's one request is still there for the merchant's own call
        assert client.get(API, headers=TOKEN_A).status_code == 200
        assert client.get(API, headers=TOKEN_A).status_code == 429


def test_an_unknown_token_is_refused_and_no_control_turns_the_console_off() -> None:
    with TestClient(create_app(db=":memory:")) as client:
        refused = client.get("/_sandbox/events", params={"token": "nope"})
        assert refused.status_code == 401 and refused.json()["code"] == 40101
    with TestClient(create_app(db=":memory:", control=False)) as client:
        for path in ("/console", "/console/console.js", "/_sandbox/events?token=demo-token"):
            assert client.get(path).status_code == 404


def test_the_console_works_offline() -> None:
    with TestClient(create_app(db=":memory:")) as client:
        page = client.get("/console").text
        script = client.get("/console/console.js")
        style = client.get("/console/console.css")
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    for text in (page, script.text, style.text):
        assert not re.search(r"https?://", text)  # no CDN, no font, nothing from elsewhere
    assert "innerHTML" not in script.text  # server data is set as text
