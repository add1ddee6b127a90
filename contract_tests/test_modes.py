"""The same suite runs unchanged over HTTP against a started ``kakaclo-sandbox``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from contract_tests.subrun import run_suite
from contract_tests.target import BASE_URL_ENV, TOKEN_ENV
from tests.live import LiveSandbox

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
        output = run_suite(OVER_HTTP, {BASE_URL_ENV: sandbox.base_url, TOKEN_ENV: "demo-token"})
    finally:
        sandbox.stop()
    assert output.startswith("exit 0"), output[-4000:]
    assert "skipped" not in output.strip().splitlines()[-1], output[-2000:]
