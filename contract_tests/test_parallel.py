"""kakaclo contract --workers: the suite over several processes, counted as one run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from kakaclo_contract import spec_coverage, summary
from kakaclo_contract.run import PACKAGE, SUITE, SUITE_INI, run
from kakaclo_contract.settings import RunSettings, SettingsError


@pytest.mark.parametrize(
    ("raw", "workers"), [("", "1"), ("1", "1"), ("2", "2"), ("auto", "auto"), (" AUTO ", "auto")]
)
def test_workers_are_a_count_or_auto(raw: str, workers: str) -> None:
    settings = RunSettings.from_env({"KAKACLO_WORKERS": raw})
    assert settings.workers == workers
    assert settings.parallel == (workers != "1")


@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5", "٢"])
def test_a_wrong_count_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="must be a number of processes >= 1 or auto"):
        RunSettings.from_env({"KAKACLO_WORKERS": raw})


def test_workers_are_refused_against_a_url() -> None:
    env = {"KAKACLO_WORKERS": "2", "KAKACLO_BASE_URL": "http://x/openapi", "KAKACLO_TOKEN": "t"}
    with pytest.raises(SettingsError, match="is for the in-process sandbox"):
        RunSettings.from_env(env)


def test_kakaclo_contract_stops_on_wrong_workers_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run({"KAKACLO_WORKERS": "none"}, summary_path=tmp_path / "summary.json")
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_workers_counts_add_up_to_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summary, "TALLIES", defaultdict(summary.OperationTally))
    monkeypatch.setattr(summary, "LINKS", Counter())
    monkeypatch.setattr(spec_coverage, "PAIRS", Counter())
    monkeypatch.setattr(spec_coverage, "CODES", Counter())
    summary.record_answer("GET /x", 200)
    summary.TALLIES["GET /x"].checks.add("not_a_server_error")
    summary.LINKS["a -> b"] += 2
    spec_coverage.PAIRS[("queryOrders", 200)] += 3
    spec_coverage.CODES[10000] += 3
    sent = json.loads(json.dumps([summary.snapshot(), spec_coverage.snapshot()]))  # as execnet
    summary.merge(sent[0])
    spec_coverage.merge(sent[1])
    assert summary.TALLIES["GET /x"].statuses == Counter({200: 2})
    assert summary.TALLIES["GET /x"].checks == {"not_a_server_error"}
    assert Counter({"a -> b": 4}) == summary.LINKS
    assert Counter({("queryOrders", 200): 6}) == spec_coverage.PAIRS
    assert Counter({10000: 6}) == spec_coverage.CODES


def test_every_item_of_the_suite_has_an_id_of_its_own() -> None:
    # pytest-xdist schedules by node id: a shared id runs one of its items only.
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SUITE),
            "-c",
            str(SUITE_INI),
            "--rootdir",
            str(PACKAGE),
            "--collect-only",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    ids = [line for line in listed.splitlines() if "::" in line]
    assert len(ids) > 30
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert any(
        i.endswith("test_every_operation_conforms[GET /openapi/v2/order/orders]") for i in ids
    )


def _contract(tmp_path: Path, name: str, workers: str) -> dict[str, Any]:
    path = tmp_path / f"{name}.json"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "kakaclo"),
            "contract",
            "--summary",
            str(path),
            "--workers",
            workers,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "10",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def test_two_workers_give_the_cases_and_verdict_of_one_process(tmp_path: Path) -> None:
    # Without the stateful phase: schemathesis 4.32.5's linked sequences vary from
    # one process to the next even in a single-process run (see docs/contract.md, "In parallel").
    one = _contract(tmp_path, "one", "1")
    two = _contract(tmp_path, "two", "2")
    for key in ("outcome", "exitCode", "reasons", "operations", "specCoverage", "checkedAnswers"):
        assert one[key] == two[key], key
    assert sum(op["cases"] for op in two["operations"].values()) > 100
