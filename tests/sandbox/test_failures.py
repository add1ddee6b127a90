"""Failures on demand: the Prefer header and POST /_sandbox/failures, in process and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from kakaclo_refunds import Item, KakacloClient, RetryPolicy, ServerError
from kakaclo_sandbox import create_app
from kakaclo_sandbox.storage.failure_queue import FailureQueue
from kakaclo_sandbox.storage.interface import QueuedFailure
from kakaclo_sandbox.web.failures import (
    MAX_COUNT,
    MAX_QUEUED,
    Failure,
    PreferenceError,
    parse_prefer,
)
from tests.live import LiveSandbox
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, item, refund_url

ONE_PIECE = {"orderItems": [item("120071", 1)]}


def _refund_count(client: TestClient | httpx.Client, order_id: str = "10007") -> int:
    answer = client.get(f"{API}/refund/{order_id}", headers=TOKEN_A)
    return int(answer.json()["data"]["total"])


@pytest.mark.parametrize(
    ("prefer", "status", "code", "retry_after"),
    [
        ("code=503", 503, 50301, None),
        ("code=503, retry-after=2", 503, 50301, "2"),
        ("code=500", 500, 50001, None),
        ("code=502", 502, 50201, None),
        ("code=429", 429, 42901, "1"),
        ('return=minimal; code="429"; retry-after=7', 429, 42901, "7"),
    ],
)
def test_prefer_forces_a_status_and_carries_nothing_out(
    client: TestClient, prefer: str, status: int, code: int, retry_after: str | None
) -> None:
    answer = client.post(refund_url("10007"), json=ONE_PIECE, headers={**TOKEN_A, "Prefer": prefer})
    assert answer.status_code == status
    assert answer.json()["code"] == code and answer.json()["data"] is None
    assert answer.headers.get("retry-after") == retry_after
    assert answer.headers["preference-applied"].startswith(f"code={status}")
    assert _refund_count(client) == 0


def test_a_delay_then_the_normal_answer(client: TestClient) -> None:
    answer = client.get(API, params={"ids": "10001"}, headers={**TOKEN_A, "Prefer": "delay=0.01"})
    assert answer.status_code == 200
    assert answer.headers["preference-applied"] == "delay=0.01"
    assert answer.json()["data"]["list"][0]["id"] == "10001"


@pytest.mark.parametrize(
    ("prefer", "words"),
    [
        ("code=504", "the sandbox can force 429, 500, 502, 503"),
        ("code=abc", "take numbers"),
        ("drop=sideways", "say drop (before) or drop=after"),
        ("code=500, drop", "choose code or drop"),
        ("code=500, retry-after=3", "retry-after goes with code=429 or code=503"),
        ("delay=61", "delay must be 0 to 60"),
    ],
)
def test_a_failure_that_cannot_be_forced_is_400(
    client: TestClient, prefer: str, words: str
) -> None:
    answer = client.post(refund_url("10007"), json=ONE_PIECE, headers={**TOKEN_A, "Prefer": prefer})
    assert (answer.status_code, answer.json()["code"]) == (400, 40004)
    assert words in answer.json()["message"]
    assert _refund_count(client) == 0


def test_other_preferences_are_ignored(client: TestClient) -> None:
    assert parse_prefer("return=minimal, respond-async") is None
    answer = client.post(
        refund_url("10007"), json=ONE_PIECE, headers={**TOKEN_A, "Prefer": "return=minimal"}
    )
    assert answer.status_code == 200
    assert "preference-applied" not in answer.headers


def test_the_prefer_grammar() -> None:
    assert parse_prefer("code=503; retry-after=2") == Failure(code=503, retry_after=2)
    assert parse_prefer("drop") == Failure(drop="before")
    assert parse_prefer("DROP=after, delay=1.5") == Failure(delay=1.5, drop="after")
    with pytest.raises(PreferenceError):
        parse_prefer("code=")


@pytest.mark.parametrize("delay", ["1_0", "1_0.5", "inf", "nan", "1e1", "+1", "-0", "0x1", "1."])
def test_prefer_reads_a_delay_as_the_clock_endpoint_reads_seconds(
    client: TestClient, delay: str
) -> None:
    # float() reads "1_0" as 10 s; the clock endpoint refuses it, and so does Prefer
    with pytest.raises(PreferenceError):
        parse_prefer(f"delay={delay}")
    answer = client.get(API, headers={**TOKEN_A, "Prefer": f"delay={delay}"})
    assert answer.status_code == 400 and answer.json()["code"] == 40004
    assert parse_prefer("delay=0.25") == Failure(delay=0.25)


def test_queued_failures_hit_the_next_calls_of_their_operation(client: TestClient) -> None:
    queued = client.post(
        "/_sandbox/failures", json={"operation": "refundOrder", "count": 2, "code": 503}
    )
    assert queued.status_code == 200
    assert [f["code"] for f in client.get("/_sandbox/failures").json()["data"]["queued"]] == [
        503,
        503,
    ]
    assert client.get(API, headers=TOKEN_A).status_code == 200  # another operation
    statuses = [
        client.post(refund_url("10007"), json=ONE_PIECE, headers=TOKEN_A).status_code
        for _ in range(3)
    ]
    assert statuses == [503, 503, 200]
    assert _refund_count(client) == 1
    assert client.get("/_sandbox/failures").json()["data"]["queued"] == []


def test_posting_failures_answers_what_was_added_and_the_length_not_the_queue(
    client: TestClient,
) -> None:
    first = client.post("/_sandbox/failures", json={"count": 900, "code": 500})
    second = client.post(
        "/_sandbox/failures", json={"operation": "queryRefund", "count": 2, "drop": "after"}
    )
    assert first.json()["data"] == {
        "added": {
            "operation": None,
            "count": 900,
            "code": 500,
            "retryAfter": None,
            "delay": 0.0,
            "drop": None,
        },
        "queueLength": 900,
    }
    assert second.json()["data"]["queueLength"] == 902
    assert second.json()["data"]["added"]["operation"] == "queryRefund"
    assert len(second.content) < 300  # the 902 queued failures are not in it


def test_the_failures_queue_is_bounded_and_a_refusal_queues_nothing(client: TestClient) -> None:
    for _ in range(MAX_QUEUED // MAX_COUNT):
        assert client.post("/_sandbox/failures", json={"count": MAX_COUNT, "code": 503}).is_success
    before = client.get("/_sandbox/failures").json()["data"]["queued"]
    assert len(before) == MAX_QUEUED
    refused = client.post("/_sandbox/failures", json={"operation": "queryOrders", "code": 500})
    assert (refused.status_code, refused.json()["code"]) == (400, 40002)
    assert f"at most {MAX_QUEUED}" in refused.json()["message"]
    assert refused.json()["data"] is None
    assert client.get("/_sandbox/failures").json()["data"]["queued"] == before  # unchanged
    assert client.get(API, headers=TOKEN_A).status_code == 503  # one taken: room for one
    assert client.post("/_sandbox/failures", json={"code": 500}).json()["data"] == {
        "added": {
            "operation": None,
            "count": 1,
            "code": 500,
            "retryAfter": None,
            "delay": 0.0,
            "drop": None,
        },
        "queueLength": MAX_QUEUED,
    }
    queue = FailureQueue()
    assert queue.add(_queued("refundOrder", 503), MAX_QUEUED, MAX_QUEUED).added
    assert queue.add(_queued("refundOrder", 503), 1, MAX_QUEUED) == (False, MAX_QUEUED)
    assert len(queue) == MAX_QUEUED
    queue.clear()
    assert len(queue) == 0 and queue.add(_queued("refundOrder", 503), 1, MAX_QUEUED).length == 1


def _queued(operation: str | None, code: int) -> QueuedFailure:
    return QueuedFailure(operation, code, None, 0.0, None)


def test_a_queue_in_memory_is_empty_once_its_failures_are_taken() -> None:
    # ForcedFailures passes a call on unmatched while SQLite's queue is empty and no Prefer
    # asks.
    queue = FailureQueue()
    assert queue.is_empty()
    queue.add(_queued("refundOrder", 503), 1, MAX_QUEUED)
    queue.add(_queued(None, 500), 1, MAX_QUEUED)
    assert not queue.is_empty()
    assert queue.take("queryOrders") == _queued(None, 500)
    assert not queue.is_empty()
    assert queue.take("refundOrder") == _queued("refundOrder", 503)
    assert queue.is_empty()
    assert queue.take("refundOrder") is None
    queue.add(QueuedFailure("queryRefund", None, None, 0.0, "before"), 2, MAX_QUEUED)
    queue.clear()
    assert queue.is_empty()


def test_a_second_prefer_header_is_read_too(client: TestClient) -> None:
    answer = client.post(
        refund_url("10007"),
        json=ONE_PIECE,
        headers=[*TOKEN_A.items(), ("Prefer", "return=minimal"), ("Prefer", "code=503")],
    )
    assert answer.status_code == 503
    assert _refund_count(client) == 0


def test_failures_for_any_operation_list_clear_and_reset(client: TestClient) -> None:
    client.post("/_sandbox/failures", json={"count": 3, "code": 429, "retryAfter": 4})
    assert client.get(API, headers=TOKEN_A).headers["retry-after"] == "4"
    assert len(client.get("/_sandbox/failures").json()["data"]["queued"]) == 2
    assert client.delete("/_sandbox/failures").json()["data"]["queued"] == []
    assert client.get(API, headers=TOKEN_A).status_code == 200
    client.post("/_sandbox/failures", json={"code": 500})
    client.post("/_sandbox/reset", headers={"Content-Type": "application/json"})
    assert client.get(API, headers=TOKEN_A).status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"operation": "deleteOrder", "code": 500}, 40002, "operation"),
        ({"code": 500, "count": 0}, 40002, "count"),
        ({"code": 418}, 40002, "code"),
        ({"code": 500, "surprise": 1}, 40002, "surprise"),
        ({}, 40004, "say code, delay or drop"),
    ],
)
def test_a_bad_failure_request_is_400_and_queues_nothing(
    client: TestClient, body: dict[str, object], code: int, words: str
) -> None:
    answer = client.post("/_sandbox/failures", json=body)
    assert (answer.status_code, answer.json()["code"]) == (400, code)
    assert words in answer.json()["message"]
    assert client.get("/_sandbox/failures").json()["data"]["queued"] == []


def test_no_control_turns_failures_off(fake_time: FakeTime) -> None:
    app = create_app(db=":memory:", rate_limit=None, control=False, clock=fake_time)
    with TestClient(app) as client:
        answer = client.get(API, headers={**TOKEN_A, "Prefer": "code=503"})
        assert answer.status_code == 200
        assert client.post("/_sandbox/failures", json={"code": 500}).status_code == 404


# -- over a real connection -------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveSandbox]:
    sandbox = LiveSandbox(db=tmp_path / "sandbox.db", args=["--rate-limit", "off"]).start()
    yield sandbox
    sandbox.stop()


def test_drop_closes_the_connection_and_carries_nothing_out(live: LiveSandbox) -> None:
    with httpx.Client(base_url=live.root) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post(refund_url("10007"), json=ONE_PIECE, headers={**TOKEN_A, "Prefer": "drop"})
        assert _refund_count(http) == 0


def test_drop_after_carries_the_request_out_then_drops_the_answer(live: LiveSandbox) -> None:
    with httpx.Client(base_url=live.root) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post(
                refund_url("10007"), json=ONE_PIECE, headers={**TOKEN_A, "Prefer": "drop=after"}
            )
        assert _refund_count(http) == 1


def test_a_delay_longer_than_the_client_waits_is_a_timeout(live: LiveSandbox) -> None:
    with httpx.Client(base_url=live.root, timeout=0.2) as http, pytest.raises(httpx.ReadTimeout):
        http.get(API, headers={**TOKEN_A, "Prefer": "delay=5"})


def _client(live: LiveSandbox, slept: list[float]) -> KakacloClient:
    return KakacloClient(
        token="demo-token",
        base_url=live.base_url,
        retry=RetryPolicy(jitter=lambda: 1.0),
        sleep=slept.append,  # the retries' waits are recorded, not waited
    )


def test_the_client_layer_rides_out_queued_503s(live: LiveSandbox) -> None:
    httpx.post(
        live.root + "/_sandbox/failures",
        json={"operation": "refundOrder", "count": 2, "code": 503, "retryAfter": 3},
    )
    slept: list[float] = []
    with _client(live, slept) as kakaclo:
        refund_no = kakaclo.refund_order("10007", [Item("120071", "FSZW08923_R_L_NUB", 1, "CN")])
        assert [r.refund_no for r in kakaclo.list_refunds("10007")] == [refund_no]
    assert slept == [3.0, 3.0]  # the 503's Retry-After, not the exponential backoff


def test_the_client_layer_replays_a_dropped_refund_by_its_key(live: LiveSandbox) -> None:
    httpx.post(live.root + "/_sandbox/failures", json={"operation": "refundOrder", "drop": "after"})
    with _client(live, []) as kakaclo:
        refund_no = kakaclo.refund_order("10007", [Item("120071", "FSZW08923_R_L_NUB", 1, "CN")])
        assert [r.refund_no for r in kakaclo.list_refunds("10007")] == [refund_no]


def test_the_client_layer_gives_up_on_500s_with_a_typed_error(live: LiveSandbox) -> None:
    httpx.post(
        live.root + "/_sandbox/failures", json={"operation": "queryOrders", "count": 9, "code": 500}
    )
    with _client(live, []) as kakaclo, pytest.raises(ServerError) as raised:
        kakaclo.get_order("10001")
    assert (raised.value.status, raised.value.code) == (500, 50001)
