"""/docs: parameter descriptions rendered as Markdown (raw HTML kept as text), and the curl
commands' base URL is the one the page was asked at, not a fixed port."""

from __future__ import annotations

import html
import re

from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.web.docs import render_docs
from kakaclo_spec import Spec, shipped_spec


def _parameter_cells(page: str) -> list[str]:
    tables = re.findall(r"<h4>Parameters</h4><table>(.*?)</table>", page, flags=re.S)
    return [cell for table in tables for cell in re.findall(r"<td>(.*?)</td>", table, re.S)]


def test_parameter_descriptions_are_markdown_not_raw_text() -> None:
    page = render_docs(shipped_spec())
    cells = _parameter_cells(page)
    assert cells and not any("**" in cell or "`" in cell for cell in cells)
    assert any("<strong>Sandbox extension;" in cell for cell in cells)  # IdempotencyKey
    assert any("<code>007</code>" in cell for cell in cells)  # PageNumber


def test_raw_html_in_a_parameter_description_is_shown_as_text() -> None:
    spec = shipped_spec()
    document = {**spec.document, "components": {**spec.document["components"]}}
    parameters = dict(document["components"]["parameters"])
    parameters["OrderId"] = {**parameters["OrderId"], "description": "<img src=x onerror=1> *y*"}
    document["components"]["parameters"] = parameters
    page = render_docs(Spec(document=document))
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=1&gt; <em>y</em>" in page


def test_the_curl_base_url_names_the_port_the_page_is_served_on() -> None:
    app = create_app(db=":memory:", rate_limit=None)
    for root in ("http://127.0.0.1:9123", "http://sandbox.example:8081"):
        with TestClient(app, base_url=root) as client:
            page = client.get("/docs").text
        lines = [html.unescape(line) for line in re.findall(r"<pre class='curl'>(.*?)</pre>", page)]
        assert lines[0] == f"export KAKACLO_BASE_URL={root}/openapi KAKACLO_TOKEN=demo-token"
        assert "127.0.0.1:8080" not in page
