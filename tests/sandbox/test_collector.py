"""The server commands set the garbage collector for a long-running process."""

from __future__ import annotations

import argparse
import gc
import socket
from collections.abc import Iterator

import pytest
import uvicorn

from kakaclo_sandbox import __main__ as sandbox_command
from kakaclo_sandbox import create_app
from kakaclo_serving.collector import FIRST_GENERATION_THRESHOLD, prepare_for_serving


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_prepare_for_serving_freezes_what_exists_and_collects_less_often() -> None:
    _, second, third = gc.get_threshold()
    gc.unfreeze()
    prepare_for_serving()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (FIRST_GENERATION_THRESHOLD, second, third)
    assert FIRST_GENERATION_THRESHOLD > 700  # CPython's default


@pytest.mark.usefixtures("restored_collector")
def test_the_sandbox_command_prepares_the_collector_once_its_app_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(db=":memory:")
    events: list[str] = []
    monkeypatch.setattr(sandbox_command, "prepare_for_serving", lambda: events.append("gc"))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets: events.append("serve"))
    with socket.socket() as sock:
        sandbox_command._run(app, argparse.Namespace(log_level="warning"), sock)
    assert events == ["gc", "serve"]
