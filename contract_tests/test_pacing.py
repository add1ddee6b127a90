"""``kakaclo contract --rate`` against a busy bucket: a run the server's limit was already
spent on, and a run beside another client of the same token, both pass.

The vendor's limit is a bucket of 120 draining at 2 per second; these runs use
faster limits, the same on both sides (the sandbox's ``--rate-limit`` and the
suite's ``--rate``), so that each takes seconds instead of minutes. The
sandbox runs without its control surface, as the vendor's server does: the
suite cannot empty its bucket. They run alone: the pacing, the other client
and the server's drain all keep real time, and the machine's other tests
would slow one of them and not the others.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from kakaclo_client import spec_facts

from contract_tests.test_targets import TOKEN, Run, contract
from tests.live import LiveSandbox

AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROBE = spec_facts.SERVER_ROOT + spec_facts.QUERY_ORDERS.path  # answers 401 without a token


def limited_sandbox(db: Path, limit: str) -> LiveSandbox:
    """A vendor-like sandbox (no control surface) with the rate limit ``limit``."""
    return LiveSandbox(
        db=db, args=["--no-control", "--rate-limit", limit, "--log-level", "warning"]
    ).start(probe=PROBE)


def fill(base_url: str, burst: int) -> int:
    """Spend the token's whole bucket, as a run that burst just before would leave it.

    Returns how many requests it took (the first 429 ends it).
    """
    with httpx.Client(base_url=base_url, headers=AUTH) as http:
        for sent in range(1, 2 * burst + 1):
            if http.get(spec_facts.QUERY_ORDERS.path).status_code == 429:
                return sent
    raise AssertionError(f"no 429 after {2 * burst} requests: is the limit on?")


def throttled(run: Run) -> int:
    return int(run.summary["traffic"]["throttled"])


def wait_lines(run: Run) -> list[str]:
    return [line for line in run.output.splitlines() if "kakaclo contract: 429 from" in line]


# The vendor's burst of 120, draining ten times faster: a full bucket takes 6 s to
# drain, so it is still mostly full when the run's process has started.
BURST_LIMIT = "120/20"


@pytest.mark.alone
def test_two_paced_runs_back_to_back_into_a_spent_bucket_both_pass(tmp_path: Path) -> None:
    live = limited_sandbox(tmp_path / "busy.db", BURST_LIMIT)
    try:
        fill(live.base_url, burst=120)
        first = contract(tmp_path, live.base_url, "--rate", BURST_LIMIT)
        second = contract(tmp_path, live.base_url, "--rate", BURST_LIMIT)
    finally:
        live.stop()
    for run in (first, second):
        assert run.code == 0, run.output[-4000:]
        assert run.summary["traffic"]["answers"] > 120  # more than the bucket holds
        # each 429 the run waited for was shown as it happened
        assert bool(wait_lines(run)) == bool(throttled(run)), run.output[-4000:]
    # Starting below the drain rate, a run never fills the bucket it found.
    assert throttled(second) <= throttled(first)


@dataclass
class OtherClient:
    """Another client of the same token: Query Order at ``per_second``, at most ``limit`` times."""

    base_url: str
    per_second: float
    limit: int
    statuses: Counter[int] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers=AUTH) as http:
            while not self.stop.is_set() and self.statuses.total() < self.limit:
                self.statuses[http.get(spec_facts.QUERY_ORDERS.path).status_code] += 1
                # its own pace: this is the other client's traffic, not a wait for the test
                self.stop.wait(1 / self.per_second)


@pytest.fixture
def other_client(tmp_path: Path) -> Iterator[tuple[LiveSandbox, OtherClient]]:
    """A sandbox limited to 30/10, its bucket spent, and a client at a quarter of its drain."""
    live = limited_sandbox(tmp_path / "shared.db", "30/10")
    other = OtherClient(live.base_url, per_second=10 / 4, limit=500)
    worker = threading.Thread(target=other.run, daemon=True)
    try:
        fill(live.base_url, burst=30)
        worker.start()
        yield live, other
    finally:
        other.stop.set()
        worker.join(timeout=10)
        live.stop()


@pytest.mark.alone
def test_a_paced_run_beside_another_client_of_the_token_passes(
    tmp_path: Path, other_client: tuple[LiveSandbox, OtherClient]
) -> None:
    live, other = other_client
    run = contract(tmp_path, live.base_url, "--rate", "30/10")
    other.stop.set()
    assert run.code == 0, run.output[-4000:]
    assert bool(wait_lines(run)) == bool(throttled(run)), run.output[-4000:]
    assert other.statuses.total() >= 20, other.statuses  # it was there for the whole run
    # the run's backing off left the other client its share
    assert other.statuses[429] <= 0.2 * other.statuses.total(), other.statuses
