"""``kakaclo`` in a real terminal (tmux), narrow and wide: keys whole, data never markup."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.live import LiveSandbox
from tests.terminal import pane, screen

SKU = "FSZW08923_R_L_NUB"
NARROW, WIDE = 40, 200


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    db = tmp_path_factory.mktemp("terminal") / "terminal.db"
    live = LiveSandbox(db=db, args=["--settle-after", "0", "--rate-limit", "off"]).start()
    yield live
    live.stop()


def _kakaclo(sandbox: LiveSandbox, width: int, *args: str, token: str = "demo-token") -> str:
    env = {"KAKACLO_BASE_URL": sandbox.base_url, "KAKACLO_TOKEN": token, "TERM": "xterm"}
    return screen([sys.executable, "-m", "kakaclo_refunds.cli", *args], env, width)


@pytest.mark.parametrize("width", [NARROW, WIDE])
def test_ids_and_skus_are_whole_at_any_width(sandbox: LiveSandbox, width: int) -> None:
    shown = _kakaclo(sandbox, width, "orders", "show", "1000000463303", token="demo-token-vendor")
    assert "[exit 0]" in shown, shown
    assert "…" not in shown
    for key in ("1094207", "1077104", "FSZW07844_NB_S_NUB", "AMN01214_B_S_AK"):
        assert any(key in line for line in shown.splitlines()), shown
    if width == WIDE:
        assert "┃ line" in shown or "│ 1094207" in shown  # a table when it fits
    else:
        assert "skuCode: FSZW07844_NB_S_NUB" in shown  # one field per line when it cannot


@pytest.mark.parametrize("width", [NARROW, WIDE])
def test_refund_numbers_and_remarks_are_shown_as_sent(sandbox: LiveSandbox, width: int) -> None:
    remark = "[bold]x[/bold] [fail] on purpose"
    created = _kakaclo(
        sandbox,
        width,
        "refund",
        "create",
        "10007",
        "--item",
        f"120071:{SKU}:1:CN",
        "--remark",
        remark,
    )
    assert "[exit 0]" in created, created
    number = created.split("refund ", 1)[1].split()[0]
    listed = _kakaclo(sandbox, width, "refund", "status", "10007")
    joined = "".join(listed.split())  # a narrow terminal may fold the remark, never the number
    assert any(number in line for line in listed.splitlines()), listed
    assert "".join(remark.split()) in joined


@pytest.mark.parametrize("width", [NARROW, WIDE])
def test_ctrl_c_while_waiting_names_the_refund_and_how_to_follow_it(
    tmp_path_factory: pytest.TempPathFactory, width: int
) -> None:
    db = tmp_path_factory.mktemp("slow") / "slow.db"
    slow = LiveSandbox(db=db, args=["--settle-after", "600", "--rate-limit", "off"]).start()
    env = {"KAKACLO_BASE_URL": slow.base_url, "KAKACLO_TOKEN": "demo-token", "TERM": "xterm"}
    command = [
        sys.executable,
        "-m",
        "kakaclo_refunds.cli",
        "refund",
        "create",
        "10001",
        "--item",
        f"120001:{SKU}:1:CN",
        "--wait",
        "--poll",
        "0.1",
    ]
    try:
        with pane(command, env, width) as running:
            shown = running.wait_for("created for order 10001")  # before any waiting
            number = shown.split("refund ", 1)[1].split()[0]
            running.keys("C-c")
            shown = running.finished()
    finally:
        slow.stop()
    assert "[exit 130]" in shown, shown
    joined = "".join(shown.split())  # a narrow pane wraps the line; nothing is cut
    assert "".join(f"interrupted: refund {number} of order 10001 exists".split()) in joined
    assert f"--refund-no{number}--watch" in joined
    assert "Traceback" not in shown


@pytest.mark.parametrize("width", [NARROW, WIDE])
def test_a_base_url_without_the_api_root_gets_its_hint(sandbox: LiveSandbox, width: int) -> None:
    env = {"KAKACLO_BASE_URL": sandbox.root, "KAKACLO_TOKEN": "demo-token", "TERM": "xterm"}
    shown = screen(
        [sys.executable, "-m", "kakaclo_refunds.cli", "orders", "show", "10001"], env, width
    )
    assert "[exit 1]" in shown
    assert "ending in /openapi" in " ".join(shown.split())


def _queue_failures(sandbox: LiveSandbox, **failure: object) -> None:
    answer = httpx.post(sandbox.root + "/_sandbox/failures", json=failure, timeout=10)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("width", [NARROW, WIDE])
def test_a_lost_answer_shows_the_key_and_the_whole_command_to_finish(
    sandbox: LiveSandbox, width: int
) -> None:
    _queue_failures(sandbox, operation="refundOrder", count=4, drop="after")
    shown = _kakaclo(sandbox, width, "refund", "create", "10010", "--item", f"120101:{SKU}:1:CN")
    assert "[exit 5]" in shown, shown
    joined = " ".join(shown.split())  # a narrow pane wraps lines (tmux -J joins them back)
    assert "The refund may exist. Idempotency-Key sent: " in joined, shown
    key = joined.split("Idempotency-Key sent: ", 1)[1].split()[0]
    assert len(key) == 32, shown
    finish = f"kakaclo refund create 10010 --item 120101:{SKU}:1:CN --idempotency-key {key}"
    assert finish in joined, shown
    assert "Traceback" not in shown


def test_a_retry_after_wait_counts_down_while_it_lasts(sandbox: LiveSandbox) -> None:
    _queue_failures(sandbox, operation="queryOrders", count=1, code=429, retryAfter=3)
    env = {"KAKACLO_BASE_URL": sandbox.base_url, "KAKACLO_TOKEN": "demo-token", "TERM": "xterm"}
    command = [sys.executable, "-m", "kakaclo_refunds.cli", "orders", "show", "10001"]
    with pane(command, env, WIDE) as running:
        during = running.wait_for("s left)")
        shown = running.finished()
    assert "RATE_LIMITED (429): waiting 3 s (the server's Retry-After) before attempt 2" in during
    assert "[exit 0]" in shown and "order 10001" in shown
    assert "s left)" not in shown  # the status line is gone once the wait is over


@pytest.mark.parametrize("width", [80, WIDE])
def test_orders_list_breaks_no_word_and_says_what_cannot_be_refunded(
    sandbox: LiveSandbox, width: int
) -> None:
    listed = httpx.get(
        sandbox.base_url + "/openapi/v2/order/orders",
        params={"pageSize": 100},
        headers={"Authorization": "Bearer demo-token"},
        timeout=10,
    ).json()["data"]["list"]
    shown = _kakaclo(sandbox, width, "orders", "list")
    assert "[exit 0]" in shown, shown
    for word in {order["status"] for order in listed} | {"waiting_to_ship", "partially_shipped"}:
        whole = sum(1 for order in listed if word in (order["status"], order["fulfillmentStatus"]))
        found = len(re.findall(rf"\b{word}\b", shown))
        assert found == whole, (word, shown)  # a word cut in two is not counted
    for why in ("not paid", "cancelled", "partly shipped", "shipped"):
        assert f"none ({why})" in shown, shown


def test_ctrl_c_during_a_retry_wait_ends_cleanly(sandbox: LiveSandbox) -> None:
    _queue_failures(sandbox, operation="queryOrders", count=1, code=429, retryAfter=30)
    env = {"KAKACLO_BASE_URL": sandbox.base_url, "KAKACLO_TOKEN": "demo-token", "TERM": "xterm"}
    command = [sys.executable, "-m", "kakaclo_refunds.cli", "orders", "show", "10001"]
    with pane(command, env, WIDE) as running:
        running.wait_for("s left)")
        running.keys("C-c")
        shown = running.finished()
    assert "[exit 130]" in shown and "interrupted" in shown, shown
    assert "Traceback" not in shown and "Aborted" not in shown
