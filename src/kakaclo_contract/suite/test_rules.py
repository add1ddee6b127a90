"""The refund rules on the sandbox's documented demo orders (each state once)."""

from __future__ import annotations

import pytest
from kakaclo_client import spec_facts
from kakaclo_client.models import ErrorCode

from kakaclo_contract.target import select_target

TARGET = select_target()
API = spec_facts.SERVER_ROOT + spec_facts.QUERY_ORDERS.path


@pytest.mark.parametrize(
    ("order_id", "state"),
    [
        ("10003", "fulfillmentStatus is fully_shipped"),
        ("10005", "fulfillmentStatus is partially_shipped"),
        ("10004", "financialStatus is waiting"),
        ("10006", "status is cancel"),
    ],
)
def test_orders_that_may_not_be_refunded_are_refused_unchanged(order_id: str, state: str) -> None:
    TARGET.require_sandbox("relies on the demo orders")
    TARGET.reset()
    auth = {"Authorization": f"Bearer {TARGET.token}"}
    with TARGET.http() as http:
        before = http.get(API, params={"ids": order_id}, headers=auth).json()
        answer = http.post(f"{API}/{order_id}/refund", json={}, headers=auth)
        assert (answer.status_code, answer.json()["code"]) == (
            409,
            ErrorCode.ORDER_NOT_REFUNDABLE,
        ), answer.text
        assert state in answer.json()["message"]
        assert http.get(f"{API}/refund/{order_id}", headers=auth).json()["data"]["total"] == 0
        assert http.get(API, params={"ids": order_id}, headers=auth).json() == before


def test_another_merchants_order_does_not_exist() -> None:
    TARGET.require_sandbox("relies on the demo merchants")
    auth = {"Authorization": f"Bearer {TARGET.token}"}
    with TARGET.http() as http:
        answer = http.post(f"{API}/20001/refund", json={}, headers=auth)
        assert (answer.status_code, answer.json()["code"]) == (404, ErrorCode.ORDER_NOT_FOUND)
        listed = http.get(API, params={"ids": "20001"}, headers=auth).json()["data"]
        assert listed["list"] == []
