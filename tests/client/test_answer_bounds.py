"""The client and the CLI against malicious servers: a deadline, a size cap and a depth limit."""

from __future__ import annotations

import asyncio
import time

import pytest
from typer.testing import CliRunner

from kakaclo_refunds import AsyncKakacloClient, KakacloClient, bounds
from kakaclo_refunds.cli import app
from kakaclo_refunds.errors import AnswerRefusedError, RequestTimeoutError
from kakaclo_refunds.retry import RetryPolicy
from tests.client.hostile import (
    DEEP,
    Behaviour,
    HostileServer,
    drip_body,
    drip_head,
    endless_chunks,
)

DEADLINE = 2.0


@pytest.mark.parametrize("behaviour", [drip_body, drip_head], ids=["body", "head"])
def test_a_dripping_answer_ends_at_the_deadline(behaviour: Behaviour) -> None:
    with (
        HostileServer(behaviour) as server,
        KakacloClient("t", server.base_url, deadline=DEADLINE, retry=RetryPolicy(attempts=1)) as kk,
    ):
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError, match="answer deadline"):
            kk.get_order("1")
        assert time.monotonic() - started < DEADLINE + 1.5


def run_cli(server: HostileServer, *args: str) -> tuple[int, str, str]:
    runner = CliRunner(env={"KAKACLO_BASE_URL": server.base_url, "KAKACLO_TOKEN": "t"})
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_orders_list_ends_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounds, "ANSWER_DEADLINE", DEADLINE)
    with HostileServer(drip_body) as server:
        started = time.monotonic()
        code, _, stderr = run_cli(server, "orders", "list")
    attempts = RetryPolicy().attempts  # a timeout is retried; each attempt has its deadline
    assert time.monotonic() - started < attempts * (DEADLINE + 4)
    assert code == 1
    assert "answer deadline" in stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) <= 1 + attempts  # the error line, retry lines


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [(endless_chunks, "larger than 8 MiB (the size cap)"), (DEEP, "deeper than 64 levels")],
    ids=["endless", "deep"],
)
def test_cli_refuses_an_endless_or_deep_answer_in_one_line(
    behaviour: Behaviour,
    words: str,
) -> None:
    with HostileServer(behaviour) as server:
        code, _, stderr = run_cli(server, "orders", "show", "1")
    assert code == 1
    assert words in stderr
    assert "Traceback" not in stderr and "Error:" not in stderr.split(words)[1]
    assert len(stderr.strip().splitlines()) == 1


def test_client_error_types() -> None:
    with (
        HostileServer(DEEP) as server,
        KakacloClient("t", server.base_url) as kk,
        pytest.raises(AnswerRefusedError, match="deeper than 64"),
    ):
        kk.list_refunds("1")


def test_depth_scan_ignores_brackets_in_strings() -> None:
    assert not bounds.json_depth_exceeds(b'{"a": "' + b"[" * 500 + b'"}')
    assert bounds.json_depth_exceeds(b"[" * 65)
    assert not bounds.json_depth_exceeds(b"[" * 64 + b"]" * 64)


@pytest.mark.parametrize(
    ("behaviour", "error", "words"),
    [
        (drip_head, RequestTimeoutError, "answer deadline"),
        (drip_body, RequestTimeoutError, "answer deadline"),
        (endless_chunks, AnswerRefusedError, "size cap"),
        (DEEP, AnswerRefusedError, "deeper than 64"),
    ],
    ids=["drip-head", "drip-body", "endless", "deep"],
)
def test_the_async_client_keeps_the_same_bounds(
    behaviour: Behaviour, error: type[Exception], words: str
) -> None:
    async def main(base_url: str) -> None:
        async with AsyncKakacloClient(
            "t", base_url, deadline=DEADLINE, retry=RetryPolicy(attempts=1)
        ) as kk:
            await kk.get_order("1")

    with HostileServer(behaviour) as server:
        started = time.monotonic()
        with pytest.raises(error, match=words):
            asyncio.run(main(server.base_url))
        assert time.monotonic() - started < DEADLINE + 1.5
