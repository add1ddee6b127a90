"""The console's feeds under load: another tenant's next call while feeds do not read.

Issue 30's case: merchant A holds 30,000 refunds and has ten console feeds open
that never read; merchant B changes something. Before web/feeds.py, every feed
recomputed A's whole state on the event loop after every change, from any
merchant, and B's next call waited for all ten (9 s). Now a change by B
computes nothing for A, and a change for everyone (a clock move) computes A's
state once, in a worker thread. The figure is the time of B's change plus its
next call, the median and the worst of the rounds.
"""

from __future__ import annotations

import socket
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from bench import run

REFUNDS = 30_000
FEEDS = 10
ROUNDS = 10
JSON_TYPE = {"Content-Type": "application/json"}


def _idle_feed(port: int) -> socket.socket:
    """A feed of merchant A that never reads (a small receive buffer, so it fills soon)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"GET /_sandbox/events?token=demo-token HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock


def _order(n: int) -> dict[str, Any]:
    return {
        "id": str(7_000_000 + n),
        "status": "processing",
        "financialStatus": "paid",
        "fulfillmentStatus": "waiting_to_ship",
        "createDate": "2026-11-20T10:00:00Z",
        "payDate": "2026-11-20T10:00:04Z",
        "orderItems": [
            {"id": f"{7_000_000 + n}1", "itemId": "777", "skuCode": "B_SKU"}
            | {"countryCode": "CN", "amount": 2.5, "productNum": 2}
        ],
    }


def measure_feeds(work: Path) -> dict[str, Any]:
    """B's change and next call (ms) with A's ten idle feeds over 30,000 refunds."""
    db = work / "feeds.db"
    run.seed_bench_db(db)
    run.preload_refunds(db, REFUNDS)
    port = run.free_port()
    root = f"http://127.0.0.1:{port}"
    info = root + "/_sandbox/info"
    with run.server("sandbox (feeds)", run.sandbox_command(db, port), info, timeout=120):
        feeds = [_idle_feed(port) for _ in range(FEEDS)]
        try:
            b = {"Authorization": "Bearer demo-token-2"}
            taken: dict[str, list[float]] = {"b_new_order": [], "clock_move": []}
            with httpx.Client(base_url=root, timeout=60) as http:
                for n in range(ROUNDS):
                    started = time.perf_counter()
                    added = http.post("/_sandbox/orders", json=_order(n), headers=b)
                    added.raise_for_status()
                    http.get("/openapi/openapi/v2/order/orders", headers=b).raise_for_status()
                    taken["b_new_order"].append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    http.post(
                        "/_sandbox/clock/advance", params={"seconds": 1}, headers=JSON_TYPE
                    ).raise_for_status()
                    http.get("/openapi/openapi/v2/order/orders", headers=b).raise_for_status()
                    taken["clock_move"].append((time.perf_counter() - started) * 1000)
        finally:
            for sock in feeds:
                sock.close()
    return {
        "refunds": REFUNDS,
        "idle_feeds": FEEDS,
        **{
            change: {
                "median_ms": round(statistics.median(ms), 1),
                "max_ms": round(max(ms), 1),
            }
            for change, ms in taken.items()
        },
    }


def print_feeds(result: dict[str, Any]) -> None:
    """One line per kind of change."""
    print(
        f"\nConsole feeds: {result['idle_feeds']} idle feeds of a merchant with "
        f"{result['refunds']:,} refunds; another merchant's change and next call"
    )
    for change in ("b_new_order", "clock_move"):
        row = result[change]
        print(f"  {change:<12} median {row['median_ms']:>7.1f} ms   worst {row['max_ms']:>7.1f} ms")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print_feeds(measure_feeds(Path(tmp)))
