"""The ``kakaclo`` command against a real sandbox process (refunds settle at once)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kakaclo_refunds.cli import app
from tests.live import LiveSandbox

SKU = "FSZW08923_R_L_NUB"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[LiveSandbox]:
    live = LiveSandbox(
        db=tmp_path / "cli.db", args=["--settle-after", "0", "--rate-limit", "off"]
    ).start()
    yield live
    live.stop()


@pytest.fixture
def kakaclo(sandbox: LiveSandbox) -> CliRunner:
    return CliRunner(env={"KAKACLO_BASE_URL": sandbox.base_url, "KAKACLO_TOKEN": "demo-token"})


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_vendor_flows_through_the_cli(kakaclo: CliRunner) -> None:
    code, out, _ = run(
        kakaclo,
        "refund",
        "create",
        "10001",
        "--remark",
        "test",
        "--item",
        f"120001:{SKU}:1:CN",
        "--item",
        f"120002:{SKU}:2:US",
        "--wait",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["refundStatus"] == "refund_successfully"
    code, out, _ = run(kakaclo, "refund", "create", "10001", "--remark", "other reason", "--wait")
    assert code == 0
    assert "refund_successfully" in out
    code, out, _ = run(kakaclo, "refund", "status", "10001", "--json")
    assert [r["refundStatus"] for r in json.loads(out)] == ["refund_successfully"] * 2


def test_failed_refund_exits_non_zero(kakaclo: CliRunner) -> None:
    code, out, _ = run(kakaclo, "refund", "create", "10002", "--remark", "[fail] test", "--wait")
    assert code == 3
    assert "refund_failed" in out


def test_watch_follows_the_newest_refund(kakaclo: CliRunner) -> None:
    run(kakaclo, "refund", "create", "10002")
    code, out, _ = run(kakaclo, "refund", "status", "10002", "--watch")
    assert code == 0
    assert "refund_successfully" in out


def test_errors_are_one_clear_line_and_exit_1(kakaclo: CliRunner) -> None:
    code, _, err = run(kakaclo, "refund", "create", "10001", "--item", f"120001:{SKU}:3:CN")
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "QUANTITY_EXCEEDS_REFUNDABLE (409)" in err and "hint:" in err
    code, _, err = run(kakaclo, "refund", "create", "10003")
    assert code == 1 and "ORDER_NOT_REFUNDABLE" in err
    code, _, err = run(kakaclo, "orders", "show", "99999")
    assert code == 1 and "not found" in err


def test_bad_token_and_unreachable_server(sandbox: LiveSandbox) -> None:
    runner = CliRunner(env={"KAKACLO_BASE_URL": sandbox.base_url, "KAKACLO_TOKEN": "nope"})
    code, _, err = run(runner, "orders", "list")
    assert code == 1 and "UNAUTHORIZED (401)" in err and "nope" not in err
    runner = CliRunner(
        env={"KAKACLO_BASE_URL": "http://127.0.0.1:9/openapi", "KAKACLO_TOKEN": "demo-token"}
    )
    code, _, err = run(runner, "orders", "list")
    assert code == 1 and "no answer" in err and "Traceback" not in err


def test_bad_item_is_a_usage_error(kakaclo: CliRunner) -> None:
    code, _, err = run(kakaclo, "refund", "create", "10001", "--item", "120001:SKU:x:CN")
    assert code == 2 and "ITEM_ID:SKU:QTY:CC" in err
    code, _, err = run(kakaclo, "refund", "create", "10001", "--item", "120001:SKU:1:DE")
    assert code == 2 and "CN, US" in err


def test_orders_list_pages_and_filters(kakaclo: CliRunner) -> None:
    code, out, _ = run(kakaclo, "orders", "list", "--page-size", "3", "--json")
    assert code == 0
    ids = [order["id"] for order in json.loads(out)]
    assert len(ids) == len(set(ids)) == 10
    code, out, _ = run(
        kakaclo,
        "orders",
        "list",
        "--created-from",
        "2026-11-02T08:00:00Z",
        "--created-to",
        "2026-11-02T09:00:00Z",
        "--json",
    )
    assert [order["id"] for order in json.loads(out)] == ["10009", "10008"]
    code, out, _ = run(kakaclo, "orders", "list", "--ids", "10001")
    assert code == 0 and "10001" in out


def test_orders_show_lists_the_lines(kakaclo: CliRunner) -> None:
    code, out, _ = run(kakaclo, "orders", "show", "10002", "--json")
    assert code == 0
    assert [line["itemId"] for line in json.loads(out)["orderItems"]] == ["120021", "120021"]


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["orders"],
        ["orders", "list"],
        ["orders", "show"],
        ["refund"],
        ["refund", "create"],
        ["refund", "status"],
    ],
)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.stdout
    if len(command) == 2:
        assert "Example: kakaclo" in result.stdout


def test_sandbox_command_takes_the_sandbox_options() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kakaclo_refunds.cli", "sandbox", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "--settle-after" in done.stdout and "--rate-limit" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "kakaclo_refunds.cli", "sandbox", "--rate-limit", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "BURST/PER_SECOND" in done.stderr
