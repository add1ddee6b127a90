"""``/openapi.yaml`` and an offline ``/docs`` page rendered from the spec on the server.

No JavaScript and no CDN: the page is plain HTML built from openapi.yaml at
start-up, styled by ``static/docs.css`` shipped inside this package. The
spec's descriptions are Markdown, rendered by markdown-it-py (CommonMark and
tables; raw HTML in a description is shown as text, never interpreted), and
every operation's examples are shown as curl commands to paste.
"""

from __future__ import annotations

import json
import shlex
from html import escape
from importlib import resources
from typing import Any

from markdown_it import MarkdownIt
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from kakaclo_spec import Spec

# CommonMark with tables; "html": False shows raw HTML of a description as text.
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
CURL_ENV = "export KAKACLO_BASE_URL=http://127.0.0.1:8080/openapi KAKACLO_TOKEN=demo-token"


def _text(value: Any) -> str:
    return f"<div class='text'>{MARKDOWN.render(str(value))}</div>" if value else ""


def _curl(spec: Spec, method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The operation as curl commands: one per request-body example, or one without."""
    url = path
    query = []
    for parameter in (spec.resolve(p) for p in operation.get("parameters", [])):
        example = parameter.get("example")
        if example is None:
            continue
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(example))
        elif parameter["in"] == "query":
            query.append(f"{parameter['name']}={example}")
    target = '"$KAKACLO_BASE_URL' + url + ("?" + "&".join(query) if query else "") + '"'
    command = f'curl -H "Authorization: Bearer $KAKACLO_TOKEN" {target}'
    body = operation.get("requestBody")
    if not body:
        return [command]
    examples = body["content"]["application/json"].get("examples", {}).values()
    return [
        f"{command} -H 'Content-Type: application/json' "
        f"-d {shlex.quote(json.dumps(example['value'], ensure_ascii=False))}"
        for example in examples
    ] or [command]


def _json(value: Any) -> str:
    return f"<pre>{escape(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"


def _schema_name(spec: Spec, node: Any) -> str:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return f"<a href='#schema-{escape(name)}'>{escape(name)}</a>"
    return f"<code>{escape(json.dumps(node))}</code>"


def _operation(spec: Spec, method: str, path: str, operation: dict[str, Any]) -> str:
    parts = [
        f"<section id='{escape(operation['operationId'])}'>",
        f"<h2><span class='method {method.lower()}'>{method}</span> "
        f"<code>{escape(path)}</code></h2>",
        f"<h3>{escape(operation.get('summary', ''))}</h3>",
        _text(operation.get("description")),
    ]
    parts.append(
        "<h4>Try it</h4>"
        + "".join(
            f"<pre class='curl'>{escape(c)}</pre>" for c in _curl(spec, method, path, operation)
        )
    )
    parameters = [spec.resolve(p) for p in operation.get("parameters", [])]
    if parameters:
        parts.append(
            "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>schema</th>"
            "<th>description</th></tr>"
        )
        for p in parameters:
            parts.append(
                f"<tr><td><code>{escape(p['name'])}</code>{' *' if p.get('required') else ''}</td>"
                f"<td>{escape(p['in'])}</td><td>{_schema_name(spec, p['schema'])}</td>"
                f"<td>{escape(p.get('description', ''))}</td></tr>"
            )
        parts.append("</table>")
    body = operation.get("requestBody")
    if body:
        media = body["content"]["application/json"]
        parts.append(f"<h4>Request body: {_schema_name(spec, media['schema'])}</h4>")
        for name, example in media.get("examples", {}).items():
            parts.append(
                f"<h5>{escape(example.get('summary', name))}</h5>{_json(example['value'])}"
            )
    parts.append("<h4>Responses</h4>")
    for status, reference in operation["responses"].items():
        response = spec.resolve(reference)
        parts.append(f"<h5>{escape(status)}</h5>{_text(response.get('description'))}")
        media = response.get("content", {}).get("application/json", {})
        for name, example in media.get("examples", {}).items():
            parts.append(
                f"<details><summary>{escape(example.get('summary', name))}</summary>"
                f"{_json(example['value'])}</details>"
            )
    parts.append("</section>")
    return "".join(parts)


def render_docs(spec: Spec) -> str:
    """The whole docs page."""
    info = spec.document["info"]
    operations = list(spec.operations())
    schemas = spec.document["components"]["schemas"]
    return "".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{escape(info['title'])}</title>",
            "<link rel='stylesheet' href='/docs/docs.css'></head><body>",
            f"<h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>",
            "<p><a href='/openapi.yaml'>openapi.yaml</a></p>",
            "<p>The curl commands below read the base URL and the token from the "
            f"environment:</p><pre class='curl'>{escape(CURL_ENV)}</pre>",
            _text(info.get("description")),
            "<nav><ul>",
            *(
                f"<li><a href='#{escape(op['operationId'])}'>{m} {escape(p)}</a></li>"
                for m, p, op in operations
            ),
            "</ul></nav>",
            *(_operation(spec, m, p, op) for m, p, op in operations),
            "<h2>Schemas</h2>",
            *(
                f"<section id='schema-{escape(name)}'><h3>{escape(name)}</h3>"
                f"{_text(schema.get('description'))}<details><summary>JSON Schema</summary>"
                f"{_json(schema)}</details></section>"
                for name, schema in schemas.items()
            ),
            "</body></html>",
        ]
    )


CSS = resources.files("kakaclo_sandbox").joinpath("static/docs.css").read_text(encoding="utf-8")


async def docs_page(request: Request) -> HTMLResponse:
    """The docs page (rendered once, at start)."""
    html: str = request.app.state.docs_html
    return HTMLResponse(html)


async def docs_css(request: Request) -> Response:
    """The stylesheet of the docs page."""
    return Response(CSS, media_type="text/css")


async def spec_file(request: Request) -> Response:
    """The spec itself, as served from disk at start."""
    return Response(request.app.state.sandbox.spec.text, media_type="application/yaml")
