"""``/openapi.yaml`` and an offline ``/docs`` page rendered from the spec on the server.

No JavaScript and no CDN: the page is plain HTML built from openapi.yaml at
start-up, styled by ``static/docs.css`` shipped inside this package. The
spec's descriptions are Markdown, rendered by markdown-it-py (CommonMark and
tables; raw HTML in a description is shown as text, never interpreted), and
every operation's examples are shown as curl commands to paste. The page is
rendered once; each answer only puts in the base URL it was asked at (the
curl commands' ``KAKACLO_BASE_URL``), so it names the port it is served on.
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
DEFAULT_ROOT = "http://127.0.0.1:8080"  # in the page as rendered; each answer puts its own


def curl_env(base_url: str) -> str:
    """The line that sets what the page's curl commands read."""
    line = f"export KAKACLO_BASE_URL={base_url} KAKACLO_TOKEN=demo-token"
    return f"<pre class='curl'>{escape(line)}</pre>"


def _text(value: Any) -> str:
    return f"<div class='text'>{MARKDOWN.render(str(value))}</div>" if value else ""


def _named(spec: Spec, node: dict[str, Any]) -> dict[str, Any]:
    """A parameter's or media type's examples by name (their values)."""
    return {name: spec.resolve(e)["value"] for name, e in node.get("examples", {}).items()}


def _curl(spec: Spec, method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The operation as curl commands: one per example of a 200 answer, with the request
    examples of the same name (the spec pairs them by name), or one without examples."""
    parameters = [spec.resolve(p) for p in operation.get("parameters", [])]
    media = spec.resolve(operation.get("requestBody", {})).get("content", {})
    bodies = _named(spec, media.get("application/json", {}))
    ok = spec.resolve(operation["responses"].get("200", {})).get("content", {})
    answered = list(_named(spec, ok.get("application/json", {})))
    names: list[str | None] = [n for n in answered if n in bodies] or list(answered) or [None]
    commands = []
    for name in names:
        url, query, headers = path, [], []
        for parameter in parameters:
            value = _named(spec, parameter).get(name) if name else parameter.get("example")
            if value is None:
                continue
            if parameter["in"] == "path":
                url = url.replace("{" + parameter["name"] + "}", str(value))
            elif parameter["in"] == "query":
                query.append(f"{parameter['name']}={value}")
            elif parameter["in"] == "header":
                headers.append(f" -H {shlex.quote(parameter['name'] + ': ' + str(value))}")
        target = '"$KAKACLO_BASE_URL' + url + ("?" + "&".join(query) if query else "") + '"'
        command = f'curl -H "Authorization: Bearer $KAKACLO_TOKEN" {target}' + "".join(headers)
        if name in bodies:
            command += (
                " -H 'Content-Type: application/json' "
                f"-d {shlex.quote(json.dumps(bodies[name], ensure_ascii=False))}"
            )
        commands.append(command)
    return commands


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
                f"<td>{_text(p.get('description'))}</td></tr>"
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
            f"environment:</p>{curl_env(DEFAULT_ROOT + spec.server_root)}",
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
    """The docs page (rendered once, at start), naming the base URL it was asked at."""
    html: str = request.app.state.docs_html
    root = request.app.state.sandbox.spec.server_root
    asked = str(request.base_url).rstrip("/") + root
    return HTMLResponse(html.replace(curl_env(DEFAULT_ROOT + root), curl_env(asked), 1))


async def docs_css(request: Request) -> Response:
    """The stylesheet of the docs page."""
    return Response(CSS, media_type="text/css")


async def spec_file(request: Request) -> Response:
    """The spec itself, as served from disk at start."""
    return Response(request.app.state.sandbox.spec.text, media_type="application/yaml")
