"""``kakaclo contract``'s base URL: a malformed one is a setting error (exit 2, one line), and
a password in it is sent but never shown: not on stderr, in the summary or in the JUnit XML."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kakaclo_contract import run as run_module
from kakaclo_contract.run import run
from kakaclo_contract.settings import BASE_URL_ENV, TOKEN_ENV, RunSettings, SettingsError
from tests.client.hostile import HostileServer, fixed
from tests.live import free_port

SECRET = "Pw5ecret"
MALFORMED = ["http://[::1", "http://127.0.0.1:99999/openapi", f"http://user:{SECRET}@[::1/x"]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_base_url_is_a_setting_error(url: str) -> None:
    with pytest.raises(SettingsError, match="--base-url must be an http") as caught:
        RunSettings.from_env({BASE_URL_ENV: url, TOKEN_ENV: "t"})
    assert SECRET not in str(caught.value)


def _run(tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    summary, junit = tmp_path / "summary.json", tmp_path / "junit.xml"
    code = run({BASE_URL_ENV: url, TOKEN_ENV: "t"}, junit=junit, summary_path=summary)
    captured = capsys.readouterr()
    written = summary.read_text() + junit.read_text()
    return code, captured.out + captured.err, written


@pytest.mark.parametrize("url", MALFORMED)
def test_the_run_stops_in_one_line(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, shown, written = _run(tmp_path, url, capsys)
    assert code == 2
    assert shown.startswith("kakaclo contract: KAKACLO_BASE_URL / --base-url must be")
    assert shown.count("\n") == 1, shown
    assert SECRET not in shown + written


def test_a_password_is_masked_when_the_server_cannot_be_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://user:{SECRET}@127.0.0.1:{free_port()}/openapi"
    code, shown, written = _run(tmp_path, url, capsys)
    assert code == 2
    assert SECRET not in shown + written
    assert "cannot connect to http://user:***@127.0.0.1:" in shown
    assert (
        "http://user:***@127.0.0.1:"
        in json.loads((tmp_path / "summary.json").read_text())["reasons"][0]
    )


def test_a_password_is_masked_in_a_whole_runs_output_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server that answers everything 200 with an error envelope: the run goes through,
    finds violations, and no header, failure report or summary shows the password."""
    not_found = fixed(b'{"code": 40400, "message": "no such path", "data": null}')
    with HostileServer(not_found) as server:
        url = server.base_url.replace("http://", f"http://user:{SECRET}@")
        code, shown, written = _run(tmp_path, url, capsys)
    assert code == 1, shown[-2000:]
    assert SECRET not in shown + written
    assert "kakaclo contract: target http://user:***@127.0.0.1:" in shown
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["target"].startswith("http://user:***@127.0.0.1:")


def test_reports_and_pytest_output_are_scrubbed(tmp_path: Path) -> None:
    url = f"http://user:{SECRET}@127.0.0.1:1/openapi"
    report = tmp_path / "junit.xml"
    report.write_text(f"<failure>curl {url}/openapi/v2/order/orders</failure>")
    run_module._scrub([report, tmp_path / "absent.json"], url)
    assert report.read_text() == (
        "<failure>curl http://user:***@127.0.0.1:1/openapi/openapi/v2/order/orders</failure>"
    )
    found = run_module._userinfo(url)
    assert found is not None
    stream = io.StringIO()
    run_module._Masking(stream, *found).write(f"GET {url}\n")
    assert stream.getvalue() == "GET http://user:***@127.0.0.1:1/openapi\n"
    assert RunSettings(base_url=url).shown_base_url == "http://user:***@127.0.0.1:1/openapi"
