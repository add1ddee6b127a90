"""--record: a HAR 1.2 file with no credential in it, which --replay checks offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kakaclo_proxy.har import read_har
from kakaclo_proxy.replay import replay
from tests.proxy.faulty import Faulty
from tests.proxy.servers import sandbox_app, through_proxy
from tests.sandbox.conftest import TOKEN_A, TOKEN_B
from tests.sandbox.helpers import item

API = "/openapi/v2/order/orders"
TOKENS = ("demo-token", "demo-token-2")  # TOKEN_A's and TOKEN_B's


def _record(tmp_path: Path, fault: str | None = None) -> tuple[Path, list[tuple[str, str, int]]]:
    """A recorded run of both merchants; returns the file and the live findings."""
    har = tmp_path / "run.har"
    faulty = Faulty(sandbox_app())
    with through_proxy(faulty, tmp_path / "live", record=har) as (running, http):
        http.post(f"{API}/10001/refund", json={"orderItems": [item("120001", 1)]}, headers=TOKEN_A)
        http.get(f"{API}/refund/10001", headers=TOKEN_A)
        http.get(f"{API}/refund/20001", headers=TOKEN_B)
        # a token where no token belongs: in the query and echoed in a body
        http.get(f"{API}/refund/10001", params={"access_token": TOKENS[0]}, headers=TOKEN_A)
        http.post(f"{API}/10001/refund", json={"remark": TOKENS[1]}, headers=TOKEN_B)
        faulty.fault = fault
        http.get(API, headers=TOKEN_A)
    live = [(f.check, str(f.severity), f.exchange) for f in running.findings]
    return har, live


def test_the_recording_holds_no_token(tmp_path: Path) -> None:
    har, _ = _record(tmp_path)
    text = har.read_text()
    for token in TOKENS:
        assert token not in text
    document = json.loads(text)
    assert document["log"]["version"] == "1.2"
    entries = document["log"]["entries"]
    assert len(entries) == 6
    merchants = [
        next(h["value"] for h in entry["request"]["headers"] if h["name"] == "authorization")
        for entry in entries
    ]
    assert all(m.startswith("Bearer redacted-") for m in merchants)
    assert merchants[0] == merchants[1] != merchants[2]  # one digest per token
    assert "access_token=redacted-" in entries[3]["request"]["url"]
    assert "redacted-" in entries[4]["request"]["postData"]["text"]


def test_a_replay_finds_what_the_live_proxy_found(tmp_path: Path) -> None:
    har, live = _record(tmp_path, fault="envelope")
    assert ("envelope", "error", 5) in live
    status = replay(har, report=tmp_path / "replay", quiet=True)
    assert status == 1
    lines = (tmp_path / "replay/findings.ndjson").read_text().splitlines()
    replayed = [json.loads(line) for line in lines]
    assert [(f["check"], f["severity"], f["exchange"]) for f in replayed] == live
    assert replay(har, report=tmp_path / "never", fail_on="never", quiet=True) == 0


def test_a_recording_cut_short_by_a_crash_reads_up_to_its_last_whole_entry(
    tmp_path: Path,
) -> None:
    har, _ = _record(tmp_path)
    text = har.read_text()
    last = text.rindex('{"startedDateTime"')
    cut = tmp_path / "cut.har"
    cut.write_text(text[: last + 40])  # the process died while writing the last entry
    _, exchanges = read_har(cut)
    assert len(exchanges) == 5
    unclosed = tmp_path / "unclosed.har"
    unclosed.write_text(text[: text.rindex("\n]}}")])  # died before closing the file
    assert len(read_har(unclosed)[1]) == 6


def test_kakaclo_contract_replay_exits_as_fail_on_says(tmp_path: Path) -> None:
    har, _ = _record(tmp_path, fault="status")
    command = [
        sys.executable,
        "-m",
        "kakaclo_refunds.cli",
        "contract",
        "--replay",
        str(har),
        "--junit-xml",
        str(tmp_path / "junit.xml"),
    ]
    failed = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert failed.returncode == 1, failed.stderr
    assert "ERROR status:" in failed.stderr
    assert '<failure message="1 error(s)' in (tmp_path / "junit.xml").read_text()
    passed = subprocess.run(
        [*command, "--fail-on", "never"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert passed.returncode == 0, passed.stderr
    garbage = tmp_path / "garbage.har"
    garbage.write_text("not a recording")
    refused = subprocess.run(
        [*command[:4], "--replay", str(garbage)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "garbage.har is not a HAR file" in (
        refused.stderr
    )
