"""What one contract run does, read from environment variables and checked once.

``kakaclo contract`` turns its options into these variables, so a run started
by the command and one started by ``pytest`` directly see the same settings.

| variable | meaning | default |
|---|---|---|
| ``KAKACLO_BASE_URL`` | the API base URL (``.../openapi``) | the in-process sandbox |
| ``KAKACLO_TOKEN`` | bearer token (required with a URL) | |
| ``KAKACLO_ALLOW_REFUNDS`` | ``1`` lets the suite refund a server that is not a sandbox | ``0`` |
| ``KAKACLO_REFUND_ORDER_IDS`` | comma-separated order ids it may refund (required with ``1``) | |
| ``KAKACLO_MAX_REFUNDS`` | at most this many refunds on a server that is not a sandbox | ``3`` |
| ``KAKACLO_WAIT_SETTLEMENT`` | seconds to wait, at the end, for those refunds to settle | ``0`` |
| ``KAKACLO_PROFILE`` | ``quick``, ``thorough`` or ``mutation`` | ``quick`` |
| ``KAKACLO_MAX_EXAMPLES`` | examples per operation and phase (the case budget) | by profile |
| ``KAKACLO_RATE`` | pace requests: ``BURST/PER_SECOND``, ``N/s`` or ``off`` | ``off`` |
| ``KAKACLO_MAX_429_SHARE`` | fail when more answers than this share were 429 | ``0.2`` |
| ``KAKACLO_TIMEOUT`` | seconds to wait for one answer | ``10`` |
| ``KAKACLO_SEED`` | the seed of every generated case | ``20261126`` |
| ``KAKACLO_PHASES`` | schemathesis phases: ``examples,coverage,fuzzing,stateful`` | all four |
| ``KAKACLO_APP`` | without a URL: ``module:factory`` of the in-process app | the sandbox |
| ``KAKACLO_WORKERS`` | without a URL: ``N`` or ``auto`` processes, each with its own app | ``1`` |
| ``KAKACLO_MAX_ORDERS`` | the account walk reads at most this many orders | ``100`` |
| ``KAKACLO_MAX_REFUND_PAGES`` | ... and at most this many Query Refund pages per order | ``5`` |
| ``KAKACLO_OTHER_TOKEN`` | a token of another merchant: each must see the other's orders as 404 | |
| ``KAKACLO_MAX_RETRY_AFTER`` | the longest ``Retry-After`` waited out, in seconds | ``60`` |

``KAKACLO_APP``'s factory is called like ``kakaclo_sandbox.create_app`` (``clock=`` and
the sandbox settings as keywords) and returns an ASGI app: an app wrapping the sandbox,
or a sandbox with other ``rules=``, is checked without a server.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kakaclo_client import spec_facts

from kakaclo_refunds.urls import base_url_problem, masked_url

BASE_URL_ENV = "KAKACLO_BASE_URL"
TOKEN_ENV = "KAKACLO_TOKEN"
ALLOW_REFUNDS_ENV = "KAKACLO_ALLOW_REFUNDS"
REFUND_ORDER_IDS_ENV = "KAKACLO_REFUND_ORDER_IDS"
MAX_REFUNDS_ENV = "KAKACLO_MAX_REFUNDS"
WAIT_SETTLEMENT_ENV = "KAKACLO_WAIT_SETTLEMENT"
PROFILE_ENV = "KAKACLO_PROFILE"
MAX_EXAMPLES_ENV = "KAKACLO_MAX_EXAMPLES"
RATE_ENV = "KAKACLO_RATE"
MAX_429_SHARE_ENV = "KAKACLO_MAX_429_SHARE"
TIMEOUT_ENV = "KAKACLO_TIMEOUT"
SEED_ENV = "KAKACLO_SEED"
PHASES_ENV = "KAKACLO_PHASES"
APP_ENV = "KAKACLO_APP"
WORKERS_ENV = "KAKACLO_WORKERS"
MAX_ORDERS_ENV = "KAKACLO_MAX_ORDERS"
MAX_REFUND_PAGES_ENV = "KAKACLO_MAX_REFUND_PAGES"
OTHER_TOKEN_ENV = "KAKACLO_OTHER_TOKEN"
MAX_RETRY_AFTER_ENV = "KAKACLO_MAX_RETRY_AFTER"

DEFAULT_SUMMARY = Path("reports") / "contract-summary.json"
PHASES = ("examples", "coverage", "fuzzing", "stateful")
PROFILES = ("quick", "thorough", "mutation")  # mutation: quick, not shrunk (make mutation)
# Examples per operation and generation phase, by profile.
PROFILE_EXAMPLES = {"quick": 25, "thorough": 300, "mutation": 25}
DEFAULT_SEED = 20261126
DEFAULT_MAX_REFUNDS = 3
DEFAULT_MAX_429_SHARE = 0.2
DEFAULT_TIMEOUT = 10.0
# The account walk: Query Order page by page up to this many orders, then Query
# Refund of each, up to this many pages per order (at the vendor's 2 requests per
# second, 100 orders take about a minute).
DEFAULT_MAX_ORDERS = 100
DEFAULT_MAX_REFUND_PAGES = 5
# A 429's Retry-After longer than this is not waited out: the request counts as throttled.
DEFAULT_MAX_RETRY_AFTER = 60.0
# A run must see at least this many answers (other than 429) of each read
# operation, so a run that skipped or was throttled cannot pass.
MIN_READ_ANSWERS = 10


class SettingsError(ValueError):
    """A setting the suite cannot run with; the message is one line saying what to fix."""


@dataclass(frozen=True)
class Rate:
    """Client-side pacing: a bucket of ``burst`` requests draining at ``per_second``."""

    burst: int
    per_second: float

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """``BURST/PER_SECOND`` (``120/2``, the vendor's limit), ``N/s`` (``2/s``) or ``off``."""
        text = text.strip().lower()
        if text in {"", "off"}:
            return None
        per_second = re.fullmatch(r"(\d+(?:\.\d+)?)\s*/\s*s", text)
        if per_second and float(per_second[1]) > 0:
            return cls(1, float(per_second[1]))
        bucket = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)", text)
        if bucket and int(bucket[1]) >= 1 and float(bucket[2]) > 0:
            return cls(int(bucket[1]), float(bucket[2]))
        raise SettingsError(
            f"--rate / {RATE_ENV} must be BURST/PER_SECOND (e.g. 120/2), N/s (e.g. 2/s) "
            f"or off, not {text!r}"
        )

    def __str__(self) -> str:
        return f"{self.per_second:g}/s" if self.burst == 1 else f"{self.burst}/{self.per_second:g}"


