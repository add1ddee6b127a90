"""``kakaclo contract`` against malicious servers: each bound, in preflight, is one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contract_tests.subrun import ROOT
from kakaclo_contract.settings import APP_ENV, BASE_URL_ENV, TIMEOUT_ENV, TOKEN_ENV
from tests.client.hostile import (
    DEEP,
    Behaviour,
    HostileServer,
    by_path,
    drip_body,
    drip_head,
    endless_chunks,
    fixed,
)

DEADLINE = 2.0


def _contract(
    server: HostileServer, cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``kakaclo contract`` against ``server``, read-only, with a ``DEADLINE`` s timeout."""
    env = {k: v for k, v in os.environ.items() if k != APP_ENV}
    env |= {BASE_URL_ENV: server.base_url, TOKEN_ENV: "t", TIMEOUT_ENV: str(DEADLINE)}
    return subprocess.run(
        [sys.executable, "-m", "kakaclo_refunds.cli", "contract"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        (drip_body, "did not answer within 2 s"),
        (drip_head, "did not answer within 2 s"),
        (endless_chunks, "larger than 8 MiB (the size cap)"),
        (DEEP, "deeper than 64 levels"),
    ],
    ids=["drip-body", "drip-head", "endless", "deep"],
)
def test_preflight_ends_in_one_line_within_the_deadline(
    behaviour: Behaviour, words: str, tmp_path: Path
) -> None:
    with HostileServer(behaviour) as server:
        started = time.monotonic()
        done = _contract(server, tmp_path, timeout=60)
        took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert took < DEADLINE + 8  # the interpreter's start, the preflight's one answer


ORDERS = (ROOT / "tests" / "fixtures" / "vendor" / "query-order-waiting-to-ship.json").read_bytes()


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        (drip_body, "GET /openapi/v2/order/orders/refund/{id} did not answer within 2 s"),
        (DEEP, "AnswerTooDeep: the answer nests JSON deeper than 64 levels"),
    ],
    ids=["drip", "deep"],
)
def test_inside_the_suite_a_bound_fails_the_test_that_met_it(
    behaviour: Behaviour, words: str, tmp_path: Path
) -> None:
    """Query Order answers well (the preflight passes); Query Refund drips or nests too deep."""
    holder: list[HostileServer] = []
    answers = {b"/orders/refund/": behaviour, b"/v2/order/orders": fixed(ORDERS)}
    server = HostileServer(by_path(answers, holder))
    holder.append(server)
    with server:
        done = _contract(server, tmp_path)
    shown = done.stdout + done.stderr
    assert done.returncode == 1, shown
    assert "RecursionError" not in shown and "MemoryError" not in shown
    named = [line for line in shown.splitlines() if words in line]
    assert any("test_" in line or "refund/{id}" in line for line in named), shown
