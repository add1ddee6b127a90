"""``kakaclo contract`` against malicious servers: each bound, in preflight, is one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from kakaclo_contract.settings import APP_ENV, BASE_URL_ENV, TIMEOUT_ENV, TOKEN_ENV
from tests.client.hostile import (
    DEEP,
    Behaviour,
    HostileServer,
    drip_body,
    drip_head,
    endless_chunks,
)

DEADLINE = 2.0


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
def test_preflight_ends_in_one_line_within_the_deadline(behaviour: Behaviour, words: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != APP_ENV}
    with HostileServer(behaviour) as server:
        env |= {BASE_URL_ENV: server.base_url, TOKEN_ENV: "t", TIMEOUT_ENV: str(DEADLINE)}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "kakaclo_refunds.cli", "contract"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert took < DEADLINE + 8  # the interpreter's start, the preflight's one answer
