"""The HTTP mutants: each breaks one rule of ``openapi.yaml`` in a conforming server's traffic.

``make mutation-http`` (``tools/mutation_http.py``) runs the read-only contract
suite once per mutant, through :class:`contract_tests.mutating_proxy.MutatingProxy`
in front of a sandbox with history (:mod:`contract_tests.history`). A mutant is
named after the rule it breaks; its functions are pure functions of the
client's request and the server's answer (``Request.seen`` counts earlier
identical reads, for the one rule about reading twice).

The faults of ``tests/proxy/faulty.py`` (the validating proxy's oracle) are here
too, as ``faulty-*`` mutants that wrap the forwarding app in its ``Faulty``, so
the two oracles judge the same breaks.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from kakaclo_client.models import OrderRefundStatus, RefundStatus
from kakaclo_client.spec_facts import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAXIMUM
from starlette.types import ASGIApp

from contract_tests.history import OTHER_TOKEN, TOKEN
from contract_tests.mutating_proxy import (
    ANY_OPERATION,
    QUERY_ORDER,
    QUERY_REFUND,
    REFUND_ORDER,
    Answer,
    Mutant,
    Request,
)
from tests.proxy.faulty import Faulty

KNOWN_TOKENS = {TOKEN, OTHER_TOKEN, "demo-token-vendor"}
PENDING = RefundStatus.PENDING_REVIEW.value
SUCCEEDED = RefundStatus.REFUND_SUCCESSFULLY.value
FAILED = RefundStatus.REFUND_FAILED.value
REFUNDED_ORDER = {OrderRefundStatus.PARTIAL_REFUND.value, OrderRefundStatus.REFUNDED.value}
CENT = 0.01
NEVER_SENT_READ_ONLY = "read-only never sends Refund Order; refund mode does"

Edit = Callable[[Request, dict[str, Any]], None]
AnswerChange = Callable[[Request, Answer], Answer]


# -- helpers: each builds an answer change from an edit of the parsed body ------------------------


def _body_edit(
    operation: str, edit: Callable[[Request, dict[str, Any]], None], status: int = 200
) -> AnswerChange:
    """Apply ``edit`` to the parsed envelope of ``operation``'s ``status`` answers."""

    def change(request: Request, answer: Answer) -> Answer:
        if request.operation != operation or answer.status != status:
            return answer
        body = answer.json()
        if not isinstance(body, dict):
            return answer
        edit(request, body)  # a fresh parse: the server's answer itself is not touched
        return answer.with_json(body)

    return change


def _page_edit(operation: str, edit: Edit) -> AnswerChange:
    """Apply ``edit`` to the ``data`` page of ``operation``'s 200 answers."""

    def on_body(request: Request, body: dict[str, Any]) -> None:
        if isinstance(body.get("data"), dict):
            edit(request, body["data"])

    return _body_edit(operation, on_body)


def _each_entry(operation: str, edit: Callable[[dict[str, Any]], None]) -> AnswerChange:
    """Apply ``edit`` to every entry listed on ``operation``'s 200 pages."""

    def on_page(request: Request, page: dict[str, Any]) -> None:
        for entry in page.get("list") or []:
            if isinstance(entry, dict):
                edit(entry)

    return _page_edit(operation, on_page)


def _plus_cent(value: Any) -> Any:
    return round(value + CENT, 4) if isinstance(value, int | float) else value


def _instant(text: Any) -> datetime.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        return None


def _page_number(request: Request) -> int:
    value = request.param("pageNumber")
    return int(value) if value is not None and value.isdigit() else 1


# -- codes and statuses ---------------------------------------------------------------------------


def _code_10001(request: Request, body: dict[str, Any]) -> None:
    body["code"] = 10001


def _not_found_code_40101(request: Request, body: dict[str, Any]) -> None:
    body["code"] = 40101


def _ok_as_201(request: Request, answer: Answer) -> Answer:
    return (
        answer.with_status(201)
        if request.operation == QUERY_ORDER and answer.status == 200
        else answer
    )


def _unauthorized_as_403(request: Request, answer: Answer) -> Answer:
    return answer.with_status(403) if answer.status == 401 else answer


# -- required fields, types, enums, content types -------------------------------------------------


def _drop_message(request: Request, body: dict[str, Any]) -> None:
    body.pop("message", None)


def _total_as_string(request: Request, page: dict[str, Any]) -> None:
    page["total"] = str(page.get("total"))


def _refund_status_off_enum(entry: dict[str, Any]) -> None:
    entry["refundStatus"] = "refund_pending"


