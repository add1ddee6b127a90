"""Loading a large data file: ``kakaclo-sandbox --data FILE`` from start to its first answer.

Issue 30's case: a 100,000-order YAML file (31 MB) took 192 s and 2.4 GB to
load, with the port listening (so clients hung) all that time. The figure is
the wall time from starting the command to its first answer, the orders per
second and the command's peak RSS, for a 100,000-order file against a
10,000-order baseline measured in the same run (the per-order cost ratio shows
whether loading stays linear), both as YAML and as JSON.

    python -m bench.data_load [--orders 100000] [--baseline 10000]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench import run

ORDERS = 100_000
BASELINE = 10_000
ORDERS_PER_MERCHANT = 10_000


def order(n: int) -> dict[str, Any]:
    """Order ``n`` of a generated file: two lines, an address, a settled refund every tenth."""
    body: dict[str, Any] = {
        "id": str(30_000_000 + n),
        "status": "processing",
        "financialStatus": "paid",
        "fulfillmentStatus": "waiting_to_ship",
        "createDate": "2026-11-01T08:00:00Z",
        "payDate": "2026-11-01T08:00:04Z",
        "currencyCode": "USD",
        "freightAmount": 4.5,
        "couponAmount": 1,
        "shippingAddress": {"country": "US", "city": "Los Angeles", "zip": "90001"},
        "orderItems": [
            {
                "id": f"{n}1",
                "itemId": "120001",
                "skuCode": "FSZW08923_R_L_NUB",
                "countryCode": "CN",
                "amount": 7.23,
                "productNum": 2,
            },
            {
                "id": f"{n}2",
                "itemId": "120002",
                "skuCode": "AMN01214_B_S_AK",
                "countryCode": "US",
                "amount": 12.5,
                "productNum": 1,
            },
        ],
    }
    if n % 10 == 0:
        body["refunds"] = [{"refundStatus": "refund_successfully"}]
    return body


def write_file(path: Path, orders: int) -> int:
    """A data file of ``orders`` orders (YAML or JSON by its suffix); its size in bytes."""
    merchants = [
        {
            "merchant": f"merchant-{m}",
            "tokens": [f"load-token-{m}"],
            "orders": [
                order(n)
                for n in range(m * ORDERS_PER_MERCHANT, min(orders, (m + 1) * ORDERS_PER_MERCHANT))
            ],
        }
        for m in range(max(1, -(-orders // ORDERS_PER_MERCHANT)))
    ]
    document = {"merchants": merchants}
    if path.suffix == ".json":
        path.write_text(json.dumps(document))
    else:
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        path.write_text(yaml.dump(document, Dumper=dumper, default_flow_style=None, width=200))
    return path.stat().st_size


def _peak_rss_kb(pid: int) -> int:
    """The process's peak resident set since it started (VmHWM), in KiB.

    Not ``wait4``'s ``ru_maxrss``: Linux counts in it the memory of the process it
    was forked from (this one, which just built a large file).
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def measure_load(data: Path, work: Path) -> dict[str, Any]:
    """Start the sandbox on ``data``; seconds to its first answer and its peak RSS (MB)."""
    port = run.free_port()
    db = work / f"{data.stem}.db"
    # info: the progress lines (the bench's own default is warning)
    command = [
        *run.sandbox_command(db, port),
        "--data",
        str(data),
        "--fresh",
        "--log-level",
        "info",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    progress = 0
    for raw in process.stderr:  # the banner's first line comes once the port listens
        line = raw.decode(errors="replace")
        if line.startswith("kakaclo-sandbox ") and " on http" in line:
            break
        if "orders checked" in line:
            progress += 1
    else:
        process.wait()
        raise RuntimeError(f"the sandbox exited early on {data.name}")
    with socket.create_connection(("127.0.0.1", port), timeout=60):
        pass
    seconds = time.perf_counter() - started
    peak_kb = _peak_rss_kb(process.pid)
    process.terminate()
    process.wait(timeout=60)
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(peak_kb / 1024),
        "progress_lines": progress,
    }


def measure_data_load(work: Path, orders: int = ORDERS, baseline: int = BASELINE) -> dict[str, Any]:
    """The large file and the baseline, as YAML and as JSON."""
    result: dict[str, Any] = {"orders": orders, "baseline_orders": baseline}
    for kind in ("yaml", "json"):
        rows = {}
        for label, count in (("baseline", baseline), ("large", orders)):
            path = work / f"orders-{count}.{kind}"
            size = write_file(path, count)
            run.log(f"loading {count:,} orders from a {size / 1e6:.1f} MB {kind.upper()} file")
            row = measure_load(path, work)
            row["megabytes"] = round(size / 1e6, 1)
            row["orders_per_second"] = round(count / row["seconds"])
            rows[label] = row
        per_order = (rows["large"]["seconds"] / orders) / (rows["baseline"]["seconds"] / baseline)
        result[kind] = {**rows, "per_order_vs_baseline": round(per_order, 2)}
    return result


def print_data_load(result: dict[str, Any]) -> None:
    """One line per file."""
    print("\nData file load (kakaclo-sandbox --data FILE --fresh, start to first answer)")
    for kind in ("yaml", "json"):
        for label in ("baseline", "large"):
            row = result[kind][label]
            count = result["orders" if label == "large" else "baseline_orders"]
            print(
                f"  {kind:<4} {count:>7,} orders {row['megabytes']:>6} MB  "
                f"{row['seconds']:>7.2f} s  {row['orders_per_second']:>7,} orders/s  "
                f"peak RSS {row['peak_rss_mb']:>5} MB  {row['progress_lines']} progress lines"
            )
        ratio = result[kind]["per_order_vs_baseline"]
        print(f"  {kind:<4} per-order cost, large vs baseline: {ratio}x")


def main() -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--baseline", type=int, default=BASELINE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print_data_load(measure_data_load(Path(tmp), args.orders, args.baseline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
