"""The pacer's decisions (kakaclo_contract.traffic), on a fake clock: nothing here sleeps."""

from __future__ import annotations

import io
import random
import sys
from dataclasses import dataclass, field

import httpx
import pytest
from kakaclo_client import spec_facts

from kakaclo_contract import summary, verdict
from kakaclo_contract.settings import Rate, RunSettings
from kakaclo_contract.traffic import (
    BACK_OFF,
    CEILING,
    CREEP,
    FLOOR,
    PROBE,
    PacedTransport,
    StderrLines,
    Traffic,
    asked_wait,
)
from kakaclo_sandbox.ratelimit import LeakyBucket, RateLimit
from tests.client.conftest import Time as Clock  # sleeping moves it, nothing waits

TOKEN = "demo-token"
AUTH = f"Bearer {TOKEN}"
ORDERS = spec_facts.SERVER_ROOT + spec_facts.QUERY_ORDERS.path  # as a request's URL has it
ORDERS_LABEL = f"GET {spec_facts.QUERY_ORDERS.path}"
VENDOR = Rate(spec_facts.RATE_LIMIT_BURST, spec_facts.RATE_LIMIT_PER_SECOND)


def paced(
    clock: Clock, lines: list[str], rate: Rate | None = VENDOR, max_retry_after: float = 60.0
) -> Traffic:
    return Traffic(
        rate=rate,
        token=TOKEN,
        max_retry_after=max_retry_after,
        sleep=clock.sleep,
        clock=clock,
        say=lines.append,
    )


def answer(traffic: Traffic, status: int, retry_after: str | None = None, auth: str = AUTH) -> None:
    traffic.after("GET", ORDERS, status, retry_after, b"{}", auth)


# -- pacing -------------------------------------------------------------------------------


def test_never_bursts_even_at_the_start_and_spaces_below_the_drain_rate() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines)
    start = clock.now
    for _ in range(11):
        traffic.before("GET", ORDERS, AUTH)
        answer(traffic, 200)
    # the first goes at once; each later one waits its slot: no burst of 120
    assert clock.slept[0] == pytest.approx(1 / (CEILING * VENDOR.per_second))
    assert clock.now - start == pytest.approx(10 / (CEILING * VENDOR.per_second))
    assert traffic.pace == pytest.approx(CEILING * VENDOR.per_second)
    assert lines == []


def test_time_spent_elsewhere_earns_no_burst() -> None:
    clock = Clock()
    traffic = paced(clock, [])
    traffic.before("GET", ORDERS, AUTH)
    clock.now += 60  # the run computed for a minute
    traffic.before("GET", ORDERS, AUTH)
    traffic.before("GET", ORDERS, AUTH)
    assert clock.slept == [pytest.approx(1 / traffic.pace)]


def test_a_429_holds_back_for_retry_after_and_cuts_the_pace() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines)
    traffic.before("GET", ORDERS, AUTH)
    answer(traffic, 429, "12")
    assert traffic.pace == pytest.approx(CEILING * VENDOR.per_second * BACK_OFF)
    traffic.before("GET", ORDERS, AUTH)
    assert clock.slept == [pytest.approx(12)]
    traffic.before("GET", ORDERS, AUTH)
    assert clock.slept[1] == pytest.approx(1 / traffic.pace)
    assert lines == [
        f"kakaclo contract: 429 from {ORDERS_LABEL}; waiting 12 s (Retry-After), "
        "then pacing at 1.3 requests/s"
    ]


def test_answers_creep_back_to_the_ceiling_and_no_further() -> None:
    traffic = paced(Clock(), [])
    for _ in range(100):
        answer(traffic, 200)
    assert traffic.pace == pytest.approx(CEILING * VENDOR.per_second)


def test_after_a_429_the_pace_climbs_fast_to_just_below_where_it_met_it_then_slowly() -> None:
    traffic = paced(Clock(), [])
    met = traffic.pace
    answer(traffic, 429, "1")
    assert traffic.pace == pytest.approx(met * BACK_OFF)
    for _ in range(40):
        answer(traffic, 404)  # any answer but a 429 went through the bucket
    # fast back to the share the other traffic seems to leave, below the pace that met the 429
    assert met * BACK_OFF < traffic.pace < met * CEILING + PROBE * 40 * CREEP * VENDOR.per_second
    for _ in range(400):
        answer(traffic, 200)
    assert traffic.pace == pytest.approx(CEILING * VENDOR.per_second)  # the other went away


def test_429s_of_requests_in_flight_cut_the_pace_once() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines)
    answer(traffic, 429, "2")
    answer(traffic, 429, "2")  # sent before the first came back
    assert traffic.pace == pytest.approx(CEILING * VENDOR.per_second * BACK_OFF)
    assert len(lines) == 1  # the second 429 added no wait worth a line


