"""Clean views of Query Order's orders: what the real service means, not how it writes it.

The real service (and the sandbox by default) sends the string ``"NULL"`` for
"no refund status", options as JSON inside strings, and leaves fields out of
orders without a refund (see the spec's ``Order`` schema). :func:`clean_order`
turns a parsed order into an :class:`Order` with ``None`` for ``"NULL"``,
options as :class:`Option` pairs, enums for statuses, ``Decimal`` amounts and
UTC datetimes. It gives the same result for the vendor's forms and for a
sandbox started with ``--clean``. The generated model stays at ``Order.raw``.
"""

from __future__ import annotations

import datetime
import enum
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from kakaclo_client import spec_facts
from kakaclo_client.models import (
    CountryCode,
    FinancialStatus,
    FulfillmentRecordStatus,
    FulfillmentStatus,
    ItemRefundStatus,
    OrderRefundStatus,
    OrderStatus,
    StockStatus,
)
from kakaclo_client.models import Fulfillment as GeneratedParcel
from kakaclo_client.models import Order as GeneratedOrder
from kakaclo_client.models import OrderItem as GeneratedLine
from kakaclo_client.models import ShippingAddress as GeneratedAddress
from kakaclo_client.types import Unset

T = TypeVar("T")
# openapi.yaml's pattern of Order.id and OrderItem.id, the OrderId parameter's (the generated
# models do not check it; tests/test_spec_facts.py holds the three equal)
_ID_PATTERN = re.compile(spec_facts.ORDER_ID_PATTERN)
NO_STATUS = OrderRefundStatus.NULL.value  # the vendor's "no refund status" (lines' too)
CLOSED = frozenset({OrderStatus.CANCEL, OrderStatus.COMPLETED})


@dataclass(frozen=True)
class Option:
    """One option of a line, such as color or size; ``name`` is None when the vendor's text is not
    the usual ``{"name": ..., "value": ...}``, and ``value`` then holds that text."""

    name: str | None
    value: str


@dataclass(frozen=True)
class Address:
    """Where the order ships; unknown parts are None."""

    country: str | None
    province: str | None
    city: str | None
    street1: str | None
    street2: str | None
    zip: str | None
    recipient: str | None
    phone: str | None
    vat: str | None
    ioss: str | None


@dataclass(frozen=True)
class OrderLine:
    """One order line; a refund names it by ``item_id`` + ``sku_code`` + ``country_code``."""

    id: str
    item_id: str | None
    sku_code: str | None
    country_code: CountryCode | None
    product_name: str | None
    image_url: str | None
    options: tuple[Option, ...]
    amount: Decimal | None
    product_num: int | None
    total: Decimal | None
    stock_status: StockStatus | None
    fulfillment_status: FulfillmentStatus | None
    refund_status: ItemRefundStatus | None
    raw: GeneratedLine


@dataclass(frozen=True)
class Parcel:
    """One parcel of the order; ``line_ids`` are the ids of the lines in it."""

    id: str | None
    pack_id: str | None
    status: FulfillmentRecordStatus | None
    carrier: str | None
    carrier_type: str | None
    tracking_code: str | None
    logistics_search_url: str | None
    delivery_time: datetime.datetime | None
    line_ids: tuple[str, ...]


