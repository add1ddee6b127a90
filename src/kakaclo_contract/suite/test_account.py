"""Read the whole account, bounded, and check everything it shows (read-only, any server).

The walk lists Query Order page by page (up to ``--max-orders``, created up to
the run's start, so orders created during the run change nothing), then Query
Refund of every order listed (up to ``--max-refund-pages`` each), the filters
over what it walked, ids that do not exist, and, with ``--other-token``, the
other merchant's view. It sends no refund and changes nothing. Each test below
checks one rule of openapi.yaml over what the walk read (``kakaclo_contract.account``).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest
from kakaclo_client import spec_facts

from kakaclo_contract import account
from kakaclo_contract.account import PageRead
from kakaclo_contract.spec_check import SPEC, ResponseAudit
from kakaclo_contract.target import OTHER_MERCHANT_TOKEN, select_target

TARGET = select_target()
ORDERS = TARGET.path(spec_facts.QUERY_ORDERS.path)
REFUNDS = TARGET.path(spec_facts.QUERY_REFUND.path)
# The walk's window ends when the run starts (whole seconds, the vendor's precision).
WINDOW_END = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
REFUND_PAGE_SIZE = 2  # small, so an order with a few refunds is read over several pages
PAGES_PER_WALK = 4  # Query Order's walk reads about this many pages (more past 1,000 orders)
# order ids no account holds: the smallest and the largest the OrderId pattern allows
UNKNOWN_IDS = ("0", "9" * 20)
FILTER_SAMPLE = 5  # ids asked for at once by the ids filter check
STABILITY_SAMPLE = 5  # orders whose refunds are read a second time
TENANCY_SAMPLE = 3  # orders of each merchant the other one asks for


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Walk:
    """What the walk read, and what it found wrong on the way."""

    audit: ResponseAudit = field(default_factory=lambda: ResponseAudit(observe_coverage=False))
    order_pages: list[PageRead] = field(default_factory=list)
    orders_complete: bool = False
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_pages: dict[str, list[PageRead]] = field(default_factory=dict)
    refunds_complete: dict[str, bool] = field(default_factory=dict)
    default_page: PageRead | None = None
    past_the_last: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)
    tenancy: list[str] = field(default_factory=list)
    tenancy_checked: int = 0
    unexpected: list[str] = field(default_factory=list)

    def refunds_of(self, order_id: str) -> list[Any]:
        """The refunds the walk listed for one order, every page."""
        return [entry for page in self.refund_pages.get(order_id, []) for entry in page.entries]


class Reader:
    """GET requests of one token, each answer checked against the spec as it comes."""

    def __init__(self, http: httpx.Client, walk: Walk, token: str) -> None:
        self.http, self.walk, self.token = http, walk, token

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        """Status and JSON body (None when the body is not JSON)."""
        answer = self.http.get(
            path, params=params, headers={"Authorization": f"Bearer {self.token}"}
        )
        self.walk.audit(answer)
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return answer.status_code, None

    def data(self, path: str, params: dict[str, Any]) -> Any:
        """The ``data`` of an answer that must be 200 (a note in ``unexpected`` otherwise)."""
        status, body = self.get(path, params)
        if status != 200 or not isinstance(body, dict):
            self.walk.unexpected.append(f"GET {path} {params} answered {status}, not 200")
            return None
        return body.get("data")

    def page(self, path: str, number: int, size: int, **params: Any) -> PageRead:
        """One page of a listing."""
        return PageRead(
            number, size, self.data(path, {**params, "pageNumber": number, "pageSize": size})
        )

    def listing(
        self, path: str, size: int, most_pages: int, **params: Any
    ) -> tuple[list[PageRead], bool]:
        """Pages 1, 2, ... up to the last or ``most_pages``; True when the last was read."""
        pages = [self.page(path, 1, size, **params)]
        total = pages[0].total if isinstance(pages[0].total, int) else 0
        last = account.last_page(total, size)
        while len(pages) < min(last, most_pages):
            pages.append(self.page(path, len(pages) + 1, size, **params))
        return pages, len(pages) >= last


def _orders_of(pages: list[PageRead]) -> dict[str, dict[str, Any]]:
    return {str(entry["id"]): entry for page in pages for entry in page.entries if _has_id(entry)}


def _has_id(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("id"), str)


def _walk_orders(reader: Reader, walk: Walk) -> None:
    most = TARGET.settings.max_orders
    window = {"createEndTime": _iso(WINDOW_END)}
    probe = reader.page(ORDERS, 1, 1, **window)
    total = probe.total if isinstance(probe.total, int) else 0
    size = max(1, min(spec_facts.PAGE_SIZE_MAXIMUM, math.ceil(min(total, most) / PAGES_PER_WALK)))
    most_pages = max(1, math.ceil(most / size))
    walk.order_pages, walk.orders_complete = reader.listing(ORDERS, size, most_pages, **window)
    if walk.orders_complete:
        beyond = reader.page(ORDERS, len(walk.order_pages) + 1, size, **window)
        walk.order_pages.append(beyond)
        if beyond.entries:
            walk.past_the_last.append(
                f"Query Order page {beyond.number} (past the last) lists {len(beyond.entries)}"
            )
    walk.orders = dict(list(_orders_of(walk.order_pages).items())[:most])


def _walk_refunds(reader: Reader, walk: Walk) -> None:
    most_pages = TARGET.settings.max_refund_pages
    for order_id in walk.orders:
        path = REFUNDS.format(id=order_id)
        pages, complete = reader.listing(path, REFUND_PAGE_SIZE, most_pages)
        total = pages[0].total if isinstance(pages[0].total, int) else 0
        if not complete and total <= spec_facts.PAGE_SIZE_MAXIMUM * most_pages:
            # more refunds than small pages hold: list them again in pages that do
            size = min(spec_facts.PAGE_SIZE_MAXIMUM, math.ceil(total / most_pages))
            pages, complete = reader.listing(path, size, most_pages)
        walk.refund_pages[order_id] = pages
        walk.refunds_complete[order_id] = complete
    with_refunds = [o for o in walk.orders if walk.refunds_of(o)]
    if with_refunds:
        # the defaults are echoed when pageNumber and pageSize are left out
        path = REFUNDS.format(id=with_refunds[0])
        walk.default_page = PageRead(
            spec_facts.PAGE_NUMBER_DEFAULT, spec_facts.PAGE_SIZE_DEFAULT, reader.data(path, {})
        )
        total = len(walk.refunds_of(with_refunds[0]))
        beyond = reader.page(path, account.last_page(total, REFUND_PAGE_SIZE) + 1, REFUND_PAGE_SIZE)
        if beyond.entries:
            walk.past_the_last.append(
                f"Query Refund of {with_refunds[0]}, page {beyond.number} (past the last) lists "
                f"{len(beyond.entries)}"
            )


def _everything(reader: Reader, **params: Any) -> dict[str, dict[str, Any]] | None:
    """Every order matching ``params`` (bounded like the walk); None past the bound."""
    size = spec_facts.PAGE_SIZE_MAXIMUM
    most_pages = max(1, math.ceil(TARGET.settings.max_orders / size))
    pages, complete = reader.listing(ORDERS, size, most_pages, **params)
    return _orders_of(pages) if complete else None


def _check_filter(reader: Reader, walk: Walk, field_name: str, start: str | None, end: str) -> None:
    """One time filter: exactly the walked orders in range (inside the walked window)."""
    prefix = "create" if field_name == "createDate" else "update"
    params = {f"{prefix}EndTime": end} | ({f"{prefix}StartTime": start} if start else {})
    got = _everything(reader, **params)
    if got is None:
        return  # more matches than the bound: nothing to compare exactly
    low, high = account.instant(start), account.instant(end)
    wanted = account.filtered(walk.orders.values(), field_name, low, high)
    described = f"Query Order {params}"
    for order_id, order in got.items():
        if order_id not in account.filtered([order], field_name, low, high):
            walk.filters.append(
                f"{described} lists {order_id}, {field_name} {order.get(field_name)}"
            )
        elif walk.orders_complete and order_id not in walk.orders and field_name == "createDate":
            walk.filters.append(f"{described} lists {order_id}, which Query Order never listed")
    for order_id in sorted(wanted - set(got)):
        if field_name == "modifyDate":  # it may have changed since the walk: read it again
            again = _everything(reader, ids=order_id) or {}
            if order_id not in account.filtered(again.values(), field_name, low, high):
                continue
        walk.filters.append(
            f"{described} leaves out {order_id}, {field_name} "
            f"{walk.orders[order_id].get(field_name)}"
        )


def _check_filters(reader: Reader, walk: Walk) -> None:
    ids = list(walk.orders)
    if not ids:
        return
    sample = ids[:: max(1, len(ids) // FILTER_SAMPLE)][:FILTER_SAMPLE]
    got = _everything(reader, ids=",".join([*sample, UNKNOWN_IDS[0]]))
    listed = sorted(got or {})
    if got is not None and listed != sorted(sample):
        walk.filters.append(f"Query Order ids={','.join(sample)},0 lists {listed}")
    for field_name in ("createDate", "modifyDate"):
        dated = sorted(
            (moment, order_id)
            for order_id, order in walk.orders.items()
            if (moment := account.instant(order.get(field_name))) is not None
            and moment <= WINDOW_END
        )
        if not dated:
            continue
        middle = _iso(dated[len(dated) // 2][0])
        _check_filter(reader, walk, field_name, middle, _iso(WINDOW_END))  # start included
        _check_filter(reader, walk, field_name, None, middle)  # end included


def _check_unknown_ids(reader: Reader, walk: Walk) -> None:
    for order_id in UNKNOWN_IDS:
        status, _ = reader.get(REFUNDS.format(id=order_id))
        if status != 404:
            walk.unknown.append(
                f"Query Refund of order {order_id}, which no account holds: {status}"
            )
    got = _everything(reader, ids=",".join(UNKNOWN_IDS))
    if got:
        walk.unknown.append(f"Query Order ids={','.join(UNKNOWN_IDS)} lists {sorted(got)}")


def example_order_ids() -> list[str]:
    """The order ids the spec's examples name (the vendor's, which the demo data holds too)."""
    found: list[str] = []
    for _, _, operation in SPEC.operations():
        for parameter in map(SPEC.resolve, operation.get("parameters", [])):
            if parameter.get("name") in {"id", "ids"}:
                named = [SPEC.resolve(e)["value"] for e in parameter.get("examples", {}).values()]
                for value in [*named, *([parameter["example"]] if "example" in parameter else [])]:
                    found += str(value).split(",")
        media = SPEC.resolve(operation["responses"]["200"])["content"]["application/json"]
        for example in media.get("examples", {}).values():
            data = SPEC.resolve(example)["value"].get("data")
            for entry in data.get("list", []) if isinstance(data, dict) else []:
                found.append(str(entry.get("id")))
    return sorted({order_id for order_id in found if order_id.isdigit()})


def _check_listed(reader: Reader, walk: Walk) -> None:
    """An order whose refunds Query Refund answers is the caller's, so Query Order lists it."""
    for order_id in example_order_ids():
        if order_id in walk.orders:
            continue
        status, _ = reader.get(REFUNDS.format(id=order_id))
        if status == 200 and not _everything(reader, ids=order_id):
            walk.unlisted.append(
                f"Query Refund of order {order_id} answered 200, but Query Order ids={order_id} "
                "does not list it"
            )


