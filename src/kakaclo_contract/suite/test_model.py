"""The server against the reference model (kakaclo_contract.model), step by step.

A hypothesis state machine sends random sequences of partial and whole-order
refunds, refunds meant to fail, replays and mismatches of keys, bursts of
concurrent refunds, queries and clock moves, among them moves to just before,
exactly at and just after a refund's due time and a key's expiry. After every
step it compares the answer's status and code, and every visible field of
Query Refund and Query Order of the orders involved, with what the model says.
Refund numbers and dates come from the answers; the model is never refreshed
from Query Order. A difference fails with the shrunk sequence as curl lines.

The sandbox's clock is frozen for the test (``POST /_sandbox/clock/freeze``,
on a whole second) and moved only by the machine, in-process and over a
network alike: the model's clock is the sandbox's to the bit (the same start,
the same additions), so no decision depends on how long a request took.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import shlex
from typing import Any

import httpx
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule
from kakaclo_client import spec_facts
from kakaclo_client.models import (
    CountryCode,
    ErrorCode,
    FinancialStatus,
    FulfillmentStatus,
    OrderRefundStatus,
    OrderStatus,
    StockStatus,
)

from kakaclo_contract import model
from kakaclo_contract.account import model_order
from kakaclo_contract.spec_check import SPEC, envelope_problem, operation_of
from kakaclo_contract.target import Target, select_target

TARGET = select_target()
NO_STATUS = OrderRefundStatus.NULL.value  # the vendor's "no refund status"
API = TARGET.path(spec_facts.QUERY_ORDERS.path)
# the demo orders of merchant A in each state, another merchant's, and one that does not exist
ORDERS = ("10001", "10002", "10003", "10004", "10006", "10007", "10090")
# an order in the one state the demo data lacks, added through the control surface
COMPLETED_ID = "10090"
COMPLETED_COUPON = 1.25  # the one coupon the suite sees: finalAmount must subtract it
COMPLETED_ORDER = {
    "id": COMPLETED_ID,
    "status": OrderStatus.COMPLETED.value,
    "financialStatus": FinancialStatus.PAID.value,
    "fulfillmentStatus": FulfillmentStatus.WAITING_TO_SHIP.value,
    "createDate": "2026-11-03T00:00:00Z",
    "payDate": "2026-11-03T00:00:04Z",
    "freightAmount": 2.5,
    "couponAmount": COMPLETED_COUPON,
    "orderItems": [
        {
            "id": "100901",
            "itemId": "120901",
            "skuCode": "FSZW08923_R_L_NUB",
            "countryCode": CountryCode.CN,
            "amount": 7.23,
            "productNum": 2,
        }
    ],
}
NOT_MINE = ("20001", "99999")
# refunds go mostly where they can succeed, so that keys, replays and settlements happen
REFUND_TARGETS = (
    *("10001", "10001", "10002", "10007", "10007", "10007"),
    *("10003", "10004", "10006", "10090"),
)
LINE_PICKS = (0, 0, 0, 1, 1, 1, 2)  # 2: a line the order does not have
STEPS = 25
# fields that change with refunds (compared with the model) or are dates (nullness only)
DYNAMIC = {"status", "refundStatus", "refundedAmount", "refundableAmount", "orderItems"}
DATES = {"modifyDate", "refundDate", "cancelDate"}
SENT_ONCE_REFUNDED = ("currencyCode", "couponAmount", "promotionAmount")
LINE_SENT_ONCE_REFUNDED = ("stockStatus", "fulfillmentStatus")
CLOCK = "/_sandbox/clock"
JSON_TYPE = {"Content-Type": "application/json"}  # every control POST says it, body-less too
# where the clock goes from a time bound the model knows, in seconds
SIDES = (-1, 1, 0)  # before (then at), after, at


class Transcript:
    """The requests of one example, as curl lines with the token redacted."""

    def __init__(self, target: Target) -> None:
        self.root = target.root
        self.lines: list[str] = []

    def add(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        """Record one request."""
        parts = ["curl", "-X", method, shlex.quote(self.root + path)]
        for name, value in (headers or {}).items():
            if name.lower() == "authorization":
                value = "Bearer $KAKACLO_TOKEN"
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if body is not None:
            parts += ["-H", "'Content-Type: application/json'", "-d", shlex.quote(json.dumps(body))]
        self.lines.append(" ".join(parts))

    def __str__(self) -> str:
        return "\n".join(["the sequence, as curl lines:", *self.lines])


def _number(answer: httpx.Response) -> str:
    return str(answer.json()["data"])


def _instant(text: str) -> float:
    """Epoch seconds of an ISO 8601 instant of the API (exact for whole seconds)."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _seconds_text(seconds: float) -> str:
    """A clock advance as the control surface takes it (at most 9 decimals); the model
    adds ``float()`` of this very text, as the sandbox does."""
    return f"{seconds:.9f}".rstrip("0").rstrip(".")


