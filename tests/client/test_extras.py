"""A command whose extra is missing says which one to install, in one line, and exits 2."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from kakaclo_refunds import extras


def _without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name in modules else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize(
    ("entry", "command", "extra", "module"),
    [
        (extras.kakaclo, "kakaclo", "cli", "typer"),
        (extras.kakaclo_sandbox, "kakaclo-sandbox", "sandbox", "starlette"),
    ],
)
def test_a_command_without_its_extra_names_it_and_exits_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    entry: Any,
    command: str,
    extra: str,
    module: str,
) -> None:
    _without(monkeypatch, module)
    with pytest.raises(SystemExit) as exited:
        entry()
    assert exited.value.code == 2
    said = capsys.readouterr().err
    assert said == f"{command} needs the [{extra}] extra of kakaclo-refunds: " + (
        f"pip install 'kakaclo-refunds[{extra}]'\n"
    )


def test_kakaclo_contract_names_the_contract_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from typer.testing import CliRunner

    from kakaclo_refunds.cli import app

    _without(monkeypatch, "schemathesis")
    result = CliRunner().invoke(app, ["contract"])
    assert result.exit_code == 2
    assert "pip install 'kakaclo-refunds[contract]'" in result.output


def test_every_extra_lists_modules_that_exist_here() -> None:
    for extra in extras.EXTRAS:
        assert extras.missing(extra) == [], extra  # the dev install has them all


def test_importing_the_sandbox_without_its_extra_names_it() -> None:
    import subprocess
    import sys

    probe = "import sys; sys.modules['starlette'] = None; import kakaclo_sandbox"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == (
        "ModuleNotFoundError: kakaclo_sandbox needs the [sandbox] extra of kakaclo-refunds "
        "(starlette is missing): pip install 'kakaclo-refunds[sandbox]'"
    )


def test_kakaclo_contract_replay_names_the_contract_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from kakaclo_refunds.cli import app

    _without(monkeypatch, "starlette")  # a [cli]-only install
    result = CliRunner().invoke(app, ["contract", "--replay", "run.har"])
    assert result.exit_code == 2
    assert result.stderr == (
        "kakaclo contract --replay needs the [contract] extra of kakaclo-refunds: "
        "pip install 'kakaclo-refunds[contract]'\n"
    )
