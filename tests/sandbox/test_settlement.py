"""Reads take no write lock when nothing is due, and settlement stays exact."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, FakeTime

API = "/openapi/openapi/v2/order/orders"


@pytest.fixture
def write_transactions(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every write transaction the sandbox opens from now on, by the caller's name."""
    store = client.app.state.sandbox.store  # type: ignore[attr-defined]
    opened: list[str] = []
    # SQLite's write transactions of their own, or every unit of PostgreSQL's but a refund's
    for name in ("transaction",) if hasattr(store, "transaction") else ("settling", "writing"):
        original = getattr(store, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            opened.append(_name)
            return _original(*args, **kw)

        monkeypatch.setattr(store, name, counted)
    return opened


def _status(client: TestClient, order_id: str) -> str:
    answer = client.get(f"{API}/refund/{order_id}", headers=TOKEN_A)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["list"][0]["refundStatus"])


def test_reads_with_nothing_due_open_no_write_transaction(
    client: TestClient, write_transactions: list[str]
) -> None:
    assert client.get(API, headers=TOKEN_A).status_code == 200
    assert client.get(f"{API}/refund/10001", headers=TOKEN_A).status_code == 200
    assert write_transactions == []


def test_a_refund_settles_at_its_due_time_exactly(
    client: TestClient, fake_time: FakeTime, write_transactions: list[str]
) -> None:
    assert client.post(f"{API}/10002/refund", json={}, headers=TOKEN_A).status_code == 200
    fake_time.value += 4.999  # settle-after is 5 s
    assert _status(client, "10002") == "pending_review"
    assert write_transactions == []  # not due: a plain read
    fake_time.value += 0.001
    assert _status(client, "10002") == "refund_successfully"  # due now: settled before reading
    order = client.get(API, params={"ids": "10002"}, headers=TOKEN_A).json()["data"]["list"][0]
    assert order["refundStatus"] == "refunded"


def test_a_refused_refund_does_not_undo_the_settlement_it_caused(
    client: TestClient, fake_time: FakeTime
) -> None:
    # The refund path settles what is due before it decides; a refusal (409) rolls
    # its own writes back but must keep that settlement and what the sandbox knows of it.
    assert client.post(f"{API}/10002/refund", json={}, headers=TOKEN_A).status_code == 200
    fake_time.value += 5  # due now
    refused = client.post(f"{API}/10002/refund", json={}, headers=TOKEN_A)
    assert refused.status_code == 409, refused.text
    assert _status(client, "10002") == "refund_successfully"


def test_the_clock_control_settles_what_fell_due_and_counts_it(client: TestClient) -> None:
    for order_id in ("10001", "10002"):
        assert client.post(f"{API}/{order_id}/refund", json={}, headers=TOKEN_A).status_code == 200
    early = client.post(
        "/_sandbox/clock/advance",
        params={"seconds": 1},
        headers={"Content-Type": "application/json"},
    )
    assert early.json()["data"]["settled"] == 0  # settle-after is 5 s
    due = client.post(
        "/_sandbox/clock/advance",
        params={"seconds": 4},
        headers={"Content-Type": "application/json"},
    )
    assert due.json()["data"]["settled"] == 2
    assert _status(client, "10001") == "refund_successfully"
    again = client.post(
        "/_sandbox/clock/advance",
        params={"seconds": 60},
        headers={"Content-Type": "application/json"},
    )
    assert again.json()["data"]["settled"] == 0
