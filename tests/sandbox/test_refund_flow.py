"""The vendor's flow: partial refund, whole-order refund, then Query Refund until settled."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

from tests.curl import send_curl
from tests.live import LiveSandbox
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import PARTIAL_BODY, item, order, refund_url, refunds

# The vendor's two curl examples, verbatim but for host and token.
VENDOR_CURLS = [
    """curl -d '{"remark":"test","refundReason":"Other","orderItems":[{"itemId":"120001","skuCode":"FSZW08923_R_L_NUB","quantity":1,"countryCode":"CN"},{"itemId":"120002","skuCode":"FSZW08923_R_L_NUB","quantity":2,"countryCode":"US"}]}' \\
-X POST "https://test-developer.kakaclo.com/openapi/openapi/v2/order/orders/10001/refund" \\
-H "Authorization: Bearer {YOU_ACCES_TOKEN}" \\
-H "Content-Type: application/json\"""",  # noqa: E501
    """curl -d '{"remark":"other reason"}' \\
-X POST "https://test-developer.kakaclo.com/openapi/openapi/v2/order/orders/10001/refund" \\
-H "Authorization: Bearer {YOU_ACCES_TOKEN}" \\
-H "Content-Type: application/json\"""",
]


def _run_curl(example: str, root: str) -> dict[str, object]:
    command = example.replace("https://test-developer.kakaclo.com", root).replace(
        "{YOU_ACCES_TOKEN}", "demo-token"
    )
    parsed: dict[str, object] = send_curl(command).json()
    return parsed


def test_vendor_curl_examples_over_http(live: LiveSandbox) -> None:
    partial = _run_curl(VENDOR_CURLS[0], live.root)
    whole = _run_curl(VENDOR_CURLS[1], live.root)
    for answer in (partial, whole):
        assert answer["code"] == 10000
        assert str(answer["data"]).isdigit()
    with httpx.Client(base_url=live.root) as http:
        listed = refunds(http, TOKEN_A, "10001")
        assert [(r["refundNo"], r["refundStatus"]) for r in listed] == [
            (whole["data"], "pending_review"),
            (partial["data"], "pending_review"),
        ]
        http.post(
            "/_sandbox/clock/advance",
            params={"seconds": 10},
            headers={"Content-Type": "application/json"},
        )
        assert {r["refundStatus"] for r in refunds(http, TOKEN_A, "10001")} == {
            "refund_successfully"
        }


def test_partial_then_whole_refund_settles_and_updates_the_order(
    client: TestClient, fake_time: FakeTime
) -> None:
    first = client.post(refund_url("10001"), json=PARTIAL_BODY, headers=TOKEN_A)
    assert first.status_code == 200, first.text
    after_partial = order(client, TOKEN_A, "10001")
    assert after_partial["refundStatus"] == "refunding"
    assert [line["refundStatus"] for line in after_partial["orderItems"]] == [
        "refunding",
        "refunding",
    ]
    assert after_partial["refundedAmount"] == 0

    second = client.post(refund_url("10001"), json={"remark": "other reason"}, headers=TOKEN_A)
    assert second.status_code == 200, second.text
    assert second.json()["data"] != first.json()["data"]
    assert [r["refundStatus"] for r in refunds(client, TOKEN_A, "10001")] == ["pending_review"] * 2

    fake_time.value += 4.9  # settle-after is 5 s
    assert [r["refundStatus"] for r in refunds(client, TOKEN_A, "10001")] == ["pending_review"] * 2
    fake_time.value += 0.2
    assert [r["refundStatus"] for r in refunds(client, TOKEN_A, "10001")] == [
        "refund_successfully"
    ] * 2
    settled = order(client, TOKEN_A, "10001")
    assert settled["refundStatus"] == "refunded"
    assert settled["status"] == "cancel"
    assert settled["refundedAmount"] == settled["finalAmount"] == 45.25
    assert settled["refundableAmount"] == 0
    assert [line["refundStatus"] for line in settled["orderItems"]] == ["refunded", "refunded"]


def test_partial_refund_success_is_a_partial_refund(
    client: TestClient, fake_time: FakeTime
) -> None:
    body = {"orderItems": [item("120001", 1)]}
    assert client.post(refund_url("10001"), json=body, headers=TOKEN_A).status_code == 200
    fake_time.value += 5
    settled = order(client, TOKEN_A, "10001")
    assert settled["refundStatus"] == "partial_refund"
    assert settled["status"] == "processing"
    assert settled["refundedAmount"] == 7.23
    assert settled["refundableAmount"] == round(45.25 - 7.23, 4)
    # the vendor's "no refund status" is the string NULL
    assert [line["refundStatus"] for line in settled["orderItems"]] == ["refunded", "NULL"]