@dataclass(frozen=True)
class Order:
    """An order of Query Order, in clean values.

    ``refunded_amount`` and ``refundable_amount``: the real service leaves them
    out of orders without a refund (``refund_status`` None); they are then 0 and
    ``final_amount``, as the spec's rule says.
    """

    id: str
    custom_order_id: str | None
    remark: str | None
    status: OrderStatus | None
    financial_status: FinancialStatus | None
    fulfillment_status: FulfillmentStatus | None
    refund_status: OrderRefundStatus | None
    purchase_date: datetime.datetime | None
    pay_date: datetime.datetime | None
    completed_date: datetime.datetime | None
    cancel_date: datetime.datetime | None
    refund_date: datetime.datetime | None
    create_date: datetime.datetime | None
    modify_date: datetime.datetime | None
    warehouse_id: int | None
    currency_code: str | None
    sub_total_amount: Decimal | None
    freight_amount: Decimal | None
    coupon_amount: Decimal | None
    promotion_amount: Decimal | None
    final_amount: Decimal | None
    refunded_amount: Decimal | None
    refundable_amount: Decimal | None
    shipping_address: Address | None
    lines: tuple[OrderLine, ...]
    parcels: tuple[Parcel, ...]
    raw: GeneratedOrder

    def to_json(self) -> dict[str, Any]:
        """The clean values as JSON, under the vendor's names (``orderItems``, ``fulfillments``).

        Amounts are numbers, dates ISO 8601 strings, statuses their values; no ``raw``.
        ``notRefundable`` adds :attr:`not_refundable`.
        """
        return {**_fields(self), "notRefundable": self.not_refundable}

    @property
    def not_refundable(self) -> str | None:
        """Why no refund of this order can be made now (``not paid``, ``cancelled``,
        ``shipped``...), or None when one can.

        The spec's rule: the order must be paid, not cancelled or completed, and
        not shipped at all; and something must be left to refund.
        """
        if self.refund_status == OrderRefundStatus.REFUNDED:
            return "already refunded"  # and cancelled by it
        if self.financial_status is not None and self.financial_status != FinancialStatus.PAID:
            return "not paid"
        if self.status == OrderStatus.CANCEL:
            return "cancelled"
        if self.status == OrderStatus.COMPLETED:
            return OrderStatus.COMPLETED.value
        if self.fulfillment_status == FulfillmentStatus.PARTIALLY_SHIPPED:
            return "partly shipped"
        if self.fulfillment_status not in (None, FulfillmentStatus.WAITING_TO_SHIP):
            return FulfillmentRecordStatus.SHIPPED.value
        if self.refundable_amount is not None and self.refundable_amount <= 0:
            return "nothing left to refund"
        return None

    def line_refund(self, line: OrderLine) -> str | None:
        """What is known of the refunds of ``line``, in words (None: nothing refunded).

        Query Order says a refund of a line succeeded (``refunded``) or is pending
        (``refunding``), not how many of its pieces: ``1-5 of 5`` says so, unless
        the order is refunded as a whole (then every piece is).
        """
        if line.refund_status is None:
            return None
        status = line.refund_status.value
        pieces = line.product_num
        if self.refund_status == OrderRefundStatus.REFUNDED and pieces is not None:
            return f"{status} ({pieces} of {pieces})"
        if pieces is None:
            return f"{status} (pieces not reported)"
        counted = "1" if pieces == 1 else f"1-{pieces}"
        return f"{status} ({counted} of {pieces})"

    def line(self, line_id: str) -> OrderLine:
        """The line with this id (KeyError when the order has none)."""
        for line in self.lines:
            if line.id == line_id:
                return line
        raise KeyError(line_id)


VENDOR_NAMES = {"lines": "orderItems", "parcels": "fulfillments"}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return VENDOR_NAMES.get(name) or first + "".join(part.title() for part in rest)


def _fields(view: Any) -> dict[str, Any]:
    return {_camel(key): _jsonable(value) for key, value in vars(view).items() if key != "raw"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, (Option, Address, OrderLine, Parcel)):
        return _fields(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _value(value: T | Unset | None) -> T | None:
    return None if isinstance(value, Unset) else value


def _status(value: T | Unset | None) -> T | None:
    """A status enum, with the vendor's ``"NULL"`` as None."""
    value = _value(value)
    if value is None or str(value) == NO_STATUS:
        return None
    if not isinstance(value, enum.Enum):  # the generated model passes on what it could not
        raise ValueError(f"{value!r} is not one of the spec's values")  # parse
    return value


def _money(value: float | Unset | None) -> Decimal | None:
    value = _value(value)
    if value is None:
        return None
    # the generated model passes on what it could not parse; JSON's 1e400 is inf to Python
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite amount")
    # str() first: the shortest text of the float is the amount the JSON carried
    return Decimal(str(value))


def _id(value: str, what: str) -> str:
    """An order's or a line's id, which the spec makes a digit string."""
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a digit string of 1 to 20 digits")
    return value


def _instant(value: datetime.datetime | Unset | None) -> datetime.datetime | None:
    value = _value(value)
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):  # the generated model passes on what it
        raise ValueError(f"{value!r} is not an ISO 8601 date-time")  # could not parse
    return value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value