class ModelMachine(RuleBasedStateMachine):
    """The target and the model, side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.http: httpx.Client = TARGET.http()
        self.auth = {"Authorization": f"Bearer {TARGET.token}"}
        self.transcript = Transcript(TARGET)
        self.keys = 0
        # The first request sent with each key, whatever it was answered. The rules that
        # reuse keys draw from here, never from the model's stored keys: which refunds of a
        # concurrent burst succeed is the server's choice, and a precondition or a draw
        # that followed it would differ between cases hypothesis replays from one start.
        self.sent: dict[str, model.Request] = {}

    def teardown(self) -> None:
        self.http.close()

    # -- plumbing ------------------------------------------------------------------------

    def _advance(self, seconds: float) -> None:
        """Move the sandbox's clock and the model's by the same seconds."""
        text = _seconds_text(max(0.0, seconds))
        answer = self._send(
            "POST",
            f"{CLOCK}/advance",
            params={"seconds": text},
            headers={"Content-Type": "application/json"},
        )
        self._check(answer.status_code == 200, f"clock/advance: {answer.text[:200]}")
        self.model.advance(float(text))

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth, **kwargs.pop("headers", {})}
        query = httpx.QueryParams(kwargs.get("params") or {})
        shown = f"{path}?{query}" if query else path
        self.transcript.add(method, shown, kwargs.get("json"), headers)
        answer = self.http.request(method, path, headers=headers, **kwargs)
        self._conforms(answer)
        return answer

    def _conforms(self, answer: httpx.Response) -> None:
        """Every answer is one the spec documents, with a body its schema allows."""
        operation_id = operation_of(answer.request.method, answer.request.url.path)
        if operation_id is None:
            return
        _, _, operation = SPEC.operation(operation_id)
        where = f"{answer.request.method} {answer.request.url.path} -> {answer.status_code}"
        self._check(str(answer.status_code) in operation["responses"], f"{where}: undocumented")
        errors = SPEC.response_schema(operation_id, answer.status_code).errors(answer.json())
        self._check(not errors, f"{where}: the body breaks the spec: {errors}")
        broken = envelope_problem(operation_id, answer.status_code, answer.json())
        self._check(broken is None, f"{where}: {broken}")

    def _check(self, condition: bool, what: str) -> None:
        if not condition:
            raise AssertionError(f"{what}\n{self.transcript}")

    # -- start ---------------------------------------------------------------------------

    @initialize()
    def start_from_the_demo_data(self) -> None:
        TARGET.reset()
        self.transcript.add("POST", "/_sandbox/reset", headers=JSON_TYPE)
        # from here on the sandbox's time is the model's: it moves only by _advance
        frozen_at = _instant(TARGET.freeze_clock())
        self.transcript.add("POST", f"{CLOCK}/freeze", headers=JSON_TYPE)
        added = self._send("POST", "/_sandbox/orders", json=COMPLETED_ORDER)
        self._check(added.status_code == 200, f"POST /_sandbox/orders: {added.text[:200]}")
        info = self.http.get("/_sandbox/info").json()["data"]
        self._check(info["clock"]["frozen"] is True, f"after clock/freeze: {info['clock']}")
        orders = {}
        self.snapshots: dict[str, dict[str, Any]] = {}
        for order_id in ORDERS:
            answer = self._send("GET", API, params={"ids": order_id}).json()
            body = answer["data"]["list"][0]
            self.snapshots[order_id] = body
            orders[order_id] = model_order(body)
        # The vendor's form leaves couponAmount out of an order without a refund; the
        # suite knows the coupon of the order it added.
        orders[COMPLETED_ID].coupon_e4 = model.e4(COMPLETED_COUPON)
        for order_id, order in orders.items():
            shown = self.snapshots[order_id].get("finalAmount")
            self._check(
                shown is None or model.e4(shown) == order.final_e4(),
                f"order {order_id}: finalAmount {shown} is not subTotalAmount + freightAmount"
                f" - couponAmount ({order.final_e4() / model.E4})",
            )
        self.vendor_forms = self.snapshots["10001"]["refundStatus"] == NO_STATUS
        self.model = model.Model(
            orders=orders, settle_after=float(info["settings"]["settleAfterSeconds"]), now=frozen_at
        )

    # -- the steps -----------------------------------------------------------------------

    @rule(
        order_id=st.sampled_from(REFUND_TARGETS + NOT_MINE),
        picks=st.lists(
            st.tuples(st.sampled_from(LINE_PICKS), st.integers(1, 4)), min_size=1, max_size=3
        ),
        failing=st.booleans(),
        keyed=st.booleans(),
    )
    def refund_some_pieces(
        self, order_id: str, picks: list[tuple[int, int]], failing: bool, keyed: bool
    ) -> None:
        """Some pieces of some lines; index 2 names a line the order does not have."""
        lines = self.model.orders[order_id].lines if order_id in self.model.orders else []
        items = []
        for index, quantity in picks:
            if index < len(lines):
                line = lines[index]
                items.append(
                    model.Item(
                        line.item_id, line.sku_code, quantity, line.country_code or CountryCode.CN
                    )
                )
            else:
                items.append(model.Item("999999", "NO_SUCH_SKU", quantity, CountryCode.US))
        self._refund(self._request(order_id, tuple(items), failing, keyed))

    @rule(order_id=st.sampled_from(REFUND_TARGETS), failing=st.booleans(), keyed=st.booleans())
    def refund_the_whole_order(self, order_id: str, failing: bool, keyed: bool) -> None:
        """Everything still refundable."""
        self._refund(self._request(order_id, None, failing, keyed))

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data())
    def replay_a_key(self, data: st.DataObject) -> None:
        """The same key, order and body again (a key whose first request was refused
        stores nothing, so its replay is a new request)."""
        key = data.draw(st.sampled_from(sorted(self.sent)))
        self._refund(self.sent[key])

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data(), other_order=st.sampled_from(ORDERS))
    def reuse_a_key_for_something_else(self, data: st.DataObject, other_order: str) -> None:
        """A used key with another order, or another remark."""
        key = data.draw(st.sampled_from(sorted(self.sent)))
        first = self.sent[key]
        if other_order == first.order_id:
            other = model.Request(
                first.order_id, first.items, (first.remark or "") + " again", first.reason, key
            )
        else:
            other = model.Request(other_order, first.items, first.remark, first.reason, key)
        self._refund(other, remember=False)

    @rule(
        order_id=st.sampled_from(("10001", "10002", "10007")),
        picks=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 3)), min_size=2, max_size=3),
    )
    def burst_of_concurrent_refunds(self, order_id: str, picks: list[tuple[int, int]]) -> None:
        """Concurrent refunds of one order: the outcome equals some serial order."""
        lines = self.model.orders[order_id].lines
        requests = [
            model.Request(
                order_id,
                (
                    model.Item(
                        lines[i].item_id,
                        lines[i].sku_code,
                        q,
                        lines[i].country_code or CountryCode.CN,
                    ),
                ),
            )
            for i, q in picks
        ]
        for request in requests:
            self.transcript.add("POST", f"{API}/{order_id}/refund", request.body(), self.auth)
        answers = asyncio.run(self._send_together(requests))
        for answer in answers:
            self._conforms(answer)
        observed = [(a.status_code, a.json().get("code")) for a in answers]
        for permutation in itertools.permutations(range(len(requests))):
            trial = self.model.copy()
            numbers: list[int] = []
            matched = True
            for index in permutation:
                expected = trial.expect(requests[index])
                if (
                    expected.status,
                    ErrorCode.SUCCESS if expected.status == 200 else expected.code,
                ) != observed[index]:
                    matched = False
                    break
                if expected.status == 200:
                    numbers.append(int(_number(answers[index])))
                    trial.apply(requests[index], expected, _number(answers[index]))
            if matched and numbers == sorted(numbers):
                for index in permutation:
                    expected = self.model.expect(requests[index])
                    if expected.status == 200:
                        self._created(requests[index], expected, answers[index])
                break
        else:
            self._check(False, f"no serial order of the burst gives {observed}")
        self._compare(order_id)

    @rule(seconds=st.sampled_from([1, 3, 5, 10, 3600, 90_000]))
    def let_time_pass(self, seconds: int) -> None:
        """The sandbox's clock moves; due refunds settle, keys older than 24 h expire."""
        self._advance(seconds)
        for order_id in ORDERS:
            self._compare(order_id)

    # The two time bounds the model knows, each checked 1 s before (then at), at, and 1 s
    # after it. Nothing is drawn from the model's state (the bound is computed from it), so
    # every case draws alike whatever the server chose in a burst.

    @rule(side=st.sampled_from(SIDES))
    def step_to_a_due_time(self, side: int) -> None:
        """The clock to ``side`` s from the due time of the newest pending refund (a new
        refund of one piece when none is pending), then the orders with pending refunds
        compared; from 1 s before, on to the due time and compared again."""
        if not self._pending_dues():
            self._refund_one_piece(keyed=False)
        dues = self._pending_dues()  # none with a settle-after of 0
        if not dues:
            event("time bound: no refund pending")
            return
        due = max(dues)
        pending = [
            order.id
            for order in self.model.orders.values()
            if any(refund.status == model.PENDING for refund in order.refunds)
        ]
        for offset in (side, 0) if side < 0 else (side,):
            self._advance(due + offset - self.model.now)
            event(f"time bound: settlement {offset:+d} s")
            for order_id in pending:
                self._compare(order_id)

    @rule(side=st.sampled_from(SIDES))
    def step_to_a_key_expiry(self, side: int) -> None:
        """The clock to ``side`` s from the end of the 24 hours of the newest live key (a
        new keyed refund of one piece when none lives), then its first request again;
        from 1 s before (a replay), on to the end and again (a new request)."""
        if not self._live_keys():
            self._refund_one_piece(keyed=True)
        live = self._live_keys()
        if not live:
            event("time bound: no key live")
            return
        key = max(live, key=lambda k: self.model.keys[k].stored_at)
        expiry = self.model.keys[key].stored_at + model.KEY_LIFETIME
        for offset in (side, 0) if side < 0 else (side,):
            self._advance(expiry + offset - self.model.now)
            event(f"time bound: key expiry {offset:+d} s")
            self._refund(self.sent[key])

    @rule(order_id=st.sampled_from(ORDERS))
    def query(self, order_id: str) -> None:
        """Query Refund and Query Order of one order."""
        self._compare(order_id)

    @rule(order_ids=st.lists(st.sampled_from(ORDERS + NOT_MINE), min_size=2, max_size=5))
    def query_several_orders(self, order_ids: list[str]) -> None:
        """Query Order with several ids: the caller's among them, as the model says."""
        self.model.settle_due()
        page = self._send("GET", API, params={"ids": ",".join(order_ids)}).json()["data"]
        mine = {order_id for order_id in order_ids if order_id in self.model.orders}
        listed = {order["id"]: order for order in page["list"]}
        self._check(set(listed) == mine and page["total"] == len(mine), f"listed {sorted(listed)}")
        for order_id, body in listed.items():
            self._compare_order(order_id, body)

    @rule(
        column=st.sampled_from(["create", "update"]),
        bounds=st.sampled_from(["both", "start", "end"]),
        data=st.data(),
    )
    def query_orders_by_time(self, column: str, bounds: str, data: st.DataObject) -> None:
        """A time range lists exactly the orders whose date (as the listing says) is in it."""
        if not self.model.settle_after.is_integer():
            # a settlement then sets a modifyDate with a fraction the answer does not show
            column = "create"
        listing = self._send("GET", API, params={"pageSize": spec_facts.PAGE_SIZE_MAXIMUM}).json()[
            "data"
        ]["list"]
        field = "createDate" if column == "create" else "modifyDate"
        when = {order["id"]: order[field] for order in listing}
        moments = st.sampled_from(sorted(when.values()))
        start, end = sorted(data.draw(st.lists(moments, min_size=2, max_size=2)))
        params = {}
        if bounds in ("both", "start"):
            params[f"{column}StartTime"] = start
        if bounds in ("both", "end"):
            params[f"{column}EndTime"] = end
        expected = {
            order_id
            for order_id, moment in when.items()
            if (f"{column}StartTime" not in params or moment >= start)
            and (f"{column}EndTime" not in params or moment <= end)
        }
        page = self._send(
            "GET", API, params={**params, "pageSize": spec_facts.PAGE_SIZE_MAXIMUM}
        ).json()["data"]
        listed = [order["id"] for order in page["list"]]
        self._check(set(listed) == expected, f"{params} listed {listed}, not {sorted(expected)}")
        self._check(page["total"] == len(expected), f"{params}: total {page['total']}")
        created = {order["id"]: order["createDate"] for order in listing}
        newest_first = sorted(listed, key=lambda i: (created[i], i), reverse=True)
        self._check(listed == newest_first, f"{params}: not newest first: {listed}")

    # -- helpers of the steps ------------------------------------------------------------

    def _request(
        self, order_id: str, items: tuple[model.Item, ...] | None, failing: bool, keyed: bool
    ) -> model.Request:
        key = None
        if keyed:
            self.keys += 1
            key = f"model-{self.keys}"
        remark = "[fail] on purpose" if failing else "please"
        return model.Request(order_id, items, remark, model.DEFAULT_REASON, key)

    def _pending_dues(self) -> list[float]:
        return [
            refund.due
            for order in self.model.orders.values()
            for refund in order.refunds
            if refund.status == model.PENDING
        ]

    def _live_keys(self) -> list[str]:
        return [key for key in self.sent if self.model.live_key(key) is not None]

    def _refund_one_piece(self, keyed: bool) -> bool:
        """Refund one piece of the first line the model says is refundable; True if sent."""
        for order_id in dict.fromkeys(REFUND_TARGETS):
            order = self.model.orders[order_id]
            for line in order.lines:
                item = model.Item(
                    line.item_id, line.sku_code, 1, line.country_code or CountryCode.CN
                )
                if self.model.expect(model.Request(order_id, (item,))).plan is not None:
                    self._refund(self._request(order_id, (item,), failing=False, keyed=keyed))
                    return True
        return False

    async def _send_together(self, requests: list[model.Request]) -> list[httpx.Response]:
        async with TARGET.async_http() as http:
            return list(
                await asyncio.gather(
                    *(
                        http.post(f"{API}/{r.order_id}/refund", json=r.body(), headers=self.auth)
                        for r in requests
                    )
                )
            )

    def _refund(self, request: model.Request, remember: bool = True) -> None:
        if request.key and remember:
            self.sent.setdefault(request.key, request)
        expected = self.model.expect(request)
        headers = {"Idempotency-Key": request.key} if request.key else {}
        answer = self._send(
            "POST", f"{API}/{request.order_id}/refund", json=request.body(), headers=headers
        )
        code = answer.json().get("code")
        self._check(
            (answer.status_code, code)
            == (expected.status, ErrorCode.SUCCESS if expected.status == 200 else expected.code),
            f"Refund Order answered {answer.status_code} {code}; the model says "
            f"{expected.status} {expected.code or ''}: {answer.text[:300]}",
        )
        message = str(answer.json().get("message"))
        for named in expected.names(request.order_id):
            self._check(
                message.startswith(named) or f" {named}" in message,
                f"the message of {expected.code} does not name {named!r}: {message!r}",
            )
        if expected.replay_of is not None:
            self._check(_number(answer) == expected.replay_of, f"a replay answered {answer.text}")
        elif expected.status == 200:
            self._created(request, expected, answer)
        if request.order_id in self.model.orders:
            self._compare(request.order_id)

    def _created(
        self, request: model.Request, expected: model.Expected, answer: httpx.Response
    ) -> None:
        number = _number(answer)
        self._check(number.isdigit(), f"refund number {number!r}")
        self.model.apply(request, expected, number)

    # -- comparing -----------------------------------------------------------------------

    def _compare(self, order_id: str) -> None:
        self.model.settle_due()  # a settle-after of 0: due as soon as created
        order = self.model.orders[order_id]
        # Query Order first: it must settle what is due by itself
        body = self._send("GET", API, params={"ids": order_id}).json()["data"]["list"][0]
        self._compare_order(order_id, body)
        refunds = self._send(
            "GET", f"{API}/refund/{order_id}", params={"pageSize": spec_facts.PAGE_SIZE_MAXIMUM}
        ).json()["data"]
        expected_refunds = [
            self._refund_entry(r) for r in sorted(order.refunds, key=lambda r: -int(r.number))
        ]
        self._check(
            refunds["total"] == len(order.refunds), f"Query Refund total {refunds['total']}"
        )
        self._check(
            refunds["list"] == expected_refunds,
            f"Query Refund of {order_id}: {refunds['list']} != {expected_refunds}",
        )

    def _compare_order(self, order_id: str, body: dict[str, Any]) -> None:
        """One order of a Query Order answer against the model, field by field."""
        order = self.model.orders[order_id]
        expected_order = self._order_view(order)
        for key in set(body) | set(expected_order):
            if key in DATES:
                continue
            self._check(
                body.get(key, "<absent>") == expected_order.get(key, "<absent>"),
                f"Query Order {order_id}: {key} is {body.get(key, '<absent>')!r}, "
                f"the model says {expected_order.get(key, '<absent>')!r}",
            )
        self._check(
            (body.get("cancelDate") is not None) == (order.status == OrderStatus.CANCEL),
            f"Query Order {order_id}: cancelDate {body.get('cancelDate')!r}, status {order.status}",
        )
        succeeded = any(r.status == model.SUCCEEDED for r in order.refunds)
        initially = self.snapshots[order_id].get("refundDate") is not None
        self._check(
            (body.get("refundDate") is not None) == (succeeded or initially),
            f"Query Order {order_id}: refundDate {body.get('refundDate')!r}",
        )

    @staticmethod
    def _refund_entry(refund: model.Refund) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "refundNo": refund.number,
            "refundStatus": refund.status,
            "id": refund.order_id,
        }
        if refund.remark is not None:
            entry["remark"] = refund.remark
        return entry

    def _order_view(self, order: model.Order) -> dict[str, Any]:
        """The order as Query Order must show it: static fields from the snapshot, the rest
        from the model."""
        view = {k: v for k, v in self.snapshots[order.id].items() if k not in DYNAMIC}
        status = order.refund_status()
        shown_status = status if status is not None or not self.vendor_forms else NO_STATUS
        view["status"] = order.status
        view["refundStatus"] = shown_status
        left_out = self.vendor_forms and status is None
        for key in SENT_ONCE_REFUNDED:
            view.pop(key, None)
        if not left_out:
            view["currencyCode"] = "USD"
            view["couponAmount"] = order.coupon_e4 / model.E4
            view["promotionAmount"] = 0.0
            view["refundedAmount"] = round(order.refunded_e4() / model.E4, 4)
            view["refundableAmount"] = round(order.refundable_e4() / model.E4, 4)
        view["orderItems"] = []
        for line, shown in zip(order.lines, self.snapshots[order.id]["orderItems"], strict=True):
            entry = {k: v for k, v in shown.items() if k not in LINE_SENT_ONCE_REFUNDED}
            line_status = line.refund_status()
            entry["refundStatus"] = (
                line_status if line_status or not self.vendor_forms else NO_STATUS
            )
            if not left_out:
                entry["stockStatus"] = StockStatus.NORMAL.value
                entry["fulfillmentStatus"] = order.fulfillment_status
            view["orderItems"].append(entry)
        return view


def test_the_server_follows_the_model() -> None:
    TARGET.require_sandbox("resets the data, moves the clock and makes refunds fail on purpose")
    TARGET.renew()  # in-process: a new sandbox, its set-up run under this test too
    # longer sequences than the profile's: keys, replays and settlements need a few steps
    case = ModelMachine.TestCase
    case.settings = settings(parent=settings.default, stateful_step_count=STEPS)
    try:
        case().runTest()
    finally:
        TARGET.resume_clock()  # running again, as a fresh sandbox's clock
