"""Sandbox processes sharing one PostgreSQL database (storage/postgres/membership.py): a
lone process answers cached reads from memory, a process that joins makes it check the
database again before the joiner writes, and ``--fresh`` never wipes under another
process. Two apps in this process stand for two processes: each holds its own
connections and advisory locks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import RateLimit, create_app
from kakaclo_sandbox.clock import iso
from kakaclo_sandbox.data import DEMO_DATA
from kakaclo_sandbox.domain import idempotency
from kakaclo_sandbox.domain.refunds import RefundRequest, RequestedItem
from kakaclo_sandbox.service.refunds import normalised
from kakaclo_sandbox.service.team import agree as real_agree
from kakaclo_sandbox.storage.postgres import queries as postgres_queries
from kakaclo_sandbox.web import state
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, query_refund_url, refund_url, write_version

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

CLOCK = "/_sandbox/clock"
JSON = {"Content-Type": "application/json"}
LINE = {"itemId": "120071", "skuCode": "FSZW08923_R_L_NUB", "countryCode": "CN", "quantity": 1}


def _all_at_once(
    apps: list[Any], count: int, ask: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
) -> list[httpx.Response]:
    """``count`` requests sent at once, the n-th through ``apps[n % len(apps)]``; every
    app's connections released after (its sandbox is still to close)."""

    async def together() -> list[httpx.Response]:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")
            for app in apps
        ]
        try:
            return await asyncio.gather(*(ask(clients[n % len(apps)]) for n in range(count)))
        finally:
            for client in clients:
                await client.aclose()
            for app in apps:
                await app.state.sandbox.release()

    return asyncio.run(together())


def _refunded(client: TestClient) -> Any:
    order = client.get(API, params={"ids": "10007"}, headers=TOKEN_A).json()["data"]["list"][0]
    return next(i["refundStatus"] for i in order["orderItems"] if i["itemId"] == "120071")


def test_a_lone_process_reads_from_memory_until_another_joins_and_then_sees_its_writes(
    postgres_url: str,
) -> None:
    first = create_app(db=postgres_url, rate_limit=None)
    try:
        with TestClient(first) as one:
            before = _refunded(one)
            assert first.state.sandbox.store.alone
            assert _refunded(one) == before  # the same answer, kept
            second = create_app(db=postgres_url, rate_limit=None)
            try:
                assert not first.state.sandbox.store.alone
                assert not second.state.sandbox.store.alone
                with TestClient(second) as two:
                    made = two.post(
                        refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A
                    )
                    assert made.status_code == 200, made.text
                # the first process's kept answer is not used: it checks the database now
                assert _refunded(one) != before
            finally:
                second.state.sandbox.close()
    finally:
        first.state.sandbox.close()


def test_fresh_is_refused_while_another_process_is_attached_and_allowed_once_it_left(
    postgres_url: str,
) -> None:
    running = create_app(db=postgres_url, rate_limit=None)
    with TestClient(running) as client:
        made = client.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
        assert made.status_code == 200
        with pytest.raises(ValueError, match=r"--fresh would wipe .* under 1 other") as refused:
            create_app(db=postgres_url, rate_limit=None, fresh=True)
        assert "\n" not in str(refused.value)
        total = client.get(f"{API}/refund/10007", headers=TOKEN_A).json()["data"]["total"]
        assert total == 1  # nothing wiped
    running.state.sandbox.close()
    fresh = create_app(db=postgres_url, rate_limit=None, fresh=True)
    with TestClient(fresh) as client:
        assert client.get(f"{API}/refund/10007", headers=TOKEN_A).json()["data"]["total"] == 0
    fresh.state.sandbox.close()


def _status(client: TestClient, order_id: str) -> str:
    answer = client.get(f"{API}/refund/{order_id}", headers=TOKEN_A)
    return str(answer.json()["data"]["list"][0]["refundStatus"])


