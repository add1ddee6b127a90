"""Retries that never duplicate a refund: 429 storms, dropped connections, reconciliation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kakaclo_refunds import (
    Item,
    KakacloClient,
    RateLimitedError,
    RefundOutcomeUnknownError,
    RetryNotice,
    RetryPolicy,
    TransportError,
)
from kakaclo_sandbox import RateLimit
from tests.client.conftest import Time

SKU = "FSZW08923_R_L_NUB"
Sabotage = Callable[[httpx.Request, Callable[[], httpx.Response]], httpx.Response]


def _is_refund(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/refund")


def _refund_count(client: KakacloClient, order_id: str) -> int:
    return len(client.list_refunds(order_id))


def test_429_storm_is_ridden_out_by_retry_after(
    make_app: Callable[..., Any], make_client: Callable[..., KakacloClient], clock: Time
) -> None:
    app = make_app(rate_limit=RateLimit(2, 0.5))  # 2 requests, then one per 2 s
    client = make_client(app, retry=RetryPolicy(attempts=6, jitter=lambda: 1.0))
    numbers = [client.refund_order("10007", [Item("120071", SKU, 1, "CN")]) for _ in range(4)]
    assert len(set(numbers)) == 4
    statuses = [r for r in client.transport.sent if _is_refund(r)]  # type: ignore[attr-defined]
    assert len(statuses) > 4  # some were answered 429 and sent again
    assert set(clock.slept) == {2.0}  # exactly the server's Retry-After, never a guess
    assert _refund_count(client, "10007") == 4  # no duplicate


def test_a_retry_after_beyond_the_cap_stops_at_once_naming_the_wait(
    make_app: Callable[..., Any], make_client: Callable[..., KakacloClient], clock: Time
) -> None:
    app = make_app(rate_limit=RateLimit(1, 0.01))
    notices: list[RetryNotice] = []
    client = make_client(
        app,
        retry=RetryPolicy(attempts=2, retry_after_cap=1, jitter=lambda: 1.0),
        on_retry=notices.append,
    )
    client.list_refunds("10001")
    with pytest.raises(RateLimitedError) as caught:
        client.list_refunds("10001")
    assert clock.slept == []  # Retry-After said 100 s: not cut short to the cap, not retried
    assert notices == []
    assert caught.value.retry_after == 100
    assert "asks to wait 100 s, longer than the retry-after cap of 1 s" in str(caught.value)
    assert "try again in 100 s" in caught.value.hint
    assert isinstance(caught.value.__cause__, RateLimitedError)  # the server's own answer


def test_each_retry_is_announced_before_its_wait(
    make_app: Callable[..., Any], make_client: Callable[..., KakacloClient], clock: Time
) -> None:
    app = make_app(rate_limit=RateLimit(1, 0.5))  # 1 request, then one per 2 s
    notices: list[RetryNotice] = []
    client = make_client(app, on_retry=notices.append)
    client.list_refunds("10001")
    client.list_refunds("10001")
    assert [(n.attempt, n.attempts, n.wait, n.server_asked) for n in notices] == [(1, 4, 2.0, True)]
    assert isinstance(notices[0].error, RateLimitedError)
    assert clock.slept == [2.0]


def _drop_first_refund(after_commit: bool, strip_keys: bool = False) -> Sabotage:
    dropped: list[bool] = []

    def sabotage(request: httpx.Request, forward: Callable[[], httpx.Response]) -> httpx.Response:
        if strip_keys and "idempotency-key" in request.headers:
            del request.headers["idempotency-key"]  # a server that ignores keys
        if _is_refund(request) and not dropped:
            dropped.append(True)
            if after_commit:
                forward()  # the server commits the refund ...
            raise httpx.RemoteProtocolError("connection dropped", request=request)  # ... unanswered
        return forward()

    return sabotage


def test_drop_after_commit_is_replayed_by_key_on_a_sandbox(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    client = make_client(app, _drop_first_refund(after_commit=True))
    assert client.honours_idempotency_key()
    number = client.refund_order("10002")
    sent = [r for r in client.transport.sent if _is_refund(r)]  # type: ignore[attr-defined]
    assert len(sent) == 2
    assert sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]
    assert [r.refund_no for r in client.list_refunds("10002")] == [number]


def test_drop_after_commit_is_reconciled_on_a_server_without_keys(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    client = make_client(
        app,
        _drop_first_refund(after_commit=True, strip_keys=True),
        honours_idempotency_key=False,
    )
    number = client.refund_order("10002", remark="reconcile me")
    assert len([r for r in client.transport.sent if _is_refund(r)]) == 1  # type: ignore[attr-defined]
    assert [r.refund_no for r in client.list_refunds("10002")] == [number]


def test_drop_before_commit_is_sent_again_on_a_server_without_keys(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    client = make_client(
        app,
        _drop_first_refund(after_commit=False, strip_keys=True),
        honours_idempotency_key=False,
    )
    number = client.refund_order("10002")
    assert len([r for r in client.transport.sent if _is_refund(r)]) == 2  # type: ignore[attr-defined]
    assert [r.refund_no for r in client.list_refunds("10002")] == [number]


def test_outcome_unknown_when_reconciliation_cannot_tell(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    state = {"dropped": False}

    def sabotage(request: httpx.Request, forward: Callable[[], httpx.Response]) -> httpx.Response:
        if state["dropped"]:
            raise httpx.ConnectError("the server is gone", request=request)
        if _is_refund(request):
            state["dropped"] = True
            forward()
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return forward()

    client = make_client(app, sabotage, honours_idempotency_key=False)
    with pytest.raises(RefundOutcomeUnknownError) as caught:
        client.refund_order("10002")
    assert "may have gone through" in str(caught.value)
    assert "lookup_error" in caught.value.seen
    assert caught.value.request is not None and caught.value.request.order_id == "10002"


def test_unreachable_server_is_not_an_unknown_outcome_when_keys_are_honoured(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    def refuse(request: httpx.Request, forward: Callable[[], httpx.Response]) -> httpx.Response:
        if "/_sandbox/" in request.url.path:
            return forward()
        raise httpx.ConnectError("refused", request=request)

    client = make_client(app, refuse)
    with pytest.raises(TransportError):
        client.refund_order("10002")


def _drop_every_refund(after_commit: bool, strip_keys: bool = False) -> Sabotage:
    def sabotage(request: httpx.Request, forward: Callable[[], httpx.Response]) -> httpx.Response:
        if strip_keys and "idempotency-key" in request.headers:
            del request.headers["idempotency-key"]
        if _is_refund(request):
            if after_commit:
                forward()
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return forward()

    return sabotage


def test_every_answer_lost_on_a_sandbox_is_an_unknown_outcome_with_the_key(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    client = make_client(app, _drop_every_refund(after_commit=True))
    with pytest.raises(RefundOutcomeUnknownError) as caught:
        client.refund_order("10002")
    sent = [r for r in client.transport.sent if _is_refund(r)]  # type: ignore[attr-defined]
    assert len(sent) == 4
    assert caught.value.request is not None
    assert {r.headers["idempotency-key"] for r in sent} == {caught.value.request.idempotency_key}
    assert caught.value.honours_idempotency_key and caught.value.reconciliation is None
    assert "same Idempotency-Key" in caught.value.hint
    assert isinstance(caught.value.__cause__, TransportError)
    assert _refund_count(client, "10002") == 1  # the key made it once, however often sent


def test_retries_spent_after_empty_reconciliations_carry_the_last_one(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    client = make_client(
        app, _drop_every_refund(after_commit=False, strip_keys=True), honours_idempotency_key=False
    )
    with pytest.raises(RefundOutcomeUnknownError) as caught:
        client.refund_order("10002")
    found = caught.value.reconciliation
    assert found is not None and (found.order_id, found.before, found.new) == ("10002", (), ())
    assert "lists no new refund of order 10002" in str(found)
    assert not caught.value.honours_idempotency_key
    assert _refund_count(client, "10002") == 0


def test_a_retry_after_a_lost_answer_carries_the_reconciliation(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    notices: list[RetryNotice] = []
    client = make_client(
        app,
        _drop_first_refund(after_commit=False, strip_keys=True),
        honours_idempotency_key=False,
        on_retry=notices.append,
    )
    client.refund_order("10002")
    assert len(notices) == 1 and isinstance(notices[0].error, TransportError)
    assert notices[0].reconciliation is not None and notices[0].reconciliation.new == ()
