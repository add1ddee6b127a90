"""What a stranger's attack still found after issue 30 (its follow-up), one test each.

A malformed base URL, values outside the spec (a non-finite amount, ids with
controls), line breaks that forge table rows, a base URL's password, the
error line of a refused answer, BEL and the bidirectional controls.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from kakaclo_refunds import AnswerRefusedError, KakacloClient, RefundOutcomeUnknownError, bounds
from kakaclo_refunds.cli import app
from kakaclo_refunds.cli_output import (
    Column,
    SafeConsole,
    cell,
    one_line,
    print_json,
    print_table,
    safe_text,
    terminal_safe,
)
from tests.client.hostile import DEEP, Behaviour, HostileServer, by_path, endless_chunks, fixed
from tests.live import free_port

VENDOR = Path(__file__).resolve().parents[1] / "fixtures" / "vendor"
MALFORMED = ["http://[::1", "http://127.0.0.1:99999/openapi", "http://user:Pw5ecret@[::1/openapi"]
SECRET = "Pw5ecret"
RLO = "\u202e"


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env={"KAKACLO_TOKEN": "t", **(env or {})}).invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _orders(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((VENDOR / "query-order-waiting-to-ship.json").read_text())
    order = body["data"]["list"][0]
    line_id = changes.pop("line_id", None)
    if line_id is not None:
        order["orderItems"][0]["id"] = line_id
    order.update(changes)
    return body


def _refunds(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((VENDOR / "query-refund.json").read_text())
    body["data"]["list"][0].update(changes)
    return body


def _serving(orders: bytes, refunds: bytes | None = None) -> HostileServer:
    holder: list[HostileServer] = []
    answers: dict[bytes, Behaviour] = {b"/orders/refund/": fixed(refunds or b"{}")}
    answers[b"/orders"] = fixed(orders)
    server = HostileServer(by_path(answers, holder))
    holder.append(server)
    return server


def _strict_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


# -- 1. a malformed base URL: one line, exit 2, before any request ---------------------


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_base_url_is_one_line_and_exit_2(url: str) -> None:
    for env, args in (
        ({"KAKACLO_BASE_URL": url}, ["orders", "list"]),
        ({}, ["orders", "show", "1", "--base-url", url]),
    ):
        code, stdout, stderr = _cli(*args, env=env)
        assert code == 2, (url, stdout, stderr)
        assert stderr.startswith("error: the base URL ") and stderr.count("\n") == 1, stderr
        assert "Traceback" not in stderr and SECRET not in stderr
    code, stdout, _ = _cli("orders", "list", "--json", env={"KAKACLO_BASE_URL": url})
    assert code == 2
    assert "cannot be used" in _strict_json(stdout)["error"]["message"]
    assert SECRET not in stdout


def test_the_client_refuses_a_port_out_of_range_at_once() -> None:
    with pytest.raises(ValueError, match="Port out of range"):
        KakacloClient("t", "http://127.0.0.1:99999/openapi")


# -- 2. values the spec does not allow, and line breaks in cells ------------------------


def test_a_non_finite_amount_is_refused_in_one_line() -> None:
    body = json.dumps(_orders(finalAmount=12345.678)).encode().replace(b"12345.678", b"1e400")
    with _serving(body) as server:
        env = {"KAKACLO_BASE_URL": server.base_url}
        code, stdout, stderr = _cli("orders", "list", env=env)
        assert code == 1, (stdout, stderr)
        assert "inf" not in stdout
        assert stderr.startswith("error: order ") and "not a finite amount" in stderr
        assert stderr.count("\n") == 1, stderr
        code, stdout, _ = _cli("orders", "list", "--json", env=env)
    assert code == 1
    error = _strict_json(stdout)["error"]
    assert "not a finite amount" in error["message"] and error["kind"] == "AnswerRefusedError"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"id": "1\x1b]0;PWNED\x07"}, "id '1\\x1b]0;PWNED\\x07' is not a digit string"),
        ({"line_id": "11\r\nfake"}, "line id '11\\r\\nfake' is not a digit string"),
    ],
    ids=["order-id", "line-id"],
)
def test_ids_outside_the_spec_pattern_are_refused(changes: dict[str, Any], words: str) -> None:
    with _serving(json.dumps(_orders(**changes)).encode()) as server:
        code, stdout, stderr = _cli(
            "orders", "show", "1", env={"KAKACLO_BASE_URL": server.base_url}
        )
    assert code == 1, (stdout, stderr)
    assert words in stderr and stderr.count("\n") == 1, stderr
    assert "PWNED" not in stdout and "fake" not in stdout


def test_a_line_break_in_a_cell_cannot_forge_a_row() -> None:
    refunds = json.dumps(_refunds(remark="ok\r\nfake\nrow")).encode()
    with _serving(json.dumps(_orders()).encode(), refunds) as server:
        code, stdout, stderr = _cli(
            "refund", "status", "1", env={"KAKACLO_BASE_URL": server.base_url}
        )
    assert code == 0, (stdout, stderr)
    assert "ok\\x0d\\nfake\\nrow" in stdout
    lines = [line.strip("│ ") for line in stdout.splitlines()]
    assert not any(line.startswith(("fake", "row")) for line in lines), stdout


def test_a_line_break_cannot_forge_a_name_value_line() -> None:
    written = io.StringIO()
    narrow = SafeConsole(file=written, width=20, no_color=True)
    columns = [Column("line", key=True), Column("remark")]
    print_table(narrow, columns, [[cell("11\r\nfake: 1"), cell("ok\nremark: forged")]])
    lines = written.getvalue().splitlines()
    assert lines == ["line: 11\\x0d\\nfake: 1", "remark: ok\\nremark: forged"], lines


# -- 3. a base URL's password is never printed --------------------------------------------


def test_a_base_url_with_a_password_is_refused_and_never_shown() -> None:
    """httpx sent ``user:password@`` as Basic auth in place of the bearer token (always 401),
    and the password reached error lines: such a URL is refused at once, masked."""
    url = f"http://user:{SECRET}@127.0.0.1:{free_port()}/openapi"
    for extra in ([], ["--json"]):
        code, stdout, stderr = _cli("orders", "show", "1", "--base-url", url, *extra)
        assert code == 2, (stdout, stderr)
        assert "user:***@" in stdout + stderr and "user:password@" in stdout + stderr
        assert SECRET not in stdout + stderr
    with pytest.raises(ValueError, match=r"user:\*\*\*@") as refused:
        KakacloClient("t", url)
    assert SECRET not in str(refused.value)


# -- 4. a refused answer: its own class, the line of the docs, a kind in --json -----------


@pytest.mark.parametrize(
    ("behaviour", "line"),
    [
        (endless_chunks, "error: answer refused: the answer is larger than 8 MiB (the size cap)"),
        (DEEP, "error: answer refused: the answer nests JSON deeper than 64 levels"),
    ],
    ids=["size", "depth"],
)
def test_a_refused_answer_prints_the_documented_line(behaviour: Behaviour, line: str) -> None:
    with HostileServer(behaviour) as server:
        env = {"KAKACLO_BASE_URL": server.base_url}
        code, _, stderr = _cli("orders", "show", "1", env=env)
        assert code == 1
        assert stderr.startswith(line + " (hint: no answer of the Kakaclo API"), stderr
        assert "no code" not in stderr and "10000" not in stderr
        code, stdout, _ = _cli("orders", "show", "1", "--json", env=env)
    assert code == 1
    error = _strict_json(stdout)["error"]
    assert error["kind"] == "AnswerRefusedError"
    assert "status" not in error and "name" not in error
    assert error["message"] == line.removeprefix("error: ")


def test_a_refused_answer_is_its_own_error_class() -> None:
    with (
        HostileServer(DEEP) as server,
        KakacloClient("t", server.base_url) as client,
        pytest.raises(AnswerRefusedError) as caught,
    ):
        client.list_refunds("1")
    assert "report the answer" in caught.value.hint


# -- 5. BEL and the bidirectional controls ------------------------------------------------


def test_bel_shows_escaped_even_where_rich_would_drop_it() -> None:
    assert safe_text("7\x07").plain == "7\\x07"
    refunds = json.dumps(_refunds(refundNo="7\x07")).encode()
    with _serving(json.dumps(_orders()).encode(), refunds) as server:
        env = {"KAKACLO_BASE_URL": server.base_url}
        code, stdout, stderr = _cli("refund", "status", "1", "--watch", env=env)
    assert code == 0, (stdout, stderr)
    assert "refund 7\\x07: refund_successfully" in stdout


@pytest.mark.parametrize(
    "control", ["\u202a", "\u202b", "\u202c", "\u202d", RLO, "\u2066", "\u2069"]
)
def test_bidi_controls_are_escaped(control: str, capsys: pytest.CaptureFixture[str]) -> None:
    escaped = f"\\u{ord(control):04x}"
    assert terminal_safe(f"a{control}b") == f"a{escaped}b"
    assert one_line(f"a{control}\nb") == f"a{escaped}\\nb"
    print_json({"remark": f"a{control}b"})
    printed = capsys.readouterr().out
    assert control not in printed and escaped in printed
    assert json.loads(printed)["remark"] == f"a{control}b"


def test_a_remark_with_a_right_to_left_override_shows_escaped() -> None:
    refunds = json.dumps(_refunds(remark=f"abc{RLO}fed")).encode()
    with _serving(json.dumps(_orders()).encode(), refunds) as server:
        env = {"KAKACLO_BASE_URL": server.base_url}
        for extra in ([], ["--json"]):
            code, stdout, _ = _cli("refund", "status", "1", *extra, env=env)
            assert code == 0
            assert RLO not in stdout and "\\u202e" in stdout


# -- a refused answer to Refund Order: the refund may exist ---------------------------------


def _refuse_refund_answers(request: httpx.Request, forward: Any) -> httpx.Response:
    """The refund is made, and its answer broken beyond the size cap."""
    if request.method == "POST" and request.url.path.endswith("/refund"):
        forward()
        raise bounds.AnswerTooLarge("the answer is larger than 8 MiB (the size cap)")
    return forward()  # type: ignore[no-any-return]


def test_a_refused_answer_to_refund_order_is_an_unknown_outcome(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    client = make_client(app, _refuse_refund_answers)
    with pytest.raises(RefundOutcomeUnknownError) as caught:
        client.refund_order("10002")
    assert isinstance(caught.value.__cause__, AnswerRefusedError)
    assert caught.value.honours_idempotency_key  # the sandbox: the same key finishes it
    assert len(client.list_refunds("10002")) == 1


def test_a_refused_answer_to_refund_order_is_reconciled_on_a_server_without_keys(
    app: Any, make_client: Callable[..., KakacloClient]
) -> None:
    client = make_client(app, _refuse_refund_answers, honours_idempotency_key=False)
    refund_no = client.refund_order("10002")
    assert [refund.refund_no for refund in client.list_refunds("10002")] == [refund_no]
