"""The refund rules on the sandbox's documented demo orders (each state once)."""

from __future__ import annotations

import asyncio
import datetime
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from kakaclo_client import spec_facts
from kakaclo_client.models import CountryCode, ErrorCode, OrderRefundStatus, RefundStatus

from kakaclo_contract.model import FAIL_MARKER
from kakaclo_contract.spec_check import SETTLED
from kakaclo_contract.target import select_target

TARGET = select_target()
API = TARGET.path(spec_facts.QUERY_ORDERS.path)
YIELDS = 100  # turns of the event loop, not time


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


@pytest.mark.parametrize("order_id", ["20001", "99999"])
def test_query_refund_of_an_order_the_merchant_lacks_names_it(order_id: str) -> None:
    """Query Refund of another merchant's order, or of none, is 404 naming the order, as a
    refusal names its order ("naming the field or rule")."""
    TARGET.require_sandbox("relies on the demo merchants")
    auth = {"Authorization": f"Bearer {TARGET.token}"}
    with TARGET.http() as http:
        answer = http.get(f"{API}/refund/{order_id}", headers=auth)
        assert (answer.status_code, answer.json()["code"]) == (404, ErrorCode.ORDER_NOT_FOUND)
        assert f"order {order_id}" in answer.json()["message"], answer.text


@pytest.fixture
def frozen_sandbox() -> Iterator[float]:
    """The demo data on a sandbox whose clock stands still until the test moves it (over a
    network too, a refund stays pending however slow the requests); its settle-after."""
    TARGET.require_sandbox("moves the clock")
    TARGET.reset()
    with TARGET.http() as http:
        settle_after = float(
            http.get("/_sandbox/info").json()["data"]["settings"]["settleAfterSeconds"]
        )
    if settle_after <= 0:
        pytest.skip("needs a settle-after above 0 s: with 0 a refund is never seen pending")
    TARGET.freeze_clock()
    yield settle_after
    TARGET.resume_clock()


def test_refunds_settle_each_at_its_own_time(frozen_sandbox: float) -> None:
    """A refund that settles must not hold back one due later (the sandbox keeps the earliest due
    time in memory)."""
    settle_after = frozen_sandbox
    with TARGET.http() as http:
        auth = {"Authorization": f"Bearer {TARGET.token}"}
        order = http.get(API, params={"ids": "10001"}, headers=auth).json()["data"]["list"][0]
        line = max(order["orderItems"], key=lambda item: item["productNum"])  # 2 pieces or more
        piece = {"itemId": line["itemId"], "skuCode": line["skuCode"], "quantity": 1}
        body = {"orderItems": [{**piece, "countryCode": line["countryCode"]}]}

        def refund() -> str:
            answer = http.post(f"{API}/10001/refund", json=body, headers=auth)
            assert answer.status_code == 200, answer.text
            return str(answer.json()["data"])

        def statuses() -> dict[str, str]:
            page = http.get(f"{API}/refund/10001", headers=auth).json()["data"]
            return {r["refundNo"]: r["refundStatus"] for r in page["list"]}

        step = 0.6 * settle_after
        first = refund()
        TARGET.advance_clock(step)
        second = refund()  # due at 1.6 x settle-after
        TARGET.advance_clock(step)  # 1.2 x: the first is due, the second is not
        seen = statuses()
        assert seen[first] in SETTLED and seen[second] == RefundStatus.PENDING_REVIEW, seen
        TARGET.advance_clock(step)  # 1.8 x: the second is due too
        assert statuses()[second] in SETTLED, statuses()


def test_a_refund_that_fails_gives_its_pieces_back(frozen_sandbox: float) -> None:
    """A refund that settles to refund_failed (a sandbox fails one whose remark has
    `[fail]`) leaves nothing refunded: its pieces are refundable again, the order is
    refunding no more, and its modifyDate is the refund's due time."""
    settle_after = frozen_sandbox
    auth = {"Authorization": f"Bearer {TARGET.token}"}
    with TARGET.http() as http:

        def order() -> dict[str, Any]:
            page = http.get(API, params={"ids": "10001"}, headers=auth).json()["data"]
            return dict(page["list"][0])

        before = order()
        line = max(before["orderItems"], key=lambda item: item["productNum"])
        every_piece = {
            "itemId": line["itemId"],
            "skuCode": line["skuCode"],
            "quantity": line["productNum"],
            "countryCode": line["countryCode"],
        }
        body = {"remark": f"{FAIL_MARKER} on purpose", "orderItems": [every_piece]}
        answer = http.post(f"{API}/10001/refund", json=body, headers=auth)
        assert answer.status_code == 200, answer.text
        number = str(answer.json()["data"])
        during = order()
        assert during["refundStatus"] == OrderRefundStatus.REFUNDING, during
        TARGET.advance_clock(settle_after + 1)
        after = order()  # Query Order settles what is due by itself
        page = http.get(f"{API}/refund/10001", headers=auth).json()["data"]
        assert {r["refundNo"]: r["refundStatus"] for r in page["list"]} == {
            number: RefundStatus.REFUND_FAILED
        }
        for key in ("refundStatus", "refundedAmount", "refundableAmount", "orderItems"):
            assert after.get(key) == before.get(key), (key, before.get(key), after.get(key))
        # Dates are shown in whole seconds: a refund made at t shows floor(t), and its due
        # time floor(t + settle-after), which is floor(t) + settle-after rounded one way or
        # the other when settle-after has a fraction.
        gap = parse_instant(after["modifyDate"]) - parse_instant(during["modifyDate"])
        assert gap in {math.floor(settle_after), math.ceil(settle_after)}, (
            during["modifyDate"],
            after["modifyDate"],
        )
        again = http.post(f"{API}/10001/refund", json={"orderItems": [every_piece]}, headers=auth)
        assert again.status_code == 200, again.text


