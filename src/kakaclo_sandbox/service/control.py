"""The clock's persistence: a moved or frozen clock stays so across restarts.

The other control actions (reset to a data file, adding an order) seed a data
file, so they live with it (:mod:`kakaclo_sandbox.demo`,
:mod:`kakaclo_sandbox.seeding`), through the same storage interface.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from kakaclo_sandbox.clock import LATEST, SandboxClock
from kakaclo_sandbox.storage.interface import Store, WritingUnit

CLOCK_OFFSET = "clock_offset"
CLOCK_FROZEN_AT = "clock_frozen_at"  # empty while the clock runs
log = logging.getLogger("kakaclo_sandbox")


async def save_clock(store: Store, clock: SandboxClock) -> None:
    """Remember the clock's offset and whether it is frozen, for the next start."""
    async with store.writing() as unit:
        await _store_clock(unit, clock)


async def _store_clock(unit: WritingUnit, clock: SandboxClock) -> None:
    frozen_at = clock.frozen_at
    await unit.set_meta(CLOCK_OFFSET, repr(clock.offset))
    await unit.set_meta(CLOCK_FROZEN_AT, "" if frozen_at is None else repr(frozen_at))


CLOCK_KEYS = (CLOCK_OFFSET, CLOCK_FROZEN_AT)  # what another process reads of the clock


async def change_clock(
    store: Store, clock: SandboxClock, change: Callable[[SandboxClock], None]
) -> None:
    """Change the clock as stored, in one unit: read (locked against another process's
    change, which would otherwise be lost), ``change`` (ValueError: nothing stored),
    stored. ``clock`` is left as stored."""
    async with store.writing() as unit:
        apply_clock(clock, *await unit.locked_meta(CLOCK_KEYS))
        change(clock)
        await _store_clock(unit, clock)


async def restore_clock(store: Store, clock: SandboxClock) -> None:
    """Set ``clock`` as the last run left it (moved, frozen), or from now when it cannot be."""
    apply_clock(clock, await store.meta(CLOCK_OFFSET), await store.meta(CLOCK_FROZEN_AT))


def apply_clock(clock: SandboxClock, offset: str | None, frozen: str | None) -> None:
    """Set ``clock`` as stored (its offset and frozen time, as :func:`save_clock` wrote
    them): at start, and in every request while other processes share the database."""
    clock.offset = float(offset or 0.0)
    frozen_at = float(frozen or "nan")
    clock.frozen_at = frozen_at if math.isfinite(frozen_at) and frozen_at <= LATEST else None
    if not math.isfinite(clock.now()) or clock.now() > LATEST:
        # a database from a version without the bound: back to the real time
        log.warning("the stored clock offset is out of range; the clock starts from now")
        clock.restart()