def _check_stability(reader: Reader, walk: Walk) -> None:
    """A refund keeps its number, and a settled one its status, from one read to the next."""
    with_refunds = [o for o in walk.orders if walk.refunds_of(o)][:STABILITY_SAMPLE]
    for order_id in with_refunds:
        first = walk.refund_pages[order_id][0]
        again = reader.page(REFUNDS.format(id=order_id), 1, first.size)
        before = [(r.get("refundNo"), r.get("refundStatus")) for r in first.entries if _is(r)]
        after = [(r.get("refundNo"), r.get("refundStatus")) for r in again.entries if _is(r)]
        if [n for n, _ in before] != [n for n, _ in after]:
            walk.unstable.append(
                f"Query Refund of {order_id}, page 1 read twice: refund numbers "
                f"{[n for n, _ in before]}, then {[n for n, _ in after]}"
            )
            continue
        for (number, was), (_, now) in zip(before, after, strict=True):
            if was in account.SETTLED and now != was:
                walk.unstable.append(f"refund {number} of {order_id} settled {was}, then {now}")


def _is(entry: Any) -> bool:
    return isinstance(entry, dict)


def _check_tenancy(reader: Reader, other: Reader, walk: Walk) -> None:
    """Each merchant's orders are 404 to the other, and the other way round."""
    theirs = _everything(other, createEndTime=_iso(WINDOW_END)) or {}
    shared = sorted(set(theirs) & set(walk.orders))
    if shared:
        walk.tenancy.append(f"both tokens list orders {shared[:5]}")
    for asking, owner_ids, whose in (
        (other, list(walk.orders)[:TENANCY_SAMPLE], "this token's"),
        (reader, [i for i in theirs if i not in walk.orders][:TENANCY_SAMPLE], "the other's"),
    ):
        for order_id in owner_ids:
            walk.tenancy_checked += 1
            status, _ = asking.get(REFUNDS.format(id=order_id))
            if status != 404:
                walk.tenancy.append(f"Query Refund of {whose} order {order_id} answered {status}")
        if owner_ids:
            got = _everything(asking, ids=",".join(owner_ids))
            if got:
                walk.tenancy.append(f"Query Order ids= of {whose} orders lists {sorted(got)}")


