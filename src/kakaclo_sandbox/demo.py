"""The data a sandbox starts from and resets to: the user's data file, or the shipped demo data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kakaclo_sandbox.data import DEMO_DATA, Dataset, load
from kakaclo_sandbox.seeding import seed
from kakaclo_sandbox.service.team import TEAM_SETTINGS
from kakaclo_sandbox.storage.interface import Store
from kakaclo_spec import Spec

DATA_FINGERPRINT = "data_fingerprint"
DATA_SOURCE = "data_source"
KEPT_ACROSS_RESET = (TEAM_SETTINGS,)  # the meta values a reset keeps


def dataset(path: Path | None, spec: Spec) -> Dataset:
    """The checked data of ``path`` (default: the demo data)."""
    return load(path or DEMO_DATA, spec)


def fingerprint(data: Dataset) -> str:
    """What identifies a dataset's content (the database remembers it)."""
    content = json.dumps(
        [data.tokens, [repr(order.order) + repr(order.refunds) for order in data.orders]],
        sort_keys=True,
    )
    return hashlib.sha256(content.encode()).hexdigest()


async def reset(store: Store, data: Dataset) -> None:
    """Wipe the database and seed ``data`` again, in one transaction. The settings a team
    of processes agreed on stay (a process joining after a reset is checked against
    them; a process alone stores its own at start anyway)."""
    async with store.writing() as unit:
        kept = await unit.locked_meta(KEPT_ACROSS_RESET)
        await unit.wipe()
        for key, value in zip(KEPT_ACROSS_RESET, kept, strict=True):
            if value is not None:
                await unit.set_meta(key, value)
        await seed(unit, data)
        await unit.set_meta(DATA_FINGERPRINT, fingerprint(data))
        await unit.set_meta(DATA_SOURCE, data.source)
    store.forget_merchants()


async def check_holds(store: Store, data: Dataset, database: str) -> None:
    """Refuse a database (named ``database`` in the message) that holds other data than
    ``data`` (nothing is overwritten)."""
    if await store.meta(DATA_FINGERPRINT) == fingerprint(data):
        return
    held = await store.meta(DATA_SOURCE)
    if not store.alone:  # --fresh would be refused: other processes use the database
        raise ValueError(
            f"the kakaclo-sandbox processes already on {database} run with the data of "
            f"{held or 'another version'}, not of {data.source}; start this one with the same "
            "content, or stop them first"
        )
    if held == data.source:
        raise ValueError(
            f"{data.source} changed since {database} was seeded from it; pass --fresh to load "
            "the new version (the database's refunds are dropped), or another --db to keep both"
        )
    held = held or "another version's data"
    raise ValueError(
        f"{database} holds the data of {held}, not of {data.source}; pass --fresh to "
        "replace it (its refunds are dropped), or another --db"
    )