def _number(env: Mapping[str, str], name: str, default: float, *, low: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < low:
        raise SettingsError(f"{name} must be a number >= {low:g}, not {raw!r}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, *, low: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < low:
        raise SettingsError(f"{name} must be a whole number >= {low}, not {raw!r}")
    return int(raw)


def _phases(raw: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in raw.split(",") if p.strip())
    if not chosen:
        return PHASES
    unknown = [p for p in chosen if p not in PHASES]
    if unknown:
        raise SettingsError(
            f"{PHASES_ENV} / --phases takes {', '.join(PHASES)}, not {', '.join(unknown)}"
        )
    return tuple(p for p in PHASES if p in chosen)


def _workers(raw: str, base_url: str | None) -> str:
    workers = raw.strip().lower() or "1"
    if workers != "auto" and not (workers.isascii() and workers.isdigit() and int(workers) >= 1):
        raise SettingsError(
            f"{WORKERS_ENV} / --workers must be a number of processes >= 1 or auto, not {raw!r}"
        )
    if base_url and workers != "1":
        raise SettingsError(
            f"{WORKERS_ENV} / --workers is for the in-process sandbox: against a URL the "
            "server's rate limit sets the pace, and one process keeps the refund budget "
            "and the pacing whole (leave --workers out)"
        )
    return str(int(workers)) if workers != "auto" else workers


def _base_url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    problem = base_url_problem(url)
    if problem is not None:
        raise SettingsError(
            f"{BASE_URL_ENV} / --base-url must be an http(s) URL such as "
            f"https://test-developer.kakaclo.com/openapi, not {masked_url(url)!r}: {problem}"
        )
    return url


@dataclass(frozen=True)
class RunSettings:
    """Everything a contract run needs to know, validated."""

    base_url: str | None = None  # None: the in-process sandbox
    token: str | None = None
    allow_refunds: bool = False
    refund_order_ids: tuple[str, ...] = ()
    max_refunds: int = DEFAULT_MAX_REFUNDS
    wait_settlement: float = 0.0
    profile: str = "quick"
    max_examples: int | None = None
    rate: Rate | None = None
    max_429_share: float = DEFAULT_MAX_429_SHARE
    timeout: float = DEFAULT_TIMEOUT
    seed: int = DEFAULT_SEED
    phases: tuple[str, ...] = PHASES
    app: str | None = None  # KAKACLO_APP: module:factory of the in-process app
    workers: str = "1"  # KAKACLO_WORKERS: "auto" or a count of processes (pytest-xdist)
    max_orders: int = DEFAULT_MAX_ORDERS
    max_refund_pages: int = DEFAULT_MAX_REFUND_PAGES
    other_token: str | None = None  # KAKACLO_OTHER_TOKEN: another merchant's token
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunSettings:
        """Read and check the ``KAKACLO_*`` variables; raise SettingsError on the first bad one."""
        env = os.environ if env is None else env
        raw_url = env.get(BASE_URL_ENV, "").strip()
        base_url = _base_url(raw_url) if raw_url else None
        token = env.get(TOKEN_ENV, "").strip() or None
        if base_url and not token:
            raise SettingsError(
                f"{BASE_URL_ENV} is set but no token: set {TOKEN_ENV} (preferred: it stays out "
                "of ps and shell history) or pass --token"
            )
        allow = env.get(ALLOW_REFUNDS_ENV, "").strip()
        if allow not in {"", "0", "1"}:
            raise SettingsError(f"{ALLOW_REFUNDS_ENV} must be 1 or 0, not {allow!r}")
        ids = tuple(i.strip() for i in env.get(REFUND_ORDER_IDS_ENV, "").split(",") if i.strip())
        for order_id in ids:
            if not re.fullmatch(spec_facts.ORDER_ID_PATTERN, order_id):
                raise SettingsError(
                    f"{REFUND_ORDER_IDS_ENV} / --order-id takes order ids (digits), "
                    f"not {order_id!r}"
                )
        if allow == "1" and base_url and not ids:
            raise SettingsError(
                "refunds are allowed but no order may be refunded: name the orders with "
                f"--order-id ID (or {REFUND_ORDER_IDS_ENV}=ID,ID); each must be yours, paid "
                "and not shipped"
            )
        profile = env.get(PROFILE_ENV, "quick").strip() or "quick"
        if profile not in PROFILES:
            raise SettingsError(
                f"{PROFILE_ENV} / --profile must be quick, thorough or mutation, not {profile!r}"
            )
        max_examples_raw = env.get(MAX_EXAMPLES_ENV, "").strip()
        share = _number(env, MAX_429_SHARE_ENV, DEFAULT_MAX_429_SHARE, low=0.0)
        if share > 1:
            raise SettingsError(f"{MAX_429_SHARE_ENV} must be a share from 0 to 1, not {share:g}")
        app = env.get(APP_ENV, "").strip() or None
        if app is not None:
            if base_url:
                raise SettingsError(
                    f"{APP_ENV} names an in-process app to check; it cannot go with "
                    f"{BASE_URL_ENV} (unset one of them)"
                )
            if not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", app):
                raise SettingsError(f"{APP_ENV} must be module:factory, not {app!r}")
        workers = _workers(env.get(WORKERS_ENV, ""), base_url)
        other_token = env.get(OTHER_TOKEN_ENV, "").strip() or None
        if other_token is not None and other_token == token:
            raise SettingsError(
                f"{OTHER_TOKEN_ENV} / --other-token must be a token of another merchant, "
                f"not the same token as {TOKEN_ENV}"
            )
        return cls(
            app=app,
            workers=workers,
            base_url=base_url,
            token=token,
            allow_refunds=allow == "1",
            refund_order_ids=ids,
            max_refunds=_whole(env, MAX_REFUNDS_ENV, DEFAULT_MAX_REFUNDS, low=1),
            wait_settlement=_number(env, WAIT_SETTLEMENT_ENV, 0.0, low=0.0),
            profile=profile,
            max_examples=_whole(env, MAX_EXAMPLES_ENV, 0, low=1) if max_examples_raw else None,
            rate=Rate.parse(env.get(RATE_ENV, "off")),
            max_429_share=share,
            timeout=_number(env, TIMEOUT_ENV, DEFAULT_TIMEOUT, low=0.1),
            seed=_whole(env, SEED_ENV, DEFAULT_SEED, low=0),
            phases=_phases(env.get(PHASES_ENV, "")),
            max_orders=_whole(env, MAX_ORDERS_ENV, DEFAULT_MAX_ORDERS, low=1),
            max_refund_pages=_whole(env, MAX_REFUND_PAGES_ENV, DEFAULT_MAX_REFUND_PAGES, low=1),
            other_token=other_token,
            max_retry_after=_number(env, MAX_RETRY_AFTER_ENV, DEFAULT_MAX_RETRY_AFTER, low=1.0),
        )

    @property
    def examples(self) -> int:
        """Examples per operation and phase: the case budget."""
        return self.max_examples or PROFILE_EXAMPLES[self.profile]

    @property
    def parallel(self) -> bool:
        """True when the run spreads over several processes (pytest-xdist)."""
        return self.workers != "1"

    @property
    def over_http(self) -> bool:
        """True when the target is a URL rather than the in-process sandbox."""
        return self.base_url is not None
