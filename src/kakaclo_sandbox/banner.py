"""What ``kakaclo-sandbox`` prints once its port is bound: where everything is, and who may call."""

from __future__ import annotations

from collections import defaultdict

from kakaclo_sandbox.data import Dataset
from kakaclo_sandbox.settings import Settings
from kakaclo_serving.version import __version__

SHOWN_ORDERS = 4  # order ids named per merchant; the rest are counted
ONE_PORT = " processes on one port (GET /_sandbox/info names the one that answered)"


def banner(root: str, api_root: str, settings: Settings, data: Dataset, *, workers: int = 1) -> str:
    """The startup lines: the API root, the docs and spec URLs, the settings, the number
    of processes answering, the data's tokens."""
    orders: dict[str, list[str]] = defaultdict(list)
    for seed in data.orders:
        orders[seed.order.merchant].append(seed.order.id)
    limit = settings.rate_limit
    lines = [
        f"kakaclo-sandbox {__version__} on {root}",
        f"  API root  {root}{api_root}   (the base URL a client takes)",
        f"  docs      {root}/docs",
        f"  spec      {root}/openapi.yaml",
        f"  console   {root}/console" if settings.control else "  console   off (--no-control)",
        f"  control   {root}/_sandbox/info"
        if settings.control
        else "  control   off (--no-control)",
        f"  database  {settings.db_shown}; refunds settle after {settings.settle_after:g} s; "
        f"rate limit {limit if limit else 'off'}"
        + ("" if settings.answer_cache else "; answer cache off"),
        f"  workers   {workers}" + (ONE_PORT if workers > 1 else ""),
        f"  tokens ({data.source}):",
    ]
    width = max((len(token) for token in data.tokens), default=0)
    for token, merchant in data.tokens.items():
        ids = orders.get(merchant, [])
        shown = ", ".join(ids[:SHOWN_ORDERS]) + (
            f" and {len(ids) - SHOWN_ORDERS} more" if len(ids) > SHOWN_ORDERS else ""
        )
        lines.append(f"    {token:<{width}}  {merchant}: {shown or 'no orders'}")
    return "\n".join(lines)