def _piece_of_10007(quantity: int) -> dict[str, object]:
    return {
        "itemId": "120071",
        "skuCode": "FSZW08923_R_L_NUB",
        "quantity": quantity,
        "countryCode": CountryCode.CN,
    }


def test_a_key_covers_the_items_of_its_body() -> None:
    """The same key with the same order but other items is another body: 40911, and no
    second refund (the fingerprint covers the items, not only the reason and remark)."""
    TARGET.require_sandbox("relies on the demo orders")
    TARGET.reset()
    headers = {"Authorization": f"Bearer {TARGET.token}", "Idempotency-Key": "items-covered"}
    with TARGET.http() as http:
        first = http.post(
            f"{API}/10007/refund", json={"orderItems": [_piece_of_10007(1)]}, headers=headers
        )
        assert first.status_code == 200, first.text
        other = http.post(
            f"{API}/10007/refund", json={"orderItems": [_piece_of_10007(2)]}, headers=headers
        )
        assert (other.status_code, other.json()["code"]) == (
            409,
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
        ), other.text
        page = http.get(f"{API}/refund/10007", headers=headers).json()["data"]
        assert [r["refundNo"] for r in page["list"]] == [first.json()["data"]], page


def test_a_line_named_twice_is_refused_naming_both_items() -> None:
    """One order line named by two items is 409 DUPLICATE_ITEM naming the second item and
    the first ("naming the field or rule"), and nothing is refunded."""
    TARGET.require_sandbox("relies on the demo orders")
    TARGET.reset()
    auth = {"Authorization": f"Bearer {TARGET.token}"}
    body = {"orderItems": [_piece_of_10007(1), _piece_of_10007(1)]}
    with TARGET.http() as http:
        answer = http.post(f"{API}/10007/refund", json=body, headers=auth)
        assert (answer.status_code, answer.json()["code"]) == (
            409,
            ErrorCode.DUPLICATE_ITEM,
        ), answer.text
        message = answer.json()["message"]
        assert "orderItems[1]" in message and "orderItems[0]" in message, message
        assert http.get(f"{API}/refund/10007", headers=auth).json()["data"]["total"] == 0


def test_replays_of_an_answered_key_arriving_together_are_all_replayed() -> None:
    """Once the first request with a key is answered, 40912 is over for that key: a replay
    that arrives while another replay of it is being processed is replayed too."""
    TARGET.require_sandbox("holds a replay open while another replay of its key arrives")
    TARGET.reset()
    headers = {
        "Authorization": f"Bearer {TARGET.token}",
        "Idempotency-Key": "replays-together",
        "Content-Type": "application/json",
    }
    body = b'{"orderItems": [{"itemId": "120071", "skuCode": "FSZW08923_R_L_NUB", '
    rest = b'"quantity": 1, "countryCode": "CN"}]}'
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield body
        await release.wait()  # this replay holds the key while its body is read
        yield rest

    async def replays() -> list[tuple[int, object, object]]:
        async with TARGET.async_http() as http:
            first = await http.post(f"{API}/10007/refund", content=body + rest, headers=headers)
            held = asyncio.create_task(
                http.post(f"{API}/10007/refund", content=slow_body(), headers=headers)
            )
            for _ in range(YIELDS):  # let the held replay run until it waits for its body
                await asyncio.sleep(0)
            arriving = await http.post(f"{API}/10007/refund", content=body + rest, headers=headers)
            release.set()
            answers = [first, arriving, await held]
        return [(a.status_code, a.json()["code"], a.json()["data"]) for a in answers]

    first, *replayed = asyncio.run(replays())
    assert first[:2] == (200, ErrorCode.SUCCESS), first
    assert replayed == [first, first], replayed
    with TARGET.http() as http:
        page = http.get(f"{API}/refund/10007", headers=headers).json()["data"]
        assert page["total"] == 1, page


def parse_instant(text: str) -> float:
    """Epoch seconds of an ISO 8601 instant of the API (`...Z`)."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
