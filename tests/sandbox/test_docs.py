"""/docs: the spec's Markdown rendered (never its raw HTML), and every operation's examples
as curl commands that work against the sandbox as written."""

from __future__ import annotations

import html
import re

from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.web.docs import render_docs
from kakaclo_spec import Spec, shipped_spec
from tests.curl import send_curl
from tests.sandbox.helpers import API


def _docs(client: TestClient) -> str:
    answer = client.get("/docs")
    assert answer.status_code == 200
    return str(answer.text)


def test_the_specs_markdown_is_rendered(client: TestClient) -> None:
    page = _docs(client)
    assert "<strong>Not documented by the vendor.</strong>" in page
    descriptions = re.findall(r"<div class='text'>(.*?)</div>", page, flags=re.S)
    assert descriptions and not any("**" in text for text in descriptions)
    assert "<td><code>ORDER_NOT_REFUNDABLE</code></td>" in page  # RefundConflict's table
    assert "<table>" in page


def test_raw_html_in_a_description_is_shown_not_run() -> None:
    spec = shipped_spec()
    document = {
        **spec.document,
        "info": {**spec.document["info"], "description": "<script>alert(1)</script> **x**"},
    }
    page = render_docs(Spec(document=document))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page and "<strong>x</strong>" in page


def test_every_operation_has_curl_commands_that_work_as_written(client: TestClient) -> None:
    page = _docs(client)
    commands = [html.unescape(c) for c in re.findall(r"<pre class='curl'>(.*?)</pre>", page)]
    env = commands.pop(0)
    assert env.startswith("export KAKACLO_BASE_URL=")
    operations = shipped_spec().operation_ids
    for operation_id in operations:
        section = page.split(f"<section id='{operation_id}'>", 1)[1].split("</section>", 1)[0]
        assert "<pre class='curl'>curl " in section, operation_id
    fresh = create_app(db=":memory:", rate_limit=None)
    with TestClient(fresh, base_url="http://127.0.0.1:8080") as sandbox:
        for command in commands:
            line = command.replace("$KAKACLO_BASE_URL", "http://127.0.0.1:8080/openapi")
            # the vendor's examples name the vendor's orders: their twins are demo-token-vendor's
            token = (
                "demo-token-vendor" if "/1000000" in line or "=1000000" in line else "demo-token"
            )
            line = line.replace("$KAKACLO_TOKEN", token)
            answer = send_curl(line, sandbox)
            assert answer.status_code == 200, (command, answer.text)
            assert answer.json()["code"] == 10000
    assert any(
        f"{API}/10001/refund" in c.replace("$KAKACLO_BASE_URL", "/openapi") for c in commands
    )