def test_a_clock_moved_through_one_process_settles_refunds_read_through_another(
    postgres_url: str,
) -> None:
    """Two processes sharing the database: a refund made through A and the clock moved
    through A; once the refund is due on that clock, B, which saw neither, settles it
    when it reads, and an advance through B adds to where A moved the clock."""
    clock = FakeTime()
    one = create_app(db=postgres_url, rate_limit=None, settle_after=5, clock=clock)
    two = create_app(db=postgres_url, rate_limit=None, settle_after=5, clock=clock)
    try:
        with TestClient(one) as a, TestClient(two) as b:
            made = a.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
            assert made.status_code == 200, made.text
            assert _status(b, "10007") == "pending_review"
            moved = a.post(f"{CLOCK}/advance", params={"seconds": 3}, headers=JSON)
            assert moved.json()["data"]["settled"] == 0  # due after 5 s
            clock.value += 3  # time passes: the refund is due on A's clock, 6 s on
            assert _status(b, "10007") == "refund_successfully"  # B settles it, on A's clock
            later = b.post(f"{CLOCK}/advance", params={"seconds": 7}, headers=JSON)
            assert later.status_code == 200, later.text
            assert later.json()["data"]["now"] == iso(clock.value + 3 + 7)
    finally:
        one.state.sandbox.close()
        two.state.sandbox.close()


def test_clock_advances_through_two_processes_at_the_same_moment_all_count(
    postgres_url: str,
) -> None:
    """Twelve advances of 100 s, half through A and half through B, all at once: the
    clock stands 1,200 s on (each reads the stored clock locked against the others; read
    and written apart, two advances read the same offset and one was lost)."""
    clock = FakeTime()
    apps = [create_app(db=postgres_url, rate_limit=None, clock=clock) for _ in range(2)]

    try:
        answers = _all_at_once(
            apps,
            12,
            lambda client: client.post(f"{CLOCK}/advance", params={"seconds": 100}, headers=JSON),
        )
        with TestClient(apps[1]) as b:
            now = b.post(f"{CLOCK}/advance", params={"seconds": 0}, headers=JSON).json()
    finally:
        for app in apps:
            app.state.sandbox.close()
    assert [answer.status_code for answer in answers] == [200] * 12
    assert now["data"]["now"] == iso(clock.value + 1200)


def test_the_rate_limit_is_one_bucket_per_token_across_processes(postgres_url: str) -> None:
    """Three processes share one bucket per token: of a burst of 16 requests spread over
    them, exactly the bucket's 10 are let through, whichever process gets each; the rest
    are told how long to wait; another token's bucket is its own."""
    apps = [create_app(db=postgres_url, rate_limit=RateLimit(10, 0.001)) for _ in range(3)]
    try:
        clients = [TestClient(app) for app in apps]
        answers = [
            clients[n % 3].get(API, params={"ids": "10007"}, headers=TOKEN_A) for n in range(16)
        ]
        other = clients[2].get(API, headers={"Authorization": "Bearer demo-token-2"})
    finally:
        for app in apps:
            app.state.sandbox.close()
    assert [a.status_code for a in answers].count(200) == 10
    refused = [a for a in answers if a.status_code != 200]
    assert {a.status_code for a in refused} == {429}
    assert all(int(a.headers["Retry-After"]) >= 1 for a in refused)
    assert other.status_code == 200


def test_a_process_joining_with_other_settings_is_refused_naming_each_difference(
    postgres_url: str,
) -> None:
    first = create_app(db=postgres_url, rate_limit=RateLimit(120, 2.0), settle_after=5)
    try:
        with pytest.raises(ValueError, match="already on") as refused:
            create_app(db=postgres_url, rate_limit=None, settle_after=2, clean=True)
        message = str(refused.value)
        assert "\n" not in message
        assert "--settle-after 5 (this one: 2)" in message
        assert "--rate-limit 120/2 (this one: off)" in message
        assert "--clean off (this one: on)" in message
        same = create_app(db=postgres_url, rate_limit=RateLimit(120, 2.0), settle_after=5)
        same.state.sandbox.close()
    finally:
        first.state.sandbox.close()
    # alone again, a process takes its own settings
    alone = create_app(db=postgres_url, rate_limit=None, settle_after=2)
    alone.state.sandbox.close()


