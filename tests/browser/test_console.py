"""The console in a real browser (headless Chromium): refund one piece, advance the clock,
see the refund settle live; screenshots under reports/ to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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

        failure = {"operation": "refundOrder", "count": 1, "code": 503}
        assert httpx.post(sandbox.root + "/_sandbox/failures", json=failure).status_code == 200
        first_line.locator("input.quantity").fill("1")
        order.locator("button.refund-pieces").click()  # the API's refusal is shown
        page.wait_for_function("document.getElementById('said').className.includes('error')")
        assert "50301" in (page.locator("#said").text_content() or "")
        order.locator("button.refund-whole").click()
        page.locator("#order-10001 .refund-entry").nth(1).wait_for()
        assert order.locator(".refund-entry").count() == 2
        whole = order.locator("button.refund-whole")
        page.wait_for_function(
            "document.querySelector('#order-10001 button.refund-whole').disabled"
        )  # nothing is left: not offered, and said why
        assert whole.get_attribute("title") == "nothing is left to refund"

        asked: list[str] = []

        def dismiss(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", dismiss)
        page.click("#reset")  # asked, and cancelled: nothing changes
        page.wait_for_function("document.getElementById('said').textContent.includes('cancelled')")
        assert asked and asked[0].startswith("Reset the sandbox?")
        assert order.locator(".refund-entry").count() == 2
        page.once("dialog", lambda dialog: dialog.accept())
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
        env = page.locator("pre.curl").first.text_content() or ""
        assert f"KAKACLO_BASE_URL={sandbox.base_url} " in env  # the port it is served on
        parameters = page.locator("section#refundOrder table").first
        assert parameters.locator("strong", has_text="Sandbox extension").count() == 1
        assert "**" not in (parameters.text_content() or "")
        page.screenshot(path=str(REPORTS / "docs.png"))


@pytest.mark.parametrize(
    ("order_id", "why"),
    [
        ("10003", "fulfillmentStatus is fully_shipped"),
        ("10004", "financialStatus is waiting"),
        ("10005", "fulfillmentStatus is partially_shipped"),
        ("10006", "status is cancel"),
    ],
)
def test_what_cannot_be_refunded_is_disabled_with_its_reason(
    sandbox: LiveSandbox, order_id: str, why: str
) -> None:
    with browser_page() as page:
        page.goto(sandbox.root + "/console")
        order = page.locator(f"#order-{order_id}")
        order.locator("tr[data-line-id]").first.wait_for()
        assert order.locator(".not-refundable").text_content() == f"Cannot be refunded: {why}."
        for quantity in order.locator("input.quantity").all():
            assert quantity.is_disabled() and quantity.get_attribute("title") == why
        assert {cell.text_content() for cell in order.locator("td.refundable").all()} == {"0"}
        assert order.locator("button.refund-pieces").is_disabled()
        assert order.locator("button.refund-whole").is_disabled()
        assert page.locator("#order-10001 .not-refundable").is_hidden()
        assert page.locator("#order-10001 button.refund-whole").is_enabled()


def test_a_line_with_every_piece_taken_says_so(sandbox: LiveSandbox) -> None:
    with browser_page() as page:
        page.goto(sandbox.root + "/console")
        order = page.locator("#order-10001")
        line = order.locator("tr[data-line-id]").first
        line.wait_for()
        line.locator("input.quantity").fill("2")
        order.locator("button.refund-pieces").click()
        order.locator(".refund-entry").wait_for()
        page.wait_for_function(
            "document.querySelector('#order-10001 tr[data-line-id] input.quantity').disabled"
        )
        assert line.locator(".why").text_content() == " every piece is in a pending refund"
        assert order.locator("button.refund-whole").is_enabled()  # the other line is left


def test_the_console_fits_a_400_px_window(sandbox: LiveSandbox) -> None:
    REPORTS.mkdir(exist_ok=True)
    with browser_page(width=400, height=800) as page:
        page.goto(sandbox.root + "/console")
        page.locator("#order-10001 tr[data-line-id]").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        overflowing = page.evaluate(
            """() => [...document.querySelectorAll('section.order')].flatMap((section) => {
                const box = section.getBoundingClientRect();
                return [...section.querySelectorAll('td, th, button, input')]
                  .filter((el) => el.offsetParent !== null)
                  .filter((el) => el.getBoundingClientRect().right > box.right + 0.5)
                  .map((el) => section.id + ': ' + el.outerHTML.slice(0, 80));
            })"""
        )
        assert overflowing == []
        sku = page.locator("#order-10001 td.key").nth(1)
        assert sku.text_content() == "FSZW08923_R_L_NUB" and sku.get_attribute("data-label")
        page.screenshot(path=str(REPORTS / "console-400px.png"), full_page=True)
