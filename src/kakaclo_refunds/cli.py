"""``kakaclo``: orders and refunds from the shell, on top of ``KakacloClient``.

Exit codes: 0 success; 1 an API or network error; 2 bad usage; 3 the refund
settled as ``refund_failed``; 4 a wait or watch timed out; 5 ``refund create``
got no answer it can trust and the refund may exist (it prints the
Idempotency-Key it sent and the command that finishes safely); 130
interrupted (Ctrl-C). An answer the server does not finish within the
answer deadline (30 s), longer than 8 MiB or nested deeper than 64 levels
is one error line, exit 1 (``kakaclo_refunds.bounds``); to ``refund create``,
exit 5 (the refund may exist).
Every value a server sends is printed terminal-safe (``cli_output``).
"""

from __future__ import annotations

import datetime
import os
import shlex
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from kakaclo_client import spec_facts
from kakaclo_client.models import (
    CountryCode,
    ErrorCode,
    OrderRefundStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from rich.text import Text

from kakaclo_refunds import _core, extras, urls
from kakaclo_refunds.cli_output import (
    Column,
    RetryWaits,
    cell,
    console,
    error_json,
    json_value,
    one_line,
    print_json,
    print_table,
    safe_text,
)
from kakaclo_refunds.client import KakacloClient
from kakaclo_refunds.errors import (
    ApiError,
    AuthError,
    KakacloError,
    QuantityExceededError,
    RefundNotAllowedError,
    RefundOutcomeUnknownError,
    RefundWaitTimeout,
)
from kakaclo_refunds.orders import Order
from kakaclo_refunds.retry import DEFAULT_RETRY_AFTER_CAP, RetryPolicy

EXIT_ERROR, EXIT_USAGE, EXIT_REFUND_FAILED, EXIT_TIMEOUT = 1, 2, 3, 4
EXIT_OUTCOME_UNKNOWN = 5  # refund create: the refund may exist (see _outcome_unknown)
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it
HELP = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    help="Kakaclo orders and refunds from the shell (KAKACLO_BASE_URL, KAKACLO_TOKEN).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings=HELP,
)
orders_app = typer.Typer(help="Find orders.", no_args_is_help=True, context_settings=HELP)
refund_app = typer.Typer(
    help="Create refunds and follow them.", no_args_is_help=True, context_settings=HELP
)
app.add_typer(orders_app, name="orders")
app.add_typer(refund_app, name="refund")

out = console()
err = console(stderr=True)

BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", envvar="KAKACLO_BASE_URL", help="API base URL (…/openapi)."),
]
Token = Annotated[
    str | None,
    typer.Option("--token", envvar="KAKACLO_TOKEN", help="Bearer token.", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
MaxRetryAfter = Annotated[
    float,
    typer.Option(
        "--max-retry-after",
        envvar="KAKACLO_MAX_RETRY_AFTER",
        metavar="SECONDS",
        min=0,
        help="The longest Retry-After (429, 503) waited out before a retry; a longer one "
        "stops the command with the server's wait in the message.",
    ),
]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(Text(f"kakaclo {version(extras.DISTRIBUTION)}"))
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Kakaclo orders and refunds from the shell (KAKACLO_BASE_URL, KAKACLO_TOKEN)."""


def _fail(
    message: str,
    hint: str = "",
    code: int = EXIT_ERROR,
    *,
    as_json: bool = False,
    error: KakacloError | None = None,
) -> typer.Exit:
    """Report an error (one line on stderr, or the JSON error shape) and the exit to take."""
    if as_json:
        print_json(error_json(message, hint, error))
    else:
        line = Text("error", style="bold red") + Text(f": {one_line(message)}")
        if hint:
            line += Text(f" (hint: {one_line(hint)})", style="dim")
        err.print(line, soft_wrap=True)
    return typer.Exit(code)


def _api_message(error: ApiError) -> str:
    """``NAME (status): message``; the status is left out when the wire said 200."""
    if error.status == 200:
        return f"{error.message} ({error.code_name})" if error.code else error.message
    return f"{error.code_name} ({error.status}): {error.message}"


def _settings(base_url: str | None, token: str | None, as_json: bool) -> tuple[str, str]:
    """The base URL and the token, or a usage error worded for the command line."""
    url = _core.base_url_from(base_url, check=False)
    problem = urls.base_url_problem(url)
    if problem is not None:
        raise _fail(
            f"the base URL {urls.masked_url(url)!r} cannot be used: {problem}",
            "set KAKACLO_BASE_URL or pass --base-url, e.g. "
            "https://test-developer.kakaclo.com/openapi",
            EXIT_USAGE,
            as_json=as_json,
        )
    found = token or _core.token_from_environment()
    if not found:
        raise _fail("no token", "set KAKACLO_TOKEN or pass --token", EXIT_USAGE, as_json=as_json)
    return url, found


@contextmanager
def _client(
    base_url: str | None,
    token: str | None,
    as_json: bool = False,
    max_retry_after: float = DEFAULT_RETRY_AFTER_CAP,
    waits: RetryWaits | None = None,
) -> Iterator[KakacloClient]:
    """A client, with every error turned into one clear line (or JSON) and an exit code;
    its retries' waits show on stderr (``waits``)."""
    url, found = _settings(base_url, token, as_json)
    waits = waits or RetryWaits(err)
    try:
        with KakacloClient(
            token=found,
            base_url=url,
            retry=RetryPolicy(retry_after_cap=max_retry_after),
            on_retry=waits.notice,
            sleep=waits.sleep,
        ) as client:
            yield client
    except RefundWaitTimeout as timeout:
        raise _fail(
            timeout.message, timeout.hint, EXIT_TIMEOUT, as_json=as_json, error=timeout
        ) from None
    except AuthError as error:
        hint = error.hint
        if found.lower().startswith("bearer "):
            hint = (
                "the token starts with 'Bearer ': give KAKACLO_TOKEN (or --token) without it; "
                "the client sends 'Authorization: Bearer TOKEN' itself"
            )
        raise _fail(_api_message(error), hint, as_json=as_json, error=error) from None
    except ApiError as error:
        raise _fail(_api_message(error), error.hint, as_json=as_json, error=error) from None
    except KakacloError as error:
        raise _fail(error.message, error.hint, as_json=as_json, error=error) from None
    except KeyboardInterrupt:  # during a read, or a retry's wait: nothing is left half done
        err.print(Text("interrupted"))
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _refundable(order: Order) -> Text:
    """The refundable amount, or ``none (why)`` when the order cannot be refunded."""
    if order.not_refundable:
        return Text(f"none ({order.not_refundable})")
    return cell(order.refundable_amount)


def _parse_time(value: str | None, option: str) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=option) from None


@orders_app.command("list")
def orders_list(
    base_url: BaseUrl = None,
    token: Token = None,
    ids: Annotated[str | None, typer.Option(help="Comma-separated order ids.")] = None,
    created_from: Annotated[str | None, typer.Option(help="ISO 8601, UTC.")] = None,
    created_to: Annotated[str | None, typer.Option(help="ISO 8601, UTC.")] = None,
    updated_from: Annotated[str | None, typer.Option(help="ISO 8601, UTC.")] = None,
    updated_to: Annotated[str | None, typer.Option(help="ISO 8601, UTC.")] = None,
    page_size: Annotated[
        int, typer.Option(min=1, max=_core.MAX_PAGE_SIZE, help="Orders per request.")
    ] = 100,
    limit: Annotated[int | None, typer.Option(min=1, help="Stop after this many.")] = None,
    as_json: AsJson = False,
    max_retry_after: MaxRetryAfter = DEFAULT_RETRY_AFTER_CAP,
) -> None:
    """List orders across pages.

    Example: kakaclo orders list --created-from 2026-11-01T00:00:00Z --json
    """
    filters = {
        "created_from": _parse_time(created_from, "--created-from"),
        "created_to": _parse_time(created_to, "--created-to"),
        "updated_from": _parse_time(updated_from, "--updated-from"),
        "updated_to": _parse_time(updated_to, "--updated-to"),
    }
    found: list[Order] = []
    with _client(base_url, token, as_json, max_retry_after) as client:
        for order in client.iter_orders(
            ids=ids.split(",") if ids else None, page_size=page_size, **filters
        ):
            found.append(order)
            if limit is not None and len(found) >= limit:
                break
    if as_json:
        print_json([order.to_json() for order in found])
        return
    columns = [
        Column("id", key=True),
        Column("status"),
        Column("fulfillment"),
        Column("refund"),
        Column("final"),
        Column("refunded"),
        Column("refundable"),
        Column("created"),
    ]
    rows = [
        [
            cell(order.id),
            cell(order.status),
            cell(order.fulfillment_status),
            cell(order.refund_status),
            cell(order.final_amount),
            cell(order.refunded_amount),
            _refundable(order),
            cell(order.create_date),
        ]
        for order in found
    ]
    print_table(out, columns, rows)


@orders_app.command("show")
def orders_show(
    order_id: Annotated[str, typer.Argument(help="The order id.")],
    base_url: BaseUrl = None,
    token: Token = None,
    as_json: AsJson = False,
    max_retry_after: MaxRetryAfter = DEFAULT_RETRY_AFTER_CAP,
) -> None:
    """Show one order with its lines (what a refund item names).

    Example: kakaclo orders show 10001
    """
    with _client(base_url, token, as_json, max_retry_after) as client:
        order = client.get_order(order_id)
    if as_json:
        print_json(order.to_json())
        return
    out.print(
        Text("order ")
        + safe_text(order.id, style="bold")
        + Text(
            f": {cell(order.status)} / {cell(order.financial_status)} / "
            f"{cell(order.fulfillment_status)}; final {cell(order.final_amount)}, refunded "
            f"{cell(order.refunded_amount)}, refundable {_refundable(order)}"
        ),
        soft_wrap=True,
    )
    columns = [
        Column("line", key=True),
        Column("itemId", key=True),
        Column("skuCode", key=True),
        Column("countryCode", key=True),
        Column("options"),
        Column("pieces"),
        Column("amount"),
        Column("refund"),
    ]
    rows = [
        [
            cell(line.id),
            cell(line.item_id),
            cell(line.sku_code),
            cell(line.country_code),
            cell(
                ", ".join(f"{o.name}: {o.value}" if o.name else o.value for o in line.options)
                or None
            ),
            cell(line.product_num),
            cell(line.amount),
            cell(order.line_refund(line)),
        ]
        for line in order.lines
    ]
    print_table(out, columns, rows)
    if order.refund_status != OrderRefundStatus.REFUNDED and any(
        line.refund_status for line in order.lines
    ):
        out.print(
            Text(
                "1-N of N: Query Order tells that a refund of a line succeeded (refunded) or "
                "is pending (refunding), not how many of its pieces.",
                style="dim",
            ),
            soft_wrap=True,
        )


def parse_item(text: str) -> _core.Item:
    """``ITEM_ID:SKU:QTY:CC`` (e.g. ``120001:FSZW08923_R_L_NUB:1:CN``) as an item."""
    parts = text.split(":")
    if len(parts) != 4 or not parts[2].isdigit() or int(parts[2]) < 1:
        raise typer.BadParameter(
            f"{text!r} is not ITEM_ID:SKU:QTY:CC with QTY >= 1 "
            "(e.g. 120001:FSZW08923_R_L_NUB:1:CN)",
            param_hint="--item",
        )
    try:
        country = CountryCode(parts[3].upper())
    except ValueError:
        raise typer.BadParameter(
            f"country code {parts[3]!r} is not one of {', '.join(c.value for c in CountryCode)}",
            param_hint="--item",
        ) from None
    return _core.Item(parts[0], parts[1], int(parts[2]), country)


def _refund_json(order_id: str, refund_no: str, status: object) -> dict[str, Any]:
    """The one ``--json`` shape of a refund that ``refund create`` and ``--watch`` print."""
    return {"orderId": order_id, "refundNo": refund_no, "refundStatus": status}


def _settled_exit(order_id: str, refund: Refund, as_json: bool) -> None:
    if as_json:
        print_json(_refund_json(order_id, refund.refund_no, refund.refund_status))
    else:
        colour = "green" if refund.refund_status == RefundStatus.REFUND_SUCCESSFULLY else "red"
        out.print(
            Text(f"refund {one_line(str(refund.refund_no))}: ")
            + safe_text(refund.refund_status, style=colour)
        )
    if refund.refund_status == RefundStatus.REFUND_FAILED:
        raise typer.Exit(EXIT_REFUND_FAILED)


def _wait(
    client: KakacloClient,
    waits: RetryWaits,
    order_id: str,
    refund_no: str,
    timeout: float,
    poll: float,
    as_json: bool,
    announce: str = "",
) -> None:
    """Print ``announce``, then wait until the refund settles; on Ctrl-C (from the
    announcement on) say which refund is left and how to follow it."""
    last: list[object] = [RefundStatus.PENDING_REVIEW]

    def seen(refund: Refund, elapsed: float) -> None:
        last[0] = refund.refund_status

    try:
        if announce:  # on stderr under --json: stdout keeps one document
            (err if as_json else out).print(Text(announce), soft_wrap=True)
        if as_json or not out.is_terminal:
            refund = client.wait_for_refund(
                order_id, refund_no, timeout=timeout, poll=poll, on_progress=seen
            )
        else:
            with out.status(Text(f"refund {one_line(refund_no)}: waiting…")) as status:
                waits.status = status  # a retry's wait shows on this line, not a second one

                def progress(refund: Refund, elapsed: float) -> None:
                    seen(refund, elapsed)
                    status.update(
                        Text(
                            f"refund {one_line(refund_no)}: {one_line(str(json_value(last[0])))} "
                            f"({elapsed:.0f}s)"
                        )
                    )

                refund = client.wait_for_refund(
                    order_id, refund_no, timeout=timeout, poll=poll, on_progress=progress
                )
    except KeyboardInterrupt:
        status_now = json_value(last[0])
        if as_json:
            print_json(_refund_json(order_id, refund_no, status_now))
        err.print(
            Text(
                f"interrupted: refund {refund_no} of order {order_id} exists and was "
                f"{status_now}; follow it with: kakaclo refund status {order_id} "
                f"--refund-no {refund_no} --watch"
            ),
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    _settled_exit(order_id, refund, as_json)


REASON_HELP = (
    "Refund reason, one of: "
    + "; ".join(reason.value for reason in RefundReason)
    + f" (default: {spec_facts.DEFAULT_REFUND_REASON}; quote it in a shell)."
)
Timeout = Annotated[float, typer.Option(min=0, help="Seconds to wait before giving up.")]
Poll = Annotated[float, typer.Option(min=0.01, help="First poll interval (it grows to 60 s).")]


_NOTHING_LEFT_CODES = (
    int(ErrorCode.QUANTITY_EXCEEDS_REFUNDABLE),
    int(ErrorCode.NOTHING_TO_REFUND),
)


def _nothing_left_hint(client: KakacloClient, order_id: str, fallback: str) -> str:
    """Why the pieces are not refundable, true for what the server lists now: refunds
    still pending hold their pieces; with none pending, the pieces are already refunded."""
    try:
        refunds = client.list_refunds(order_id)
    except KakacloError:  # the refusal is the news; its generic hint still holds
        return fallback
    pending = [r.refund_no for r in refunds if r.refund_status == RefundStatus.PENDING_REVIEW]
    if not pending:
        return (
            f"order {order_id} has no pending refund: those pieces are already refunded "
            f"(kakaclo orders show {order_id} lists what is left)"
        )
    return (
        f"{len(pending)} refund(s) of order {order_id} still pending hold their pieces until "
        f"they settle; a failed one gives them back (kakaclo refund status {order_id})"
    )


def _create_command(
    order_id: str,
    item: list[str] | None,
    reason: RefundReason | None,
    remark: str | None,
    wait: bool,
    base_url: str | None,
    as_json: bool,
) -> list[str]:
    """The ``refund create`` that was run, as words (the token never among them)."""
    words = ["kakaclo", "refund", "create", order_id]
    for text in item or ():
        words += ["--item", text]
    if not item:
        words.append("--whole-order")
    if reason is not None:
        words += ["--reason", reason.value]
    if remark is not None:
        words += ["--remark", remark]
    if base_url and base_url != os.environ.get(_core.BASE_URL_ENV):
        words += ["--base-url", base_url]
    if wait:
        words.append("--wait")
    if as_json:
        words.append("--json")
    return words


def _outcome_unknown(
    error: RefundOutcomeUnknownError | None,
    key: str,
    honours: bool,
    command: list[str],
    order_id: str,
    as_json: bool,
    message: str,
) -> list[str]:
    """Say that the refund may exist, the key that was sent, and how to finish safely.

    Against a server that replays keys, the same command with the same key
    finishes it (the refund made, or made once). Otherwise the order's refunds
    must be listed first: the reconciliation the client layer did is shown, and
    the command is run again only if no new refund is listed. Returns the
    commands it printed.
    """
    found = error.reconciliation if error is not None else None
    if honours:
        steps = [shlex.join([*command, "--idempotency-key", key])]
        how = (
            "This server replays the Idempotency-Key: this command answers the refund if it "
            "was made, and makes it once if it was not:"
        )
    else:
        steps = [f"kakaclo refund status {order_id}", shlex.join(command)]
        how = (
            "This server does not replay the key: list the order's refunds, and run the "
            "command again only if no new refund is listed:"
        )
    if as_json:
        body = error_json(message, error.hint if error else "", error)
        body["error"] |= {
            "orderId": order_id,
            "mayExist": True,
            "idempotencyKey": key,
            "honoursIdempotencyKey": honours,
            "reconciliation": None
            if found is None
            else {
                "before": list(found.before),
                "new": list(found.new),
                "lookupError": found.lookup_error,
            },
            "next": steps,
        }
        print_json(body)
        return steps
    lines = [
        Text("error", style="bold red") + Text(f": {one_line(message)}"),
        Text(f"The refund may exist. Idempotency-Key sent: {key}"),
    ]
    if found is not None:
        lines.append(Text(f"Reconciliation: {one_line(str(found))}."))
    lines.append(Text(how))
    lines.extend(Text(f"  {step}") for step in steps)
    for line in lines:
        err.print(line, soft_wrap=True)
    return steps


@refund_app.command("create")
def refund_create(
    order_id: Annotated[str, typer.Argument(help="The order id.")],
    item: Annotated[
        list[str] | None,
        typer.Option("--item", help="ITEM_ID:SKU:QTY:CC, repeatable: the pieces to refund."),
    ] = None,
    reason: Annotated[
        RefundReason | None,
        typer.Option("--reason", metavar="REASON", show_choices=False, help=REASON_HELP),
    ] = None,
    remark: Annotated[str | None, typer.Option(help="Free text kept with the refund.")] = None,
    idempotency_key: Annotated[
        str | None,
        typer.Option(
            metavar="KEY",
            help="Send this Idempotency-Key (default: a new one). A server that honours keys "
            "answers a repeated key with the refund it already made: what finishes a refund "
            "whose answer was lost (exit 5 prints the command).",
        ),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the refund settles.")] = False,
    timeout: Timeout = 3600.0,
    poll: Poll = 5.0,
    base_url: BaseUrl = None,
    token: Token = None,
    as_json: AsJson = False,
    whole_order: Annotated[
        bool,
        typer.Option("--whole-order", help="Refund everything still refundable (no --item)."),
    ] = False,
    max_retry_after: MaxRetryAfter = DEFAULT_RETRY_AFTER_CAP,
) -> None:
    """Refund the given pieces of an order's lines (--item), or the whole order (--whole-order).

    The refund number is printed as soon as the refund exists, before any waiting.

    Exit 5: the answer was lost and the refund may exist.
    It prints the Idempotency-Key it sent and the command that finishes safely
    (the same command without that key would send a new one: a second refund).

    Example: kakaclo refund create 10001 --item 120001:FSZW08923_R_L_NUB:1:CN --wait
    """
    if bool(item) == whole_order:
        raise _fail(
            "--item and --whole-order exclude each other"
            if item
            else "name the pieces with --item, or refund the whole order with --whole-order",
            "kakaclo orders show ORDER_ID lists the lines an --item names",
            EXIT_USAGE,
            as_json=as_json,
        )
    items = [parse_item(text) for text in item] if item else None
    key = idempotency_key or uuid.uuid4().hex  # known here, so it can be printed
    command = _create_command(order_id, item, reason, remark, wait, base_url, as_json)
    waits = RetryWaits(err)
    with _client(base_url, token, as_json, max_retry_after, waits) as client:
        try:
            refund_no = client.refund_order(
                order_id, items, reason=reason, remark=remark, idempotency_key=key
            )
        except (QuantityExceededError, RefundNotAllowedError) as refused:
            if refused.code in _NOTHING_LEFT_CODES:
                refused.hint = _nothing_left_hint(client, order_id, refused.hint)
            raise
        except RefundOutcomeUnknownError as unknown:
            honours = unknown.honours_idempotency_key
            _outcome_unknown(unknown, key, honours, command, order_id, as_json, unknown.message)
            raise typer.Exit(EXIT_OUTCOME_UNKNOWN) from None
        except KeyboardInterrupt:  # a request may have been on its way
            message = f"interrupted before the refund of order {order_id} was answered"
            honours = client.honours_idempotency_key()
            _outcome_unknown(None, key, honours, command, order_id, as_json, message)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        created = f"refund {one_line(refund_no)} created for order {order_id} (pending_review)"
        if not wait:
            if as_json:
                print_json(_refund_json(order_id, refund_no, RefundStatus.PENDING_REVIEW))
            else:
                out.print(Text(created))
            return
        _wait(client, waits, order_id, refund_no, timeout, poll, as_json, announce=created)


@refund_app.command("status")
def refund_status(
    order_id: Annotated[str, typer.Argument(help="The order id.")],
    refund_no: Annotated[str | None, typer.Option(help="Only this refund.")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Follow until it settles.")] = False,
    timeout: Timeout = 3600.0,
    poll: Poll = 5.0,
    base_url: BaseUrl = None,
    token: Token = None,
    as_json: AsJson = False,
    max_retry_after: MaxRetryAfter = DEFAULT_RETRY_AFTER_CAP,
) -> None:
    """Show an order's refunds; --watch follows the newest (or --refund-no) until it settles.

    Example: kakaclo refund status 10001 --watch
    """
    waits = RetryWaits(err)
    with _client(base_url, token, as_json, max_retry_after, waits) as client:
        refunds = client.list_refunds(order_id)
        if refund_no is not None:
            refunds = [r for r in refunds if r.refund_no == refund_no]
            if not refunds:
                raise _fail(
                    f"order {order_id} lists no refund {refund_no}",
                    f"kakaclo refund status {order_id} lists its refunds",
                    as_json=as_json,
                )
        if watch:
            if not refunds:
                raise _fail(f"order {order_id} has no refund to watch", as_json=as_json)
            _wait(client, waits, order_id, refunds[0].refund_no, timeout, poll, as_json)
            return
    remarks = [r.remark if isinstance(r.remark, str) else None for r in refunds]
    if as_json:
        print_json(
            [
                {"refundNo": r.refund_no, "refundStatus": r.refund_status, "remark": remark}
                for r, remark in zip(refunds, remarks, strict=True)
            ]
        )
        return
    columns = [Column("refundNo", key=True), Column("status"), Column("remark")]
    rows = [
        [cell(r.refund_no), cell(r.refund_status), cell(remark)]
        for r, remark in zip(refunds, remarks, strict=True)
    ]
    print_table(out, columns, rows)


@app.command(
    "sandbox",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def sandbox(ctx: typer.Context) -> None:
    """Start the sandbox (the options of kakaclo-sandbox; try: kakaclo sandbox --help).

    Example: kakaclo sandbox --port 8080 --settle-after 2 --rate-limit off
    """
    extras.require("kakaclo sandbox", "sandbox")
    from kakaclo_sandbox.__main__ import main as sandbox_main

    sandbox_main(ctx.args, prog="kakaclo sandbox")


class FailOn(StrEnum):
    """When ``kakaclo contract --replay`` exits 1."""

    ERROR = "error"
    WARNING = "warning"
    NEVER = "never"


@app.command(
    "proxy",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def proxy(ctx: typer.Context) -> None:
    """Run the validating proxy (the options of kakaclo-sandbox proxy; try: kakaclo proxy --help).

    Example: kakaclo proxy --upstream https://test-developer.kakaclo.com/openapi --record run.har
    """
    extras.require("kakaclo proxy", "sandbox")
    from kakaclo_proxy.cli import main as proxy_main

    proxy_main(ctx.args, prog="kakaclo proxy")


@app.command("contract")
def contract(
    base_url: BaseUrl = None,
    token: Token = None,
    allow_refunds: Annotated[
        bool,
        typer.Option(
            "--allow-refunds",
            envvar="KAKACLO_ALLOW_REFUNDS",
            help="Let the suite refund a server that is not a sandbox (only --order-id orders).",
        ),
    ] = False,
    order_id: Annotated[
        list[str] | None,
        typer.Option("--order-id", help="An order the suite may refund (repeat for several)."),
    ] = None,
    max_refunds: Annotated[
        int | None, typer.Option("--max-refunds", help="At most this many refunds (default 3).")
    ] = None,
    wait_settlement: Annotated[
        float | None,
        typer.Option(
            "--wait-settlement",
            metavar="SECONDS",
            help="At the end, wait this long for the created refunds to settle (default 0).",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", help="quick (default), thorough, or mutation (quick, failures not shrunk)."
        ),
    ] = None,
    max_examples: Annotated[
        int | None,
        typer.Option("--max-examples", help="Case budget: examples per operation and phase."),
    ] = None,
    rate: Annotated[
        str | None,
        typer.Option(
            "--rate", help="Pace requests: BURST/PER_SECOND (120/2), N/s (2/s) or off (default)."
        ),
    ] = None,
    max_429_share: Annotated[
        float | None,
        typer.Option("--max-429-share", help="Fail when more answers were 429 (default 0.2)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Seconds for one whole answer, connect to last byte (default 10)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed (default 20261126).")] = None,
    phases: Annotated[
        str | None,
        typer.Option("--phases", help="examples,coverage,fuzzing,stateful (default: all)."),
    ] = None,
    junit_xml: Annotated[
        Path | None, typer.Option("--junit-xml", help="Write a JUnit XML report here.")
    ] = None,
    summary: Annotated[
        Path,
        typer.Option("--summary", help="Write the JSON summary here."),
    ] = Path("reports/contract-summary.json"),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON summary on stdout (the run on stderr).")
    ] = False,
    workers: Annotated[
        str | None,
        typer.Option(
            "--workers",
            "-n",
            help="Without a URL: spread the run over N processes (or auto), each with its own "
            "sandbox (default 1).",
        ),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            metavar="FILE.har",
            help="Check a recording (kakaclo proxy --record, or any HAR) offline instead of "
            "running the suite; reports go to reports/replay/. Only --junit-xml, --json and "
            "--fail-on apply.",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on", help="With --replay: exit 1 on any error, on any warning too, or never."
        ),
    ] = FailOn.ERROR,
    max_orders: Annotated[
        int | None,
        typer.Option(
            "--max-orders", help="The account walk reads at most this many orders (default 100)."
        ),
    ] = None,
    max_refund_pages: Annotated[
        int | None,
        typer.Option(
            "--max-refund-pages",
            help="... and at most this many Query Refund pages per order (default 5).",
        ),
    ] = None,
    other_token: Annotated[
        str | None,
        typer.Option(
            "--other-token",
            help="A token of another merchant: each token's orders must be 404 to the other "
            "(prefer KAKACLO_OTHER_TOKEN: it stays out of ps).",
        ),
    ] = None,
    max_retry_after: Annotated[
        float | None,
        typer.Option(
            "--max-retry-after",
            metavar="SECONDS",
            help="The longest Retry-After the suite waits out (default 60); a longer one "
            "counts as throttled.",
        ),
    ] = None,
) -> None:
    """Run the contract suite against a server (default: the embedded sandbox).

    Exit 0: passed; 1: contract violations; 2: could not run (unreachable, not the API,
    token rejected, bad settings, throttled). Refunds are never sent to a server that is
    not a sandbox unless --allow-refunds names the orders.

    Example: KAKACLO_TOKEN=... kakaclo contract --base-url https://test-developer.kakaclo.com/openapi
    """
    if replay is not None:
        extras.require("kakaclo contract --replay", "sandbox", name="contract")
        from kakaclo_proxy.replay import replay as replay_recording

        raise typer.Exit(
            replay_recording(replay, fail_on=fail_on.value, junit_xml=junit_xml, as_json=as_json)
        )
    extras.require("kakaclo contract", "contract")
    from kakaclo_contract import settings as names
    from kakaclo_contract.run import run

    given = {
        names.BASE_URL_ENV: base_url,
        names.TOKEN_ENV: token,
        names.ALLOW_REFUNDS_ENV: "1" if allow_refunds else None,
        names.REFUND_ORDER_IDS_ENV: ",".join(order_id) if order_id else None,
        names.MAX_REFUNDS_ENV: max_refunds,
        names.WAIT_SETTLEMENT_ENV: wait_settlement,
        names.PROFILE_ENV: profile,
        names.MAX_EXAMPLES_ENV: max_examples,
        names.RATE_ENV: rate,
        names.MAX_429_SHARE_ENV: max_429_share,
        names.TIMEOUT_ENV: timeout,
        names.SEED_ENV: seed,
        names.PHASES_ENV: phases,
        names.WORKERS_ENV: workers,
        names.MAX_ORDERS_ENV: max_orders,
        names.MAX_REFUND_PAGES_ENV: max_refund_pages,
        names.OTHER_TOKEN_ENV: other_token,
        names.MAX_RETRY_AFTER_ENV: max_retry_after,
    }
    env = {name: str(value) for name, value in given.items() if value is not None}
    raise typer.Exit(run(env, junit=junit_xml, summary_path=summary, as_json=as_json))


def main() -> None:
    """Entry point of ``kakaclo``."""
    app(prog_name="kakaclo")


if __name__ == "__main__":
    main()
