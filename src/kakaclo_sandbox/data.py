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
``refundStatus`` or ``refundedAmount``. Every amount, given or derived, is
at most the spec's ``Amount`` maximum, and a coupon at most the subtotal
plus the freight. Order and line ids are a merchant's own. YAML anchors and
aliases are refused (a "billion laughs" file costs its own size, no more);
JSON is read as JSON. Any mistake is a :class:`DataError` naming the file
and the field. The demo data is such a file, shipped with the package
(:data:`DEMO_DATA`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from kakaclo_client import spec_facts
from kakaclo_client.models import OrderRefundStatus, RefundStatus, StockStatus

from kakaclo_sandbox.clock import parse_instant
from kakaclo_sandbox.domain import money
from kakaclo_sandbox.domain.orders import NewLine, NewOrder
from kakaclo_sandbox.domain.refunds import RefundRequest, RefundRules, RequestedItem
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
            "required": [
                "id",
                "status",
                "financialStatus",
                "fulfillmentStatus",
                "createDate",
                "orderItems",
            ],
            "properties": {
                "id": {"type": "string", "pattern": spec_facts.ORDER_ID_PATTERN},
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
    """Data that cannot be loaded; the message names the file (or body) and the field.

    Always one line: control characters a key or value brought in are escaped.
    """

    def __init__(self, message: str) -> None:
        super().__init__(_CONTROLS.sub(lambda found: ascii(found[0])[1:-1], message))


# What str.splitlines splits on, and the rest of C0 and C1.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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


class _CoreScalars(yaml.resolver.BaseResolver):
    """YAML 1.2's core schema for plain scalars, not PyYAML's YAML 1.1: ``yes``, ``no``,
    ``on`` and ``off`` stay strings (``countryCode: NO`` is Norway), as do dates,
    ``1_000``, ``0x1F`` and ``1:20``; ``true``/``false``, ``null``/``~``, decimal integers
    and floats (``1e5`` too) are what JSON would make of them."""


for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _CoreScalars.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)
_CoreScalars.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
_RESOLVE: Callable[[type, str, tuple[bool, bool]], str] = _CoreScalars().resolve
# libyaml's parser when PyYAML was built with it (its events come 13 times faster than
# PyYAML's own parser's here); events are turned into values below, never composed into
# nodes (composing resolved every scalar's tag in Python: 15 s for 10,000 orders).
_EVENTS: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The scalar tags a data file may use, implicitly or spelled out (!!str ...): JSON's.
_SCALARS = {
    f"tag:yaml.org,2002:{name}": yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    for name in ("str", "int", "float", "bool", "null")
}
_CONSTRUCTOR = yaml.SafeLoader("")
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_INT, _DECIMAL = "tag:yaml.org,2002:int", re.compile(r"[-+]?[0-9]+")
PROGRESS_EVERY = 20_000  # orders checked between two progress lines on the log
# Nesting a data file may have: its own is 7 deep (merchants ... orderItems' fields).
MAX_DEPTH = 64
log = logging.getLogger(__name__)


class _Refused(ValueError):
    """Text that parses but that a data file may not hold (``line``: 1-based, or None)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.line = line


def load(path: Path, spec: Spec) -> Dataset:
    """Read and check a data file: JSON when it ends in ``.json`` or starts with ``{``,
    else YAML (without anchors, aliases, duplicate keys or implicit dates)."""
    try:
        with path.open("rb") as file:
            raw = _read_to_bound(file, path)
        text = raw.decode("utf-8-sig")  # a byte order mark is allowed, and dropped
        del raw
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: is not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read it: {error.strerror or error}") from None
    as_json = path.suffix.lower() == ".json" or re.match(r"\s*\{", text) is not None
    document = read_json(text, str(path)) if as_json else read_yaml(text, str(path))
    del text
    return parse(document, spec, str(path))


def _read_to_bound(file: BinaryIO, path: Path) -> bytes:
    """The file's bytes, never more than MAX_DATA_BYTES of them (a pipe's size is unknown)."""
    found = os.fstat(file.fileno())
    if stat.S_ISREG(found.st_mode):
        if found.st_size > MAX_DATA_BYTES:
            raise DataError(f"{path}: {found.st_size} bytes is more than {MAX_DATA_BYTES} bytes")
        return file.read()
    chunks, size = [], 0
    while chunk := file.read(1 << 20):
        size += len(chunk)
        if size > MAX_DATA_BYTES:
            raise DataError(f"{path}: more than {MAX_DATA_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def read_json(text: str, source: str) -> Any:
    """A JSON document; duplicate keys, NaN and Infinity refused."""
    try:
        document = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as error:
        raise DataError(
            f"{source}: line {error.lineno} column {error.colno}: not JSON: {error.msg}"
        ) from None
    except ValueError as error:  # _Refused, or an integer of thousands of digits
        raise DataError(f"{source}: not JSON: {_one_line(error)}") from None
    except RecursionError:
        raise DataError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    if _deeper_than(document, MAX_DEPTH):  # (jsonschema-rs gives up at 257 with a ValueError)
        raise DataError(f"{source}: nested deeper than {MAX_DEPTH} levels")
    return document


def _deeper_than(document: Any, limit: int) -> bool:
    """True when arrays and objects nest deeper than ``limit`` (iterative; 0.4 s for
    100,000 orders)."""
    todo = [(document, 1)] if isinstance(document, (dict, list)) else []
    while todo:
        node, depth = todo.pop()
        if depth > limit:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                todo.append((child, depth + 1))
    return False


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {json.dumps(key)} in an object")
            seen.add(key)
    return document


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: a float would make it infinity
        raise _Refused(f"{text} is not a finite number")
    return value


def read_yaml(text: str, source: str) -> Any:
    """A YAML document, built straight from the parser's events.

    Anchors and aliases are refused where they start, so a file of nested
    aliases (billion laughs) costs no more than its own size; so are duplicate
    keys, merge keys and tags other than JSON's scalars, maps and sequences.
    """
    try:
        return _build(yaml.parse(text, Loader=_EVENTS))
    except yaml.YAMLError as error:
        raise DataError(f"{source}: not YAML or JSON: {_one_line(error)}") from None
    except _Refused as error:
        at = f"line {error.line}: " if error.line is not None else ""
        raise DataError(f"{source}: {at}{error}") from None


_NO_KEY: Any = object()


def _build(events: Iterable[Any]) -> Any:
    documents: list[Any] = []
    open_: list[Any] = []  # the lists and dicts being filled, innermost last
    keys: list[Any] = []  # per open dict: its key waiting for a value, or _NO_KEY
    plain: dict[str, Any] = {}  # a plain scalar's value, by its text

    def put(value: Any, event: Any) -> None:
        if not open_:
            if documents:
                raise _Refused("a data file holds one YAML document", _line_of(event))
            documents.append(value)
            return
        into = open_[-1]
        if type(into) is list:
            into.append(value)
            return
        key = keys[-1]
        if key is _NO_KEY:
            if type(value) is not str:  # as in JSON (1, null, yes and a mapping are not)
                raise _Refused(
                    f"a mapping key must be a string, not {_yaml_kind(value)}", _line_of(event)
                )
            keys[-1] = value
        elif key in into:
            raise _Refused(f"duplicate key {key!r}", _line_of(event))
        else:
            into[key] = value
            keys[-1] = _NO_KEY

    for event in events:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            _no_anchor(event)
            if event.tag in (None, "!") and event.implicit[0]:
                if event.value not in plain:
                    plain[event.value] = _scalar(
                        event, _RESOLVE(yaml.ScalarNode, event.value, (True, False))
                    )
                put(plain[event.value], event)
            elif event.tag in (None, "!"):
                put(event.value, event)  # quoted: a string
            else:
                put(_scalar(event, event.tag), event)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            _no_anchor(event)
            mapping = kind is yaml.MappingStartEvent
            if event.tag not in (None, "!", _MAP if mapping else _SEQ):
                raise _Refused(f"tag {event.tag} is not allowed in data files", _line_of(event))
            container: Any = {} if mapping else []
            put(container, event)
            if len(open_) == MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", _line_of(event))
            open_.append(container)
            if mapping:
                keys.append(_NO_KEY)
        elif kind is yaml.MappingEndEvent:
            open_.pop()
            keys.pop()
        elif kind is yaml.SequenceEndEvent:
            open_.pop()
        elif kind is yaml.AliasEvent:
            raise _Refused(
                f"YAML aliases are not allowed in data files (*{event.anchor})", _line_of(event)
            )
    return documents[0] if documents else None


def _yaml_kind(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a sequence"
    return f"{json.dumps(value)} (quote it)"


def _no_anchor(event: Any) -> None:
    if event.anchor is not None:
        raise _Refused(
            f"YAML aliases are not allowed in data files (anchor &{event.anchor})", _line_of(event)
        )


def _scalar(event: Any, tag: str) -> Any:
    construct = _SCALARS.get(tag)
    if construct is None:
        what = "merge keys (<<) are" if tag.endswith(":merge") else f"tag {tag} is"
        raise _Refused(f"YAML {what} not allowed in data files", _line_of(event))
    if tag == _INT and _DECIMAL.fullmatch(event.value):
        return int(event.value)  # YAML 1.2: 012 is twelve (PyYAML's 1.1 reads octal ten)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    value = construct(_CONSTRUCTOR, node)
    if type(value) is float and not math.isfinite(value):
        raise _Refused(f"{event.value} is not a finite number", _line_of(event))
    return value


def _line_of(event: Any) -> int | None:
    mark = event.start_mark
    return None if mark is None else int(mark.line) + 1


def parse(document: Any, spec: Spec, source: str) -> Dataset:
    """Check a parsed data document and turn it into orders to store.

    Order ids and line ids are a merchant's own: the same id under two
    merchants is two orders (or lines); twice under one merchant is refused.
    """
    _check_schema(spec, FILE_SCHEMA, document, source)
    tokens: dict[str, str] = {}
    orders: list[SeedOrder] = []
    seen_orders: dict[tuple[str, str], str] = {}  # (merchant, order id) -> where
    seen_lines: dict[tuple[str, str], tuple[str, str]] = {}  # (merchant, line id) -> order
    total = sum(len(entry["orders"]) for entry in document["merchants"])
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
            earlier = seen_orders.get((merchant, body["id"]))
            if earlier is not None:
                raise DataError(
                    f"{source}: {where}.id: order {body['id']} of merchant {merchant!r} "
                    f"is already {earlier}"
                )
            seen_orders[merchant, body["id"]] = where
            for i, line in enumerate(body["orderItems"]):
                other = seen_lines.setdefault((merchant, line["id"]), (where, body["id"]))
                if other[0] != where:
                    raise DataError(
                        f"{source}: {where}.orderItems[{i}].id: line id {line['id']} is already "
                        f"a line of order {other[1]} ({other[0]}) of merchant {merchant!r}"
                    )
            orders.append(seed_order(spec, body, merchant, f"{source}: {where}"))
            if len(orders) % PROGRESS_EVERY == 0:
                log.info("%s: %d of %d orders checked", source, len(orders), total)
    return Dataset(source=source, tokens=tokens, orders=tuple(orders))


def check_order(spec: Spec, body: Any, merchant: str, where: str) -> SeedOrder:
    """One order body (the control surface's), checked like an order of a data file."""
    if _deeper_than(body, MAX_DEPTH):  # before jsonschema-rs, which gives up at 257
        raise DataError(f"{where}: nested deeper than {MAX_DEPTH} levels")
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
    most = _amount_max_e4(spec)
    for i, line in enumerate(lines):
        _check_most(
            money.line_total_e4(line.amount_e4, line.product_num),
            most,
            f"{where}.orderItems[{i}].total",
            "amount * productNum",
        )
    subtotal = money.subtotal_e4((line.amount_e4, line.product_num) for line in lines)
    _check_most(subtotal, most, f"{where}.subTotalAmount", "the lines' totals")
    freight = _e4(body.get("freightAmount"), f"{where}.freightAmount")
    coupon = _e4(body.get("couponAmount"), f"{where}.couponAmount")
    _check_sum(body.get("subTotalAmount"), subtotal, f"{where}.subTotalAmount", "the lines' totals")
    if coupon > subtotal + freight:
        raise DataError(
            f"{where}.couponAmount: {_text(coupon)} is more than subTotalAmount + freightAmount "
            f"({_text(subtotal + freight)}): finalAmount would be below 0"
        )
    final = money.final_e4(subtotal, freight, coupon)
    _check_most(
        final, most, f"{where}.finalAmount", "subTotalAmount + freightAmount - couponAmount"
    )
    _check_sum(
        body.get("finalAmount"),
        final,
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


def _amount_max_e4(spec: Spec) -> int:
    """The spec's ``Amount`` maximum, in ten-thousandths."""
    return _e4(spec.document["components"]["schemas"]["Amount"]["maximum"], "Amount.maximum")


def _check_most(computed_e4: int, most_e4: int, where: str, rule: str) -> None:
    if computed_e4 > most_e4:
        raise DataError(
            f"{where}: {rule} is {_text(computed_e4)}, more than the largest amount "
            f"({_text(most_e4)})"
        )


def _text(amount_e4: int) -> str:
    """Ten-thousandths as a plain decimal (``12.5``), exact at any size."""
    return format(Decimal(amount_e4) / money.E4, "f")


def _check_sum(given: Any, computed_e4: int, where: str, rule: str) -> None:
    if given is not None and _e4(given, where) != computed_e4:
        raise DataError(f"{where}: {given} is not {rule} ({_text(computed_e4)}); leave it out")


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
