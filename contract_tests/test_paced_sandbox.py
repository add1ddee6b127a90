"""The README's sandbox run over HTTP, paced, against a rate-limited ``kakaclo-sandbox``.

The README runs ``kakaclo contract --base-url http://127.0.0.1:8080/openapi
--rate 120/2`` against ``make serve`` (the vendor's limit, a settle-after of
5 s). Here both sides use the vendor's burst at ten times its drain, and the
refunds settle after 2 s, so that the whole suite (the reference model's
state machine included) passes in about five minutes instead of about forty.
Every module over HTTP freezes the sandbox's clock while it checks times,
so how long a paced request waits decides nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx
import pytest

from contract_tests import test_targets
from contract_tests.test_targets import FAST_LIMIT, contract
from tests.live import LiveSandbox

# about 5,400 answers at 20 a second take about 300 s here: three times that is a failure
PACED_RUN_LIMIT = 900


@pytest.mark.alone
def test_the_readmes_paced_run_against_a_rate_limited_sandbox_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(test_targets, "RUN_LIMIT", PACED_RUN_LIMIT)
    live = LiveSandbox(
        db=tmp_path / "paced.db",
        args=["--rate-limit", FAST_LIMIT, "--settle-after", "2", "--log-level", "warning"],
    ).start()
    junit = tmp_path / "junit.xml"
    try:
        run = contract(
            tmp_path,
            live.base_url,
            "--rate",
            FAST_LIMIT,
            "--other-token",
            "demo-token-2",
            "--junit-xml",
            str(junit),
        )
        clock = httpx.get(live.root + "/_sandbox/info").json()["data"]["clock"]
    finally:
        live.stop()
    assert run.code == 0, run.output[-4000:]
    assert "rate 120/20" in run.output.splitlines()[1]
    assert "skipped" not in run.output.splitlines()[-1], run.output[-2000:]
    cases = {case.get("name"): case for case in ElementTree.parse(junit).iter("testcase")}
    for name in (
        "test_the_server_follows_the_model",
        "test_business_properties_hold",
        "test_refunds_settle_each_at_its_own_time",
        "test_a_refund_that_fails_gives_its_pieces_back",
        "test_vendor_flows_partial_then_whole_order_then_settled",
    ):
        outcomes = {child.tag for child in cases.get(name, [])} & {"failure", "error", "skipped"}
        assert name in cases and not outcomes, f"{name}: {outcomes or 'not run'}"
    assert run.summary["checkedAnswers"]["throttled"] == 0
    # far more answers than the burst: the pacing, not the bucket's headroom, carried the run
    assert run.summary["traffic"]["answers"] > 10 * 120
    assert clock["frozen"] is False  # the suite let the clock run again