def parse_option(text: str) -> Option:
    """One option: the vendor's ``{"name":"color", "value":"Black"}`` text as a pair."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("name"), str):
        value = parsed.get("value")
        return Option(name=parsed["name"], value="" if value is None else str(value))
    return Option(name=None, value=text)


def clean_line(line: GeneratedLine) -> OrderLine:
    """One order line in clean values."""
    options = tuple(
        parse_option(text)
        for text in (_value(line.option1), _value(line.option2), _value(line.option3))
        if text is not None
    )
    return OrderLine(
        id=_id(line.id, "line id"),
        item_id=_value(line.item_id),
        sku_code=_value(line.sku_code),
        country_code=_value(line.country_code),
        product_name=_value(line.product_name),
        image_url=_value(line.image_url),
        options=options,
        amount=_money(line.amount),
        product_num=_value(line.product_num),
        total=_money(line.total),
        stock_status=_value(line.stock_status),
        fulfillment_status=_value(line.fulfillment_status),
        refund_status=_status(line.refund_status),
        raw=line,
    )


def _address(address: GeneratedAddress | Unset | None) -> Address | None:
    address = _value(address)
    if address is None:
        return None
    return Address(
        country=_value(address.country),
        province=_value(address.province),
        city=_value(address.city),
        street1=_value(address.street1),
        street2=_value(address.street2),
        zip=_value(address.zip_),
        recipient=_value(address.recipient),
        phone=_value(address.phone),
        vat=_value(address.vat),
        ioss=_value(address.ioss),
    )


def _parcel(parcel: GeneratedParcel) -> Parcel:
    return Parcel(
        id=_value(parcel.id),
        pack_id=_value(parcel.pack_id),
        status=_value(parcel.status),
        carrier=_value(parcel.carrier),
        carrier_type=_value(parcel.carrier_type),
        tracking_code=_value(parcel.tracking_code),
        logistics_search_url=_value(parcel.logistics_search_url),
        delivery_time=_instant(parcel.delivery_time),
        line_ids=tuple(item.id for item in _value(parcel.items) or ()),
    )


def clean_order(order: GeneratedOrder) -> Order:
    """An order of Query Order in clean values (see the module's docstring)."""
    refund_status = _status(order.refund_status)
    final = _money(order.final_amount)
    refunded = _money(order.refunded_amount)
    refundable = _money(order.refundable_amount)
    if refund_status is None and refunded is None and refundable is None and final is not None:
        # left out because nothing is refunded: the spec's rule for such orders
        refunded, refundable = Decimal(0), final
    return Order(
        id=_id(order.id, "id"),
        custom_order_id=_value(order.custom_order_id),
        remark=_value(order.remark),
        status=_value(order.status),
        financial_status=_value(order.financial_status),
        fulfillment_status=_value(order.fulfillment_status),
        refund_status=refund_status,
        purchase_date=_instant(order.purchase_date),
        pay_date=_instant(order.pay_date),
        completed_date=_instant(order.completed_date),
        cancel_date=_instant(order.cancel_date),
        refund_date=_instant(order.refund_date),
        create_date=_instant(order.create_date),
        modify_date=_instant(order.modify_date),
        warehouse_id=_value(order.warehouse_id),
        currency_code=_value(order.currency_code),
        sub_total_amount=_money(order.sub_total_amount),
        freight_amount=_money(order.freight_amount),
        coupon_amount=_money(order.coupon_amount),
        promotion_amount=_money(order.promotion_amount),
        final_amount=final,
        refunded_amount=refunded,
        refundable_amount=refundable,
        shipping_address=_address(order.shipping_address),
        lines=tuple(clean_line(line) for line in _value(order.order_items) or ()),
        parcels=tuple(_parcel(parcel) for parcel in _value(order.fulfillments) or ()),
        raw=order,
    )
