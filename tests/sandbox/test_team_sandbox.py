"""A team sandbox (issue 32): three ``kakaclo-sandbox`` processes on three ports share one
PostgreSQL database the tests start themselves, and answer as one vendor account: races
over the same lines, a ``kill -9`` in the middle of a load, the rate limit's burst, and
a reset through one seen by the others. Several servers on 2 cores: run alone, and
bounded in requests and time."""

from __future__ import annotations

import asyncio
import os
import subprocess
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.servers import ThreadServer
from kakaclo_contract.settings import OTHER_TOKEN_ENV, TOKEN_ENV
from tests.live import LiveSandbox
from tests.round_robin import RoundRobin
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import API, query_refund_url, refund_url
from tests.sandbox.test_postgres_model_http import KAKACLO, MUST_PASS, RUN_LIMIT

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

pytestmark = pytest.mark.alone

ORDER_ID = "80001"
LINE = {"itemId": "800001", "skuCode": "TEAM_SKU", "countryCode": "CN"}
CONCURRENCY = 24  # requests in flight at once, over all the processes


def _order(pieces: int) -> dict[str, Any]:
    return {
        "id": ORDER_ID,
        "status": "processing",
        "financialStatus": "paid",
        "fulfillmentStatus": "waiting_to_ship",
        "createDate": "2026-11-03T00:00:00Z",
        "payDate": "2026-11-03T00:00:04Z",
        "orderItems": [{"id": "8000011", **LINE, "amount": 1.5, "productNum": pieces}],
    }


def _start(url: str, tmp_path: Path, n: int, *args: str) -> LiveSandbox:
    return LiveSandbox(
        db=tmp_path / f"team-{n}.db",
        url=url,
        args=["--log-level", "warning", "--settle-after", "3600", *args],
    ).start()


@pytest.fixture
def team(postgres_url: str, tmp_path: Path) -> Iterator[list[LiveSandbox]]:
    """Three processes on one database, rate limit off, the test's order added."""
    processes: list[LiveSandbox] = []
    try:
        for n in range(3):
            processes.append(_start(postgres_url, tmp_path, n, "--rate-limit", "off"))
        yield processes
    finally:
        for process in processes:
            process.stop()


def _add_order(root: str, pieces: int) -> None:
    added = httpx.post(
        root + "/_sandbox/orders",
        json=_order(pieces),
        headers={**TOKEN_A, "Content-Type": "application/json"},
    )
    assert added.status_code == 200, added.text


async def _refunds(roots: list[str], count: int) -> list[tuple[int, str | None, int | None]]:
    """``count`` refunds of one piece each, spread round-robin over ``roots``, at most
    CONCURRENCY at once: (which root, refund number or None, status or None)."""
    limit = asyncio.Semaphore(CONCURRENCY)
    body = {"orderItems": [{**LINE, "quantity": 1}]}

    async def one(client: httpx.AsyncClient, n: int) -> tuple[int, str | None, int | None]:
        where = n % len(roots)
        async with limit:
            try:
                answer = await client.post(
                    roots[where] + refund_url(ORDER_ID),
                    json=body,
                    headers=TOKEN_A,
                )
            except httpx.TransportError:
                return where, None, None  # its process was killed: not answered
        number = answer.json()["data"] if answer.status_code == 200 else None
        return where, number, answer.status_code

    async with httpx.AsyncClient(timeout=30) as client:
        return await asyncio.gather(*(one(client, n) for n in range(count)))