def test_a_later_429_asking_longer_extends_the_hold_and_says_so() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines)
    answer(traffic, 429, "2")
    answer(traffic, 429, "30")
    traffic.before("GET", ORDERS, AUTH)
    assert clock.slept == [pytest.approx(30)]
    assert len(lines) == 2 and "waiting 30 s" in lines[1]


def test_the_pace_never_falls_below_its_floor() -> None:
    clock = Clock()
    traffic = paced(clock, [])
    for _ in range(50):
        answer(traffic, 429, "1")
        clock.now += 1  # each 429 a new hold
    assert traffic.pace == pytest.approx(FLOOR * VENDOR.per_second)


def test_a_short_wait_is_not_printed() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines, rate=Rate(30, 10.0))
    answer(traffic, 429, "0.5")
    traffic.before("GET", ORDERS, AUTH)
    assert clock.slept == [pytest.approx(0.5)]
    assert lines == []


def test_a_retry_after_above_the_cap_is_waited_only_to_the_cap_and_said() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines, max_retry_after=60.0)
    answer(traffic, 429, "300")
    traffic.before("GET", ORDERS, AUTH)
    assert clock.slept == [pytest.approx(60)]
    assert lines == [
        f"kakaclo contract: 429 from {ORDERS_LABEL}; waiting 60 s (the server asked for "
        "300 s, more than --max-retry-after 60), then pacing at 1.3 requests/s"
    ]


def test_requests_without_the_runs_token_are_neither_paced_nor_slow_the_pace() -> None:
    clock = Clock()
    traffic = paced(clock, [])
    answer(traffic, 429, "5", auth="Bearer someone-else")
    for _ in range(5):
        traffic.before("GET", ORDERS, None)
        traffic.before("GET", ORDERS, "Bearer someone-else")
    assert clock.slept == []
    assert traffic.pace == pytest.approx(CEILING * VENDOR.per_second)
    assert sum(traffic.throttled.values()) == 1  # still counted


def test_unpaced_nothing_waits_and_a_429_is_counted() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines, rate=None)
    for _ in range(200):
        traffic.before("GET", ORDERS, AUTH)
        answer(traffic, 429, "30")
    assert clock.slept == [] and lines == []
    assert traffic.throttled[ORDERS_LABEL] == 200
    assert traffic.throttled_share == 1.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), ("0.5", 0.5), (None, 1.0), ("", 1.0), ("soon", 1.0), ("nan", 1.0), ("-4", 0.0)],
)
def test_asked_wait_reads_seconds(header: str | None, seconds: float) -> None:
    assert asked_wait(header) == seconds


def test_asked_wait_is_not_capped_by_itself() -> None:
    assert asked_wait("3600") == 3600.0


# -- the suite's own requests (PacedTransport) -------------------------------------------


def transport(traffic: Traffic, statuses: list[tuple[int, str]]) -> tuple[httpx.Client, list[int]]:
    """A client whose server answers ``statuses`` in turn (status, Retry-After)."""
    sent: list[int] = []

    def server(request: httpx.Request) -> httpx.Response:
        status, retry_after = statuses[len(sent)]
        sent.append(status)
        return httpx.Response(status, headers={"Retry-After": retry_after}, json={})

    inner = httpx.MockTransport(server)
    client = httpx.Client(
        transport=PacedTransport(traffic, inner),
        base_url="http://server",
        headers={"Authorization": AUTH},
    )
    return client, sent


def test_paced_the_suites_request_is_sent_again_after_the_hold() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines)
    client, sent = transport(traffic, [(429, "4"), (200, "")])
    with client:
        assert client.get(ORDERS).status_code == 200
    assert sent == [429, 200]
    assert clock.slept == [pytest.approx(4)]  # the hold, not the hold and a sleep of its own
    assert len(lines) == 1 and "waiting 4 s (Retry-After)" in lines[0]


def test_unpaced_the_suites_request_waits_retry_after_and_says_so() -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines, rate=None)
    client, sent = transport(traffic, [(429, "12"), (429, "0.2"), (200, "")])
    with client:
        assert client.get(ORDERS).status_code == 200
    assert sent == [429, 429, 200]
    assert clock.slept == [pytest.approx(12), pytest.approx(0.2)]
    assert lines == [
        f"kakaclo contract: 429 from {ORDERS_LABEL}; waiting 12 s (Retry-After) "
        "before sending it again"
    ]


