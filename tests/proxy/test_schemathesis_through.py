"""A schemathesis run through the proxy in front of the sandbox gives no finding: every
request it makes, valid or not, gets an answer the spec allows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kakaclo_spec import default_spec_path
from tests.proxy.servers import proxy, sandbox_app, upstream
from tests.sandbox.conftest import TOKEN_A


def test_a_schemathesis_run_through_the_proxy_gives_no_finding(tmp_path: Path) -> None:
    with upstream(sandbox_app()) as upstream_url, proxy(upstream_url, tmp_path) as running:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                str(default_spec_path()),
                "--url",
                running.base_url,
                "--header",
                f"Authorization: {TOKEN_A['Authorization']}",
                "--max-examples",
                "25",
                "--seed",
                "20261127",
                "--generation-deterministic",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--request-timeout",
                "10",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
    exchanges = sum(running.summary()["exchanges"].values())
    assert exchanges > 100, done.stdout[-3000:]
    assert [finding.line() for finding in running.findings] == []
    assert running.summary()["passed"] is True
