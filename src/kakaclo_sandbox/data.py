"""Sandbox data files: merchants, their tokens and their orders, in the vendor's Query Order shape.

A data file is YAML or JSON::

    merchants:
      - merchant: merchant-a          # any name; merchants never see each other
        tokens: [demo-token]          # bearer tokens of this merchant
        orders:                       # each one shaped like a Query Order entry
          - id: "10001"
            status: processing
            ...
            refunds:                  # optional: refunds already settled
              - refundStatus: refund_successfully

Every order is checked against the spec's ``Order`` schema, plus what the
sandbox needs to refund it (ids, amounts, quantities). Derived fields
(``subTotalAmount``, ``finalAmount``, a line's ``total``) may be given and
must then add up; refund state comes from ``refunds``, never from
``refundStatus`` or ``refundedAmount``. Any mistake is a :class:`DataError`
naming the file and the field. The demo data is such a file, shipped with
the package (:data:`DEMO_DATA`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from kakaclo_client.models import OrderRefundStatus, RefundStatus, StockStatus

from kakaclo_sandbox.clock import parse_instant
from kakaclo_sandbox.domain import money
from kakaclo_sandbox.domain.refunds import RefundRequest, RefundRules, RequestedItem
from kakaclo_sandbox.storage.store import NewLine, NewOrder
from kakaclo_spec import Spec
from kakaclo_spec.compiled import json_path

# A data file's refunds pass the vendor's rules, whatever rules the sandbox serves with.
SEED_RULES = RefundRules()
DEMO_DATA = Path(__file__).resolve().parent / "demo.yaml"
MAX_DATA_BYTES = 64 * 1024 * 1024

_LINE_NEEDS = {
    "type": "object",
    "required": ["id", "itemId", "skuCode", "amount", "productNum"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "itemId": {"type": "string", "minLength": 1, "maxLength": 64},
        "skuCode": {"type": "string", "minLength": 1, "maxLength": 64},
        "amount": {"type": "number"},
        "productNum": {"type": "integer", "minimum": 1, "maximum": 1_000_000_000},
        "stockStatus": {"type": "string"},
    },
}
_SEED_REFUND = {
    "type": "object",
    "additionalProperties": False,
    "required": ["refundStatus"],
    "properties": {
        "refundStatus": {
            "enum": [RefundStatus.REFUND_SUCCESSFULLY.value, RefundStatus.REFUND_FAILED.value]
        },
        "refundReason": {"$ref": "#/components/schemas/RefundReason"},
        "remark": {"$ref": "#/components/schemas/RefundRequest/properties/remark"},
        "orderItems": {"$ref": "#/components/schemas/RefundRequest/properties/orderItems"},
    },
}
# What the sandbox needs on top of the spec's Order schema.
ORDER_SCHEMA: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/Order"},
        {
            "type": "object",
            "required": ["id", "status", "financialStatus", "fulfillmentStatus", "createDate"],
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9]{1,20}$"},
                "status": {"type": "string"},
                "financialStatus": {"type": "string"},
                "fulfillmentStatus": {"type": "string"},
                "createDate": {"type": "string"},
                "currencyCode": {"const": "USD"},
                "orderItems": {"type": "array", "minItems": 1, "items": _LINE_NEEDS},
                "refundStatus": {
                    "enum": [OrderRefundStatus.NULL.value, None],
                    "description": "refund state comes from `refunds`",
                },
                "refundedAmount": {"enum": [0, None]},
                "refunds": {"type": "array", "maxItems": 1000, "items": _SEED_REFUND},
            },
        },
    ]
}
FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["merchants"],
    "additionalProperties": False,
    "properties": {
        "merchants": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["merchant", "tokens", "orders"],
                "additionalProperties": False,
                "properties": {
                    "merchant": {"type": "string", "minLength": 1, "maxLength": 100},
                    "tokens": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": "^[A-Za-z0-9._~+/=-]{1,200}$"},
                    },
                    "orders": {"type": "array", "items": ORDER_SCHEMA},
                },
            },
        }
    },
}


class DataError(ValueError):
    """Data that cannot be loaded; the message names the file (or body) and the field."""


@dataclass(frozen=True)
class SeedRefund:
    """A refund that is already settled when the data is loaded."""

    status: str
    request: RefundRequest


@dataclass(frozen=True)
class SeedOrder:
    """One order of a data file, ready to store, with its settled refunds."""

    order: NewOrder
    refunds: tuple[SeedRefund, ...]
    where: str  # the file (or body) and the order's path in it, for errors


@dataclass(frozen=True)
class Dataset:
    """Everything a data file holds."""

    source: str
    tokens: dict[str, str]  # token -> merchant
    orders: tuple[SeedOrder, ...]


class _StringDates(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay strings, as in JSON."""


_StringDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path: Path, spec: Spec) -> Dataset:
    """Read and check a data file (YAML or JSON)."""
    try:
        size = path.stat().st_size
        if size > MAX_DATA_BYTES:
            raise DataError(f"{path}: {size} bytes is more than {MAX_DATA_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read it: {error}") from None
    try:
        document = yaml.load(text, Loader=_StringDates)
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not YAML or JSON: {_one_line(error)}") from None
    return parse(document, spec, str(path))


def parse(document: Any, spec: Spec, source: str) -> Dataset:
    """Check a parsed data document and turn it into orders to store."""
    _check_schema(spec, FILE_SCHEMA, document, source)
    tokens: dict[str, str] = {}
    orders: list[SeedOrder] = []
    seen_orders: dict[str, str] = {}
    for m, entry in enumerate(document["merchants"]):
        merchant = entry["merchant"]
        for t, token in enumerate(entry["tokens"]):
            if token in tokens:
                raise DataError(
                    f"{source}: merchants[{m}].tokens[{t}]: token {token!r} is already "
                    f"merchant {tokens[token]!r}'s"
                )
            tokens[token] = merchant
        for o, body in enumerate(entry["orders"]):
            where = f"merchants[{m}].orders[{o}]"
            earlier = seen_orders.get(body["id"])
            if earlier is not None:
                raise DataError(f"{source}: {where}.id: order {body['id']} is already {earlier}")
            seen_orders[body["id"]] = where
            orders.append(seed_order(spec, body, merchant, f"{source}: {where}"))
    return Dataset(source=source, tokens=tokens, orders=tuple(orders))


def check_order(spec: Spec, body: Any, merchant: str, where: str) -> SeedOrder:
    """One order body (the control surface's), checked like an order of a data file."""
    _check_schema(spec, ORDER_SCHEMA, body, where, sep=".")  # "order.status: ..."
    return seed_order(spec, body, merchant, where)


def _check_schema(
    spec: Spec, schema: dict[str, Any], document: Any, source: str, sep: str = ": "
) -> None:
    compiled = spec.compile(schema)
    if compiled.is_valid(document):
        return
    errors = list(compiled.validator.iter_errors(document))
    fields = {tuple(error.instance_path) for error in errors}
    more = f" (and {len(fields) - 1} more fields)" if len(fields) > 1 else ""
    first = errors[0]
    path = json_path(list(first.instance_path))
    where = f"{source}{sep}{path}" if path else source
    allowed = _allowed(spec, {**schema, "components": spec.document.get("components", {})}, first)
    if allowed is None:
        raise DataError(f"{where}: {first.message}{more}")
    raise DataError(
        f"{where}: {json.dumps(first.instance, ensure_ascii=False)} is not one of the allowed "
        f"values: {allowed}{more}"
    )


def _allowed(spec: Spec, document: Mapping[str, Any], error: Any) -> str | None:
    """The values a field of an enumeration may take (``waiting, paid or null``), read from
    the schema the error points at; None when that schema is not an enumeration."""
    node: Any = document
    try:
        for step in error.schema_path:
            node = node[step]
    except (KeyError, IndexError, TypeError):
        return None
    values: list[Any] = []

    def collect(schema: Any) -> bool:
        if isinstance(schema, list):
            return all(collect(branch) for branch in schema)
        if not isinstance(schema, Mapping):
            return False
        if "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            return collect(spec.document.get("components", {}).get("schemas", {}).get(name))
        if "enum" in schema:
            values.extend(schema["enum"])
            return True
        if "const" in schema:
            values.append(schema["const"])
            return True
        if schema.get("type") == "null":
            values.append(None)
            return True
        return any(key in schema and collect(schema[key]) for key in ("oneOf", "anyOf"))

    if not collect(node) or not values:
        return None
    words = [json.dumps(value, ensure_ascii=False) for value in values if value is not None]
    if None in values:
        return ", ".join(words) + " or null"
    return ", ".join(words)


