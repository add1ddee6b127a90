"""The documentation site in a real browser (headless Chromium): the home page, the generated
CLI reference and the Python API reference render with the theme's navigation; screenshots
under reports/docs-*.png to look at."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.chromium import browser_page

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test's output."""


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site built --strict into a temporary directory, served over HTTP on a free port."""
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "-q", "-d", str(out)],
        cwd=ROOT,
        check=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    handler = functools.partial(_Quiet, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("path", "name", "heading", "shows"),
    [
        ("/", "home", "kakaclo-refunds", "The sandbox"),
        ("/reference/cli/", "cli-reference", "kakaclo (CLI reference)", "--idempotency-key"),
        ("/reference/python/", "python-reference", "Python API", "RetryPolicy"),
    ],
    ids=["home", "cli-reference", "python-reference"],
)
def test_a_page_renders_with_the_theme(
    served_site: str, path: str, name: str, heading: str, shows: str
) -> None:
    REPORTS.mkdir(exist_ok=True)
    with browser_page(width=1280, height=900) as page:
        answer = page.goto(served_site + path)
        assert answer is not None and answer.status == 200
        assert (page.locator("article h1").first.text_content() or "").strip().startswith(heading)
        assert page.locator("nav.md-nav--primary").count() >= 1  # Material's navigation
        assert page.locator("article").get_by_text(shows, exact=False).first.is_visible()
        # the theme's stylesheet applied: the header bar is the primary colour, not unstyled
        header = page.locator("header.md-header")
        assert header.evaluate("e => getComputedStyle(e).position") in ("sticky", "fixed")
        page.screenshot(path=str(REPORTS / f"docs-{name}.png"))
