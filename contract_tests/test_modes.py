"""The same suite runs unchanged over HTTP against a started ``kakaclo-sandbox``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.target import BASE_URL_ENV, PLANTED_FAULT_ENV, TOKEN_ENV
from tests.live import LiveSandbox

ROOT = Path(__file__).resolve().parent.parent
OVER_HTTP = [
    "contract_tests/test_schemathesis.py",
    "contract_tests/test_generated_client.py",
    "contract_tests/test_rules.py",
    "contract_tests/test_business_properties.py",
]


def test_suite_passes_over_http_against_a_started_sandbox(tmp_path: Path) -> None:
    if os.environ.get(BASE_URL_ENV):
        pytest.skip("already running against a URL")
    # default settings, the vendor's rate limit included
    sandbox = LiveSandbox(db=tmp_path / "sandbox.db", args=["--log-level", "warning"]).start()
    try:
        env = {k: v for k, v in os.environ.items() if k != PLANTED_FAULT_ENV}
        env |= {BASE_URL_ENV: sandbox.base_url, TOKEN_ENV: "demo-token"}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *OVER_HTTP],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        sandbox.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "skipped" not in output.splitlines()[-1], output[-2000:]
