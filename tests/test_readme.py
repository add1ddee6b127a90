"""The README's tour stays true: its Python and curl examples run against a real sandbox."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveSandbox

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_the_two_commands() -> None:
    first = _blocks("sh")[0]
    assert [line.split("#")[0].strip() for line in first.splitlines()] == [
        "make contract",
        "make test",
    ]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LiveSandbox]:
    live = LiveSandbox(db=tmp_path / "tour.db", args=["--rate-limit", "off"]).start()
    yield live
    live.stop()


def test_python_tour_runs(sandbox: LiveSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    (code,) = _blocks("python")
    exec(code.replace("http://127.0.0.1:8080", sandbox.root), {})
    printed = capsys.readouterr().out
    assert printed.startswith("200 RefundOrderResponse(")
    assert "pending_review" in printed


def test_curl_tour_runs(sandbox: LiveSandbox) -> None:
    tour = next(block for block in _blocks("sh") if "curl -d" in block)
    commands = [c for c in tour.replace("\\\n", " ").splitlines() if c.startswith("curl")]
    answers = []
    for command in commands:
        argv = shlex.split(command.split(" #")[0].replace("http://127.0.0.1:8080", sandbox.root))
        method, url, body, headers = "GET", "", b"", {}
        words = iter(argv[1:])
        for word in words:
            if word == "-d":
                body, method = next(words).encode(), "POST"
            elif word == "-X":
                method = next(words)
            elif word == "-H":
                name, _, value = next(words).partition(":")
                headers[name.strip()] = value.strip()
            else:
                url = word
        answers.append(httpx.request(method, url, content=body, headers=headers))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json()["data"].isdigit()
    assert answers[1].json()["data"]["list"][0]["refundStatus"] == "pending_review"
