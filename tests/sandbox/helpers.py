"""Small helpers of the sandbox tests."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx

from kakaclo_sandbox.storage.sqlite import SqliteStore

# starlette's TestClient is an httpx.Client, so these work in-process and over HTTP.
HttpClient = httpx.Client

API = "/openapi/openapi/v2/order/orders"


def refund_url(order_id: str) -> str:
    return f"{API}/{order_id}/refund"


def query_refund_url(order_id: str) -> str:
    return f"{API}/refund/{order_id}"


PARTIAL_BODY = {
    "remark": "test",
    "refundReason": "Other",
    "orderItems": [
        {"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", "quantity": 1, "countryCode": "CN"},
        {"itemId": "120002", "skuCode": "FSZW08923_R_L_NUB", "quantity": 2, "countryCode": "US"},
    ],
}


def item(item_id: str, quantity: int, country: str = "CN") -> dict[str, Any]:
    return {
        "itemId": item_id,
        "skuCode": "FSZW08923_R_L_NUB",
        "quantity": quantity,
        "countryCode": country,
    }


def snapshot(client: HttpClient, headers: dict[str, str]) -> dict[str, Any]:
    """Everything a merchant can see: all orders and every order's refunds."""
    orders = client.get(API, params={"pageSize": 250}, headers=headers).json()["data"]
    refunds = {
        order["id"]: client.get(
            query_refund_url(order["id"]), params={"pageSize": 250}, headers=headers
        ).json()["data"]
        for order in orders["list"]
    }
    return {"orders": orders, "refunds": refunds}


def order(client: HttpClient, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    body = client.get(API, params={"ids": order_id}, headers=headers).json()
    (found,) = body["data"]["list"]
    return dict(found)


def refunds(client: HttpClient, headers: dict[str, str], order_id: str) -> list[dict[str, Any]]:
    body = client.get(query_refund_url(order_id), params={"pageSize": 250}, headers=headers).json()
    return list(body["data"]["list"])


class FailingCommit:
    """A store's connection whose next COMMIT fails once; with ``rolled_back``, SQLite
    has rolled the transaction back itself first (as on a full disk or an I/O error)."""

    def __init__(self, connection: sqlite3.Connection, *, rolled_back: bool = False) -> None:
        self.connection = connection
        self.rolled_back = rolled_back
        self.failed = False

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT" and not self.failed:
            self.failed = True
            if self.rolled_back:
                self.connection.execute("ROLLBACK")
            raise sqlite3.OperationalError("disk I/O error")
        return self.connection.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


def sqlite_store(sandbox: Any) -> SqliteStore:
    """A sandbox's store, for a test of SQLite's own engine (the sandbox holds the interface)."""
    store = sandbox.store
    assert isinstance(store, SqliteStore)
    return store


# A merchant's own order, as a data file or POST /_sandbox/orders gives it: one line of
# two pieces at 12.50, freight 4.50 (tests add refunds, options or other fields to it).
MY_ORDER: dict[str, Any] = {
    "id": "5001",
    "status": "processing",
    "financialStatus": "paid",
    "fulfillmentStatus": "waiting_to_ship",
    "createDate": "2026-11-20T10:00:00Z",
    "payDate": "2026-11-20T10:00:04Z",
    "freightAmount": 4.5,
    "orderItems": [
        {
            "id": "50011",
            "itemId": "777",
            "skuCode": "MY_SKU",
            "countryCode": "CN",
            "amount": 12.5,
            "productNum": 2,
        }
    ],
}


def write_version(url: str) -> int:
    """The PostgreSQL database's write version (moved once per committed write)."""
    import psycopg  # the postgres extra: only the PostgreSQL tests ask

    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM write_version"
        ).fetchone()
    assert row is not None
    return int(row[0])
