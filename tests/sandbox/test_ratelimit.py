"""The vendor's leaky bucket: 120 requests of burst, draining at 2 per second, per token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import RateLimit, create_app
from kakaclo_sandbox.ratelimit import LeakyBucket
from tests.sandbox.conftest import TOKEN_A, TOKEN_B, FakeTime
from tests.sandbox.helpers import API


@pytest.fixture
def limited(fake_time: FakeTime) -> Iterator[TestClient]:
    app = create_app(db=":memory:", validate_responses=True, clock=fake_time)  # default 120/2
    with TestClient(app) as client:
        yield client


def test_burst_then_429_with_retry_after(limited: TestClient, fake_time: FakeTime) -> None:
    statuses = [limited.get(API, headers=TOKEN_A).status_code for _ in range(120)]
    assert statuses == [200] * 120
    blocked = limited.get(API, headers=TOKEN_A)
    assert blocked.status_code == 429
    assert blocked.json()["code"] == 42901
    assert blocked.headers["Retry-After"] == "1"
    # another token has its own bucket
    assert limited.get(API, headers=TOKEN_B).status_code == 200
    fake_time.value += 0.5  # one unit drained
    assert limited.get(API, headers=TOKEN_A).status_code == 200
    assert limited.get(API, headers=TOKEN_A).status_code == 429


def test_bucket_drains_at_the_configured_rate() -> None:
    bucket = LeakyBucket(RateLimit(3, 2.0))
    assert [bucket.take("t", 0.0) for _ in range(4)] == [0, 0, 0, 1]
    assert bucket.take("t", 0.5) == 0  # 1 unit leaked in 0.5 s
    assert bucket.take("t", 0.5) == 1
    assert bucket.take("t", 10.0) == 0


def test_retry_after_grows_with_the_overflow() -> None:
    bucket = LeakyBucket(RateLimit(1, 0.25))
    assert bucket.take("t", 0.0) == 0
    assert bucket.take("t", 0.0) == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("120/2", RateLimit(120, 2.0)),
        ("off", None),
        ("OFF", None),
        (" 5 / 0.5 ", RateLimit(5, 0.5)),
    ],
)
def test_rate_limit_parsing(text: str, expected: RateLimit | None) -> None:
    assert RateLimit.parse(text) == expected


@pytest.mark.parametrize("text", ["", "120", "0/2", "120/0", "a/b", "-1/2"])
def test_rate_limit_parsing_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="BURST/PER_SECOND"):
        RateLimit.parse(text)
