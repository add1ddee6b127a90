"""The validating proxy's cost: Query Refund through it against direct, in the same run.

Layout: the sandbox (the upstream) and the proxy share the server core; wrk
and the paced client run on the load core. So the proxy's throughput ratio is
what one core gives when it runs both, and the latency it adds is measured at
a moderate, paced load (200 req/s by default), where neither core is busy.
Rounds alternate direct and proxied; each figure is the median of its rounds.
Goals (the proxy issue): p50 <= 1 ms and p99 <= 3 ms added, >= 0.35x direct
throughput, memory flat over the run.

    python -m bench.proxy [--rounds 3] [--duration 5] [--rate 200] [--paced-seconds 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.cpu import cpu_seconds
from bench.run import (
    LOAD_CPU,
    QUERY_PATH,
    VENV_BIN,
    free_port,
    log,
    pinned,
    rotated,
    sandbox_command,
    seed_bench_db,
    server,
    wrk,
)

TOKEN = "Bearer demo-token"
QUERY_ORDER_ID = "10001"


def rss_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def paced(url: str, rate: float, seconds: float) -> dict[str, float]:
    """The paced client's percentiles, run on the load core."""
    command = pinned(
        LOAD_CPU,
        [
            sys.executable,
            "-m",
            "bench.paced",
            url,
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
            "--header",
            f"Authorization: {TOKEN}",
        ],
    )
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def proxy_command(upstream: str, port: int, report: Path) -> list[str]:
    """The proxy as users run it (findings on, no recording)."""
    return [
        str(VENV_BIN / "kakaclo-sandbox"),
        "proxy",
        "--upstream",
        upstream,
        "--port",
        str(port),
        "--report",
        str(report),
        "--quiet",
    ]


