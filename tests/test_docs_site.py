"""The documentation site builds, its links and anchors resolve, and its references are generated.

``mkdocs build --strict`` (in ``make lint``) already refuses a Markdown link to a
missing page or heading. What it does not see is checked here on the built
HTML: every relative ``href`` and ``src`` of every page (the theme's own, the
generated references', links written as HTML) names a file of the site, and
every ``#fragment`` names an ``id`` on the page it points at. The README's
links into ``docs/`` are checked the same way against the Markdown.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from kakaclo_proxy.cli import build_parser as proxy_parser
from kakaclo_refunds import __all__ as public_names
from kakaclo_refunds.cli import app
from kakaclo_sandbox.__main__ import build_parser as sandbox_parser
from tools.docs_hooks import render

ROOT = Path(__file__).resolve().parent.parent


class _Links(HTMLParser):
    """The ids a page defines and the relative links it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and (name == "id" or tag == "a"):
                self.ids.add(value)
            if name in ("href", "src"):
                self.links.append(value)


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _target(page: Path, link: str, site: Path) -> tuple[Path, str] | None:
    """The file and fragment a relative link of ``page`` names (None: not ours to check)."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:", "javascript:")):
        return None
    if not parts.path:
        return page, unquote(parts.fragment)
    base = site if parts.path.startswith("/") else page.parent  # 404.html links from the root
    target = (base / unquote(parts.path).lstrip("/")).resolve()
    if target.is_dir() or parts.path.endswith("/"):
        target = target / "index.html"
    assert site.resolve() in target.parents, f"{page}: {link} leaves the site"
    return target, unquote(parts.fragment)


def test_every_link_and_anchor_of_the_built_site_resolves(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 15, [str(p) for p in pages]
    parsed = {page.resolve(): _parse(page) for page in pages}
    broken = []
    checked = 0
    for page, links in parsed.items():
        for link in links.links:
            found = _target(page, link, site)
            if found is None:
                continue
            target, fragment = found
            checked += 1
            if not target.exists():
                broken.append(f"{page.relative_to(site.resolve())}: {link} (no such file)")
            elif fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if fragment not in ids:
                    broken.append(f"{page.relative_to(site.resolve())}: {link} (no such anchor)")
    assert checked > 500, checked  # the walk reached the pages' links, not an empty site
    assert broken == []


def test_the_link_check_finds_a_broken_link_and_a_broken_anchor(site: Path) -> None:
    page = site / "index.html"
    for link, kind in (("nowhere/", "file"), ("sandbox/#no-such-heading", "anchor")):
        target, fragment = _target(page.resolve(), link, site) or (None, "")
        assert target is not None
        exists = target.exists() and (not fragment or fragment in _parse(target).ids)
        assert not exists, kind


def test_the_readmes_links_into_the_docs_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#([^)\s]+))?\)", readme)
    local = [(path, anchor) for path, anchor in links if not urlsplit(path).scheme]
    assert len(local) >= 10
    for path, anchor in local:
        target = ROOT / path
        assert target.exists(), path
        if anchor:
            headings = re.findall(r"^#+ (.*)$", target.read_text(), flags=re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h.lower()).strip().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{path}#{anchor}"


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_the_cli_reference_is_generated_from_the_typer_app(site: Path) -> None:
    import typer.main

    page = _text((site / "reference" / "cli" / "index.html").read_text())
    group = typer.main.get_group(app)
    for name, command in group.commands.items():
        assert name in page
        for sub in getattr(command, "commands", {}):
            assert f"{name} {sub}" in page, f"{name} {sub}"
    assert "--idempotency-key" in page and "--whole-order" in page


@pytest.mark.parametrize(
    ("path", "build"),
    [("sandbox", sandbox_parser), ("proxy", proxy_parser)],
    ids=["sandbox", "proxy"],
)
def test_the_argparse_references_are_generated_from_build_parser(
    site: Path, path: str, build: object
) -> None:
    page = (site / "reference" / path / "index.html").read_text()
    parser = build()  # type: ignore[operator]
    options = [s for action in parser._actions for s in action.option_strings]
    assert len(options) > 5
    for option in options:
        assert f"<code>{option}</code>" in page, option
    assert render(parser).count("\n| `") == len(parser._actions)


def test_the_python_reference_documents_the_public_api(site: Path) -> None:
    page = (site / "reference" / "python" / "index.html").read_text()
    ids = _parse(site / "reference" / "python" / "index.html").ids
    for name in public_names:
        assert f"kakaclo_refunds.{name}" in ids, name
    assert "retry_after_cap" in page
