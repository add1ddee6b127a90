"""Query Order: filters by ids and date ranges, pages, and amounts per the vendor."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, item, refund_url


def _ids(client: TestClient, **params: object) -> list[str]:
    body = client.get(API, params=params, headers=TOKEN_A).json()
    return [order["id"] for order in body["data"]["list"]]


def test_paging_walks_every_order_once(client: TestClient) -> None:
    pages = [_ids(client, pageSize=3, pageNumber=n) for n in range(1, 6)]
    seen = [order_id for page in pages for order_id in page]
    assert len(seen) == len(set(seen)) == 10
    assert pages[-1] == []
    assert client.get(API, params={"pageSize": 3}, headers=TOKEN_A).json()["data"]["total"] == 10
    past = client.get(API, params={"pageSize": 3, "pageNumber": 5}, headers=TOKEN_A).json()
    assert (past["data"]["total"], past["data"]["list"]) == (10, [])  # counted with no row


def test_created_range_is_inclusive_and_accepts_offsets(client: TestClient) -> None:
    assert _ids(
        client, createStartTime="2026-11-02T07:00:00Z", createEndTime="2026-11-02T08:00:00Z"
    ) == ["10008", "10007"]
    assert _ids(
        client, createStartTime="2026-11-02T09:00:00+02:00", createEndTime="2026-11-02T07:00:00Z"
    ) == ["10007"]


def test_update_range_follows_refunds(client: TestClient, fake_time: FakeTime) -> None:
    client.post(refund_url("10007"), json={"orderItems": [item("120071", 1)]}, headers=TOKEN_A)
    assert _ids(client, updateStartTime="2026-11-10T00:00:00Z") == ["10007"]


def test_amounts_follow_the_vendor_definitions(clean_client: TestClient) -> None:
    answer = clean_client.get(API, params={"pageSize": 250}, headers=TOKEN_A).json()
    for order in answer["data"]["list"]:
        subtotal = sum(line["total"] for line in order["orderItems"])
        assert round(subtotal, 4) == order["subTotalAmount"]
        assert order["finalAmount"] == round(
            order["subTotalAmount"] + order["freightAmount"] - order["couponAmount"], 4
        )
        assert order["refundableAmount"] == round(order["finalAmount"] - order["refundedAmount"], 4)
        for line in order["orderItems"]:
            assert line["total"] == round(line["amount"] * line["productNum"], 4)


def test_paging_defaults_come_from_the_spec(client: TestClient) -> None:
    page = client.get(API, headers=TOKEN_A).json()["data"]
    assert (page["pageNumber"], page["pageSize"], len(page["list"])) == (1, 10, 10)
    refunds = client.get("/openapi/openapi/v2/order/orders/refund/10001", headers=TOKEN_A).json()
    assert (refunds["data"]["pageNumber"], refunds["data"]["pageSize"]) == (1, 10)
