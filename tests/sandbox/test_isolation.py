"""One merchant never sees another's data: foreign ids answer exactly like unknown ones."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, TOKEN_B
from tests.sandbox.helpers import API, query_refund_url, refund_url, snapshot

A_ORDERS = [f"100{n:02d}" for n in range(1, 11)]


def _same_answer_as_unknown(client: TestClient, order_id: str, unknown: str) -> None:
    foreign = client.post(refund_url(order_id), json={}, headers=TOKEN_B)
    missing = client.post(refund_url(unknown), json={}, headers=TOKEN_B)
    assert (foreign.status_code, foreign.json()["code"]) == (404, 40401)
    assert foreign.json()["message"].replace(order_id, "X") == missing.json()["message"].replace(
        unknown, "X"
    )
    foreign = client.get(query_refund_url(order_id), headers=TOKEN_B)
    assert (foreign.status_code, foreign.json()["code"]) == (404, 40401)


def test_merchant_b_cannot_touch_or_see_merchant_a(client: TestClient) -> None:
    # give A a refund, so there is something to leak
    assert client.post(refund_url("10002"), json={}, headers=TOKEN_A).status_code == 200
    before = snapshot(client, TOKEN_A)
    for order_id in A_ORDERS:
        _same_answer_as_unknown(client, order_id, "99999")
    listed = client.get(API, params={"ids": ",".join(A_ORDERS)}, headers=TOKEN_B)
    unknown = client.get(API, params={"ids": "99998,99999"}, headers=TOKEN_B)
    assert listed.status_code == 200
    assert listed.json()["data"]["list"] == [] == unknown.json()["data"]["list"]
    assert listed.json()["data"]["total"] == 0
    assert snapshot(client, TOKEN_A) == before


def test_each_merchant_lists_only_its_own_orders(client: TestClient) -> None:
    a = {
        o["id"]
        for o in client.get(API, params={"pageSize": 250}, headers=TOKEN_A).json()["data"]["list"]
    }
    b = {
        o["id"]
        for o in client.get(API, params={"pageSize": 250}, headers=TOKEN_B).json()["data"]["list"]
    }
    assert a == set(A_ORDERS)
    assert b == {"20001", "20002"}
