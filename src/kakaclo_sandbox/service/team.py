"""The settings every process sharing one database must agree on.

The first process (or one alone on its database) stores them; a process that joins
others with different ones is refused in one line naming each difference, before it
answers anything. The data file is checked apart (:func:`kakaclo_sandbox.demo.check_holds`:
the database remembers its content).
"""

from __future__ import annotations

import json

from kakaclo_sandbox.settings import Settings
from kakaclo_sandbox.storage.interface import Store

TEAM_SETTINGS = "team_settings"  # the meta key
# (setting, its option) of what the processes must share
SHARED = (("settleAfter", "--settle-after"), ("rateLimit", "--rate-limit"), ("clean", "--clean"))


def shared_settings(settings: Settings) -> dict[str, object]:
    """The settings the processes sharing a database must agree on."""
    return {
        "settleAfter": settings.settle_after,
        "rateLimit": "off" if settings.rate_limit is None else str(settings.rate_limit),
        "clean": settings.clean,
    }


async def agree(store: Store, settings: Settings) -> None:
    """Store this process's shared settings (alone on the database, or the first to store
    any), or check them against those of the processes it joins (ValueError, one line,
    naming every difference). Read and stored in one unit, locked against another
    process starting at the same moment."""
    mine = shared_settings(settings)
    async with store.writing() as unit:
        (held,) = await unit.locked_meta([TEAM_SETTINGS])
        if held is None or store.alone:
            await unit.set_meta(TEAM_SETTINGS, json.dumps(mine, sort_keys=True))
            return
    theirs = json.loads(held)
    differences = [
        f"{option} {_shown(theirs.get(name))} (this one: {_shown(mine[name])})"
        for name, option in SHARED
        if theirs.get(name) != mine[name]
    ]
    if differences:
        raise ValueError(
            f"the kakaclo-sandbox processes already on {settings.db_shown} run with "
            f"{', '.join(differences)}; start this one with theirs, or stop them first"
        )


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
