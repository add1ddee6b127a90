"""Business properties no schema expresses, as a hypothesis state machine against a sandbox.

- the refunded and pending pieces of a line never exceed its quantity, and the
  server refuses exactly the requests that would exceed it;
- refundableAmount = finalAmount - refundedAmount at every step (both are left
  out of an order without a refund, refundStatus "NULL", as the vendor does);
- a settled refund never changes again, and every refund is pending until its
  time has come and settled from then on (``settleAfterSeconds`` of the
  sandbox's clock, frozen for the test and moved only by the machine);
- an idempotent replay never creates a second refund.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from kakaclo_client import spec_facts
from kakaclo_client.models import ErrorCode, OrderRefundStatus, RefundStatus

from kakaclo_contract.spec_check import SETTLED
from kakaclo_contract.target import select_target

TARGET = select_target()
API = TARGET.path(spec_facts.QUERY_ORDERS.path)
SKU = "FSZW08923_R_L_NUB"
ORDERS = ("10001", "10007")


@dataclass
class SentRefund:
    """A refund the machine created, and the pieces it took."""

    order_id: str
    pieces: dict[tuple[str, str], int]  # (itemId, countryCode) -> quantity
    key: str | None
    body: dict[str, Any]
    created: float  # seconds the machine moved the clock before it was sent


@dataclass
class Model:
    """What the machine knows about the sandbox."""

    lines: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)
    refunds: dict[str, SentRefund] = field(default_factory=dict)
    settled: dict[str, str] = field(default_factory=dict)


class RefundMachine(RuleBasedStateMachine):
    """Random refunds, replays and clock moves, with the invariants checked after each step."""

    def __init__(self) -> None:
        super().__init__()
        self.http: httpx.Client = TARGET.http()
        self.auth = {"Authorization": f"Bearer {TARGET.token}"}
        self.model = Model()
        self.statuses: dict[str, str] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.elapsed = 0.0  # seconds the machine moved the sandbox's clock
        settings = (TARGET.sandbox_info or {}).get("settings", {})
        self.settle_after = float(settings.get("settleAfterSeconds", 5))

    def teardown(self) -> None:
        self.http.close()

    @initialize()
    def start_from_the_demo_data(self) -> None:
        TARGET.reset()
        TARGET.freeze_clock()  # over a network too, time passes only in let_time_pass
        for order_id in ORDERS:
            self.model.lines[order_id] = {
                (line["itemId"], line["countryCode"]): line["productNum"]
                for line in self._order(order_id)["orderItems"]
            }
        self._observe()

    # -- observation -------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        page = self.http.get(API, params={"ids": order_id}, headers=self.auth).json()["data"]
        return dict(page["list"][0])

    def _observe(self) -> None:
        self.statuses = {}
        for order_id in ORDERS:
            answer = self.http.get(
                f"{API}/refund/{order_id}",
                params={"pageSize": spec_facts.PAGE_SIZE_MAXIMUM},
                headers=self.auth,
            ).json()
            self.statuses.update({r["refundNo"]: r["refundStatus"] for r in answer["data"]["list"]})
            self.orders[order_id] = self._order(order_id)

    def _reserved(self, order_id: str, line: tuple[str, str]) -> int:
        return sum(
            refund.pieces.get(line, 0)
            for number, refund in self.model.refunds.items()
            if refund.order_id == order_id
            and self.statuses.get(number) != RefundStatus.REFUND_FAILED
        )

    def _fail_may_release(self, order_id: str) -> bool:
        return any(
            refund.order_id == order_id
            and self.statuses.get(number) == RefundStatus.PENDING_REVIEW
            and "[fail]" in str(refund.body.get("remark", ""))
            for number, refund in self.model.refunds.items()
        )

    # -- rules -------------------------------------------------------------

    @rule(
        order_id=st.sampled_from(ORDERS),
        line_index=st.integers(0, 1),
        quantity=st.integers(1, 6),
        failing=st.booleans(),
        keyed=st.booleans(),
    )
    def refund_some_pieces(
        self, order_id: str, line_index: int, quantity: int, failing: bool, keyed: bool
    ) -> None:
        line = sorted(self.model.lines[order_id])[line_index]
        body = {
            "remark": "[fail] please" if failing else "please",
            "orderItems": [
                {"itemId": line[0], "skuCode": SKU, "quantity": quantity, "countryCode": line[1]}
            ],
        }
        fits = self._reserved(order_id, line) + quantity <= self.model.lines[order_id][line]
        may_release = self._fail_may_release(order_id)
        key = f"machine-{len(self.model.refunds)}" if keyed else None
        answer = self._send(order_id, body, key)
        self._observe()
        if answer.status_code == 200:
            self.model.refunds[answer.json()["data"]] = SentRefund(
                order_id, {line: quantity}, key, body, self.elapsed
            )
            assert fits or may_release, f"over-refund accepted: {body}"
        else:
            assert answer.status_code == 409, answer.text
            code = answer.json()["code"]
            if code == ErrorCode.QUANTITY_EXCEEDS_REFUNDABLE:
                assert not fits, f"refused although {quantity} pieces fit: {answer.text}"
            else:
                assert code == ErrorCode.ORDER_NOT_REFUNDABLE, (
                    answer.text
                )  # a fully refunded order is cancelled

    @rule(order_id=st.sampled_from(ORDERS))
    def refund_the_whole_order(self, order_id: str) -> None:
        before = {line: self._reserved(order_id, line) for line in self.model.lines[order_id]}
        answer = self._send(order_id, {}, None)
        self._observe()
        if answer.status_code == 200:
            pieces = {
                line: total - before[line]
                for line, total in self.model.lines[order_id].items()
                if total > before[line]
            }
            self.model.refunds[answer.json()["data"]] = SentRefund(
                order_id, pieces, None, {}, self.elapsed
            )
            assert pieces or self._fail_may_release(order_id)
        else:
            assert answer.status_code == 409
            assert answer.json()["code"] in (
                ErrorCode.ORDER_NOT_REFUNDABLE,
                ErrorCode.NOTHING_TO_REFUND,
            )

    @rule(data=st.data())
    def replay_a_keyed_refund(self, data: st.DataObject) -> None:
        keyed = [(no, r) for no, r in self.model.refunds.items() if r.key]
        if not keyed:
            return
        number, refund = data.draw(st.sampled_from(keyed))
        count = len(self.statuses)
        answer = self._send(refund.order_id, refund.body, refund.key)
        self._observe()
        assert answer.status_code == 200
        assert answer.json()["data"] == number
        assert len(self.statuses) == count, "a replay created a second refund"

    @rule(seconds=st.sampled_from([1, 3, 10]))
    def let_time_pass(self, seconds: int) -> None:
        TARGET.advance_clock(seconds)
        self.elapsed += seconds
        self._observe()

    def _send(self, order_id: str, body: dict[str, Any], key: str | None) -> httpx.Response:
        headers = dict(self.auth)
        if key:
            headers["Idempotency-Key"] = key
        return self.http.post(f"{API}/{order_id}/refund", json=body, headers=headers)

    # -- invariants ----------------------------------------------------------

    @invariant()
    def pieces_never_exceed_the_quantity(self) -> None:
        for order_id, lines in self.model.lines.items():
            for line, total in lines.items():
                assert self._reserved(order_id, line) <= total, (order_id, line)

    @invariant()
    def refundable_is_final_minus_refunded(self) -> None:
        for order in self.orders.values():
            if "refundableAmount" not in order:
                # the vendor's form leaves the amounts out of orders without a refund only
                assert (
                    order["refundStatus"] == OrderRefundStatus.NULL
                    and "refundedAmount" not in order
                ), order
                continue
            assert order["refundableAmount"] == round(
                order["finalAmount"] - order["refundedAmount"], 4
            ), order

    @invariant()
    def settled_refunds_never_change(self) -> None:
        for number, status in self.statuses.items():
            if number in self.model.settled:
                assert status == self.model.settled[number], number
            elif status in SETTLED:
                self.model.settled[number] = status

    @invariant()
    def refunds_settle_when_due(self) -> None:
        # Each at its own time: a refund that settles must not hold back a later one,
        # and none settles before its time.
        for number, refund in self.model.refunds.items():
            status = self.statuses.get(number)
            if self.elapsed - refund.created >= self.settle_after:
                assert status in SETTLED, f"{number} is due but {status}"
            else:
                assert status == RefundStatus.PENDING_REVIEW, f"{number} is not due but {status}"

    @invariant()
    def every_refund_is_known(self) -> None:
        assert set(self.statuses) == set(self.model.refunds)


def test_business_properties_hold() -> None:
    TARGET.require_sandbox("resets the data and moves the clock")
    try:
        RefundMachine.TestCase().runTest()
    finally:
        TARGET.resume_clock()  # running again, as a fresh sandbox's clock