def _other_token() -> str | None:
    return TARGET.settings.other_token or (OTHER_MERCHANT_TOKEN if TARGET.in_process else None)


@cache
def walked() -> Walk:
    """The walk, done once for the module's tests."""
    walk = Walk()
    with TARGET.http() as http:
        reader = Reader(http, walk, TARGET.token)
        _walk_orders(reader, walk)
        _walk_refunds(reader, walk)
        _check_filters(reader, walk)
        _check_unknown_ids(reader, walk)
        _check_listed(reader, walk)
        _check_stability(reader, walk)
        other = _other_token()
        if other is not None:
            _check_tenancy(reader, Reader(http, walk, other), walk)
    return walk


def _fail_on(problems: list[str], what: str) -> None:
    shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
    assert not problems, f"{what}:\n" + "\n".join(shown)


def _need_orders(walk: Walk) -> None:
    if not walk.orders:
        pytest.skip("Query Order lists no order for this token: nothing to compare")


def test_every_answer_of_the_walk_conforms() -> None:
    walk = walked()
    _fail_on(walk.audit.problems + walk.unexpected, "answers that break openapi.yaml")


def test_query_order_pages_add_up() -> None:
    walk = walked()
    problems = account.paging_problems(
        "Query Order",
        walk.order_pages,
        lambda o: o.get("id") if _is(o) else o,
        complete=walk.orders_complete,
    )
    _fail_on(problems + [p for p in walk.past_the_last if p.startswith("Query Order")], "paging")


