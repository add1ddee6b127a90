"""The sandbox's own cost per request, without a server or a socket: raw ASGI calls.

32 callers at once (as ``make bench``'s wrk connections), on a durable SQLite
file in a temporary directory, rate limit off; each operation is run for
``--requests`` calls per caller and reported in requests per second. Refund
Order refunds one piece of an order with enough of them; Query Refund and
Query Order read the demo order 10001, with the answer cache and without.

    python -m bench.inprocess [--rounds 5] [--requests 1000] [--db postgresql://...]

``--db URL`` measures the same on a PostgreSQL database instead (wiped and seeded
again for each sandbox, ``--fresh``): give an empty database of a server of your own.

Each round runs in a fresh process; the medians are printed as JSON. To
compare two source trees on one machine, run it with ``PYTHONPATH`` set to
each tree's ``src`` and ``generated`` in turn, alternating rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from starlette.types import ASGIApp, Message

from bench.orders import ORDER, ORDER_ID, REFUND_BODY

CALLERS = 32
API = "/openapi/openapi/v2/order/orders"
Call = Callable[[int, int], Awaitable[int]]


async def call(
    app: ASGIApp,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    body: bytes = b"",
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> int:
    """One request as a server hands it to the app; its status."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", b"Bearer demo-token"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    given = False
    status = 0

    async def receive() -> Message:
        nonlocal given
        if given:
            return {"type": "http.disconnect"}
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def load(make: Call, requests: int) -> float:
    """Requests per second of CALLERS callers making ``requests`` calls each."""

    async def caller(c: int) -> None:
        for i in range(requests):
            status = await make(c, i)
            if status != 200:
                raise RuntimeError(f"answered {status}")

    start = time.perf_counter()
    await asyncio.gather(*(caller(c) for c in range(CALLERS)))
    return CALLERS * requests / (time.perf_counter() - start)


async def measure(app: ASGIApp, requests: int, *, refunds: bool) -> dict[str, float]:
    """Requests per second of each operation on ``app`` (Refund Order's too: ``refunds``)."""
    operations: dict[str, Call] = {}
    if refunds:
        operations["refund_order"] = lambda c, i: call(
            app, "POST", f"{API}/{ORDER_ID}/refund", body=REFUND_BODY
        )
        operations["refund_order_keyed"] = lambda c, i: call(
            app,
            "POST",
            f"{API}/{ORDER_ID}/refund",
            body=REFUND_BODY,
            extra=((b"idempotency-key", f"k-{c}-{i}".encode()),),
        )
    operations["query_refund"] = lambda c, i: call(app, "GET", f"{API}/refund/10001")
    operations["query_orders"] = lambda c, i: call(app, "GET", API, query=b"ids=10001")
    return {name: await load(make, requests) for name, make in operations.items()}


async def one_round(requests: int, url: str | None = None) -> dict[str, float]:
    """Every operation once, on fresh sandboxes (with the answer cache, then without), on
    a SQLite file or the PostgreSQL database ``url``."""
    from kakaclo_sandbox import create_app

    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for cached in (True, False):
            app = create_app(
                db=url or str(Path(folder) / f"cached-{cached}.db"),
                fresh=url is not None,
                rate_limit=None,
                settle_after=3600.0,
                answer_cache=cached,
            )
            added = await call(app, "POST", "/_sandbox/orders", body=orjson.dumps(ORDER))
            assert added == 200, added
            measured = await measure(app, requests, refunds=cached)
            figures.update(
                measured if cached else {f"{k}_uncached": v for k, v in measured.items()}
            )
            await app.state.sandbox.release()
            app.state.sandbox.close()
    return figures


def main() -> None:
    """Run the rounds, each in a process of its own, and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000, help="calls per caller")
    parser.add_argument("--db", help="a postgresql:// URL of an empty database (default: SQLite)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one_round(args.requests, args.db))))
        return
    rounds = [
        json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.inprocess",
                    "--one",
                    "--requests",
                    str(args.requests),
                    *(["--db", args.db] if args.db else []),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(args.rounds)
    ]
    medians = {name: round(statistics.median(r[name] for r in rounds)) for name in rounds[0]}
    print(json.dumps(medians, indent=2))


if __name__ == "__main__":
    main()
