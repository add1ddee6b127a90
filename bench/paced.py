"""A paced, open-loop load: ``rate`` GETs per second for ``seconds``, latency from schedule.

Each request is due at ``start + i / rate`` and its latency counts from that
instant, so a slow answer delays no later request and hides no queueing
(coordinated omission). Prints one JSON object: p50, p90, p99 and max in ms.

    python -m bench.paced URL --rate 200 --seconds 10 [--header 'Authorization: Bearer demo-token']
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from urllib.parse import urlsplit

import uvloop

from kakaclo_proxy.upstream import Upstream


async def paced(url: str, rate: float, seconds: float, headers: dict[str, str]) -> list[float]:
    """Latencies (seconds) of ``rate * seconds`` GETs sent on schedule.

    The requests go out through the proxy's own HTTP client (keep-alive, one
    request per connection at a time), the lightest client here.
    """
    split = urlsplit(url)
    client = Upstream(f"{split.scheme}://{split.netloc}")
    target = split.path + (f"?{split.query}" if split.query else "")
    sent = list(headers.items())
    latencies: list[float] = []
    failures = 0

    async def one(due: float) -> None:
        nonlocal failures
        await asyncio.sleep(max(0.0, due - time.perf_counter()))  # the schedule, not a fix-up
        answer = await client.forward("GET", target, sent, b"")
        if answer.status != 200:
            failures += 1
        latencies.append(time.perf_counter() - due)

    for _ in range(20):  # open a connection, outside the measurement
        await client.forward("GET", target, sent, b"")
    start = time.perf_counter() + 0.05
    count = int(rate * seconds)
    await asyncio.gather(*(one(start + i / rate) for i in range(count)))
    await client.close()
    if failures:
        raise SystemExit(f"{failures} answers were not 200")
    return latencies


def main() -> None:
    """Run and print the percentiles as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    latencies = sorted(uvloop.run(paced(args.url, args.rate, args.seconds, headers)))
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "p50_ms": round(cuts[49] * 1000, 3),
                "p90_ms": round(cuts[89] * 1000, 3),
                "p99_ms": round(cuts[98] * 1000, 3),
                "max_ms": round(latencies[-1] * 1000, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
