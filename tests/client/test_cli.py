"""The ``kakaclo`` command against a real sandbox process (refunds settle at once)."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
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
    code, out, _ = run(
        kakaclo, "refund", "create", "10001", "--whole-order", "--remark", "other reason", "--wait"
    )
    assert code == 0
    assert "refund_successfully" in out
    code, out, _ = run(kakaclo, "refund", "status", "10001", "--json")
    assert [r["refundStatus"] for r in json.loads(out)] == ["refund_successfully"] * 2


def test_failed_refund_exits_non_zero(kakaclo: CliRunner) -> None:
    code, out, _ = run(
        kakaclo, "refund", "create", "10002", "--whole-order", "--remark", "[fail] test", "--wait"
    )
    assert code == 3
    assert "refund_failed" in out


def test_watch_follows_the_newest_refund(kakaclo: CliRunner) -> None:
    run(kakaclo, "refund", "create", "10002", "--whole-order")
    code, out, _ = run(kakaclo, "refund", "status", "10002", "--watch")
    assert code == 0
    assert "refund_successfully" in out


def test_errors_are_one_clear_line_and_exit_1(kakaclo: CliRunner) -> None:
    code, _, err = run(kakaclo, "refund", "create", "10001", "--item", f"120001:{SKU}:3:CN")
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "QUANTITY_EXCEEDS_REFUNDABLE (409)" in err and "hint:" in err
    code, _, err = run(kakaclo, "refund", "create", "10003", "--whole-order")
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


def test_server_data_is_never_read_as_markup(kakaclo: CliRunner) -> None:
    for remark in ("[fail] on purpose", "[bold]x[/bold]"):
        code, _, _ = run(
            kakaclo, "refund", "create", "10001", "--item", f"120001:{SKU}:1:CN", "--remark", remark
        )
        assert code == 0
    code, out, _ = run(kakaclo, "refund", "status", "10001")
    assert code == 0
    assert "[fail] on purpose" in out and "[bold]x[/bold]" in out


def test_piped_tables_keep_every_id_and_sku_whole(sandbox: LiveSandbox) -> None:
    twins = CliRunner(
        env={"KAKACLO_BASE_URL": sandbox.base_url, "KAKACLO_TOKEN": "demo-token-vendor"}
    )
    code, out, _ = run(twins, "orders", "show", "1000000463303")  # the vendor's own SKUs
    assert code == 0, out
    for sku in ("FSZW07844_NB_S_NUB", "AMN01214_B_S_AK"):
        assert sku in out
    assert "…" not in out


def test_a_whole_order_refund_needs_its_flag(kakaclo: CliRunner) -> None:
    code, _, err = run(kakaclo, "refund", "create", "10002")
    assert code == 2 and "--whole-order" in err and err.count("\n") == 1
    code, _, err = run(
        kakaclo, "refund", "create", "10002", "--whole-order", "--item", f"120021:{SKU}:1:CN"
    )
    assert code == 2 and "exclude each other" in err
    code, out, _ = run(kakaclo, "refund", "status", "10002", "--json")
    assert json.loads(out) == []  # nothing was refunded


@pytest.mark.parametrize(
    ("env", "args", "exit_code", "says", "never"),
    [
        (
            {"KAKACLO_BASE_URL": "{root}"},
            ["orders", "show", "10001"],
            1,
            "ending in /openapi",
            "check the order id",
        ),
        ({}, ["orders", "show", "99999"], 1, "order 99999 not found", "no code"),
        (
            {},
            ["refund", "create", "10001", "--item", f"120099:{SKU}:1:CN"],
            1,
            "kakaclo orders show ORDER_ID lists them",
            "not shipped",
        ),
        (
            {"KAKACLO_BASE_URL": "127.0.0.1:9/openapi"},
            ["orders", "list"],
            2,
            "http:// or https://",
            "no answer",
        ),
        ({"KAKACLO_TOKEN": ""}, ["orders", "list"], 2, "set KAKACLO_TOKEN or pass --token", "..."),
    ],
    ids=["no-openapi-root", "unknown-order", "item-not-in-order", "no-scheme", "no-token"],
)
def test_each_error_class_gets_its_own_hint(
    sandbox: LiveSandbox,
    env: dict[str, str],
    args: list[str],
    exit_code: int,
    says: str,
    never: str,
) -> None:
    settings = {"KAKACLO_BASE_URL": sandbox.base_url, "KAKACLO_TOKEN": "demo-token"}
    settings |= {k: v.format(root=sandbox.root) for k, v in env.items()}
    code, _, err = run(CliRunner(env=settings), *args)
    assert code == exit_code, err
    assert says in err and never not in err and err.count("\n") == 1, err


def test_version_and_short_help() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("kakaclo ")
    for command in ([], ["refund", "create"]):
        result = CliRunner().invoke(app, [*command, "-h"])
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_json_has_one_shape_per_command_errors_and_waits_included(kakaclo: CliRunner) -> None:
    item = f"120001:{SKU}:1:CN"
    _, created, _ = run(kakaclo, "refund", "create", "10001", "--item", item, "--json")
    _, waited, _ = run(kakaclo, "refund", "create", "10001", "--item", item, "--wait", "--json")
    assert (
        set(json.loads(created))
        == set(json.loads(waited))
        == {"orderId", "refundNo", "refundStatus"}
    )
    code, failed, _ = run(
        kakaclo, "refund", "create", "10001", "--item", f"120001:{SKU}:9:CN", "--json"
    )
    assert code == 1
    error = json.loads(failed)["error"]
    assert (error["status"], error["code"], error["name"]) == (
        409,
        40904,
        "QUANTITY_EXCEEDS_REFUNDABLE",
    )
    assert error["message"] and error["hint"]
    code, usage, _ = run(kakaclo, "refund", "create", "10001", "--json")
    assert code == 2 and "--whole-order" in json.loads(usage)["error"]["message"]
    _, orders, _ = run(kakaclo, "orders", "list", "--json", "--ids", "10001")
    assert json.loads(orders)[0]["createDate"].endswith("Z")
    assert "+00:00" not in orders


def test_the_refund_number_is_printed_before_waiting_and_again_on_ctrl_c(
    tmp_path: Path,
) -> None:
    slow = LiveSandbox(db=tmp_path / "slow.db", args=["--settle-after", "600"]).start()
    env = {"KAKACLO_BASE_URL": slow.base_url, "KAKACLO_TOKEN": "demo-token", "PATH": ""}
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
        "0.05",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed before the wait begins
        assert first.startswith("refund ") and "created for order 10001" in first
        number = first.split()[1]
        process.send_signal(2)  # Ctrl-C
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        slow.stop()
    assert process.returncode == 130
    assert f"interrupted: refund {number} of order 10001 exists" in err
    assert f"kakaclo refund status 10001 --refund-no {number} --watch" in err
    assert "Traceback" not in err


def _queue_failures(sandbox: LiveSandbox, **failure: object) -> None:
    answer = httpx.post(sandbox.root + "/_sandbox/failures", json=failure, timeout=10)
    assert answer.status_code == 200, answer.text


def test_a_lost_answer_prints_the_key_and_the_command_that_finishes_it(
    sandbox: LiveSandbox, kakaclo: CliRunner
) -> None:
    _queue_failures(sandbox, operation="refundOrder", count=4, drop="after")
    code, out, err = run(kakaclo, "refund", "create", "10010", "--item", f"120101:{SKU}:1:CN")
    assert code == 5, err
    assert out == "" and "Traceback" not in err
    assert "The refund may exist. Idempotency-Key sent: " in err
    key = err.split("Idempotency-Key sent: ", 1)[1].split()[0]
    finish = f"kakaclo refund create 10010 --item 120101:{SKU}:1:CN --idempotency-key {key}"
    assert f"\n  {finish}\n" in err
    assert err.count("retry: no answer") == 3  # each wait was shown as it came
    _, listed, _ = run(kakaclo, "refund", "status", "10010", "--json")
    assert len(json.loads(listed)) == 1  # the refund was made, once
    code, out, _ = run(kakaclo, *shlex.split(finish)[1:])
    assert code == 0 and out.startswith(f"refund {json.loads(listed)[0]['refundNo']} ")
    _, listed, _ = run(kakaclo, "refund", "status", "10010", "--json")
    assert len(json.loads(listed)) == 1  # finishing it made no second refund


def test_a_lost_answer_in_json_names_the_key_and_the_next_commands(
    sandbox: LiveSandbox, kakaclo: CliRunner
) -> None:
    _queue_failures(sandbox, operation="refundOrder", count=4, drop="after")
    code, out, _ = run(
        kakaclo, "refund", "create", "10010", "--whole-order", "--remark", "a b", "--json"
    )
    assert code == 5
    error = json.loads(out)["error"]
    assert error["kind"] == "RefundOutcomeUnknownError" and error["mayExist"] is True
    assert error["honoursIdempotencyKey"] is True and error["reconciliation"] is None
    key = error["idempotencyKey"]
    assert error["next"] == [
        f"kakaclo refund create 10010 --whole-order --remark 'a b' --json --idempotency-key {key}"
    ]


def test_a_lost_answer_on_a_server_without_keys_shows_the_reconciliation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from starlette.testclient import TestClient

    from kakaclo_refunds import cli
    from kakaclo_refunds.client import KakacloClient
    from kakaclo_sandbox import create_app
    from tests.client.conftest import Forward

    app = create_app(db=":memory:", rate_limit=None)

    def sabotage(request: httpx.Request, forward: Callable[[], httpx.Response]) -> httpx.Response:
        request.headers.pop("idempotency-key", None)  # a server that ignores keys
        if request.method == "POST":
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return forward()

    def vendor_like(**options: Any) -> KakacloClient:
        transport = Forward(TestClient(app, base_url="http://vendor.local"), sabotage)
        options |= {"sleep": lambda seconds: None, "honours_idempotency_key": False}
        return KakacloClient(transport=transport, **options)

    monkeypatch.setattr(cli, "KakacloClient", vendor_like)
    runner = CliRunner(
        env={"KAKACLO_BASE_URL": "http://vendor.local/openapi", "KAKACLO_TOKEN": "demo-token"}
    )
    code, _, err = run(runner, "refund", "create", "10002", "--whole-order")
    assert code == 5, err
    assert "Reconciliation: Query Refund lists no new refund of order 10002" in err
    assert "does not replay the key" in err and "--idempotency-key" not in err
    assert "\n  kakaclo refund status 10002\n  kakaclo refund create 10002 --whole-order\n" in err
    assert err.count("so it is sent again") == 3


def test_a_retry_after_wait_is_one_line_on_stderr(sandbox: LiveSandbox, kakaclo: CliRunner) -> None:
    _queue_failures(sandbox, operation="queryOrders", count=1, code=429, retryAfter=1)
    code, out, err = run(kakaclo, "orders", "show", "10001")
    assert code == 0 and "order 10001" in out
    assert err == (
        "retry: RATE_LIMITED (429): waiting 1 s (the server's Retry-After) before attempt 2 of 4\n"
    )


def test_a_retry_after_beyond_the_cap_stops_with_the_servers_wait(
    sandbox: LiveSandbox, kakaclo: CliRunner
) -> None:
    _queue_failures(sandbox, operation="queryOrders", count=1, code=429, retryAfter=120)
    code, _, err = run(kakaclo, "orders", "show", "10001")
    assert code == 1 and "retry:" not in err
    assert "the server asks to wait 120 s, longer than the retry-after cap of 60 s" in err
    assert "--max-retry-after" in err
    _queue_failures(sandbox, operation="queryOrders", count=1, code=429, retryAfter=2)
    code, _, err = run(kakaclo, "orders", "show", "10001", "--max-retry-after", "1")
    assert code == 1 and "longer than the retry-after cap of 1 s" in err


def test_orders_show_says_what_cannot_be_refunded_and_what_a_line_refund_may_hold(
    kakaclo: CliRunner,
) -> None:
    code, out, _ = run(kakaclo, "orders", "show", "10004")
    assert code == 0 and "refundable none (not paid)" in out
    code, _, _ = run(kakaclo, "refund", "create", "10001", "--item", f"120002:{SKU}:2:US")
    assert code == 0
    code, out, _ = run(kakaclo, "orders", "show", "10001")
    assert code == 0 and "refunded 14.46, refundable 30.79" in out  # 2 pieces, settled at once
    assert "refunded (1-3 of 3)" in out and "not how many of its pieces" in out
    code, out, _ = run(kakaclo, "orders", "list", "--json", "--ids", "10006")
    assert json.loads(out)[0]["notRefundable"] == "cancelled"


def test_an_order_that_is_not_listed_is_no_http_error_in_json(kakaclo: CliRunner) -> None:
    code, out, _ = run(kakaclo, "orders", "show", "99999", "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error == {
        "message": "order 99999 not found (Query Order listed nothing)",
        "hint": error["hint"],
        "kind": "NotFoundError",
    }
    assert error["hint"].startswith("check the order id")


def test_a_token_given_with_bearer_in_front_gets_its_own_hint(sandbox: LiveSandbox) -> None:
    runner = CliRunner(
        env={"KAKACLO_BASE_URL": sandbox.base_url, "KAKACLO_TOKEN": "Bearer demo-token"}
    )
    code, _, err = run(runner, "orders", "list")
    assert code == 1 and "UNAUTHORIZED (401)" in err
    assert "the token starts with 'Bearer ': give KAKACLO_TOKEN (or --token) without it" in err
    assert "demo-token" not in err


def test_the_reason_choices_do_not_wrap_the_option_column() -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["refund", "create", "--help"])
    assert result.exit_code == 0
    assert "|" not in result.stdout.replace("│", "")  # no choices joined by bars in a column
    words = " ".join(line.strip("│ ") for line in result.stdout.splitlines())
    assert "Don't Want Anymore;" in words and "(default: Other;" in words
    assert "Exit 5: the answer was lost and the refund may exist." in result.stdout


def test_a_refused_quantity_is_explained_by_the_refunds_the_server_lists(
    kakaclo: CliRunner, tmp_path: Path
) -> None:
    # settled at once: nothing is pending, so the pieces are simply refunded already
    code, _, _ = run(kakaclo, "refund", "create", "10001", "--item", f"120001:{SKU}:2:CN")
    assert code == 0
    code, _, err = run(kakaclo, "refund", "create", "10001", "--item", f"120001:{SKU}:1:CN")
    assert code == 1 and "QUANTITY_EXCEEDS_REFUNDABLE (409)" in err
    assert "no pending refund: those pieces are already refunded" in err, err
    assert "still pending" not in err
    # refunds that stay pending (the default settle-after): they hold the pieces
    pending = LiveSandbox(db=tmp_path / "pending.db", args=["--rate-limit", "off"]).start()
    try:
        runner = CliRunner(
            env={"KAKACLO_BASE_URL": pending.base_url, "KAKACLO_TOKEN": "demo-token"}
        )
        code, _, _ = run(runner, "refund", "create", "10001", "--item", f"120001:{SKU}:2:CN")
        assert code == 0
        code, _, err = run(runner, "refund", "create", "10001", "--item", f"120001:{SKU}:1:CN")
        run(runner, "refund", "create", "10002", "--whole-order")
        again, out, _ = run(runner, "refund", "create", "10002", "--whole-order", "--json")
    finally:
        pending.stop()
    assert code == 1 and "1 refund(s) of order 10001 still pending hold their pieces" in err, err
    assert "already refunded" not in err
    error = json.loads(out)["error"]
    assert again == 1 and error["name"] == "NOTHING_TO_REFUND"
    assert error["hint"].startswith("1 refund(s) of order 10002 still pending"), error
