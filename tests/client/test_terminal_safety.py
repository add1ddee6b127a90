"""Server values never reach the terminal raw: controls are shown escaped, piped or not."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from kakaclo_refunds.cli import app
from kakaclo_refunds.cli_output import terminal_safe
from tests.client.hostile import HostileServer, by_path, fixed
from tests.terminal import pane

VENDOR = Path(__file__).resolve().parents[1] / "fixtures" / "vendor"
TITLE, CLEAR, RED, CSI = "\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\x1b[31m", "\x9b31m"
HOSTILE = f"A{TITLE}B{CLEAR}C{RED}D{CSI}E\rF\x08G\x7fH"
RAW = ("\x1b", "\x9b", "\x07", "\r", "\x08", "\x7f")


def _orders() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((VENDOR / "query-order-waiting-to-ship.json").read_text())
    order = body["data"]["list"][0]
    order["remark"] = order["customOrderId"] = HOSTILE
    for line in order["orderItems"]:
        line["productName"] = line["skuCode"] = HOSTILE
    return body


def _refunds() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((VENDOR / "query-refund.json").read_text())
    body["data"]["list"][0]["remark"] = HOSTILE
    return body


def _serve() -> HostileServer:
    holder: list[HostileServer] = []
    answers = {
        b"/orders/refund/": fixed(json.dumps(_refunds()).encode()),
        b"/orders": fixed(json.dumps(_orders()).encode()),
    }
    server = HostileServer(by_path(answers, holder))
    holder.append(server)
    return server


def _run(server: HostileServer, *args: str) -> tuple[int, str, str]:
    runner = CliRunner(env={"KAKACLO_BASE_URL": server.base_url, "KAKACLO_TOKEN": "t"})
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_escaping_keeps_tab_and_newline_only() -> None:
    assert terminal_safe("a\tb\nc") == "a\tb\nc"
    assert terminal_safe(HOSTILE) == (
        "A\\x1b]0;pwned\\x07B\\x1b[2J\\x1b[HC\\x1b[31mD\\x9b31mE\\x0dF\\x08G\\x7fH"
    )


def test_orders_show_and_refund_status_print_no_control() -> None:
    with _serve() as server:
        for args in (["orders", "show", "1"], ["refund", "status", "1"], ["orders", "list"]):
            code, stdout, stderr = _run(server, *args)
            assert code == 0, (args, stdout, stderr)
            shown = stdout + stderr
            assert not any(raw in shown for raw in RAW), (args, shown)
            if args[0] != "orders" or args[1] != "list":  # the list shows no text field
                assert "\\x1b]0;pwned" in shown, (args, shown)


def test_errors_and_json_print_no_control() -> None:
    message = json.dumps({"code": 40400, "message": HOSTILE, "data": None}).encode()
    with HostileServer(fixed(message)) as server:
        code, stdout, stderr = _run(server, "orders", "show", "1")
        assert code == 1
        assert not any(raw in stdout + stderr for raw in RAW), stderr
        assert "\\x1b[2J" in stderr
        code, stdout, stderr = _run(server, "orders", "show", "1", "--json")
        assert not any(raw in stdout for raw in RAW), stdout
        assert json.loads(stdout)["error"]["message"].startswith("A\x1b]0;pwned")


def test_a_real_terminal_keeps_its_title_screen_and_colours() -> None:
    """On a tmux terminal: the title stays, nothing is cleared, the escapes show as text."""
    with _serve() as server:
        env = {"KAKACLO_BASE_URL": server.base_url, "KAKACLO_TOKEN": "t", "TERM": "xterm"}
        command = [sys.executable, "-m", "kakaclo_refunds.cli", "orders", "show", "1"]
        with pane(["sh", "-c", f"echo BEFORE; {shlex.join(command)}"], env, 200) as running:
            shown = running.finished()
            title = running._tmux("display-message", "-p", "-t", running._session, "#T")
    assert "[exit 0]" in shown, shown
    assert "BEFORE" in shown  # no clear screen
    assert "\\x1b]0;pwned\\x07" in shown, shown
    assert "pwned" not in title, title
