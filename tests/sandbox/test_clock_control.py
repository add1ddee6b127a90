"""POST /_sandbox/clock/freeze and /resume: a clock that stands still until it is moved.

The sandbox runs on an injected clock (``FakeTime``), so "real time passes" is a
number the test moves: nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import RateLimit, create_app
from kakaclo_sandbox.clock import SandboxClock, iso, parse_instant
from kakaclo_sandbox.service.running import run_now
from kakaclo_sandbox.settings import Settings
from kakaclo_sandbox.web.state import Sandbox
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, query_refund_url, refund_url

CLOCK = "/_sandbox/clock"
START = 1_795_000_000.25  # a quarter past a whole second


@pytest.fixture
def quarter_past(fake_time: FakeTime) -> FakeTime:
    fake_time.value = START
    return fake_time


@pytest.fixture
def sandbox(quarter_past: FakeTime) -> Iterator[TestClient]:
    app = create_app(db=":memory:", rate_limit=None, validate_responses=True, clock=quarter_past)
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


def _clock(client: TestClient) -> dict[str, Any]:
    data = client.get("/_sandbox/info").json()["data"]
    return {"now": data["now"], "frozen": data["clock"]["frozen"]}


def _post(client: TestClient, path: str, **params: str) -> dict[str, Any]:
    answer = client.post(
        f"{CLOCK}/{path}", params=params, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["code"] == 10000
    data: dict[str, Any] = answer.json()["data"]
    return data


def _status(client: TestClient, order_id: str) -> str:
    (refund,) = client.get(query_refund_url(order_id), headers=TOKEN_A).json()["data"]["list"]
    return str(refund["refundStatus"])


def test_a_frozen_clock_stands_on_the_next_whole_second_while_real_time_passes(
    sandbox: TestClient, quarter_past: FakeTime
) -> None:
    assert _clock(sandbox) == {"now": iso(START), "frozen": False}
    frozen = _post(sandbox, "freeze")
    assert frozen == {"now": iso(START + 1), "frozen": True, "settled": 0}
    assert parse_instant(frozen["now"]) == 1_795_000_001.0
    quarter_past.value += 7 * 24 * 3600  # a week of real time
    assert _clock(sandbox) == {"now": iso(START + 1), "frozen": True}
    # freezing again keeps it where it stands
    assert _post(sandbox, "freeze")["now"] == iso(START + 1)


def test_advance_moves_a_frozen_clock_and_refunds_settle_exactly_when_due(
    sandbox: TestClient, quarter_past: FakeTime
) -> None:
    _post(sandbox, "freeze")
    assert sandbox.post(refund_url("10002"), json={}, headers=TOKEN_A).status_code == 200
    quarter_past.value += 3600  # real time: nothing settles on a frozen clock
    assert _status(sandbox, "10002") == "pending_review"
    assert _post(sandbox, "advance", seconds="4") == {
        "now": iso(START + 5),
        "frozen": True,
        "settled": 0,
    }
    assert _status(sandbox, "10002") == "pending_review"  # 1 s before its due time
    assert _post(sandbox, "advance", seconds="1")["settled"] == 1  # settle-after is 5 s
    assert _status(sandbox, "10002") == "refund_successfully"
    assert _clock(sandbox) == {"now": iso(START + 6), "frozen": True}


def test_resume_runs_on_from_where_the_clock_stood(
    sandbox: TestClient, quarter_past: FakeTime
) -> None:
    _post(sandbox, "freeze")
    _post(sandbox, "advance", seconds="100")
    quarter_past.value += 500
    assert _post(sandbox, "resume") == {"now": iso(START + 101), "frozen": False, "settled": 0}
    quarter_past.value += 10
    assert _clock(sandbox) == {"now": iso(START + 111), "frozen": False}
    assert _post(sandbox, "resume")["now"] == iso(START + 111)  # a running clock runs on


def test_reset_leaves_the_clock_running_on_real_time(
    sandbox: TestClient, quarter_past: FakeTime
) -> None:
    _post(sandbox, "freeze")
    _post(sandbox, "advance", seconds="3600")
    assert (
        sandbox.post("/_sandbox/reset", headers={"Content-Type": "application/json"}).status_code
        == 200
    )
    assert _clock(sandbox) == {"now": iso(START), "frozen": False}
    quarter_past.value += 2
    assert _clock(sandbox) == {"now": iso(START + 2), "frozen": False}


def test_the_rate_limit_drains_on_real_time_while_the_clock_is_frozen(
    quarter_past: FakeTime,
) -> None:
    app = create_app(db=":memory:", rate_limit=RateLimit(2, 1.0), clock=quarter_past)
    with TestClient(app) as client:
        _post(client, "freeze")
        statuses = [client.get(API, headers=TOKEN_A).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        quarter_past.value += 1  # one unit drained, though the sandbox's clock stands still
        assert client.get(API, headers=TOKEN_A).status_code == 200
        _post(client, "advance", seconds="3600")  # the sandbox's time refills nothing
        assert client.get(API, headers=TOKEN_A).status_code == 429


@pytest.mark.parametrize(
    ("path", "query"),
    [("freeze", "seconds=5"), ("freeze", "at=2026-11-20T00:00:00Z"), ("resume", "now")],
)
def test_freeze_and_resume_refuse_parameters_with_the_400_envelope(
    sandbox: TestClient, path: str, query: str
) -> None:
    answer = sandbox.post(f"{CLOCK}/{path}?{query}", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == 40002 and body["data"] is None
    assert f"{CLOCK}/{path} takes no query parameters" in body["message"]
    assert _clock(sandbox) == {"now": iso(START), "frozen": False}  # nothing changed


@pytest.mark.parametrize("seconds", ["", "-1", "1e3", "0.0000000001"])
def test_advance_of_a_frozen_clock_still_refuses_bad_seconds(
    sandbox: TestClient, seconds: str
) -> None:
    _post(sandbox, "freeze")
    answer = sandbox.post(
        f"{CLOCK}/advance",
        params={"seconds": seconds},
        headers={"Content-Type": "application/json"},
    )
    assert (answer.status_code, answer.json()["code"], answer.json()["data"]) == (400, 40002, None)
    assert _clock(sandbox) == {"now": iso(START + 1), "frozen": True}


def test_a_frozen_clock_stays_frozen_across_a_restart(tmp_path: Path) -> None:
    settings = Settings(db=str(tmp_path / "sandbox.db"), rate_limit=None)
    first = Sandbox(settings, lambda: START)
    run_now(first.freeze_clock())
    run_now(first.advance_clock(30))
    first.close()
    again = Sandbox(settings, lambda: START + 3600)
    try:
        assert (again.clock.frozen, again.now()) == (True, START + 31 - 0.25)
        run_now(again.resume_clock())
    finally:
        again.close()
    running = Sandbox(settings, lambda: START + 3610)
    try:
        # resumed 1 h of real time after it stood at START + 30.75: it runs 1 h behind
        assert (running.clock.frozen, running.now()) == (False, START + 30.75 + 10)
    finally:
        running.close()


def test_the_clock_on_its_own() -> None:
    now = [10.5]
    clock = SandboxClock(lambda: now[0], offset=2.0)
    clock.freeze()
    assert (clock.now(), clock.real()) == (13.0, 10.5)
    now[0] = 99.0
    clock.advance(1)
    assert clock.now() == 14.0
    clock.resume()
    now[0] = 100.0
    assert clock.now() == 15.0
    clock.restart()
    assert (clock.now(), clock.frozen) == (100.0, False)


def test_a_refused_advance_names_its_bound_as_the_parameter_is_written(
    sandbox: TestClient,
) -> None:
    """A stranger's: "from 0 to 3.1536e+08", a notation the parameter itself refuses."""
    answer = sandbox.post(
        f"{CLOCK}/advance?seconds=1e3", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert "from 0 to 315360000 " in answer.json()["message"], answer.text