def _order_status_off_enum(request: Request, page: dict[str, Any]) -> None:
    for entry in (page.get("list") or [])[:1]:
        entry["status"] = "shipped"


def _refund_no_integer(entry: dict[str, Any]) -> None:
    if isinstance(entry.get("refundNo"), str) and entry["refundNo"].isdigit():
        entry["refundNo"] = int(entry["refundNo"])


def _order_id_integer(entry: dict[str, Any]) -> None:
    if isinstance(entry.get("id"), str) and entry["id"].isdigit():
        entry["id"] = int(entry["id"])


def _create_date_not_rfc3339(entry: dict[str, Any]) -> None:
    if isinstance(entry.get("createDate"), str):
        entry["createDate"] = entry["createDate"].replace("T", " ").rstrip("Z")


def _query_refund_text_plain(request: Request, answer: Answer) -> Answer:
    if request.operation != QUERY_REFUND:
        return answer
    return answer.with_header("content-type", "text/plain; charset=utf-8")


# -- paging and filters ---------------------------------------------------------------------------


def _total_plus_one(request: Request, page: dict[str, Any]) -> None:
    if isinstance(page.get("total"), int):
        page["total"] += 1


def _page_size_not_echoed(request: Request, page: dict[str, Any]) -> None:
    size = page.get("pageSize")
    if isinstance(size, int):
        page["pageSize"] = size + 1 if size < PAGE_SIZE_MAXIMUM else size - 1


def _first_page_instead(request: Request, answer: Answer) -> Request | None:
    """A 200 for a later page: serve the first page instead (its number echoed)."""
    if request.operation != QUERY_ORDER or answer.status != 200 or _page_number(request) == 1:
        return None
    return request.without_params("pageNumber")


def _echo_page_number(request: Request, page: dict[str, Any]) -> None:
    page["pageNumber"] = _page_number(request)


def _one_extra_on_last_page(request: Request, page: dict[str, Any]) -> None:
    listed, total, size = page.get("list"), page.get("total"), page.get("pageSize")
    if not listed or not isinstance(total, int) or not isinstance(size, int):
        return
    if _page_number(request) * size >= total:  # the last page
        listed.append(dict(listed[0]))


IDS = re.compile(r"^[0-9]+(,[0-9]+)*$")


def _every_order_instead(request: Request, answer: Answer) -> Request | None:
    """A 200 for an ``ids`` filter: read the first page of every order instead."""
    ids = request.param("ids")
    if (
        request.operation != QUERY_ORDER
        or answer.status != 200
        or ids is None
        or not IDS.match(ids)
    ):
        return None
    if _page_number(request) != 1:
        return None
    kept = [(k, v) for k, v in request.query if k not in {"ids", "pageNumber", "pageSize"}]
    return request.with_query([*kept, ("pageSize", str(PAGE_SIZE_MAXIMUM))])


def _matching_ids_and_one_more(request: Request, page: dict[str, Any]) -> None:
    ids = request.param("ids")
    if ids is None or not IDS.match(ids) or _page_number(request) != 1:
        return
    wanted = set(ids.split(","))
    listed = [entry for entry in page.get("list") or [] if isinstance(entry, dict)]
    matching = [entry for entry in listed if str(entry.get("id")) in wanted]
    others = [entry for entry in listed if str(entry.get("id")) not in wanted]
    size_param = request.param("pageSize")
    size = int(size_param) if size_param and size_param.isdigit() else PAGE_SIZE_DEFAULT
    shown = (matching + others[:1])[:size]
    page.update(total=len(matching) + min(1, len(others)), pageSize=size, list=shown)


def _create_start_exclusive(request: Request, page: dict[str, Any]) -> None:
    start = _instant(request.param("createStartTime"))
    if start is None:
        return
    listed = page.get("list") or []
    kept = [entry for entry in listed if _instant(entry.get("createDate")) != start]
    if len(kept) != len(listed) and isinstance(page.get("total"), int):
        page["total"] -= len(listed) - len(kept)
        page["list"] = kept


UPDATE_FILTERS = ("updateStartTime", "updateEndTime")


def _without_update_filters(request: Request, answer: Answer) -> Request | None:
    """A 200 for an update-time filter: answer as if it were not there."""
    if request.operation != QUERY_ORDER or answer.status != 200:
        return None
    if not any(request.param(name) is not None for name in UPDATE_FILTERS):
        return None
    return request.without_params(*UPDATE_FILTERS)


# -- totals and amounts ---------------------------------------------------------------------------


def _refundable_plus_cent(entry: dict[str, Any]) -> None:
    entry["refundableAmount"] = _plus_cent(entry.get("refundableAmount"))