def seed_order(spec: Spec, body: Mapping[str, Any], merchant: str, where: str) -> SeedOrder:
    """Turn a schema-checked order body into a stored order; check what the schema cannot."""
    lines = tuple(
        _line(line, f"{where}.orderItems[{i}]") for i, line in enumerate(body["orderItems"])
    )
    _check_unique(lines, where)
    subtotal = money.subtotal_e4((line.amount_e4, line.product_num) for line in lines)
    freight = _e4(body.get("freightAmount"), f"{where}.freightAmount")
    coupon = _e4(body.get("couponAmount"), f"{where}.couponAmount")
    _check_sum(body.get("subTotalAmount"), subtotal, f"{where}.subTotalAmount", "the lines' totals")
    _check_sum(
        body.get("finalAmount"),
        money.final_e4(subtotal, freight, coupon),
        f"{where}.finalAmount",
        "subTotalAmount + freightAmount - couponAmount",
    )
    create = _instant(body["createDate"], f"{where}.createDate")
    assert create is not None
    dates = {
        key: _instant(body.get(key), f"{where}.{key}")
        for key in ("purchaseDate", "payDate", "cancelDate", "modifyDate")
    }
    order = NewOrder(
        id=body["id"],
        merchant=merchant,
        custom_order_id=body.get("customOrderId"),
        remark=body.get("remark"),
        status=body["status"],
        financial_status=body["financialStatus"],
        fulfillment_status=body["fulfillmentStatus"],
        warehouse_id=body.get("warehouseId"),
        currency_code=body.get("currencyCode") or "USD",
        freight_e4=freight,
        coupon_e4=coupon,
        promotion_e4=_e4(body.get("promotionAmount"), f"{where}.promotionAmount"),
        purchase_date=dates["purchaseDate"],
        pay_date=dates["payDate"],
        create_date=create,
        modify_date=dates["modifyDate"] or create,
        cancel_date=dates["cancelDate"],
        shipping_address=body.get("shippingAddress"),
        fulfillments=_parcels(body.get("fulfillments"), {line.id for line in lines}, where),
        lines=lines,
    )
    reason = str(spec.default_of("RefundRequest", "refundReason"))
    refunds = tuple(_seed_refund(refund, reason) for refund in body.get("refunds") or ())
    return SeedOrder(order=order, refunds=refunds, where=where)


def _line(body: Mapping[str, Any], where: str) -> NewLine:
    amount = _e4(body["amount"], f"{where}.amount")
    _check_sum(
        body.get("total"),
        money.line_total_e4(amount, body["productNum"]),
        f"{where}.total",
        "amount * productNum",
    )
    return NewLine(
        id=body["id"],
        item_id=body["itemId"],
        sku_code=body["skuCode"],
        country_code=body.get("countryCode"),
        product_name=body.get("productName"),
        image_url=body.get("imageUrl"),
        options=(body.get("option1"), body.get("option2"), body.get("option3")),
        amount_e4=amount,
        product_num=int(body["productNum"]),
        stock_status=body.get("stockStatus") or StockStatus.NORMAL.value,
    )


def _check_unique(lines: Sequence[NewLine], where: str) -> None:
    ids: dict[str, int] = {}
    names: dict[tuple[str, str, str | None], int] = {}
    for index, line in enumerate(lines):
        name = (line.item_id, line.sku_code, line.country_code)
        if line.id in ids:
            raise DataError(
                f"{where}.orderItems[{index}].id: line id {line.id} is already "
                f"orderItems[{ids[line.id]}]'s"
            )
        if name in names:
            raise DataError(
                f"{where}.orderItems[{index}]: itemId + skuCode + countryCode name the same "
                f"line as orderItems[{names[name]}], so a refund could not tell them apart"
            )
        ids[line.id] = index
        names[name] = index


def _parcels(
    parcels: Iterable[Mapping[str, Any]] | None, line_ids: set[str], where: str
) -> list[dict[str, Any]] | None:
    if parcels is None:
        return None
    stored = []
    for p, parcel in enumerate(parcels):
        items = parcel.get("items") or []
        for i, item in enumerate(items):
            if item.get("id") not in line_ids:
                raise DataError(
                    f"{where}.fulfillments[{p}].items[{i}].id: {item.get('id')!r} is not the id "
                    "of a line in orderItems"
                )
        kept = {key: value for key, value in parcel.items() if key != "items"}
        stored.append({**kept, "lineIds": [item["id"] for item in items]})
    return stored


def _seed_refund(body: Mapping[str, Any], default_reason: str) -> SeedRefund:
    items = body.get("orderItems")
    return SeedRefund(
        status=body["refundStatus"],
        request=RefundRequest(
            items=None
            if items is None
            else tuple(
                RequestedItem(i["itemId"], i["skuCode"], int(i["quantity"]), i["countryCode"])
                for i in items
            ),
            reason=body.get("refundReason", default_reason),
            remark=body.get("remark"),
        ),
    )


def _e4(value: Any, where: str) -> int:
    """An amount (JSON number or null) as exact ten-thousandths."""
    if value is None:
        return 0
    try:
        exact = Decimal(str(value)) * money.E4
    except InvalidOperation:
        raise DataError(f"{where}: {value!r} is not an amount") from None
    if exact != exact.to_integral_value():
        raise DataError(f"{where}: {value} has more than 4 decimals")
    return int(exact)


def _check_sum(given: Any, computed_e4: int, where: str, rule: str) -> None:
    if given is not None and _e4(given, where) != computed_e4:
        raise DataError(
            f"{where}: {given} is not {rule} ({computed_e4 / money.E4:g}); leave it out"
        )


def _instant(value: Any, where: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as error:
        raise DataError(f"{where}: {value!r} is not an ISO 8601 instant: {error}") from None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


__all__ = [
    "DEMO_DATA",
    "DataError",
    "Dataset",
    "SeedOrder",
    "check_order",
    "load",
    "parse",
]
