"""Specmatic 2.55: its contract tests pass against the sandbox, and its stub fails our suite.

``specmatic test --strict`` runs the spec's named examples, each request with
the answer of the same name, against a fresh sandbox whose one token holds
the demo orders and the twins of the vendor's orders (the examples name both).
Specmatic runs them in the spec's order, the 200s first, which the two
examples that follow another rely on (docs/peers.md, "Using the spec with other
tools"). Then ``kakaclo contract`` against ``specmatic stub``, which answers
with values made up from the schemas, must fail (exit 1) and name its checks.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from peers.conftest import ROOT, SPEC, SandboxFactory, contract_against, need, npm_tool, serving
from tests.live import free_port

DEMO = ROOT / "src" / "kakaclo_sandbox" / "demo.yaml"
TOKEN = "peers-token"


def one_merchant_data(path: Path) -> Path:
    """The demo data with merchant A's orders and the vendor twins under one token."""
    demo = yaml.safe_load(DEMO.read_text())
    merchants = {m["merchant"]: m for m in demo["merchants"]}
    orders = merchants["merchant-a"]["orders"] + merchants["vendor-twins"]["orders"]
    one = {"merchant": "peers", "tokens": [TOKEN], "orders": orders}
    path.write_text(yaml.safe_dump({**demo, "merchants": [one]}, sort_keys=False))
    return path


def test_specmatic_runs_every_paired_example_and_each_passes(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    need("npm", "java")
    specmatic = npm_tool("specmatic")
    # refunds stay pending for the whole run, as two examples expect after refundEntireOrder
    live = sandbox(
        "--data", str(one_merchant_data(tmp_path / "peers.yaml")), "--settle-after", "3600"
    )
    reports = tmp_path / "junit"
    done = subprocess.run(
        [
            specmatic,
            "test",
            str(SPEC),
            "--testBaseURL",
            live.base_url,
            "--strict",
            "--junitReportDir",
            str(reports),
        ],
        cwd=tmp_path,
        env={**os.environ, "bearerAuth": TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    # Specmatic's exit status does not say whether tests failed: its JUnit report does.
    cases = [c for f in reports.glob("*.xml") for c in ET.parse(f).getroot().iter("testcase")]
    failed = [
        c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None
    ]
    assert cases, done.stdout[-3000:]
    assert failed == [], (failed, done.stdout[-4000:])
    assert "has no associated" not in done.stdout, done.stdout[-3000:]
    names = " ".join(c.get("name") or "" for c in cases)
    for example in (
        "refundSomeItems",
        "refundEntireOrder",
        "orderNotFound",
        "settledRefund",
        "waitingToShip",
        "nothingToRefund",
        "idempotencyKeyReused",
    ):
        assert example in names, (example, names[:2000])
    assert len(cases) == 12  # every named example of the spec: a lost one would not show


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[str]:
    """``specmatic stub`` of openapi.yaml on a free port; yields its root URL."""
    need("npm", "java")
    port = free_port()
    command = [npm_tool("specmatic"), "stub", str(SPEC), "--port", str(port)]
    with serving(command, port, tmp_path / "stub.log") as root:
        yield root


def test_our_suite_fails_specmatics_stub_naming_its_checks(stub: str, tmp_path: Path) -> None:
    ran = contract_against(stub, TOKEN, tmp_path)
    # the stub makes its answers up from the schemas: the envelope rule is among what it breaks
    assert "Envelope rule broken" in ran.output, ran.output[-4000:]