def _final_not_the_sum(entry: dict[str, Any]) -> None:
    # refundable follows final, so only final = subtotal + freight - coupon breaks
    entry["finalAmount"] = _plus_cent(entry.get("finalAmount"))
    entry["refundableAmount"] = _plus_cent(entry.get("refundableAmount"))


def _line_total_not_the_product(entry: dict[str, Any]) -> None:
    for line in (entry.get("orderItems") or [])[:1]:
        line["total"] = _plus_cent(line.get("total"))


def _refunded_above_final(entry: dict[str, Any]) -> None:
    refunded, final = entry.get("refundedAmount"), entry.get("finalAmount")
    if isinstance(refunded, int | float) and refunded > 0 and isinstance(final, int | float):
        entry["refundedAmount"] = round(final + CENT, 4)


# -- refund statuses against order statuses -------------------------------------------------------


def _status_shown_as(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def edit(entry: dict[str, Any]) -> None:
        if entry.get("refundStatus") == old:
            entry["refundStatus"] = new

    return edit


def _refunded_order_shows_null(entry: dict[str, Any]) -> None:
    if entry.get("refundStatus") in REFUNDED_ORDER:
        entry["refundStatus"] = OrderRefundStatus.NULL.value


def _pending_lines_shown_refunded(entry: dict[str, Any]) -> None:
    if entry.get("refundStatus") == OrderRefundStatus.REFUNDING.value:
        for line in entry.get("orderItems") or []:
            if line.get("refundStatus") == OrderRefundStatus.REFUNDING.value:
                line["refundStatus"] = OrderRefundStatus.REFUNDED.value


def _refund_of_another_order(request: Request, page: dict[str, Any]) -> None:
    for entry in page.get("list") or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            entry["id"] = entry["id"] + "0"


# -- tenancy, auth and 404s -----------------------------------------------------------------------


def _wrong_token_as_demo(request: Request) -> Request:
    token = request.token
    if token is None or token in KNOWN_TOKENS:
        return request
    return request.with_token(TOKEN)


def _as_the_other_merchant(request: Request, answer: Answer) -> Request | None:
    """What one merchant cannot see (a 404, an ``ids`` read with nothing): read it as the other."""
    other = {TOKEN: OTHER_TOKEN, OTHER_TOKEN: TOKEN}.get(request.token or "")
    if other is None:
        return None
    if request.operation == QUERY_REFUND and answer.status == 404:
        return request.with_token(other)
    if request.operation == QUERY_ORDER and request.param("ids") and answer.status == 200:
        body = answer.json()
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and data.get("total") == 0:
            return request.with_token(other)
    return None


def _unknown_order_as_empty_page(request: Request, answer: Answer) -> Answer:
    if request.operation != QUERY_REFUND or answer.status != 404:
        return answer
    size = request.param("pageSize")
    page = {
        "total": 0,
        "pageNumber": _page_number(request),
        "pageSize": int(size) if size and size.isdigit() else PAGE_SIZE_DEFAULT,
        "list": [],
    }
    envelope = {"code": 10000, "message": "success", "data": page}
    return answer.with_status(200).with_json(envelope)


# -- a refund number that changes between reads ---------------------------------------------------


def _refund_no_changes(request: Request, page: dict[str, Any]) -> None:
    if request.seen % 2 == 0:  # every second read of the same page
        return
    for entry in page.get("list") or []:
        if isinstance(entry, dict) and isinstance(entry.get("refundNo"), str):
            entry["refundNo"] = "9" + entry["refundNo"]


# -- Refund Order ---------------------------------------------------------------------------------


def _refund_order_code_10001(request: Request, body: dict[str, Any]) -> None:
    body["code"] = 10001


def _faulty(fault: str) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        return Faulty(app, fault=fault)

    return wrap


MUTANTS: tuple[Mutant, ...] = (
    # codes and statuses
    Mutant(
        "query-refund-ok-code-10001",
        QUERY_REFUND,
        "the envelope rule: a 200 carries code 10000",
        answer=_body_edit(QUERY_REFUND, _code_10001),
    ),
    Mutant(
        "not-found-with-code-40101",
        QUERY_REFUND,
        "the envelope rule: a 404 carries a code its response lists under x-codes (40401)",
        answer=_body_edit(QUERY_REFUND, _not_found_code_40101, status=404),
    ),
    Mutant(
        "query-order-ok-as-201",
        QUERY_ORDER,
        "Query Order answers 200 (201 is not a documented status)",
        answer=_ok_as_201,
    ),
    Mutant(
        "unauthorized-as-403",
        ANY_OPERATION,
        "a missing or bad token is 401 (403 is not a documented status)",
        answer=_unauthorized_as_403,
    ),
    # required fields, types and enums
    Mutant(
        "query-order-without-message",
        QUERY_ORDER,
        "the envelope's message is required",
        answer=_body_edit(QUERY_ORDER, _drop_message),
    ),
    Mutant(
        "query-order-total-as-string",
        QUERY_ORDER,
        "OrderPage.total is an integer",
        answer=_page_edit(QUERY_ORDER, _total_as_string),
    ),
    Mutant(
        "refund-status-off-enum",
        QUERY_REFUND,
        "Refund.refundStatus is one of the RefundStatus enum",
        answer=_each_entry(QUERY_REFUND, _refund_status_off_enum),
    ),
    Mutant(
        "order-status-off-enum",
        QUERY_ORDER,
        "Order.status is one of the OrderStatus enum (or null)",
        answer=_page_edit(QUERY_ORDER, _order_status_off_enum),
    ),
    Mutant(
        "refund-no-as-integer",
        QUERY_REFUND,
        "Refund.refundNo is a digit string",
        answer=_each_entry(QUERY_REFUND, _refund_no_integer),
    ),
    Mutant(
        "order-id-as-integer",
        QUERY_ORDER,
        "Order.id is a string",
        answer=_each_entry(QUERY_ORDER, _order_id_integer),
    ),
    Mutant(
        "create-date-not-rfc3339",
        QUERY_ORDER,
        "Order.createDate is an RFC 3339 date-time (UTC Z)",
        answer=_each_entry(QUERY_ORDER, _create_date_not_rfc3339),
    ),
    # content types
    Mutant(
        "query-refund-as-text-plain",
        QUERY_REFUND,
        "Query Refund answers application/json (the body unchanged, the type text/plain)",
        answer=_query_refund_text_plain,
    ),
    # paging and filters
    Mutant(
        "query-order-total-off-by-one",
        QUERY_ORDER,
        "OrderPage: the pages together list total entries",
        answer=_page_edit(QUERY_ORDER, _total_plus_one),
    ),
    Mutant(
        "page-size-not-echoed",
        QUERY_ORDER,
        "OrderPage: pageSize echoes the request (its default when left out)",
        answer=_page_edit(QUERY_ORDER, _page_size_not_echoed),
    ),
    Mutant(
        "page-number-ignored",
        QUERY_ORDER,
        "OrderPage: page n lists its own entries; no entry appears on two pages",
        retry=_first_page_instead,
        answer=_page_edit(QUERY_ORDER, _echo_page_number),
    ),
    Mutant(
        "last-page-one-too-many",
        QUERY_ORDER,
        "OrderPage: page n lists min(pageSize, total - (n - 1) x pageSize) entries",
        answer=_page_edit(QUERY_ORDER, _one_extra_on_last_page),
    ),
    Mutant(
        "ids-filter-one-extra-order",
        QUERY_ORDER,
        "ids returns exactly the merchant's orders with those ids",
        retry=_every_order_instead,
        answer=_page_edit(QUERY_ORDER, _matching_ids_and_one_more),
    ),
    Mutant(
        "create-start-time-exclusive",
        QUERY_ORDER,
        "createStartTime is inclusive: an order created at that instant is listed",
        answer=_page_edit(QUERY_ORDER, _create_start_exclusive),
    ),
    Mutant(
        "update-time-filters-ignored",
        QUERY_ORDER,
        "updateStartTime and updateEndTime return exactly the orders modified in the range",
        retry=_without_update_filters,
    ),
    Mutant(
        "query-refund-total-off-by-one",
        QUERY_REFUND,
        "RefundPage: the pages together list total entries",
        answer=_page_edit(QUERY_REFUND, _total_plus_one),
    ),
    # totals and amounts
    Mutant(
        "refundable-plus-a-cent",
        QUERY_ORDER,
        "Order: refundableAmount = finalAmount - refundedAmount",
        answer=_each_entry(QUERY_ORDER, _refundable_plus_cent),
    ),
    Mutant(
        "final-not-the-sum",
        QUERY_ORDER,
        "Order: finalAmount = subTotalAmount + freightAmount - couponAmount",
        answer=_each_entry(QUERY_ORDER, _final_not_the_sum),
    ),
    Mutant(
        "line-total-not-amount-times-pieces",
        QUERY_ORDER,
        "OrderItem: total = amount x productNum",
        answer=_each_entry(QUERY_ORDER, _line_total_not_the_product),
    ),
    Mutant(
        "refunded-above-final",
        QUERY_ORDER,
        "Order: refundedAmount is never above finalAmount",
        answer=_each_entry(QUERY_ORDER, _refunded_above_final),
    ),
    # refund statuses against order statuses
    Mutant(
        "succeeded-refund-shown-pending",
        QUERY_REFUND,
        "Refund: pending_review only while the order is refunding; a settled status never changes",
        answer=_each_entry(QUERY_REFUND, _status_shown_as(SUCCEEDED, PENDING)),
    ),
    Mutant(
        "failed-refund-shown-successful",
        QUERY_REFUND,
        "Refund: refund_successfully only when the order shows a refund (partial_refund/refunded)",
        answer=_each_entry(QUERY_REFUND, _status_shown_as(FAILED, SUCCEEDED)),
    ),
    Mutant(
        "refunded-order-shows-null",
        QUERY_ORDER,
        "Order: refunded or partial_refund once a refund succeeded, not NULL",
        answer=_each_entry(QUERY_ORDER, _refunded_order_shows_null),
    ),
    Mutant(
        "pending-lines-shown-refunded",
        QUERY_ORDER,
        "OrderItem: refunded only when a refund succeeded (a pending one makes it refunding)",
        answer=_each_entry(QUERY_ORDER, _pending_lines_shown_refunded),
    ),
    Mutant(
        "refund-of-another-order",
        QUERY_REFUND,
        "Refund.id is the order the refund belongs to (the id queried)",
        answer=_page_edit(QUERY_REFUND, _refund_of_another_order),
    ),
    # tenancy, auth and 404s
    Mutant(
        "wrong-token-accepted",
        ANY_OPERATION,
        "a bad token is 401: the server does not answer it as a merchant",
        request=_wrong_token_as_demo,
    ),
    Mutant(
        "other-merchants-order-readable",
        QUERY_REFUND,
        "an order of another merchant is 404 (Query Order with its id lists nothing)",
        retry=_as_the_other_merchant,
    ),
    Mutant(
        "unknown-order-as-empty-page",
        QUERY_REFUND,
        "Query Refund of an order that does not exist is 404",
        answer=_unknown_order_as_empty_page,
    ),
    # a refund number that changes between reads
    Mutant(
        "refund-no-changes-between-reads",
        QUERY_REFUND,
        "RefundPage: a refund keeps its refundNo from one read to the next",
        answer=_page_edit(QUERY_REFUND, _refund_no_changes),
    ),
    # Refund Order: only refund mode sends it
    Mutant(
        "refund-order-ok-code-10001",
        REFUND_ORDER,
        "the envelope rule: Refund Order's 200 carries code 10000",
        answer=_body_edit(REFUND_ORDER, _refund_order_code_10001),
        unobservable=NEVER_SENT_READ_ONLY,
    ),
    # the faults of tests/proxy/faulty.py, the validating proxy's oracle
    Mutant(
        "faulty-status",
        ANY_OPERATION,
        "every answer has a documented status (418 is none)",
        wrap=_faulty("status"),
    ),
    Mutant(
        "faulty-content-type",
        ANY_OPERATION,
        "every answer is application/json",
        wrap=_faulty("content-type"),
    ),
    Mutant(
        "faulty-response-schema",
        ANY_OPERATION,
        "a page's total is required",
        wrap=_faulty("response-schema"),
    ),
    Mutant(
        "faulty-envelope",
        ANY_OPERATION,
        "the envelope rule: a 200 carries code 10000",
        wrap=_faulty("envelope"),
    ),
    Mutant(
        "faulty-parameters",
        QUERY_ORDER,
        "an invalid pageSize is 400 (the fault lets the server accept it)",
        wrap=_faulty("parameters"),
    ),
    Mutant(
        "faulty-paging",
        ANY_OPERATION,
        "a page's pageNumber echoes the request",
        wrap=_faulty("paging"),
    ),
    Mutant(
        "faulty-amounts",
        QUERY_ORDER,
        "Order: refundableAmount = finalAmount - refundedAmount",
        wrap=_faulty("amounts"),
    ),
    Mutant(
        "faulty-refund-listed",
        ANY_OPERATION,
        "every page lists what the account holds (the fault empties them)",
        wrap=_faulty("refund-listed"),
    ),
    Mutant(
        "faulty-settled-final",
        QUERY_REFUND,
        "a settled refund's status never changes (the fault shows it pending_review)",
        wrap=_faulty("settled-final"),
    ),
    Mutant(
        "faulty-request-body",
        REFUND_ORDER,
        "the server refunds the pieces the body names (the fault refunds the whole order)",
        wrap=_faulty("request-body"),
        unobservable=NEVER_SENT_READ_ONLY,
    ),
)
BY_NAME = {mutant.name: mutant for mutant in MUTANTS}
