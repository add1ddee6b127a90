"""The sandbox's settings, shared by ``kakaclo-sandbox`` and ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kakaclo_sandbox import database_url
from kakaclo_sandbox.ratelimit import RateLimit, vendor_limit

DEFAULT_DB = Path(".sandbox") / "sandbox.db"
DEFAULT_SETTLE_AFTER = 5.0


@dataclass(frozen=True)
class Settings:
    """How a sandbox behaves. Defaults are the vendor's figures where it has any."""

    db: str = str(DEFAULT_DB)
    settle_after: float = DEFAULT_SETTLE_AFTER
    rate_limit: RateLimit | None = field(default_factory=vendor_limit)
    control: bool = True
    validate_responses: bool = False
    # keep read answers until the database changes (web/answer_cache.py)
    answer_cache: bool = True
    spec_path: Path | None = None
    # the vendor's forms ("NULL" strings, extra page keys, ...) unless clean
    clean: bool = False
    # a data file of merchants, tokens and orders; None is the shipped demo data
    data: Path | None = None
    # replace what the database holds with the data (at start)
    fresh: bool = False
    # Host names the control surface answers under (web/guard.py); None: any.
    # kakaclo-sandbox passes its listen address, localhost and each --allowed-host.
    allowed_hosts: tuple[str, ...] | None = None

    @property
    def db_shown(self) -> str:
        """The database as banners, logs and ``/_sandbox/info`` name it: no password."""
        return database_url.shown(self.db) if "://" in self.db else self.db

    def __post_init__(self) -> None:
        if self.settle_after < 0:
            raise ValueError("settle_after must be zero or more seconds")
