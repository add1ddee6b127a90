"""Idempotency-Key: replay, reuse with another order or body, in flight, expiry, per merchant."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, TOKEN_B, FakeTime
from tests.sandbox.helpers import item, refund_url, refunds, snapshot

KEY = {"Idempotency-Key": "order-10001-attempt-1"}


def test_same_key_same_request_replays_without_a_second_refund(client: TestClient) -> None:
    body = {"orderItems": [item("120001", 1)]}
    first = client.post(refund_url("10001"), json=body, headers={**TOKEN_A, **KEY})
    replay = client.post(refund_url("10001"), json=body, headers={**TOKEN_A, **KEY})
    assert first.status_code == replay.status_code == 200
    assert first.json() == replay.json()
    assert len(refunds(client, TOKEN_A, "10001")) == 1


def test_replay_ignores_formatting_and_integer_valued_floats(client: TestClient) -> None:
    body = {"orderItems": [item("120001", 1)]}
    first = client.post(refund_url("10001"), json=body, headers={**TOKEN_A, **KEY})
    spaced = json.dumps({"orderItems": [{**item("120001", 1), "quantity": 1.0}]}, indent=4)
    replay = client.post(
        refund_url("10001"),
        content=spaced,
        headers={**TOKEN_A, **KEY, "Content-Type": "application/json"},
    )
    assert replay.json()["data"] == first.json()["data"]


def test_same_key_other_body_or_order_is_409(client: TestClient) -> None:
    client.post(
        refund_url("10001"), json={"orderItems": [item("120001", 1)]}, headers={**TOKEN_A, **KEY}
    )
    before = snapshot(client, TOKEN_A)
    other_body = client.post(
        refund_url("10001"), json={"orderItems": [item("120001", 2)]}, headers={**TOKEN_A, **KEY}
    )
    other_order = client.post(refund_url("10002"), json={}, headers={**TOKEN_A, **KEY})
    for answer in (other_body, other_order):
        assert (answer.status_code, answer.json()["code"]) == (409, 40911)
    assert snapshot(client, TOKEN_A) == before


def test_failed_answers_are_not_stored(client: TestClient) -> None:
    over = client.post(
        refund_url("10001"), json={"orderItems": [item("120001", 9)]}, headers={**TOKEN_A, **KEY}
    )
    assert over.status_code == 409
    fixed = client.post(
        refund_url("10001"), json={"orderItems": [item("120001", 1)]}, headers={**TOKEN_A, **KEY}
    )
    assert fixed.status_code == 200


def test_keys_are_per_merchant(client: TestClient) -> None:
    a = client.post(refund_url("10002"), json={}, headers={**TOKEN_A, **KEY})
    b = client.post(refund_url("20001"), json={}, headers={**TOKEN_B, **KEY})
    assert a.status_code == b.status_code == 200
    assert a.json()["data"] != b.json()["data"]


def test_keys_expire_after_24_hours(client: TestClient, fake_time: FakeTime) -> None:
    body = {"orderItems": [item("120001", 1)]}
    first = client.post(refund_url("10001"), json=body, headers={**TOKEN_A, **KEY})
    fake_time.value += 24 * 3600 - 1
    assert client.post(refund_url("10001"), json=body, headers={**TOKEN_A, **KEY}).json() == (
        first.json()
    )
    fake_time.value += 2
    later = client.post(refund_url("10001"), json=body, headers={**TOKEN_A, **KEY})
    assert later.status_code == 200
    assert later.json()["data"] != first.json()["data"]


def test_malformed_key_is_400(client: TestClient) -> None:
    answer = client.post(
        refund_url("10002"), json={}, headers={**TOKEN_A, "Idempotency-Key": "has space"}
    )
    assert (answer.status_code, answer.json()["code"]) == (400, 40002)
    assert "Idempotency-Key" in answer.json()["message"]


async def _slow_request(app: Any, release: asyncio.Event, sent: list[dict[str, Any]]) -> None:
    """A Refund Order whose body arrives in two parts, the second only after ``release``."""
    body = json.dumps({"orderItems": [item("120001", 1)]}).encode()
    parts = [body[:5], body[5:]]

    async def receive() -> dict[str, Any]:
        if len(parts) == 1:
            await release.wait()
        chunk = parts.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": refund_url("10001"),
        "raw_path": refund_url("10001").encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"authorization", b"Bearer demo-token"),
            (b"content-type", b"application/json"),
            (b"idempotency-key", KEY["Idempotency-Key"].encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)


def test_request_in_flight_is_409(fake_time: FakeTime) -> None:
    app = create_app(db=":memory:", rate_limit=None, validate_responses=True, clock=fake_time)
    sandbox = app.state.sandbox

    async def scenario() -> tuple[httpx.Response, list[dict[str, Any]]]:
        release = asyncio.Event()
        sent: list[dict[str, Any]] = []
        first = asyncio.create_task(_slow_request(app, release, sent))
        while not sandbox.refunds.in_flight._keys:  # let the first request reach its handler
            await asyncio.sleep(0)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
        ) as http:
            second = await http.post(
                refund_url("10001"),
                json={"orderItems": [item("120001", 1)]},
                headers={**TOKEN_A, **KEY},
            )
        release.set()
        await first
        return second, sent

    second, sent = asyncio.run(scenario())
    assert (second.status_code, second.json()["code"]) == (409, 40912)
    assert sent[0]["status"] == 200
    assert not sandbox.refunds.in_flight._keys
