"""The console in a real browser (headless Chromium): refund one piece, advance the clock,
see the refund settle live; screenshots under reports/ to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.chromium import browser_page
from tests.live import LiveSandbox

REPORTS = Path(__file__).resolve().parents[2] / "reports"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LiveSandbox]:
    live = LiveSandbox(
        db=tmp_path / "console.db", args=["--settle-after", "3600", "--log-level", "warning"]
    ).start()
    yield live
    live.stop()


def test_refund_a_piece_advance_the_clock_and_see_it_settle(sandbox: LiveSandbox) -> None:
    REPORTS.mkdir(exist_ok=True)
    with browser_page() as page:
        page.goto(sandbox.root + "/console")
        page.wait_for_selector("#order-10001 tr[data-line-id]")
        assert page.locator("#feed").text_content() == "live"
        order = page.locator("#order-10001")
        first_line = order.locator("tr[data-line-id]").first
        assert first_line.locator("td.refundable").text_content() == "2"
        first_line.locator("input.quantity").fill("1")
        order.locator("input.remark").fill("[bold]one piece[/bold] <b>as text</b>")
        order.locator("button.refund-pieces").click()
        pending = order.locator(".refund-entry .status.pending_review")
        pending.wait_for()
        said = page.locator("#said").text_content() or ""
        assert said.startswith("refund ") and "created for order 10001" in said
        number = said.split()[1]
        assert order.locator(f".refund-entry[data-refund-no='{number}']").count() == 1
        assert first_line.locator("td.refundable").text_content() == "1"  # live, from the feed
        assert "<b>as text</b>" in (order.locator(".refund-entry small").text_content() or "")
        page.screenshot(path=str(REPORTS / "console-refund-pending.png"), full_page=True)

        page.fill("#seconds", "3600")
        page.click("#advance")
        order.locator(".refund-entry .status.refund_successfully").wait_for()
        assert "1 refund(s) settled" in (page.locator("#said").text_content() or "")
        page.screenshot(path=str(REPORTS / "console-refund-settled.png"), full_page=True)

        order.locator("button.refund-whole").click()
        page.locator("#order-10001 .refund-entry").nth(1).wait_for()
        assert order.locator(".refund-entry").count() == 2
        order.locator("button.refund-whole").click()  # nothing left: the API's refusal shown
        page.wait_for_function("document.getElementById('said').className.includes('error')")
        assert "40905" in (page.locator("#said").text_content() or "")

        page.click("#reset")
        page.locator("#order-10001 .timeline .empty").wait_for()
        page.screenshot(path=str(REPORTS / "console-after-reset.png"), full_page=True)


def test_the_docs_render_in_the_browser(sandbox: LiveSandbox) -> None:
    REPORTS.mkdir(exist_ok=True)
    with browser_page() as page:
        page.goto(sandbox.root + "/")  # a browser at the root is sent to the docs
        assert page.url.endswith("/docs")
        assert page.locator("section#refundOrder pre.curl").count() >= 1
        assert page.locator("strong", has_text="Not documented by the vendor.").count() > 0
        page.screenshot(path=str(REPORTS / "docs.png"))
