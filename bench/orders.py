"""The bench order: one definition for every bench that refunds it.

Order 90001 of the demo merchant (merchant-a), with one line of enough pieces
that every Refund Order of a bench run is a real refund of one piece. wrk's
refund.lua sends :data:`REFUND_BODY`, handed to it by ``bench.run.wrk``.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

ORDER_ID = "90001"
ITEM_ID = "990001"
SKU = "BENCH_SKU"
COUNTRY = "CN"
PIECES = 50_000_000  # enough pieces that every request of the run is a real refund
MERCHANT = "merchant-a"
TOKEN = "demo-token"  # merchant-a's
ORDER: dict[str, Any] = {
    "id": ORDER_ID,
    "status": "processing",
    "financialStatus": "paid",
    "fulfillmentStatus": "waiting_to_ship",
    "createDate": "2026-11-03T00:00:00Z",
    "payDate": "2026-11-03T00:00:04Z",
    "freightAmount": 9.1,
    "orderItems": [
        {
            "id": "9900011",
            "itemId": ITEM_ID,
            "skuCode": SKU,
            "countryCode": COUNTRY,
            "amount": 1.5,
            "productNum": PIECES,
        }
    ],
}
# One Refund Order request body: one piece of the order's line.
REFUND_BODY = orjson.dumps(
    {
        "remark": "bench",
        "orderItems": [{"itemId": ITEM_ID, "skuCode": SKU, "quantity": 1, "countryCode": COUNTRY}],
    }
)


def add_over_http(client: httpx.Client, root: str = "") -> None:
    """Add the bench order to a running sandbox through its control surface.

    ``root`` is the server root (``http://127.0.0.1:8080``), or empty for a
    client with a base URL. This is how the bench seeds a sandbox on
    PostgreSQL, after it has seeded its demo data into the new database.
    """
    answer = client.post(
        root + "/_sandbox/orders",
        json=ORDER,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    if answer.status_code != 200:
        raise RuntimeError(f"adding the bench order answered {answer.status_code}: {answer.text}")