def _listed(root: str) -> tuple[int, set[str]]:
    page = httpx.get(
        root + query_refund_url(ORDER_ID),
        params={"pageSize": 250},
        headers=TOKEN_A,
    ).json()["data"]
    numbers = {refund["refundNo"] for refund in page["list"]}
    for number in range(2, page["total"] // 250 + 2):
        more = httpx.get(
            root + query_refund_url(ORDER_ID),
            params={"pageSize": 250, "pageNumber": number},
            headers=TOKEN_A,
        ).json()["data"]
        numbers |= {refund["refundNo"] for refund in more["list"]}
    return page["total"], numbers


def _reserved(url: str) -> int:
    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT reserved FROM order_lines WHERE merchant = 'merchant-a' AND id = '8000011'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_200_refunds_of_150_pieces_over_three_processes(
    team: list[LiveSandbox], postgres_url: str
) -> None:
    """No piece refunded twice, every number unique, every refund answered 200 listed,
    the 50 left over refused by the rules, whichever process took each."""
    _add_order(team[0].root, 150)
    answers = asyncio.run(_refunds([p.root for p in team], 200))
    numbers = [number for _, number, status in answers if status == 200]
    refused = [status for _, _, status in answers if status != 200]
    assert len(numbers) == 150 and len(set(numbers)) == 150
    assert refused == [409] * 50
    assert {where for where, number, _ in answers if number} == {0, 1, 2}  # all took some
    for process in team:
        assert _listed(process.root) == (150, set(numbers))
    assert _reserved(postgres_url) == 150


def test_a_process_killed_in_the_middle_of_a_load_loses_nothing_it_answered(
    team: list[LiveSandbox], postgres_url: str, tmp_path: Path
) -> None:
    """``kill -9`` of one process while refunds pour in: every refund any process answered
    is listed, the other two answered every request, and a process started again joins
    the same sandbox."""
    _add_order(team[0].root, 10_000)
    roots = [p.root for p in team]

    async def load_and_kill() -> list[tuple[int, str | None, int | None]]:
        first = await _refunds(roots, 120)
        team[1].kill()  # between two waves: its answered refunds must all be there
        second = await _refunds(roots, 120)
        return first + second

    answers = asyncio.run(load_and_kill())
    answered = {number for _, number, status in answers if status == 200 and number}
    others = [status for where, _, status in answers if where != 1]
    assert others == [200] * len(others)  # the other two answered every request
    again = _start(postgres_url, tmp_path, 9, "--rate-limit", "off")
    try:
        total, listed = _listed(again.root)
        assert answered <= listed
        assert total == len(listed) == _reserved(postgres_url)
    finally:
        again.stop()


def test_the_burst_is_120_across_three_processes_and_a_reset_through_one_empties_it(
    postgres_url: str, tmp_path: Path
) -> None:
    """The vendor's burst of 120 for one token, however the requests are spread: exactly
    120 let through; a reset through one process empties the bucket for all."""
    processes = [_start(postgres_url, tmp_path, n, "--rate-limit", "120/0.01") for n in range(3)]
    try:
        roots = [p.root for p in processes]

        async def burst(count: int) -> list[int]:
            limit = asyncio.Semaphore(CONCURRENCY)

            async def one(client: httpx.AsyncClient, n: int) -> int:
                async with limit:
                    answer = await client.get(
                        roots[n % 3] + API,
                        params={"ids": "10001"},
                        headers=TOKEN_A,
                    )
                return answer.status_code

            async with httpx.AsyncClient(timeout=30) as client:
                return await asyncio.gather(*(one(client, n) for n in range(count)))

        codes = asyncio.run(burst(150))
        assert codes.count(200) == 120 and codes.count(429) == 30
        reset = httpx.post(
            roots[0] + "/_sandbox/reset", headers={"Content-Type": "application/json"}
        )
        assert reset.status_code == 200, reset.text
        after = asyncio.run(burst(30))
        assert after == [200] * 30  # the bucket emptied for every process
    finally:
        for process in processes:
            process.stop()


def test_the_model_machine_passes_with_its_requests_spread_over_three_processes(
    postgres_url: str, tmp_path: Path
) -> None:
    """The whole contract suite over HTTP, the model machine's requests (and every other)
    handed round-robin to three processes: the answers match the model, as with one."""
    processes = [_start(postgres_url, tmp_path, n, "--rate-limit", "off") for n in range(3)]
    junit = tmp_path / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAKACLO_", "PYTEST_"))}
    env.update({TOKEN_ENV: "demo-token", OTHER_TOKEN_ENV: "demo-token-2"})
    try:
        spread = RoundRobin([p.root for p in processes])
        with ThreadServer(spread, lifespan="on") as front:
            done = subprocess.run(
                [KAKACLO, "contract", "--base-url", front.base_url, "--junit-xml", str(junit)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_LIMIT,
                check=False,
            )
        pids = {httpx.get(p.root + "/_sandbox/info").json()["data"]["pid"] for p in processes}
    finally:
        for process in processes:
            process.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert len(pids) == 3
    cases = {case.get("name"): case for case in ElementTree.parse(junit).iter("testcase")}
    for name in MUST_PASS:
        outcomes = {child.tag for child in cases.get(name, [])} & {"failure", "error", "skipped"}
        assert name in cases and not outcomes, f"{name}: {outcomes or 'not run'}"
