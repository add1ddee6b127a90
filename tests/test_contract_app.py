"""KAKACLO_APP: the in-process app of a contract run, named as module:factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from kakaclo_contract.run import run
from kakaclo_contract.settings import RunSettings, SettingsError
from kakaclo_contract.target import app_factory
from kakaclo_sandbox import create_app


def test_no_name_is_the_sandbox() -> None:
    assert app_factory(None) is create_app


def test_a_named_factory_is_imported() -> None:
    from contract_tests import planted

    assert app_factory("contract_tests.planted:app") is planted.app


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("no_such_module:app", "No module named 'no_such_module'"),
        ("contract_tests.planted:nothing", "has no attribute 'nothing'"),
        ("contract_tests.planted:APP", "is not callable"),
    ],
)
def test_a_factory_that_cannot_be_found_is_a_settings_error(name: str, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        app_factory(name)
    assert str(caught.value).startswith(f"KAKACLO_APP={name}") and words in str(caught.value)


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"KAKACLO_APP": "no colon"}, "must be module:factory, not 'no colon'"),
        (
            {"KAKACLO_APP": "a:b", "KAKACLO_BASE_URL": "http://x/openapi", "KAKACLO_TOKEN": "t"},
            "cannot go with KAKACLO_BASE_URL",
        ),
    ],
)
def test_a_malformed_setting_is_refused(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        RunSettings.from_env(env)


def test_kakaclo_contract_stops_on_a_wrong_app_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.json"
    code = run({"KAKACLO_APP": "no_such_module:app"}, summary_path=summary)
    assert code == 2
    said = capsys.readouterr()
    lines = [line for line in (said.out + said.err).splitlines() if line.strip()]
    assert any("KAKACLO_APP=no_such_module:app" in line for line in lines), lines
    assert "Traceback" not in said.out + said.err
