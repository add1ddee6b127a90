"""Demo merchants, tokens and orders, seeded into an empty database (and by reset).

| token          | merchant | orders |
|----------------|----------|--------|
| `demo-token`   | A        | 10001-10010 |
| `demo-token-2` | B        | 20001-20002 |

Order 10001 is the vendor's example; 10002 is for whole-order refunds;
10003 is fully shipped; 10004 unpaid; 10005 partly shipped; 10006 cancelled;
10007-10010 are spare paid, unshipped orders for tests and demos.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from kakaclo_sandbox.clock import parse_instant
from kakaclo_sandbox.store import Store

TOKENS = {"demo-token": "merchant-a", "demo-token-2": "merchant-b"}
SKU = "FSZW08923_R_L_NUB"
IMAGE = "https://img.kakaclo.com/image%2FFSZW08923%2FFSZW08923_R_L_NUB%2Fdemo.jpg"


@dataclass(frozen=True)
class DemoLine:
    """One line of a demo order."""

    id: str
    item_id: str
    sku_code: str
    country_code: str
    amount: str
    pieces: int
    product_name: str = "Ruffle Hem Dress, Red, L"


@dataclass(frozen=True)
class DemoOrder:
    """One demo order."""

    id: str
    merchant: str
    lines: tuple[DemoLine, ...]
    created: str
    status: str = "processing"
    financial_status: str = "paid"
    fulfillment_status: str = "waiting_to_ship"
    freight: str = "9.1"
    coupon: str = "0"
    fulfillments: list[dict[str, object]] = field(default_factory=list)


def e4(amount: str) -> int:
    """A decimal amount as integer ten-thousandths, exactly."""
    whole, _, fraction = amount.partition(".")
    return int(whole) * 10_000 + int((fraction + "0000")[:4])


def _pair(order_id: str, item_base: int, pieces: tuple[int, int]) -> tuple[DemoLine, ...]:
    """Two lines of one SKU from both warehouses."""
    return (
        DemoLine(f"{order_id}1", str(item_base), SKU, "CN", "7.23", pieces[0]),
        DemoLine(f"{order_id}2", str(item_base + 1), SKU, "US", "7.23", pieces[1]),
    )


def _parcel(order_id: str, line: DemoLine, status: str) -> dict[str, object]:
    return {
        "id": f"KA{order_id}_1",
        "packId": f"PK{order_id}1",
        "status": status,
        "carrier": "Yanwen",
        "carrierType": "last",
        "trackingCode": f"VR{order_id}YP",
        "logisticsSearchUrl": "https://track.yw56.com.cn",
        "deliveryTime": "2026-11-03T08:16:15Z",
        "lineIds": [line.id],
    }


def demo_orders() -> list[DemoOrder]:
    """Every demo order."""
    shipped = DemoLine("100031", "120031", "AMN01214_B_S_AK", "CN", "7.43", 1)
    partly = _pair("10005", 120051, (1, 1))
    orders = [
        DemoOrder("10001", "merchant-a", _pair("10001", 120001, (2, 3)), "2026-11-01T08:00:00Z"),
        DemoOrder(
            "10002",
            "merchant-a",
            (
                DemoLine("100021", "120021", "AMN01214_B_S_AK", "CN", "7.43", 1),
                DemoLine("100022", "120021", "FSZW07844_NB_S_NUB", "US", "5.68", 1),
            ),
            "2026-11-01T09:00:00Z",
        ),
        DemoOrder(
            "10003",
            "merchant-a",
            (shipped,),
            "2026-11-01T10:00:00Z",
            fulfillment_status="fully_shipped",
            fulfillments=[_parcel("10003", shipped, "shipped")],
        ),
        DemoOrder(
            "10004",
            "merchant-a",
            _pair("10004", 120041, (1, 1)),
            "2026-11-01T11:00:00Z",
            status="waiting_payment",
            financial_status="waiting",
        ),
        DemoOrder(
            "10005",
            "merchant-a",
            partly,
            "2026-11-01T12:00:00Z",
            fulfillment_status="partially_shipped",
            fulfillments=[_parcel("10005", partly[0], "shipped")],
        ),
        DemoOrder(
            "10006",
            "merchant-a",
            _pair("10006", 120061, (1, 1)),
            "2026-11-01T13:00:00Z",
            status="cancel",
        ),
    ]
    for number in range(7, 11):
        order_id = f"100{number:02d}"
        orders.append(
            DemoOrder(
                order_id,
                "merchant-a",
                _pair(order_id, 120000 + number * 10 + 1, (5, 5)),
                f"2026-11-02T{number:02d}:00:00Z",
            )
        )
    orders.append(
        DemoOrder("20001", "merchant-b", _pair("20001", 220011, (2, 2)), "2026-11-01T08:30:00Z")
    )
    orders.append(
        DemoOrder("20002", "merchant-b", _pair("20002", 220021, (1, 1)), "2026-11-02T08:30:00Z")
    )
    return orders


ADDRESS = {
    "country": "US",
    "province": "CA",
    "city": "Los Angeles",
    "street1": "100 Demo Street",
    "street2": "Suite 5",
    "zip": "90001",
    "recipient": "Demo Buyer",
    "phone": "+1 213 555 0100",
    "vat": "",
    "ioss": "",
}


def seed(db: sqlite3.Connection) -> None:
    """Insert the demo merchants and orders (inside the caller's transaction)."""
    db.executemany("INSERT INTO merchants (token, merchant) VALUES (?, ?)", list(TOKENS.items()))
    for order in demo_orders():
        insert_order(db, order)


def insert_order(db: sqlite3.Connection, order: DemoOrder) -> None:
    """Insert one order and its lines."""
    created = parse_instant(order.created)
    paid = created + 4 if order.financial_status == "paid" else None
    cancelled = created + 3600 if order.status == "cancel" else None
    db.execute(
        "INSERT INTO orders (id, merchant, custom_order_id, remark, status, financial_status, "
        "fulfillment_status, warehouse_id, currency_code, freight_e4, coupon_e4, promotion_e4, "
        "purchase_date, pay_date, create_date, modify_date, cancel_date, shipping_address, "
        "fulfillments) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'USD', ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
        (
            order.id,
            order.merchant,
            f"SHOP-{order.id}",
            "demo order",
            order.status,
            order.financial_status,
            order.fulfillment_status,
            e4(order.freight),
            e4(order.coupon),
            created,
            paid,
            created,
            cancelled or paid or created,
            cancelled,
            json.dumps(ADDRESS),
            json.dumps(order.fulfillments) if order.fulfillments else None,
        ),
    )
    db.executemany(
        "INSERT INTO order_lines (id, order_id, position, item_id, sku_code, country_code, "
        "product_name, image_url, amount_e4, product_num, stock_status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'normal')",
        [
            (
                line.id,
                order.id,
                position,
                line.item_id,
                line.sku_code,
                line.country_code,
                line.product_name,
                IMAGE,
                e4(line.amount),
                line.pieces,
            )
            for position, line in enumerate(order.lines)
        ],
    )


def reset(store: Store) -> None:
    """Wipe the database and seed the demo data again, in one transaction."""
    with store.transaction() as db:
        store.wipe(db)
        seed(db)