def test_a_process_joining_while_the_first_still_starts_is_checked_against_the_first(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B asks to join while A, alone, is still starting (before A stored its settings):
    A keeps the database to itself until started, so A's settings are the team's and B,
    with others, is the one refused. Let in at once, B stored its own and A was refused."""
    joiner: dict[str, BaseException | None] = {}

    def join_with_other_settings() -> None:
        try:
            create_app(db=postgres_url, rate_limit=None, settle_after=9).state.sandbox.close()
            joiner["error"] = None
        except BaseException as error:  # the thread's outcome, checked below
            joiner["error"] = error

    thread = threading.Thread(target=join_with_other_settings)

    async def agree_once_another_asked(store: Any, settings: Any) -> None:
        if not thread.is_alive() and "error" not in joiner:  # A's start
            membership = store._membership
            thread.start()
            for _ in range(6000):  # B joined, or A heard it ask and keeps it waiting
                if "error" in joiner or (membership.join_asked and membership.starting):
                    break
                await asyncio.sleep(0.01)
        await real_agree(store, settings)

    monkeypatch.setattr(state, "agree", agree_once_another_asked)
    first = create_app(db=postgres_url, rate_limit=None, settle_after=5)
    try:
        thread.join(timeout=90)
    finally:
        first.state.sandbox.close()
    assert not thread.is_alive()
    assert isinstance(joiner["error"], ValueError), joiner
    assert "--settle-after 5 (this one: 9)" in str(joiner["error"])


def test_a_key_in_flight_in_one_process_is_40912_at_once_in_another_then_replayed(
    postgres_url: str,
) -> None:
    """A's refund with a key holds the key's claim in the database from before its body is
    read until it has answered: B, given the same key meanwhile, answers 40912 at once
    (it waits for nothing of A's), and once A has answered, B replays A's number."""
    first = create_app(db=postgres_url, rate_limit=None)
    second = create_app(db=postgres_url, rate_limit=None)
    body = {"orderItems": [LINE]}
    keyed = {**TOKEN_A, "Idempotency-Key": "shared-key-1"}

    async def run() -> tuple[int, Any, str, Any]:
        store = first.state.sandbox.store
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as b:
            async with (
                store.key_claim("merchant-a", "shared-key-1") as claimed,
                store.refunding(key=True) as unit,
            ):
                assert claimed
                assert await unit.stored_answer("merchant-a", "shared-key-1", 0.0) is None
                while_held = await b.post(refund_url("10007"), json=body, headers=keyed)
                order = await unit.order_state("merchant-a", "10007")
                assert order is not None
                number = await unit.add_refund(
                    "merchant-a",
                    order,
                    {order.lines[0].id: 1},
                    reason="Other",
                    remark=None,
                    now=first.state.sandbox.now(),
                    settle_at=first.state.sandbox.now() + 3600,
                )
                digest = idempotency.fingerprint(
                    "10007", normalised(_request(body, first.state.sandbox.default_reason))
                )
                await unit.remember_answer(
                    "merchant-a", "shared-key-1", digest, number, first.state.sandbox.now()
                )
            after = await b.post(refund_url("10007"), json=body, headers=keyed)
            await store.release()
            await second.state.sandbox.release()
        return while_held.status_code, while_held.json()["code"], number, after.json()

    try:
        status, code, number, replayed = asyncio.run(run())
    finally:
        first.state.sandbox.close()
        second.state.sandbox.close()
    assert (status, code) == (409, 40912)
    assert replayed["data"] == number


def _request(body: dict[str, Any], reason: str) -> RefundRequest:
    """The refund request the handler makes of ``body`` (its fingerprint is the key's)."""
    return RefundRequest(
        items=tuple(
            RequestedItem(i["itemId"], i["skuCode"], i["quantity"], i["countryCode"])
            for i in body["orderItems"]
        ),
        reason=reason,
    )


def test_due_refunds_of_several_orders_settle_once_when_three_processes_read_at_once(
    postgres_url: str,
) -> None:
    """Six refunds of three orders, all due; three processes read at once, and each finds
    them due (their due time is read from the database): every refund is settled once
    (each line counts its pieces once) and every read is answered."""
    clock = FakeTime()
    made_by = create_app(db=postgres_url, rate_limit=None, clock=clock)
    lines = {
        "10007": {**LINE, "itemId": "120071"},
        "10008": {**LINE, "itemId": "120081"},
        "10009": {**LINE, "itemId": "120091"},
    }
    with TestClient(made_by) as client:
        for order_id, line in lines.items():
            for _ in range(2):
                made = client.post(
                    refund_url(order_id), json={"orderItems": [line]}, headers=TOKEN_A
                )
                assert made.status_code == 200, made.text
    apps = [create_app(db=postgres_url, rate_limit=None, clock=clock) for _ in range(2)]
    apps.append(made_by)
    clock.value += 3600 * 24  # every refund is due

    try:
        answers = _all_at_once(
            apps,
            9,
            lambda client: client.get(API, params={"ids": ",".join(lines)}, headers=TOKEN_A),
        )
    finally:
        for app in apps:
            app.state.sandbox.close()
    assert [answer.status_code for answer in answers] == [200] * 9
    with psycopg.connect(postgres_url) as db:
        counted = db.execute(
            "SELECT l.item_id, l.refunded, l.reserved FROM order_lines l WHERE l.item_id = ANY(%s)",
            ([line["itemId"] for line in lines.values()],),
        ).fetchall()
        pending = db.execute("SELECT count(*) FROM refunds WHERE settled_at IS NULL").fetchone()
    assert sorted(counted) == [(line["itemId"], 2, 2) for line in lines.values()]
    assert pending == (0,)


def test_a_refund_through_one_process_redraws_the_consoles_of_another(
    postgres_url: str,
) -> None:
    """B's refund is told to A (LISTEN/NOTIFY), whose console feeds then redraw that
    merchant: A's change counter moves without any request to A."""
    first = create_app(db=postgres_url, rate_limit=None)
    second = create_app(db=postgres_url, rate_limit=None)
    try:
        with TestClient(first), TestClient(second) as b:
            changes = first.state.sandbox.changes
            told: list[str | None] = []
            heard = threading.Event()
            redraw = changes.changed

            def changed(merchant: str | None = None) -> None:
                told.append(merchant)
                redraw(merchant)
                if merchant == "merchant-a":  # (B's own start is told too, as everyone's)
                    heard.set()

            changes.changed = changed
            made = b.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
            assert made.status_code == 200, made.text
            assert heard.wait(10), f"A was never told of B's refund (told: {told})"
    finally:
        first.state.sandbox.close()
        second.state.sandbox.close()


def test_a_claim_of_a_process_no_longer_attached_is_taken_over(postgres_url: str) -> None:
    """A process killed while its key was in flight leaves its claim behind: the claim
    of an owner no longer attached is void, and the key is claimed again at once."""
    app = create_app(db=postgres_url, rate_limit=None)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as db:
            db.execute(
                "INSERT INTO key_claims (merchant, key, owner) VALUES ('merchant-a', 'left', 1)"
            )
        store = app.state.sandbox.store

        async def claim() -> tuple[bool, bool]:
            async with (
                store.key_claim("merchant-a", "left") as taken_over,
                store.key_claim("merchant-a", "left") as twice,
            ):
                pass
            await store.release()
            return taken_over, twice

        taken_over, twice = asyncio.run(claim())
    finally:
        app.state.sandbox.close()
    assert taken_over  # the dead owner's claim was void
    assert not twice  # and now it is this live process's


def _listed(client: TestClient) -> list[str]:
    answer = client.get(query_refund_url("10007"), headers=TOKEN_A)
    assert answer.status_code == 200, answer.text
    return [refund["refundNo"] for refund in answer.json()["data"]["list"]]


@pytest.mark.parametrize("failures", [1, 2])
def test_a_version_move_lost_after_a_commit_never_leaves_another_process_a_stale_answer(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, failures: int
) -> None:
    """A's refund commits, and then the statement that moves the write version fails (its
    connection lost). Once: A moves it on another connection and answers 200. Twice: A
    answers 500 (written, not "nothing carried out"), and moves it before it reads the
    database again. Either way B, which kept an answer listing the order's refunds, lists
    the new refund as soon as it could be known."""
    real = postgres_queries.move_version
    to_fail = [failures]

    async def failing(db: Any, changed: Any = ()) -> int:
        if to_fail[0]:
            to_fail[0] -= 1
            raise psycopg.OperationalError("the connection was lost (forced by the test)")
        return await real(db, changed)

    first = create_app(db=postgres_url, rate_limit=None)
    second = create_app(db=postgres_url, rate_limit=None)
    try:
        # the 500's error goes on to the server's log, not into the test
        with TestClient(first, raise_server_exceptions=False) as one, TestClient(second) as two:
            before = _listed(two)
            assert _listed(two) == before  # kept
            monkeypatch.setattr(postgres_queries, "move_version", failing)
            made = one.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
            if failures == 1:
                assert made.status_code == 200, made.text
                number = made.json()["data"]
            else:
                assert (made.status_code, made.json()["code"]) == (500, 50001), made.text
                number = next(n for n in _listed(one) if n not in before)  # A read: moved
            assert number in _listed(two)
    finally:
        first.state.sandbox.close()
        second.state.sandbox.close()


def test_a_process_that_lost_its_place_moves_the_version_when_it_joins_again(
    postgres_url: str,
) -> None:
    """A's own connection is cut (what a server restart does to every process): A joins
    again and moves the write version, so no answer kept by any process outlives what A
    may have committed and not told."""
    first = create_app(db=postgres_url, rate_limit=None)
    second = create_app(db=postgres_url, rate_limit=None)
    membership = first.state.sandbox.store._membership
    try:
        before = write_version(postgres_url)
        cut = membership.pid
        with psycopg.connect(postgres_url, autocommit=True) as db:
            db.execute("SELECT pg_terminate_backend(%s)", (cut,))
        for _ in range(3000):  # the listener notices within a second, then joins again
            if membership.joined and membership.pid != cut:
                break
            threading.Event().wait(0.01)
        assert membership.joined and membership.pid != cut
        assert write_version(postgres_url) > before
    finally:
        first.state.sandbox.close()
        second.state.sandbox.close()


def test_a_kept_answer_of_a_process_that_shares_costs_one_statement(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write version a kept answer is checked against is the one read at the start of
    the request (with the clock and the bucket), not read again: one statement a read."""
    first = create_app(db=postgres_url, rate_limit=None)
    second = create_app(db=postgres_url, rate_limit=None)
    statements: list[str] = []
    execute = psycopg.AsyncConnection.execute

    async def counted(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return await execute(self, query, *args, **kwargs)

    try:
        with TestClient(first) as one, TestClient(second) as two:
            before = _listed(two)  # kept
            monkeypatch.setattr(psycopg.AsyncConnection, "execute", counted)
            assert _listed(two) == before
            assert len(statements) == 1, statements
            made = one.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
            assert made.status_code == 200, made.text
            assert made.json()["data"] in _listed(two)  # the kept answer is not used
    finally:
        first.state.sandbox.close()
        second.state.sandbox.close()


def test_a_reset_keeps_the_settings_a_joiner_is_checked_against(postgres_url: str) -> None:
    """A reset through a process of the team wipes the data, not the team's settings: a
    process joining afterwards with others is still refused (before: the reset deleted
    them, and the joiner stored its own)."""
    first = create_app(db=postgres_url, rate_limit=None, settle_after=5)
    try:
        with TestClient(first) as one:
            reset = one.post("/_sandbox/reset", headers=JSON)
            assert reset.status_code == 200, reset.text
        with pytest.raises(ValueError, match=r"--settle-after 5 \(this one: 2\)"):
            create_app(db=postgres_url, rate_limit=None, settle_after=2)
    finally:
        first.state.sandbox.close()


def test_a_process_joining_with_other_data_is_told_what_the_team_runs_with(
    postgres_url: str, tmp_path: Path
) -> None:
    """Another data file's content while others run: refused in one line naming the team's
    data (not a hint to --fresh, which is refused while others are attached)."""
    other = tmp_path / "other.yaml"
    other.write_text(DEMO_DATA.read_text().replace("demo order", "another order", 1))
    first = create_app(db=postgres_url, rate_limit=None)
    try:
        with pytest.raises(ValueError, match="already on") as refused:
            create_app(db=postgres_url, rate_limit=None, data=other)
        message = str(refused.value)
        assert f"run with the data of {DEMO_DATA}, not of {other}" in message
        assert "--fresh" not in message and "\n" not in message
    finally:
        first.state.sandbox.close()


def test_a_read_that_settles_does_not_answer_what_it_kept_before_settling(
    postgres_url: str,
) -> None:
    """B keeps the order's answer while its refund is pending; once the refund is due,
    B's next read settles it and answers it settled: the version its kept answer is
    checked against is read again after a settlement of its own, not the one read at
    the start of the request."""
    clock = FakeTime()
    first = create_app(db=postgres_url, rate_limit=None, settle_after=5, clock=clock)
    second = create_app(db=postgres_url, rate_limit=None, settle_after=5, clock=clock)
    try:
        with TestClient(first) as a, TestClient(second) as b:
            made = a.post(refund_url("10007"), json={"orderItems": [LINE]}, headers=TOKEN_A)
            assert made.status_code == 200, made.text
            assert _status(b, "10007") == "pending_review"  # kept by B
            clock.value += 10  # due: no write in between, so the version has not moved
            assert _status(b, "10007") == "refund_successfully"
    finally:
        first.state.sandbox.close()
        second.state.sandbox.close()
