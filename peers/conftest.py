"""What every proof in peers/ shares: the installed tools, a fresh sandbox, a command runner.

A tool that cannot be installed here skips its proofs with one line saying how
to get it; under CI (``CI`` set) that skip is a failure, as for every tool
beyond Python (``tests/tools.py``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.live import LiveSandbox
from tests.tools import missing
from tools import peers

ROOT = peers.ROOT
SPEC = ROOT / "openapi.yaml"
COMMAND_SECONDS = 300


@cache
def _install_problems() -> tuple[str, ...]:
    return tuple(peers.install())


# how install() names a problem of each kind of tool
PROBLEM_WORDS = {"npm": "npm", "pip": "pip install", "java": "Java"}


def need(*tools: str) -> None:
    """Skip (fail under CI) when one of ``tools`` ("npm", "pip", "java") is not here."""
    for problem in _install_problems():
        if any(PROBLEM_WORDS[tool] in problem for tool in tools):
            missing(problem)


def npm_tool(package: str) -> str:
    """The path of a pinned npm package's command in .tools/node_modules/.bin."""
    need("npm")
    return str(peers.NODE_BIN / peers.NPM_COMMANDS[package])


def peers_python() -> str:
    """The interpreter of .tools/peers-venv (openapi-generator-cli, datamodel-codegen, pydantic)."""
    need("pip")
    return str(peers.PEERS_PYTHON)


@dataclass
class Ran:
    """A finished command."""

    code: int
    output: str


def run(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = COMMAND_SECONDS,
) -> Ran:
    """Run ``command`` (bounded), stdout and stderr together; ``env`` adds to the environment."""
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout)


@contextlib.contextmanager
def serving(
    command: list[str], port: int, log: Path, *, start_seconds: float = 60
) -> Iterator[str]:
    """Run a server ``command`` until the block ends; yield ``http://127.0.0.1:port`` once
    its port accepts connections (a JVM or node start takes seconds)."""
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=log.parent, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + start_seconds
            while True:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{command[0]} did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)  # waiting for a process to bind its port, not for app timing
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


KAKACLO = str(ROOT / ".venv" / "bin" / "kakaclo")
# What each error of the operations answers when a generated client's flow produces it.
ERROR_STATUSES = {
    "UNAUTHORIZED": 401,
    "ORDER_NOT_FOUND": 404,
    "SCHEMA_VIOLATION": 400,
    "MALFORMED_JSON": 400,
    "UNSUPPORTED_CONTENT_TYPE": 400,
    "UNSUPPORTED_PREFERENCE": 400,
    "PAYLOAD_TOO_LARGE": 413,
    "ORDER_NOT_REFUNDABLE": 409,
    "ITEM_NOT_IN_ORDER": 409,
    "DUPLICATE_ITEM": 409,
    "QUANTITY_EXCEEDS_REFUNDABLE": 409,
    "NOTHING_TO_REFUND": 409,
    "IDEMPOTENCY_KEY_REUSED": 409,
    "RATE_LIMITED": 429,
    "SERVER_ERROR": 500,
    "UPSTREAM_UNAVAILABLE": 502,
    "SERVICE_UNAVAILABLE": 503,
    "UNKNOWN_PATH": 404,
    "METHOD_NOT_ALLOWED": 405,
}


def error_codes() -> dict[str, int]:
    """ErrorCode's names and values as the spec states them (x-enum-varnames)."""
    schema = yaml.safe_load(SPEC.read_text())["components"]["schemas"]["ErrorCode"]
    return dict(zip(schema["x-enum-varnames"], schema["enum"], strict=True))


def check_client_flow(seen: dict[str, Any]) -> None:
    """What a generated client's flow program printed: the refund it made and read, and every
    error, live or written out, parsed through its Error model with a typed code."""
    refund = seen["refund"]
    assert refund["code"] == 10000 and refund["number"].isdigit()
    assert refund["listed"] == [[refund["number"], "pending_review"]]
    assert refund["orderRefundStatus"] == "refunding"
    assert seen["errorsViaTheClient"] == {"404": 40401}
    assert seen["keyedWholeOrderRefund"] == 200
    codes = error_codes()
    assert seen["live"] == {
        name: [status, codes[name], True] for name, status in ERROR_STATUSES.items()
    }
    # the one code no single request produces: a key still in flight
    assert seen["parsedOthers"] == {"IDEMPOTENCY_REQUEST_IN_FLIGHT": True}
    assert set(codes) == {"SUCCESS", *ERROR_STATUSES, *seen["parsedOthers"]}


def contract_against(root: str, token: str, tmp_path: Path) -> Ran:
    """``kakaclo contract`` against a foreign server's root: it must fail in named checks,
    exit 1 and no traceback; returns the run for more."""
    ran = run(
        [
            KAKACLO,
            "contract",
            "--base-url",
            root,
            "--timeout",
            "5",
            "--summary",
            str(tmp_path / "summary.json"),
        ],
        cwd=tmp_path,
        env={"KAKACLO_TOKEN": token},
    )
    assert ran.code == 1, ran.output[-4000:]
    assert "Traceback" not in ran.output, ran.output[-4000:]
    assert "kakaclo contract: violations (exit 1)" in ran.output
    assert "FAILED" in ran.output and "test_account.py" in ran.output, ran.output[-4000:]
    return ran


SandboxFactory = Callable[..., LiveSandbox]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxFactory]:
    """Start a fresh sandbox (``--db :memory:``, no rate limit) with extra arguments."""
    started: list[LiveSandbox] = []

    def start(*args: str) -> LiveSandbox:
        live = LiveSandbox(
            db=tmp_path / f"sandbox-{len(started)}.db",  # names its log; the data is in memory
            args=["--db", ":memory:", "--rate-limit", "off", "--log-level", "warning", *args],
        )
        started.append(live.start())
        return live

    yield start
    for live in started:
        live.stop()
