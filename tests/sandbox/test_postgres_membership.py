"""Sandbox processes sharing one PostgreSQL database (storage/postgres/membership.py): a
lone process answers cached reads from memory, a process that joins makes it check the
database again before the joiner writes, and ``--fresh`` never wipes under another
process. Two apps in this process stand for two processes: each holds its own
connections and advisory locks."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import API, refund_url

pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

LINE = {"itemId": "120071", "skuCode": "FSZW08923_R_L_NUB", "countryCode": "CN", "quantity": 1}


def _refunded(client: TestClient) -> Any:
    order = client.get(API, params={"ids": "10007"}, headers=TOKEN_A).json()["data"]["list"][0]
    return next(i["refundStatus"] for i in order["orderItems"] if i["itemId"] == "120071")


def test_a_lone_process_reads_from_memory_until_another_joins_and_then_sees_its_writes(
    postgres_url: str,
) -> None:
    first = create_app(db=postgres_url, rate_limit=None)
    try:
        with TestClient(first) as one:
            before = _refunded(one)
            assert first.state.sandbox.store.alone
            assert _refunded(one) == before  # the same answer, kept
            second = create_app(db=postgres_url, rate_limit=None)
            try:
                assert not first.state.sandbox.store.alone
                assert not second.state.sandbox.store.alone
                with TestClient(second) as two:
                    made = two.post(
                        refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A
                    )
                    assert made.status_code == 200, made.text
                # the first process's kept answer is not used: it checks the database now
                assert _refunded(one) != before
            finally:
                second.state.sandbox.close()
    finally:
        first.state.sandbox.close()


def test_fresh_is_refused_while_another_process_is_attached_and_allowed_once_it_left(
    postgres_url: str,
) -> None:
    running = create_app(db=postgres_url, rate_limit=None)
    with TestClient(running) as client:
        made = client.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
        assert made.status_code == 200
        with pytest.raises(ValueError, match=r"--fresh would wipe .* under 1 other") as refused:
            create_app(db=postgres_url, rate_limit=None, fresh=True)
        assert "\n" not in str(refused.value)
        total = client.get(f"{API}/refund/10007", headers=TOKEN_A).json()["data"]["total"]
        assert total == 1  # nothing wiped
    running.state.sandbox.close()
    fresh = create_app(db=postgres_url, rate_limit=None, fresh=True)
    with TestClient(fresh) as client:
        assert client.get(f"{API}/refund/10007", headers=TOKEN_A).json()["data"]["total"] == 0
    fresh.state.sandbox.close()
