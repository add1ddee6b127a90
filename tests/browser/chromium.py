"""A headless Chromium for the browser tests: Debian's package, driven by Playwright.

Playwright's own browser download cannot be fetched here, so the tests launch
``/usr/bin/chromium`` (``apt-get install chromium``, installed by the tests
when they run as root). Without it, or without the ``playwright`` package,
the tests skip with one line, and under CI that skip is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.tools import missing, require_file

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's chromium (see tests/tools.py: installed when missing and possible)."""
    return require_file(CHROMIUM, "chromium", "Chromium for browser tests")


@contextmanager
def browser_page(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A fresh page of a headless Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("needs playwright for browser tests (make setup installs it)")
        raise
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()
