"""``kakaclo contract --replay`` refuses a recording nested too deep in one line (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kakaclo_proxy.replay import EXIT_USAGE, replay


def test_a_recording_nested_100k_deep_is_one_usage_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    har = tmp_path / "deep.har"
    har.write_text('{"log": {"entries": [' + "[" * 100_000 + "]}}")
    assert replay(har, report=tmp_path / "replay", quiet=True) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"kakaclo contract --replay: {har} is not a HAR file: JSON nested deeper than 64 levels"
    ]


def test_brackets_inside_bodies_do_not_count(tmp_path: Path) -> None:
    har = tmp_path / "brackets.har"
    har.write_text('{"log": {"entries": [], "_note": "' + "[{" * 5000 + '"}}')
    assert replay(har, report=tmp_path / "replay", quiet=True) == 0
