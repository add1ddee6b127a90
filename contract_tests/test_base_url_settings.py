"""``kakaclo contract``'s base URL: a malformed one, or one carrying ``user:password@`` (httpx
would send it as Basic auth in place of the bearer token), is a setting error (exit 2, one
line), and the password is never shown: not on stderr, in the summary or in the JUnit XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from kakaclo_contract.run import run
from kakaclo_contract.settings import BASE_URL_ENV, TOKEN_ENV, RunSettings, SettingsError

SECRET = "Pw5ecret"
MALFORMED = [
    "http://[::1",
    "http://127.0.0.1:99999/openapi",
    f"http://user:{SECRET}@[::1/x",
    f"http://user:{SECRET}@127.0.0.1:8080/openapi",  # well formed, but never the API's
]


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
