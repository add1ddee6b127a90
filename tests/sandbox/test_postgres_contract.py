"""The in-process contract suite (``kakaclo contract``) against the sandbox on PostgreSQL:
the same contract on both engines (issue 31). Once per run, on one database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgres_fixtures import URL_VARIABLE

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.alone
def test_the_contract_suite_passes_against_the_sandbox_on_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "KAKACLO_APP": "tests.postgres_fixtures:contract_app",
        URL_VARIABLE: postgres_url,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "kakaclo"), "contract", "--summary", str(summary)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert json.loads(summary.read_text())
