"""KAKACLO_APP: the in-process app of a contract run, named as module:factory."""

from __future__ import annotations

import pytest

from kakaclo_contract.target import app_factory
from kakaclo_sandbox import create_app


def test_no_name_is_the_sandbox() -> None:
    assert app_factory("") is create_app


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
def test_a_wrong_name_stops_the_run_with_one_line(name: str, words: str) -> None:
    with pytest.raises(pytest.exit.Exception) as stopped:
        app_factory(name)
    assert stopped.value.returncode == 2
    message = str(stopped.value)
    assert message.startswith(f"kakaclo contract: KAKACLO_APP={name}") and words in message
    assert "\n" not in message
