"""One redaction rule for every output of the proxy: secrets in other header and query
names, in JSON and form bodies, percent-encoded or in a Basic credential, in the
upstream URL; none reaches the HAR, findings.ndjson, the stderr lines or a 502 body."""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import subprocess
import sys
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from kakaclo_proxy.har import iter_entries
from kakaclo_proxy.redaction import Redactor, Unreadable, readable
from kakaclo_proxy.replay import replay
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


BEARER = "demo-token-7f3a9c"
FIELD_SECRET = "pw-in-body-5e1d"
# Query Order answered with the request's token echoed and a credential field, in a shape
# the spec refuses (data must be an object), so the checker's message quotes the body.
ECHOED = {"code": 10000, "message": "ok", "data": ["é", {"password": FIELD_SECRET}, BEARER]}


def _carried(coding: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of ``ECHOED`` carried in ``coding`` (a content coding or a charset)."""
    text = json.dumps(ECHOED, ensure_ascii=False)
    json_type = (b"content-type", b"application/json")
    if coding in ("gzip", "deflate"):
        raw = text.encode()
        body = gzip.compress(raw, mtime=0) if coding == "gzip" else zlib.compress(raw)
        return [json_type, (b"content-encoding", coding.encode())], body
    if coding == "br":  # not brotli at all: a body the proxy cannot read, the secret in clear
        return [json_type, (b"content-encoding", b"br")], text.encode()
    labelled = (b"content-type", f"application/json; charset={coding}".encode())
    return [labelled], text.encode(coding)


def _encoded_upstream(coding: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers, body = _carried(coding)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _readable_forms(entry_body: bytes) -> list[str]:
    """What a reader of the HAR can make of a body: every coding undone, every charset."""
    layers = [entry_body]
    for undo in (gzip.decompress, zlib.decompress):
        with contextlib.suppress(OSError, zlib.error, EOFError):
            layers.append(undo(entry_body))
    return [
        layer.decode(charset, "ignore")
        for layer in layers
        for charset in ("utf-8", "latin-1", "utf-16", "utf-16-le")
    ]


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "latin-1", "utf-16"])
def test_no_secret_of_a_compressed_or_non_utf8_body_reaches_the_har_or_the_findings(
    coding: str, tmp_path: Path
) -> None:
    har = tmp_path / "run.har"
    lines: list[str] = []
    headers = {"Authorization": f"Bearer {BEARER}"}
    with through_proxy(
        _encoded_upstream(coding),
        tmp_path,
        headers,
        record=har,
        on_finding=lambda f: lines.append(f.line()),
    ) as (_, http):
        answer = http.get(API, params={"ids": "1"})
    assert answer.status_code == 200
    assert FIELD_SECRET in answer.content.decode(coding if "-" in coding else "utf-8", "ignore")
    (entry,) = json.loads(har.read_text())["log"]["entries"]
    content = entry["response"]["content"]
    if coding == "br":  # unreadable: left out, and said so
        assert content["text"] == "" and "br" in content["comment"]
    else:
        assert "secrets masked" in content["comment"], content
    recorded = base64.b64decode(content["text"]) if content.get("encoding") else b""
    written = [
        har.read_text(),
        *_readable_forms(recorded),
        (tmp_path / "findings.ndjson").read_text(),
        "\n".join(lines),
    ]
    for text in written:
        for secret in (BEARER, FIELD_SECRET):
            assert secret not in text


@pytest.mark.parametrize("coding", ["utf-8", "gzip"])
def test_a_credential_field_of_a_body_is_masked_in_findings_without_a_recording(
    coding: str, tmp_path: Path
) -> None:
    """The findings learn a body's credential fields themselves (no HAR to learn them)."""
    lines: list[str] = []
    with through_proxy(
        _encoded_upstream(coding), tmp_path, on_finding=lambda f: lines.append(f.line())
    ) as (running, http):
        http.get(API, params={"ids": "1"}, headers={"Authorization": "Bearer x"})
    assert any("redacted-" in finding.message for finding in running.findings), lines
    for text in ((tmp_path / "findings.ndjson").read_text(), "\n".join(lines)):
        assert FIELD_SECRET not in text


def test_a_masked_gzip_answer_replays_with_the_same_findings(tmp_path: Path) -> None:
    """The masked body is carried as it came (gzip), so the recording still reads as JSON."""
    har = tmp_path / "run.har"
    with through_proxy(
        _encoded_upstream("gzip"), tmp_path, {"Authorization": f"Bearer {BEARER}"}, record=har
    ) as (running, http):
        http.get(API, params={"ids": "1"})
    (exchange,) = iter_entries(har)
    masked = json.loads(gzip.decompress(exchange.response_body))
    assert masked["data"][1]["password"].startswith("redacted-")
    replayed = tmp_path / "replayed"
    replay(har, report=replayed, quiet=True)
    lines = (replayed / "findings.ndjson").read_text().splitlines()
    findings = [json.loads(line) for line in lines]
    live = {(f.check, f.severity) for f in running.findings}
    assert ("response-schema", "error") in live
    assert {(f["check"], f["severity"]) for f in findings} == live


def test_a_body_the_proxy_cannot_read_is_left_out_and_a_decoded_one_is_bounded() -> None:
    bomb = gzip.compress(b" " * 2048, mtime=0)
    with pytest.raises(Unreadable, match="more than 1024 bytes"):
        readable(bomb, [("Content-Encoding", "gzip")], limit=1024)
    with pytest.raises(Unreadable, match="cut short"):
        readable(gzip.compress(b"{}" * 100, mtime=0)[:20], [("Content-Encoding", "gzip")])
    with pytest.raises(Unreadable, match="br-encoded"):
        readable(b"{}", [("Content-Encoding", "br")])
    read = readable('{"a": "é"}'.encode("utf-16"), [("Content-Type", "application/json")])
    assert read.text == '{"a": "é"}' and read.charset == "utf-16"
    assert readable(b"\xe9", []).text == "é"  # not UTF-8, no charset: Latin-1 reads any bytes
