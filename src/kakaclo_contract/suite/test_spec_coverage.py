"""Dedicated requests for the documented answers that random cases rarely reach.

Against a sandbox the run must observe every (operation, status) pair and
every ``ErrorCode`` of the spec (see ``kakaclo_contract.spec_coverage``); these
requests make the rare ones happen, each checked against the spec like any
other answer: 413, an ``Idempotency-Key`` still in flight (40912), the
sandbox's forced 429/500/502/503 and its refused ``Prefer`` (40004), an unknown
path (40400), malformed JSON and a wrong content type, and each refusal of
Refund Order once, so that the gate never depends on what random cases drew.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from kakaclo_client import spec_facts
from kakaclo_client.models import CountryCode, ErrorCode

from kakaclo_contract.spec_check import SPEC, operation_of
from kakaclo_contract.target import select_target

TARGET = select_target()
API = TARGET.path(spec_facts.QUERY_ORDERS.path)
# one request of each operation that the sandbox answers 200 when nothing is forced
CALLS = {
    spec_facts.REFUND_ORDER.operation_id: ("POST", f"{API}/10007/refund"),
    spec_facts.QUERY_REFUND.operation_id: ("GET", f"{API}/refund/10001"),
    spec_facts.QUERY_ORDERS.operation_id: ("GET", API),
}
ATTEMPTS = 20
YIELDS = 100  # turns of the event loop, not time


def _checked(operation_id: str, status: int, answer_status: int, body: object) -> None:
    assert answer_status == status, (operation_id, answer_status, body)
    errors = SPEC.response_schema(operation_id, status).errors(body)
    assert not errors, errors


@pytest.mark.parametrize("operation_id", sorted(CALLS))
@pytest.mark.parametrize(
    ("prefer", "status", "code"),
    [
        ("code=429", 429, ErrorCode.RATE_LIMITED),
        ("code=500", 500, ErrorCode.SERVER_ERROR),
        ("code=502", 502, ErrorCode.UPSTREAM_UNAVAILABLE),
        ("code=503, retry-after=1", 503, ErrorCode.SERVICE_UNAVAILABLE),
        ("code=504", 400, ErrorCode.UNSUPPORTED_PREFERENCE),
    ],
)
def test_forced_failures_answer_as_documented(
    operation_id: str, prefer: str, status: int, code: int
) -> None:
    TARGET.require_sandbox("forces failures with the sandbox's Prefer header")
    method, path = CALLS[operation_id]
    auth = {"Authorization": f"Bearer {TARGET.token}", "Prefer": prefer}
    with TARGET.http() as http:
        answer = http.request(method, path, json={} if method == "POST" else None, headers=auth)
    _checked(operation_id, status, answer.status_code, answer.json())
    assert answer.json()["code"] == code
    if status in (429, 503):
        assert int(answer.headers["Retry-After"]) >= 1


def test_bodies_the_sandbox_refuses_before_reading_them() -> None:
    TARGET.require_sandbox("sends bodies no client should send")
    auth = {"Authorization": f"Bearer {TARGET.token}"}
    path = f"{API}/10007/refund"
    with TARGET.http() as http:
        too_large = http.post(
            path,
            content=b'{"remark": "' + b"x" * 600_000 + b'"}',
            headers={**auth, "Content-Type": "application/json"},
        )
        _checked(spec_facts.REFUND_ORDER.operation_id, 413, too_large.status_code, too_large.json())
        assert too_large.json()["code"] == ErrorCode.PAYLOAD_TOO_LARGE
        malformed = http.post(
            path, content=b'{"remark": ', headers={**auth, "Content-Type": "application/json"}
        )
        assert (malformed.status_code, malformed.json()["code"]) == (400, ErrorCode.MALFORMED_JSON)
        plain = http.post(path, content=b"{}", headers={**auth, "Content-Type": "text/plain"})
        assert (plain.status_code, plain.json()["code"]) == (
            400,
            ErrorCode.UNSUPPORTED_CONTENT_TYPE,
        )
        unknown = http.get(TARGET.path("/v2/no/such/path"), headers=auth)
        assert (unknown.status_code, unknown.json()["code"]) == (404, ErrorCode.UNKNOWN_PATH)
        assert operation_of("GET", TARGET.path("/v2/no/such/path")) is None
        wrong_method = http.delete(API, headers=auth)
        assert (wrong_method.status_code, wrong_method.json()["code"]) == (
            405,
            ErrorCode.METHOD_NOT_ALLOWED,
        )
        assert "GET" in wrong_method.headers["Allow"]


def test_a_key_still_in_flight_is_refused() -> None:
    TARGET.require_sandbox("holds a request open while another with its key arrives")
    body = b'{"orderItems": [{"itemId": "120071", "skuCode": "FSZW08923_R_L_NUB", '
    rest = b'"quantity": 1, "countryCode": "CN"}]}'

    async def attempt(key: str) -> set[tuple[int, int]]:
        headers = {
            "Authorization": f"Bearer {TARGET.token}",
            "Idempotency-Key": key,
            "Content-Type": "application/json",
        }
        release = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield body
            await release.wait()  # the first request holds its key while its body is read
            yield rest

        async with TARGET.async_http() as http:
            first = asyncio.create_task(
                http.post(f"{API}/10007/refund", content=slow_body(), headers=headers)
            )
            for _ in range(YIELDS):  # let the first request run until it waits for its body
                await asyncio.sleep(0)
            second = await http.post(f"{API}/10007/refund", content=body + rest, headers=headers)
            release.set()
            done = await first
        for answer in (done, second):  # each answer as the spec states it, 40912's too
            operation = spec_facts.REFUND_ORDER.operation_id
            _checked(operation, answer.status_code, answer.status_code, answer.json())
        return {(answer.status_code, answer.json()["code"]) for answer in (done, second)}

    # One request must arrive while the other is inside its handler (either way round);
    # when they did not overlap, try again with a fresh key (bounded, no waiting on a timer).
    seen = []
    for number in range(ATTEMPTS):
        TARGET.reset()
        outcomes = asyncio.run(attempt(f"coverage-in-flight-{number}"))
        if (409, ErrorCode.IDEMPOTENCY_REQUEST_IN_FLIGHT) in outcomes:
            assert outcomes == {
                (200, ErrorCode.SUCCESS),
                (409, ErrorCode.IDEMPOTENCY_REQUEST_IN_FLIGHT),
            }, outcomes
            return
        seen.append(outcomes)
    pytest.fail(f"no attempt saw the key in flight: {seen}")


def _item(item_id: str, quantity: int, country: str = CountryCode.CN) -> dict[str, object]:
    return {
        "itemId": item_id,
        "skuCode": "FSZW08923_R_L_NUB",
        "quantity": quantity,
        "countryCode": country,
    }


# each answer the spec documents for Refund Order, made on purpose (the demo orders)
REFUSALS = [
    ("10003", {}, {}, 409, ErrorCode.ORDER_NOT_REFUNDABLE),
    ("10001", {"orderItems": [_item("999999", 1)]}, {}, 409, ErrorCode.ITEM_NOT_IN_ORDER),
    (
        "10001",
        {"orderItems": [_item("120001", 1), _item("120001", 1)]},
        {},
        409,
        ErrorCode.DUPLICATE_ITEM,
    ),
    (
        "10001",
        {"orderItems": [_item("120001", 99)]},
        {},
        409,
        ErrorCode.QUANTITY_EXCEEDS_REFUNDABLE,
    ),
    ("99999", {}, {}, 404, ErrorCode.ORDER_NOT_FOUND),
    ("10001", {"orderItems": [_item("120001", 0)]}, {}, 400, ErrorCode.SCHEMA_VIOLATION),
    ("10001", {}, {"Authorization": "Bearer not-a-token"}, 401, ErrorCode.UNAUTHORIZED),
]


@pytest.mark.parametrize(("order_id", "body", "headers", "status", "code"), REFUSALS)
def test_each_refusal_of_refund_order(
    order_id: str, body: dict[str, object], headers: dict[str, str], status: int, code: int
) -> None:
    TARGET.require_sandbox("relies on the demo orders")
    TARGET.reset()
    with TARGET.http() as http:
        answer = http.post(
            f"{API}/{order_id}/refund",
            json=body,
            headers={"Authorization": f"Bearer {TARGET.token}", **headers},
        )
    _checked(spec_facts.REFUND_ORDER.operation_id, status, answer.status_code, answer.json())
    assert answer.json()["code"] == code


def test_nothing_left_and_a_reused_key() -> None:
    TARGET.require_sandbox("refunds a demo order")
    TARGET.reset()
    # the first refund must still be pending at the second (settled, it cancels the order)
    TARGET.freeze_clock()
    try:
        _nothing_left_and_a_reused_key()
    finally:
        TARGET.resume_clock()


def _nothing_left_and_a_reused_key() -> None:
    auth = {"Authorization": f"Bearer {TARGET.token}"}
    keyed = {**auth, "Idempotency-Key": "coverage-reused"}
    with TARGET.http() as http:
        assert http.post(f"{API}/10002/refund", json={}, headers=keyed).status_code == 200
        again = http.post(f"{API}/10002/refund", json={}, headers=auth)
        _checked(spec_facts.REFUND_ORDER.operation_id, 409, again.status_code, again.json())
        assert again.json()["code"] == ErrorCode.NOTHING_TO_REFUND
        reused = http.post(f"{API}/10001/refund", json={}, headers=keyed)
        _checked(spec_facts.REFUND_ORDER.operation_id, 409, reused.status_code, reused.json())
        assert reused.json()["code"] == ErrorCode.IDEMPOTENCY_KEY_REUSED
        message = reused.json()["message"]  # names the field, as a word (as the model asks)
        assert message.startswith("Idempotency-Key") or " Idempotency-Key" in message, message
