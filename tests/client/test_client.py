"""KakacloClient against the in-process sandbox: flows, waiting, paging, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from kakaclo_client.models import RefundReason, RefundStatus

from kakaclo_refunds import (
    AuthError,
    IdempotencyConflictError,
    Item,
    KakacloClient,
    NotFoundError,
    QuantityExceededError,
    RefundNotAllowedError,
    RefundWaitTimeout,
    RetryPolicy,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from kakaclo_refunds.errors import KakacloError, RequestTimeoutError
from tests.client.conftest import Time

SKU = "FSZW08923_R_L_NUB"
VENDOR_ITEMS = [Item("120001", SKU, 1, "CN"), Item("120002", SKU, 2, "US")]


def test_vendor_flows_through_the_layer(client: KakacloClient, clock: Time) -> None:
    partial = client.refund_order("10001", VENDOR_ITEMS, reason=RefundReason.OTHER, remark="test")
    whole = client.refund_order("10001", remark="other reason")
    assert partial.isdigit() and whole.isdigit() and partial != whole
    seen: list[tuple[str, float]] = []
    settled = client.wait_for_refund(
        "10001", whole, poll=1.0, on_progress=lambda r, t: seen.append((str(r.refund_status), t))
    )
    assert settled.refund_status == RefundStatus.REFUND_SUCCESSFULLY
    assert seen[0] == ("pending_review", 0.0)
    assert seen[-1][0] == "refund_successfully"
    assert clock.slept == [1.0, 1.5, 2.25, 3.375]  # settles 5 s after creation
    order = client.get_order("10001")
    assert order.refundable_amount == 0
    assert {r.refund_status for r in client.list_refunds("10001")} == {
        RefundStatus.REFUND_SUCCESSFULLY
    }


def test_poll_interval_grows_and_is_capped(
    client: KakacloClient,
    clock: Time,
    make_app: Callable[..., Any],
    make_client: Callable[..., KakacloClient],
) -> None:
    slow = make_client(make_app(settle_after=100))
    number = slow.refund_order("10002")
    slow.wait_for_refund("10002", number, poll=2.0, max_poll=10.0)
    assert clock.slept[:5] == [2.0, 3.0, 4.5, 6.75, 10.0]
    assert max(clock.slept) == 10.0


def test_failed_refund_is_returned_settled(client: KakacloClient) -> None:
    number = client.refund_order("10002", remark="please [fail]")
    refund = client.wait_for_refund("10002", number, poll=1.0)
    assert refund.refund_status == RefundStatus.REFUND_FAILED


def test_wait_times_out_naming_the_last_status(
    make_app: Callable[..., Any], make_client: Callable[..., KakacloClient], clock: Time
) -> None:
    client = make_client(make_app(settle_after=10_000))
    number = client.refund_order("10002")
    with pytest.raises(RefundWaitTimeout) as caught:
        client.wait_for_refund("10002", number, timeout=30, poll=5)
    assert caught.value.last_status == "pending_review"
    assert "pending_review" in str(caught.value) and "30s" in str(caught.value)
    assert sum(clock.slept) == pytest.approx(30)


def test_paging_walks_every_order_once(client: KakacloClient) -> None:
    ids = [order.id for order in client.iter_orders(page_size=3)]
    assert len(ids) == len(set(ids)) == 10
    requests = [r for r in client.transport.sent if r.url.path.endswith("/orders")]  # type: ignore[attr-defined]
    assert len(requests) == 4  # 3 + 3 + 3 + 1
    assert [o.id for o in client.iter_orders(ids=["10002", "10001"])] == ["10002", "10001"]


def test_orders_are_fetched_lazily(client: KakacloClient) -> None:
    first = next(iter(client.iter_orders(page_size=2)))
    assert first.id
    assert len([r for r in client.transport.sent if r.url.path.endswith("/orders")]) == 1  # type: ignore[attr-defined]


def test_list_refunds_walks_pages(client: KakacloClient) -> None:
    numbers = [client.refund_order("10007", [Item("120071", SKU, 1, "CN")]) for _ in range(5)]
    assert [r.refund_no for r in client.list_refunds("10007")] == numbers[::-1]


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (lambda c: c.refund_order("10003"), RefundNotAllowedError, 40901),
        (
            lambda c: c.refund_order("10001", [Item("120009", SKU, 1, "CN")]),
            RefundNotAllowedError,
            40902,
        ),
        (
            lambda c: c.refund_order("10001", [Item("120001", SKU, 3, "CN")]),
            QuantityExceededError,
            40904,
        ),
        (lambda c: c.refund_order("10001", [Item("120001", SKU, 0, "CN")]), ValidationError, 40002),
        (lambda c: c.refund_order("99999"), NotFoundError, 40401),
        (lambda c: c.list_refunds("20001"), NotFoundError, 40401),
        (lambda c: c.get_order("99999"), NotFoundError, None),
    ],
)
def test_each_error_class_comes_from_its_case(
    client: KakacloClient, call: Any, error: type[KakacloError], code: int | None
) -> None:
    with pytest.raises(error) as caught:
        call(client)
    assert getattr(caught.value, "code", None) == code
    assert caught.value.request is not None
    assert "demo-token" not in repr(vars(caught.value)) + str(caught.value)


def test_bad_token_is_auth_error(app: Any, make_client: Callable[..., KakacloClient]) -> None:
    with pytest.raises(AuthError) as caught:
        make_client(app, token="wrong-token").list_refunds("10001")
    assert caught.value.status == 401
    assert "wrong-token" not in repr(vars(caught.value)) + str(caught.value)


def test_key_reused_for_another_body_is_idempotency_conflict(client: KakacloClient) -> None:
    client.refund_order("10001", [Item("120001", SKU, 1, "CN")], idempotency_key="k1")
    with pytest.raises(IdempotencyConflictError) as caught:
        client.refund_order("10001", [Item("120002", SKU, 1, "US")], idempotency_key="k1")
    assert caught.value.code == 40911


def _always(status: int, content: bytes) -> Any:
    def sabotage(request: httpx.Request, forward: Callable[[], httpx.Response]) -> httpx.Response:
        if "/_sandbox/" in request.url.path:
            return forward()
        return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})

    return sabotage


def test_server_errors_are_retried_then_raised(
    app: Any, make_client: Callable[..., KakacloClient], clock: Time
) -> None:
    client = make_client(app, _always(503, b'{"code": 50300, "message": "down"}'))
    with pytest.raises(ServerError) as caught:
        client.list_refunds("10001")
    assert caught.value.status == 503
    assert len(clock.slept) == 3  # four attempts
    assert clock.slept == [0.5, 1.0, 2.0]  # capped exponential backoff (jitter pinned)


def test_a_200_with_another_code_is_an_error(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    body = b'{"code": 99999, "message": "kk.api.500", "data": null}'
    client = make_client(app, _always(200, body))
    with pytest.raises(UnexpectedResponseError) as caught:
        client.list_refunds("10001")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        200,
        99999,
        "kk.api.500",
    )


def test_connection_failures_become_transport_error(
    app: Any, make_client: Callable[..., KakacloClient], clock: Time
) -> None:
    def refuse(request: httpx.Request, forward: Callable[[], httpx.Response]) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = make_client(app, refuse)
    with pytest.raises(TransportError):
        client.list_refunds("10001")
    assert len(clock.slept) == 3


def test_timeouts_become_request_timeout_error(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    def slow(request: httpx.Request, forward: Callable[[], httpx.Response]) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    client = make_client(app, slow, retry=RetryPolicy(attempts=2, jitter=lambda: 1.0))
    with pytest.raises(RequestTimeoutError):
        client.get_order("10001")


def test_missing_token_is_refused_before_any_request(
    monkeypatch: pytest.MonkeyPatch, client_class: Callable[..., KakacloClient]
) -> None:
    monkeypatch.delenv("KAKACLO_TOKEN", raising=False)
    with pytest.raises(ValueError, match="KAKACLO_TOKEN"):
        client_class(base_url="http://127.0.0.1:9/openapi")


def test_base_url_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, client_class: Callable[..., KakacloClient]
) -> None:
    monkeypatch.setenv("KAKACLO_BASE_URL", "http://example.invalid/openapi/")
    monkeypatch.setenv("KAKACLO_TOKEN", "t")
    with client_class() as client:
        assert client.base_url == "http://example.invalid/openapi"
    monkeypatch.delenv("KAKACLO_BASE_URL")
    with client_class() as client:
        assert client.base_url == "https://developer.kakaclo.com/openapi"
