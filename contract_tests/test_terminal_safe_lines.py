"""The suite's violation lines show a server's controls escaped, never raw (ESC, C0, DEL, C1)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from contract_tests.subrun import ROOT
from kakaclo_contract.settings import APP_ENV, BASE_URL_ENV, TIMEOUT_ENV, TOKEN_ENV
from kakaclo_contract.spec_check import ResponseAudit
from tests.client.hostile import HostileServer, by_path, fixed

# An OSC title, a bell, a C1 CSI (U+009B) that colours, DEL: what a terminal would act on.
HOSTILE = "\x1b]0;owned\x07\u009b31mred\x7f"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
ORDERS = ROOT / "tests" / "fixtures" / "vendor" / "query-order-waiting-to-ship.json"


def _orders_with_controls() -> bytes:
    """Query Order's vendor answer with the controls where an integer belongs (a violation)."""
    body = json.loads(ORDERS.read_text())
    body["data"]["list"][0]["warehouseId"] = HOSTILE
    return json.dumps(body, ensure_ascii=False).encode()


def test_an_audit_line_escapes_the_servers_controls() -> None:
    audit = ResponseAudit(observe_coverage=False)
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=_orders_with_controls(), headers={"content-type": "application/json"}
        )
    )
    with httpx.Client(transport=transport, event_hooks={"response": [audit]}) as http:
        http.get("http://mock/openapi/v2/order/orders")
    (line,) = audit.problems
    assert "warehouseId" in line
    assert "\\x9b31mred\\x7f" in line  # shown escaped, as the CLI shows it
    assert not RAW.search(line), repr(line)


def test_a_wrong_content_type_with_controls_is_escaped() -> None:
    audit = ResponseAudit(observe_coverage=False)
    label = "text/plain\u0085\u009b2J".encode("latin-1")
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=b"{}", headers={b"content-type": label})
    )
    with httpx.Client(transport=transport, event_hooks={"response": [audit]}) as http:
        http.get("http://mock/openapi/v2/order/orders")
    (line,) = audit.problems
    assert "content-type text/plain\\x85\\x9b2J" in line
    assert not RAW.search(line), repr(line)


def test_kakaclo_contract_prints_no_raw_control(tmp_path: Path) -> None:
    """A server whose Query Order carries the controls in a wrong-typed field: the run fails
    (exit 1) and names the violation, with every control escaped on every line printed."""
    holder: list[HostileServer] = []
    server = HostileServer(by_path({b"/v2/order/orders": fixed(_orders_with_controls())}, holder))
    holder.append(server)
    coloured = {APP_ENV, "PY_COLORS", "FORCE_COLOR"}  # pytest's own colours are ESC too
    env = {k: v for k, v in os.environ.items() if k not in coloured}
    with server:
        env |= {BASE_URL_ENV: server.base_url, TOKEN_ENV: "t", TIMEOUT_ENV: "5"}
        done = subprocess.run(
            [sys.executable, "-m", "kakaclo_refunds.cli", "contract"],
            env=env,
            capture_output=True,
            timeout=300,
            cwd=tmp_path,
        )
    shown = (done.stdout + done.stderr).decode("utf-8")
    assert done.returncode == 1, shown
    violations = [line for line in shown.splitlines() if "red" in line and "integer" in line]
    assert violations, shown
    assert all("x9b31mred" in line for line in violations), violations  # \x9b (or its repr)
    raw = [line for line in shown.splitlines() if RAW.search(line)]
    assert not raw, raw