def test_query_refund_pages_add_up() -> None:
    walk = walked()
    _need_orders(walk)
    problems: list[str] = []
    for order_id, pages in walk.refund_pages.items():
        problems += account.paging_problems(
            f"Query Refund of {order_id}",
            pages,
            lambda r: r.get("refundNo") if _is(r) else r,
            complete=walk.refunds_complete[order_id],
        )
    if walk.default_page is not None:
        problems += account.paging_problems(
            "Query Refund without pageNumber and pageSize",
            [walk.default_page],
            lambda r: r.get("refundNo") if _is(r) else r,
            complete=False,
        )
    _fail_on(problems + [p for p in walk.past_the_last if p.startswith("Query Refund")], "paging")


def test_filters_return_exactly_the_matching_orders() -> None:
    walk = walked()
    _need_orders(walk)
    _fail_on(walk.filters, "filters")


def test_amounts_follow_the_money_rules() -> None:
    walk = walked()
    _need_orders(walk)
    _fail_on([p for o in walk.orders.values() for p in account.amount_problems(o)], "amounts")


def test_refund_statuses_agree_with_their_orders() -> None:
    walk = walked()
    _need_orders(walk)
    problems = [
        problem
        for order_id, order in walk.orders.items()
        for problem in account.status_problems(
            order, walk.refunds_of(order_id), complete=walk.refunds_complete.get(order_id, False)
        )
    ]
    _fail_on(problems, "refund statuses")


def test_ids_that_do_not_exist_are_404() -> None:
    _fail_on(walked().unknown, "unknown ids")


def test_an_order_query_refund_answers_is_listed() -> None:
    _fail_on(walked().unlisted, "orders Query Order does not list")


def test_refund_numbers_and_settled_statuses_stay() -> None:
    walk = walked()
    _need_orders(walk)
    _fail_on(walk.unstable, "refunds changed between two reads")


def test_another_merchant_sees_none_of_these_orders() -> None:
    if _other_token() is None:
        pytest.skip(
            "no other merchant's token: pass --other-token (or KAKACLO_OTHER_TOKEN) to check "
            "that each merchant's orders are 404 to the other"
        )
    walk = walked()
    _need_orders(walk)
    _fail_on(walk.tenancy, "one merchant sees another's orders")
    assert walk.tenancy_checked > 0
