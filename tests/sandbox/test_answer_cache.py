"""Kept read answers never outlive a write, never cross merchants, and change nothing seen.

The same scripted session runs against a sandbox with the answer cache and one
without it: every answer must be byte for byte the same.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.storage.store import Store
from kakaclo_sandbox.web.answer_cache import AnswerCache
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, TOKEN_B, FakeTime
from tests.sandbox.helpers import API, PARTIAL_BODY, query_refund_url, refund_url

ORDER = "10001"


def _sandbox(fake_time: FakeTime, *, answer_cache: bool) -> TestClient:
    app = create_app(
        db=":memory:",
        rate_limit=None,
        validate_responses=True,
        clock=fake_time,
        answer_cache=answer_cache,
    )
    return TestClient(app, raise_server_exceptions=True)


@pytest.fixture
def cached(fake_time: FakeTime) -> Iterator[TestClient]:
    with _sandbox(fake_time, answer_cache=True) as client:
        yield client


def _script(client: TestClient, fake_time: FakeTime) -> list[tuple[int, bytes]]:
    """Reads between every kind of write, each read asked twice in a row."""
    seen: list[tuple[int, bytes]] = []

    def read_all() -> None:
        for _ in range(2):
            for url, params, token in (
                (API, {"ids": ORDER}, TOKEN_A),
                (API, {}, TOKEN_A),
                (API, {"ids": ORDER}, TOKEN_B),
                (query_refund_url(ORDER), {}, TOKEN_A),
                (query_refund_url(ORDER), {"pageSize": "1"}, TOKEN_A),
                (query_refund_url(ORDER), {}, TOKEN_B),
            ):
                answer = client.get(url, params=params, headers=token)
                seen.append((answer.status_code, answer.content))

    read_all()
    assert client.post(refund_url(ORDER), json=PARTIAL_BODY, headers=TOKEN_A).status_code == 200
    read_all()
    fake_time.value += 4.0  # not yet due (settle-after is 5 s)
    read_all()
    fake_time.value += 1.0  # due: the next read settles first
    read_all()
    assert (
        client.post("/_sandbox/reset", headers={"Content-Type": "application/json"}).status_code
        == 200
    )
    read_all()
    return seen


def test_every_answer_is_the_same_with_the_cache_and_without() -> None:
    with_cache = _sandbox(FakeTime(), answer_cache=True)
    without = _sandbox(FakeTime(), answer_cache=False)
    with with_cache, without:
        assert with_cache.app.state.sandbox.answers is not None  # type: ignore[attr-defined]
        assert without.app.state.sandbox.answers is None  # type: ignore[attr-defined]
        kept = _script(with_cache, FakeTime())
        fresh = _script(without, FakeTime())
    assert kept == fresh


def test_a_refund_between_two_same_reads_shows_in_the_second(cached: TestClient) -> None:
    before = cached.get(query_refund_url(ORDER), headers=TOKEN_A).json()["data"]["total"]
    assert cached.post(refund_url(ORDER), json={}, headers=TOKEN_A).status_code == 200
    after = cached.get(query_refund_url(ORDER), headers=TOKEN_A).json()["data"]["total"]
    assert after == before + 1
    order = cached.get(API, params={"ids": ORDER}, headers=TOKEN_A).json()["data"]["list"][0]
    assert order["refundStatus"] == "refunding"


def test_a_due_refund_is_settled_although_its_pending_answer_was_kept(
    cached: TestClient, fake_time: FakeTime
) -> None:
    assert cached.post(refund_url(ORDER), json={}, headers=TOKEN_A).status_code == 200
    for _ in range(2):
        listed = cached.get(query_refund_url(ORDER), headers=TOKEN_A).json()["data"]["list"]
        assert listed[-1]["refundStatus"] == "pending_review"
    fake_time.value += 5.0
    listed = cached.get(query_refund_url(ORDER), headers=TOKEN_A).json()["data"]["list"]
    assert listed[-1]["refundStatus"] == "refund_successfully"


def test_another_merchant_never_gets_a_kept_answer(cached: TestClient) -> None:
    mine = cached.get(API, params={"ids": ORDER}, headers=TOKEN_A).json()["data"]
    theirs = cached.get(API, params={"ids": ORDER}, headers=TOKEN_B).json()["data"]
    assert mine["total"] == 1
    assert theirs["total"] == 0
    assert cached.get(query_refund_url(ORDER), headers=TOKEN_A).status_code == 200
    assert cached.get(query_refund_url(ORDER), headers=TOKEN_B).status_code == 404


def _failed_write(store: Store) -> None:
    with store.transaction() as db:
        store.set_meta(db, "k", "w")
        raise RuntimeError("rolled back")


def test_the_store_version_moves_with_each_write_and_holds_on_reads() -> None:
    store = Store(":memory:")
    before = store.version
    with store.reading() as db:
        db.execute("SELECT 1").fetchone()
    assert store.version == before
    with store.transaction() as db:
        store.set_meta(db, "k", "v")
    written = store.version
    assert written != before
    with pytest.raises(RuntimeError):
        _failed_write(store)
    assert store.version != written  # a rolled-back write may have been read inside it
    store.close()


def test_the_cache_forgets_older_versions_and_keeps_its_bounds() -> None:
    cache = AnswerCache(max_entries=2, max_body_bytes=4)
    assert cache.get("a", 1) is None
    cache.put("a", 1, b"1")
    assert cache.get("a", 1) == b"1"
    cache.put("b", 0, b"2")  # read at an older version: not kept
    assert cache.get("b", 1) is None
    cache.put("big", 1, b"12345")  # over max_body_bytes: not kept
    assert cache.get("big", 1) is None
    cache.put("b", 1, b"2")
    assert cache.get("a", 1) == b"1"  # a is now the most recently used
    cache.put("c", 1, b"3")  # over max_entries: b, the least recently used, goes
    assert (cache.get("a", 1), cache.get("b", 1), cache.get("c", 1)) == (b"1", None, b"3")
    assert cache.get("a", 2) is None  # a new version forgets everything
    assert len(cache) == 0
