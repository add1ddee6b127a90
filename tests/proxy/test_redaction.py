"""One redaction rule for every output of the proxy: secrets in other header and query
names, in JSON and form bodies, percent-encoded or in a Basic credential, in the
upstream URL; none reaches the HAR, findings.ndjson, the stderr lines or a 502 body."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from kakaclo_proxy.redaction import Redactor
from tests.live import free_port
from tests.proxy.servers import proxy, through_proxy

API = "/openapi/v2/order/orders"
TOKEN = "tok/en+with=odd&chars"  # every character that percent-encoding changes
PASSWORD = "hunter2-pass"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Api-Key", "key-1234567"),
        ("Proxy-Authorization", "Bearer abcdef123"),
        ("Cookie", "session=abcdef123; theme=dark"),
        ("Set-Cookie", "session=abcdef123; HttpOnly"),
        ("X-Custom-Token", "abcdef123"),
        ("X-Client-Secret", "abcdef123"),
    ],
)
def test_credential_headers_of_any_name_are_masked(name: str, value: str) -> None:
    masked = Redactor().header(name, value)
    assert "abcdef123" not in masked and "1234567" not in masked
    assert "redacted-" in masked


@pytest.mark.parametrize(
    "name", ["access_token", "token", "api_key", "apikey", "key", "password", "client_secret"]
)
def test_credential_query_parameters_are_masked_and_the_rest_kept_as_sent(name: str) -> None:
    redactor = Redactor()
    query = redactor.query(f"ids=1%2C2&{name}={quote(TOKEN, safe='')}&pageSize=20")
    assert query.startswith("ids=1%2C2&") and query.endswith("&pageSize=20")
    assert quote(TOKEN, safe="") not in query and "redacted-" in query
    # once seen, the token is masked elsewhere, in every form it travels in
    for form in (TOKEN, quote(TOKEN, safe=""), quote(TOKEN, safe="").lower(), quote(TOKEN)):
        assert form not in redactor.scrub(f"remark={form}")


def test_a_token_seen_in_a_header_is_masked_url_encoded_and_in_base64_elsewhere() -> None:
    redactor = Redactor()
    masked = redactor.header("Authorization", f"Bearer {TOKEN}")
    digest = masked.removeprefix("Bearer ")
    for form in (
        quote(TOKEN, safe=""),
        quote(TOKEN, safe="").lower(),
        quote_plus(TOKEN),
        base64.b64encode(TOKEN.encode()).decode(),
    ):
        assert redactor.scrub(f"/x?next={form}&y=1") == f"/x?next={digest}&y=1"
    assert redactor.target(f"/p?q={quote(TOKEN, safe='')}") == f"/p?q={digest}"


def test_a_basic_password_is_masked_wherever_else_it_appears() -> None:
    redactor = Redactor()
    basic = base64.b64encode(f"merchant:{PASSWORD}".encode()).decode()
    assert PASSWORD not in redactor.header("Authorization", f"Basic {basic}")
    assert PASSWORD not in redactor.body(json.dumps({"remark": PASSWORD}), "application/json")
    assert quote(PASSWORD) not in redactor.scrub(f"/x?q={quote(PASSWORD)}")


def test_credential_fields_of_json_and_form_bodies_are_masked_at_any_depth() -> None:
    redactor = Redactor()
    body = json.dumps(
        {
            "user": "ann",
            "password": "pw",  # short: masked as a field, never searched for elsewhere
            "auth": {"access_token": 'tok\\en"1', "refresh_token": "r-123456"},
            "items": [{"secret": "s-123456", "note": 'not a "password": "x"'}],
            "remark": "s-123456",
        }
    )
    text = redactor.body(body, "application/json; charset=utf-8")
    document = json.loads(text)  # still JSON
    assert document["user"] == "ann" and document["password"].startswith("redacted-")
    assert document["auth"]["access_token"].startswith("redacted-")
    assert document["items"][0]["secret"] == document["remark"]  # the same secret, one digest
    assert document["items"][0]["note"] == 'not a "password": "x"'  # inside a value: kept
    for secret in ("r-123456", "s-123456", "tok\\\\en"):
        assert secret not in text
    form = redactor.body(
        "user=ann&password=pw-123456&grant_type=password", "application/x-www-form-urlencoded"
    )
    assert form.startswith("user=ann&password=redacted-") and "pw-123456" not in form


def test_the_upstream_password_is_masked_in_its_url() -> None:
    redactor = Redactor(f"http://user:{PASSWORD}@127.0.0.1:9/openapi")
    shown = redactor.url(f"http://user:{PASSWORD}@127.0.0.1:9/openapi")
    assert shown.startswith("http://user:redacted-") and shown.endswith("@127.0.0.1:9/openapi")
    assert PASSWORD not in redactor.scrub(f"echoed {PASSWORD} and {quote(PASSWORD)}")


def test_no_secret_reaches_the_har_the_findings_or_the_stderr_lines(tmp_path: Path) -> None:
    har = tmp_path / "run.har"
    lines: list[str] = []
    headers = {"Authorization": "Bearer demo-token", "X-Api-Key": "api-key-123456"}
    with through_proxy(
        _echo, tmp_path, headers, record=har, on_finding=lambda f: lines.append(f.line())
    ) as (_, http):
        # outside the spec and answered 200: an "operation" finding, with the query in its target
        http.get("/openapi/elsewhere", params={"access_token": "query-token-1", "q": "x"})
        http.get("/openapi/elsewhere", params={"token": "query-token-2"})
        http.get("/openapi/elsewhere", params={"next": quote("demo-token", safe="")})
        http.post(
            "/openapi/elsewhere",
            json={"password": "body-password-1", "nested": {"api_key": "body-key-123"}},
        )
    secrets = ["demo-token", "api-key-123456", "query-token-1", "query-token-2"]
    secrets += ["body-password-1", "body-key-123"]
    written = {
        "har": har.read_text(),
        "findings.ndjson": (tmp_path / "findings.ndjson").read_text(),
        "stderr": "\n".join(lines),
        "summary.json": (tmp_path / "summary.json").read_text(),
        "junit.xml": (tmp_path / "junit.xml").read_text(),
    }
    assert len(lines) == 4 and "access_token=redacted-" in lines[0], lines
    for where, text in written.items():
        for secret in secrets:
            assert secret not in text, (where, secret)
    entries = json.loads(written["har"])["log"]["entries"]
    for body in (
        entries[3]["request"]["postData"]["text"],
        entries[3]["response"]["content"]["text"],
    ):
        assert json.loads(body)["nested"]["api_key"].startswith("redacted-")


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers 200 with the request's body (or ``{}``), whatever the path."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body or b"{}"})


def test_the_upstream_password_never_reaches_a_502_the_har_or_the_findings(
    tmp_path: Path,
) -> None:
    dead = f"http://user:{PASSWORD}@127.0.0.1:{free_port()}/openapi"
    lines: list[str] = []
    with proxy(
        dead, tmp_path, record=tmp_path / "run.har", on_finding=lambda f: lines.append(f.line())
    ) as running:
        answer = httpx.get(running.base_url + API, timeout=10)
    assert answer.status_code == 502
    assert "user:redacted-" in answer.json()["message"]
    for text in (
        answer.text,
        (tmp_path / "run.har").read_text(),
        (tmp_path / "findings.ndjson").read_text(),
        "\n".join(lines),
    ):
        assert PASSWORD not in text


def test_the_command_line_never_prints_the_upstream_password(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kakaclo_sandbox",
            "proxy",
            "--upstream",
            f"http://user:{PASSWORD}@127.0.0.1:{free_port()}/openapi",
            "--port",
            str(port),
            "--report",
            str(tmp_path),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert banner.startswith("kakaclo proxy ") and "user:redacted-" in banner
        httpx.get(f"http://127.0.0.1:{port}/openapi{API}?token=cli-token-1", timeout=10)
        process.terminate()
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "ERROR upstream" in rest
    assert PASSWORD not in banner + rest and "cli-token-1" not in rest
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "kakaclo_sandbox",
            "proxy",
            "--upstream",
            f"http://user:{PASSWORD}@127.0.0.1:9/openapi?x=1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and PASSWORD not in refused.stderr