@pytest.mark.parametrize("rate", [VENDOR, None])
def test_a_retry_after_above_the_cap_is_not_waited_out_and_the_429_stands(
    rate: Rate | None,
) -> None:
    clock, lines = Clock(), list[str]()
    traffic = paced(clock, lines, rate=rate, max_retry_after=10.0)
    client, sent = transport(traffic, [(429, "90"), (200, "")])
    with client:
        assert client.get(ORDERS).status_code == 429
    assert sent == [429]
    assert (
        len(lines) == 1
        and "the server asked for 90 s, more than --max-retry-after 10" in (lines[0])
    )
    assert clock.slept == []


def test_the_suites_request_gives_up_after_its_attempts() -> None:
    clock = Clock()
    traffic = paced(clock, [])
    client, sent = transport(traffic, [(429, "1")] * PacedTransport.ATTEMPTS)
    with client:
        assert client.get(ORDERS).status_code == 429
    assert len(sent) == PacedTransport.ATTEMPTS
    assert traffic.throttled[ORDERS_LABEL] == PacedTransport.ATTEMPTS


# -- against the sandbox's own bucket, on the fake clock ----------------------------------


@dataclass
class Busy(Clock):
    """A fake clock over a server's bucket that another client of the same token also
    fills, at ``other`` requests per second on average, while the run waits."""

    bucket: LeakyBucket = field(
        default_factory=lambda: LeakyBucket(RateLimit(VENDOR.burst, VENDOR.per_second))
    )
    other: float = 0.0
    others: list[int] = field(default_factory=list)  # the other client's answers: 0 or a wait
    jitter: random.Random = field(default_factory=lambda: random.Random(28))

    def __post_init__(self) -> None:
        self.next_other = self.now + 0.3 if self.other else float("inf")

    def sleep(self, seconds: float) -> None:
        end = self.now + seconds
        while self.next_other < end:
            self.others.append(self.bucket.take(TOKEN, self.next_other))
            # a real client's gaps vary; a fixed period can lock to the run's and take every 429
            self.next_other += self.jitter.uniform(0.5, 1.5) / self.other
        super().sleep(seconds)

    def run(self, traffic: Traffic, requests: int) -> int:
        """Send ``requests`` through ``traffic`` into the bucket; return the 429s."""
        throttled = 0
        for _ in range(requests):
            traffic.before("GET", ORDERS, AUTH)
            wait = self.bucket.take(TOKEN, self.now)
            throttled += bool(wait)
            answer(traffic, 429 if wait else 200, str(wait) if wait else None)
        return throttled


def full_bucket(limit: RateLimit, now: float) -> LeakyBucket:
    bucket = LeakyBucket(limit)
    while not bucket.take(TOKEN, now):
        pass
    return bucket


def test_a_run_into_a_bucket_another_run_left_full_gets_at_most_one_429() -> None:
    clock = Busy(bucket=full_bucket(RateLimit(VENDOR.burst, VENDOR.per_second), Clock().now))
    assert clock.run(paced(clock, []), 400) <= 1


@pytest.mark.parametrize(
    "limit", [RateLimit(VENDOR.burst, VENDOR.per_second), RateLimit(30, 10.0)], ids=str
)
def test_beside_another_client_at_a_quarter_of_the_drain_rate_few_429s(limit: RateLimit) -> None:
    clock = Busy(bucket=full_bucket(limit, Clock().now), other=limit.per_second / 4)
    traffic = paced(clock, [], rate=Rate(limit.burst, limit.per_second))
    assert clock.run(traffic, 400) <= 0.02 * 400
    assert sum(map(bool, clock.others)) <= 0.05 * len(clock.others)  # nor does it crowd them out
    assert traffic.pace > limit.per_second / 2  # it slowed down, not to a crawl


# -- where the notices go -------------------------------------------------------------------


def test_notices_go_to_the_stderr_of_when_the_traffic_was_made(
    capfd: pytest.CaptureFixture[str],
) -> None:
    say = StderrLines()
    say("kakaclo contract: a notice")
    del say
    assert capfd.readouterr().err == "kakaclo contract: a notice\n"


def test_notices_without_a_stderr_file_go_to_sys_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    StderrLines()("kakaclo contract: a notice")
    assert stream.getvalue() == "kakaclo contract: a notice\n"


# -- the verdict's word on a throttled run ---------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "words"),
    [
        (VENDOR, f"the run was paced at --rate {VENDOR} and backed off on every 429"),
        (None, "pace the run to the server's limit"),
    ],
)
def test_a_throttled_run_is_told_what_it_did_not_already_do(
    monkeypatch: pytest.MonkeyPatch, rate: Rate | None, words: str
) -> None:
    monkeypatch.setattr(summary, "checked_answers", lambda: (100, 30))
    monkeypatch.setattr(summary, "answered", lambda label: 100)
    [reason] = verdict.gate_reasons(RunSettings(rate=rate))
    assert "30 of 100 checked answers (30%) were 429" in reason
    assert words in reason