def test_fail_marker_settles_failed_and_releases_the_quantity(
    client: TestClient, fake_time: FakeTime
) -> None:
    failing = {**PARTIAL_BODY, "remark": "please [fail] this"}
    assert client.post(refund_url("10001"), json=failing, headers=TOKEN_A).status_code == 200
    # the pieces are reserved while pending
    again = client.post(refund_url("10001"), json=PARTIAL_BODY, headers=TOKEN_A)
    assert again.status_code == 409
    assert again.json()["code"] == 40904
    client.post(
        "/_sandbox/clock/advance",
        params={"seconds": 5},
        headers={"Content-Type": "application/json"},
    )
    assert [r["refundStatus"] for r in refunds(client, TOKEN_A, "10001")] == ["refund_failed"]
    released = order(client, TOKEN_A, "10001")
    # no refund left: the vendor's form of an order without one
    assert released["refundStatus"] == "NULL"
    assert "refundedAmount" not in released and "refundableAmount" not in released
    assert client.post(refund_url("10001"), json=PARTIAL_BODY, headers=TOKEN_A).status_code == 200


def test_refunds_are_listed_newest_first_and_paged(client: TestClient) -> None:
    numbers = [
        client.post(
            refund_url("10007"),
            json={"orderItems": [item("120071", 1)]},
            headers=TOKEN_A,
        ).json()["data"]
        for _ in range(5)
    ]
    first = client.get(
        "/openapi/openapi/v2/order/orders/refund/10007",
        params={"pageSize": 2, "pageNumber": 1},
        headers=TOKEN_A,
    ).json()["data"]
    third = client.get(
        "/openapi/openapi/v2/order/orders/refund/10007",
        params={"pageSize": 2, "pageNumber": 3},
        headers=TOKEN_A,
    ).json()["data"]
    past = client.get(
        "/openapi/openapi/v2/order/orders/refund/10007",
        params={"pageSize": 2, "pageNumber": 4},
        headers=TOKEN_A,
    ).json()["data"]
    assert first["total"] == third["total"] == past["total"] == 5
    assert past["list"] == []
    assert [r["refundNo"] for r in first["list"]] == numbers[::-1][:2]
    assert [r["refundNo"] for r in third["list"]] == numbers[:1]


def test_lines_sharing_an_item_id_are_told_apart_by_sku_and_warehouse(client: TestClient) -> None:
    # order 10002 has two lines with itemId 120021: one CN, one US (other sku)
    body = {
        "orderItems": [
            {
                "itemId": "120021",
                "skuCode": "FSZW07844_NB_S_NUB",
                "quantity": 1,
                "countryCode": "US",
            }
        ]
    }
    assert client.post(refund_url("10002"), json=body, headers=TOKEN_A).status_code == 200
    lines = order(client, TOKEN_A, "10002")["orderItems"]
    assert [(line["countryCode"], line["refundStatus"]) for line in lines] == [
        ("CN", "NULL"),
        ("US", "refunding"),
    ]


def test_the_rest_of_the_money_goes_with_the_last_settled_piece(
    client: TestClient, fake_time: FakeTime
) -> None:
    # 10001: 2 CN + 3 US pieces at 7.23, freight 9.1, final 45.25
    failing = {"remark": "[fail]", "orderItems": [item("120002", 3, "US")]}
    assert client.post(refund_url("10001"), json=failing, headers=TOKEN_A).status_code == 200
    last = {"orderItems": [item("120001", 2)]}  # the last pieces not yet in a refund
    assert client.post(refund_url("10001"), json=last, headers=TOKEN_A).status_code == 200
    fake_time.value += 5
    settled = order(client, TOKEN_A, "10001")
    # the failed refund took nothing, and the successful one did not take the freight:
    # three pieces are still unrefunded
    assert settled["refundedAmount"] == 14.46
    assert settled["refundableAmount"] == round(45.25 - 14.46, 4)
    whole = client.post(refund_url("10001"), json={}, headers=TOKEN_A)
    assert whole.status_code == 200
    fake_time.value += 5
    done = order(client, TOKEN_A, "10001")
    assert (done["refundedAmount"], done["refundableAmount"]) == (45.25, 0)