def measure_proxy(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Throughput and added latency of the proxy, and its memory over the run."""
    db = work / "proxy-bench.db"
    seed_bench_db(db)
    sandbox_port, proxy_port = free_port(), free_port()
    upstream = f"http://127.0.0.1:{sandbox_port}/openapi"
    direct_url = upstream + QUERY_PATH.format(id=QUERY_ORDER_ID)
    proxied_url = f"http://127.0.0.1:{proxy_port}/openapi" + QUERY_PATH.format(id=QUERY_ORDER_ID)
    rounds: dict[str, list[dict[str, Any]]] = {"direct": [], "proxy": []}
    rss: list[float] = []
    with (
        server(
            "sandbox",
            sandbox_command(db, sandbox_port),
            f"http://127.0.0.1:{sandbox_port}/_sandbox/info",
        ) as sandbox_pid,
        server(
            "proxy", proxy_command(upstream, proxy_port, work / "proxy-report"), proxied_url
        ) as proxy_pid,
    ):
        for url in (direct_url, proxied_url):  # warm-up
            wrk(url, "query.lua", 2, args.connections)
        rss.append(rss_mb(proxy_pid))
        for round_number in range(args.rounds):
            for name in rotated(["direct", "proxy"], round_number):
                url = direct_url if name == "direct" else proxied_url
                log(f"proxy bench round {round_number + 1}/{args.rounds}: {name}, wrk then paced")
                cpu = (cpu_seconds(sandbox_pid), cpu_seconds(proxy_pid))
                load = wrk(url, "query.lua", args.duration, args.connections)
                used = (cpu_seconds(sandbox_pid) - cpu[0], cpu_seconds(proxy_pid) - cpu[1])
                load_cpu = {
                    "sandbox_cpu_us_per_request": round(used[0] / load.requests * 1e6, 1),
                    "proxy_cpu_us_per_request": round(used[1] / load.requests * 1e6, 1),
                }
                latency = paced(url, args.rate, args.paced_seconds)
                rounds[name].append({"wrk": load.__dict__ | load_cpu, "paced": latency})
            rss.append(rss_mb(proxy_pid))
        findings = (work / "proxy-report" / "findings.ndjson").read_text().count("\n")

    def median(name: str, part: str, key: str) -> float:
        return round(float(statistics.median(r[part][key] for r in rounds[name])), 3)

    direct_rps, proxy_rps = (median(n, "wrk", "requests_per_second") for n in rounds)
    return {
        "layout": "sandbox and proxy on core 0; wrk and the paced client on core 1",
        "rounds": rounds,
        "direct_rps": direct_rps,
        "proxy_rps": proxy_rps,
        "proxy_vs_direct": round(proxy_rps / direct_rps, 3),
        "sandbox_cpu_us_per_request": median("direct", "wrk", "sandbox_cpu_us_per_request"),
        "proxy_cpu_us_per_request": median("proxy", "wrk", "proxy_cpu_us_per_request"),
        "rate": args.rate,
        "direct_p50_ms": median("direct", "paced", "p50_ms"),
        "direct_p99_ms": median("direct", "paced", "p99_ms"),
        "proxy_p50_ms": median("proxy", "paced", "p50_ms"),
        "proxy_p99_ms": median("proxy", "paced", "p99_ms"),
        "added_p50_ms": round(
            median("proxy", "paced", "p50_ms") - median("direct", "paced", "p50_ms"), 3
        ),
        "added_p99_ms": round(
            median("proxy", "paced", "p99_ms") - median("direct", "paced", "p99_ms"), 3
        ),
        "proxy_rss_mb": [round(value, 1) for value in rss],
        "proxy_findings": findings,
        "requests_through_proxy": sum(
            r["wrk"]["requests"] + r["paced"]["requests"] for r in rounds["proxy"]
        ),
    }


def print_proxy(result: dict[str, Any]) -> None:
    """The proxy's table."""
    print(
        f"\nValidating proxy, Query Refund ({result['layout']}; median of "
        f"{len(result['rounds']['direct'])} rounds, alternating)"
    )
    print(
        f"throughput: direct {result['direct_rps']:.0f} req/s, through the proxy "
        f"{result['proxy_rps']:.0f} req/s: {result['proxy_vs_direct']:.2f}x (goal >= 0.35x); "
        f"CPU per request: sandbox {result['sandbox_cpu_us_per_request']} us, proxy "
        f"{result['proxy_cpu_us_per_request']} us"
    )
    print(
        f"latency at {result['rate']:g} req/s: direct p50 {result['direct_p50_ms']} ms, "
        f"p99 {result['direct_p99_ms']} ms; proxied p50 {result['proxy_p50_ms']} ms, "
        f"p99 {result['proxy_p99_ms']} ms; added p50 {result['added_p50_ms']} ms "
        f"(goal <= 1), p99 {result['added_p99_ms']} ms (goal <= 3)"
    )
    rss = result["proxy_rss_mb"]
    print(
        f"proxy RSS after warm-up and after each round, MiB: {', '.join(map(str, rss))} "
        f"({result['requests_through_proxy']} requests through it, "
        f"{result['proxy_findings']} findings)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The proxy bench's options (shared with bench.run)."""
    parser.add_argument(
        "--proxy-rounds",
        dest="rounds",
        type=int,
        default=3,
        help="rounds of the proxy bench (median)",
    )
    parser.add_argument(
        "--proxy-duration",
        dest="duration_proxy",
        type=int,
        default=5,
        help="seconds per wrk run of the proxy bench",
    )
    parser.add_argument(
        "--rate", type=float, default=200.0, help="paced requests per second for the added latency"
    )
    parser.add_argument("--paced-seconds", type=float, default=10.0, help="seconds per paced run")


def main() -> int:
    """Run the proxy bench alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    add_arguments(parser)
    args = parser.parse_args()
    args.duration = args.duration_proxy
    with tempfile.TemporaryDirectory() as tmp:
        result = measure_proxy(args, Path(tmp))
    print_proxy(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
