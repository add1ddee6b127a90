"""``make bench``'s reservation section: how pieces are reserved under races (issue 32).

Issue 32 asks that refunds racing in several processes never over-refund, by reserving
pieces "under a row lock, or under serializable transactions that are retried", and
that we measure which. The sandbox uses the row lock. This micro-benchmark measures
both at the SQL level, on one PostgreSQL cluster it starts (fsync on, as a user's
server has it), with the sandbox's own schema and query functions:

- ``row_lock``: ``BEGIN``; the order's row ``FOR UPDATE`` and its lines
  (:func:`~kakaclo_sandbox.storage.postgres.queries.order_state`, the sandbox's own);
  the room checked; the refund, its piece and the counters written
  (:func:`~kakaclo_sandbox.storage.postgres.queries.insert_refund`); ``COMMIT``;
- ``serializable``: ``BEGIN ISOLATION LEVEL SERIALIZABLE``; the same two reads without
  the lock; the same check and write; ``COMMIT``. A transaction PostgreSQL ends with
  SQLSTATE 40001 (or 40P01) is tried again, up to :attr:`RetryPolicy.tries` times, after
  a jittered exponential backoff, as a product would.

Both make one refund of one piece per transaction (the sandbox's batching of a moment's
refunds into one commit is left out: it is the product's extra on top of the row lock,
and this measures the core choice). ``clients`` concurrent clients (asyncio, an
``AsyncConnection`` each) refund in a loop for ``duration`` seconds, on one hot order
(every client the same line: the issue's race) or spread over :data:`SPREAD_ORDERS`
orders (each refund on a random one). After each run the stored rows are checked: no
line reserves more pieces than it has, each line's reserved count is the sum of its
refunds' pieces, and the refunds stored are the refunds acknowledged.

    python -m bench.reservation [--reservation-duration 2] [--reservation-rounds 3]
                                [--reservation-clients 8,32] [--reservation-tries 10]
                                [--reservation-backoff-ms 1]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import signal
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    # psycopg and the sandbox's PostgreSQL queries are imported where a run needs them:
    # without the postgres extra, bench.run still imports this module (and says why the
    # section is left out)
    from kakaclo_sandbox.domain.orders import NewOrder
    from kakaclo_sandbox.storage.postgres.queries import Connection

WAYS = ("row_lock", "serializable")
SHAPES = ("hot", "spread")
CLIENTS = (8, 32)
DURATION = 2.0  # seconds of refunds per run
ROUNDS = 3  # runs of each (shape, clients) per way; the ratio is their paired median
SPREAD_ORDERS = 1_000
# Enough pieces that no run runs out (refusals are counted all the same).
HOT_PIECES = 50_000_000
SPREAD_PIECES = 1_000_000
MERCHANT = "bench-merchant"
HOT_ORDER = "hot"
RETRIED = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
RW_DEPENDENCY = "read/write dependencies"  # in the message of SSI's own 40001
SETTLE_SECONDS = 3600.0  # refunds stay pending: nothing settles during a run
# A ratio within this of 1 is "on par" in the verdict (whole runs here differ by more:
# the verdict says which way is ahead, not by how much to the percent).
PAR = 0.10
ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "bench-reservation.json"

T = TypeVar("T")


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- the retry policy -------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How a serialization failure is retried: at most ``tries`` tries in all, before the
    n-th retry a random wait of up to ``first_backoff * 2**(n-1)`` seconds (capped at
    ``max_backoff``), so clients that collided do not collide again at once."""

    tries: int = 10
    first_backoff: float = 0.001
    max_backoff: float = 0.05

    def __post_init__(self) -> None:
        if self.tries < 1:
            raise ValueError(f"a retry policy needs at least one try, not {self.tries}")

    def backoff(self, failed: int, rng: random.Random) -> float:
        """The wait after the ``failed``-th failed try."""
        return rng.uniform(0, min(self.max_backoff, self.first_backoff * 2 ** (failed - 1)))


class GaveUp(Exception):
    """Every try of a transaction ended in a serialization failure or a deadlock."""

    def __init__(self, tries: int) -> None:
        super().__init__(f"gave up after {tries} tries")
        self.tries = tries


def is_retried(error: BaseException) -> bool:
    """Whether PostgreSQL ended the transaction so that trying it again may succeed."""
    return getattr(error, "sqlstate", None) in RETRIED


async def retried(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    rng: random.Random,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_abort: Callable[[Exception], None] = lambda error: None,
) -> tuple[T, int]:
    """``attempt()``'s result and how many of its tries were aborted, trying again after
    each serialization failure or deadlock (:data:`RETRIED`, each told to ``on_abort``)
    up to the policy's bound; :class:`GaveUp` past it. Any other error is raised at once."""
    for tried in range(1, policy.tries + 1):
        try:
            return await attempt(), tried - 1
        except Exception as error:
            if not is_retried(error):
                raise
            on_abort(error)
            if tried == policy.tries:
                raise GaveUp(tried) from error
            await sleep(policy.backoff(tried, rng))
    raise AssertionError("unreachable: a policy has at least one try")


# -- one refund, each way ---------------------------------------------------------------


@dataclass(frozen=True)
class Room:
    """What a refund reads before it reserves: the order's key, its line's key, pieces
    and pieces already reserved."""

    order_key: int
    line_key: int
    product_num: int
    reserved: int


async def _locked_room(db: Connection, order_id: str) -> Room:
    """The sandbox's own read: the order's row locked (``FOR UPDATE``), then its lines."""
    from kakaclo_sandbox.storage.postgres import queries

    state = await queries.order_state(db, MERCHANT, order_id)
    assert state is not None and state.key is not None
    line = state.lines[0]
    assert line.key is not None
    return Room(state.key, line.key, line.product_num, line.reserved)


async def _unlocked_room(db: Connection, order_id: str) -> Room:
    """The same two reads as the sandbox's, without the lock (serializable's)."""
    cursor = await db.execute(
        "SELECT pk, status, financial_status, fulfillment_status FROM orders "
        "WHERE merchant = %s AND id = %s",
        (MERCHANT, order_id),
    )
    order = await cursor.fetchone()
    assert order is not None
    cursor = await db.execute(
        "SELECT l.pk, l.product_num, l.reserved FROM order_lines l WHERE l.order_pk = %s "
        "ORDER BY l.position",
        (order[0],),
    )
    line = await cursor.fetchone()
    assert line is not None
    return Room(order[0], line[0], line[1], line[2])


BEGIN = {"row_lock": "BEGIN", "serializable": "BEGIN ISOLATION LEVEL SERIALIZABLE"}
READ: dict[str, Callable[[Connection, str], Awaitable[Room]]] = {
    "row_lock": _locked_room,
    "serializable": _unlocked_room,
}


async def refund_once(db: Connection, way: str, order_id: str) -> bool:
    """One transaction refunding one piece of the order's line ``way``'s way: True when
    committed, False when the line had no room (rolled back). An error rolls it back and
    is raised (a serialization failure to be retried)."""
    from psycopg.pq import TransactionStatus

    from kakaclo_sandbox.storage.postgres import queries

    try:
        await db.execute(BEGIN[way])
        room = await READ[way](db, order_id)
        if room.reserved + 1 > room.product_num:
            await db.execute("ROLLBACK")
            return False
        now = time.time()
        await queries.insert_refund(
            db,
            room.order_key,
            {room.line_key: 1},
            reason="Other",
            remark=None,
            now=now,
            settle_at=now + SETTLE_SECONDS,
        )
        await db.execute("COMMIT")
        return True
    except BaseException:
        if db.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            await db.execute("ROLLBACK")
        raise


# -- a run ------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients of one run did."""

    latencies: list[float] = field(default_factory=list)  # seconds, of each refund made
    refunds: int = 0
    refused: int = 0  # no room left on the line
    gave_up: int = 0  # every try aborted
    aborted: int = 0  # transactions ended by a serialization failure or a deadlock
    # of them, those SSI ended for a read/write dependency (not two writes of one row)
    rw_dependencies: int = 0
    seconds: float = 0.0

    def abort(self, error: Exception) -> None:
        """Count a transaction PostgreSQL ended so that it is tried again."""
        self.aborted += 1
        # one SQLSTATE (40001) for both kinds: only the message tells them apart (the
        # bench's cluster speaks English: initdb --locale=C)
        if RW_DEPENDENCY in str(error):
            self.rw_dependencies += 1

    def add(self, other: Tally) -> None:
        """Count ``other``'s figures in."""
        self.latencies.extend(other.latencies)
        self.refunds += other.refunds
        self.refused += other.refused
        self.gave_up += other.gave_up
        self.aborted += other.aborted
        self.rw_dependencies += other.rw_dependencies
        self.seconds += other.seconds


async def _client(
    db: Connection,
    way: str,
    orders: Sequence[str],
    deadline: float,
    policy: RetryPolicy,
    rng: random.Random,
    tally: Tally,
) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        order_id = orders[0] if len(orders) == 1 else rng.choice(orders)
        started = time.perf_counter()
        try:
            attempt = functools.partial(refund_once, db, way, order_id)
            made, _ = await retried(attempt, policy, rng, on_abort=tally.abort)
        except GaveUp:
            tally.gave_up += 1
            continue
        if made:
            tally.refunds += 1
            tally.latencies.append(time.perf_counter() - started)
        else:
            tally.refused += 1


async def run_clients(
    url: str,
    way: str,
    orders: Sequence[str],
    clients: int,
    duration: float,
    policy: RetryPolicy,
    seed: int,
) -> Tally:
    """``clients`` connections refunding ``orders`` ``way``'s way for ``duration`` seconds
    (connected before the clock starts); their figures together."""
    from psycopg import AsyncConnection

    connections = [await AsyncConnection.connect(url, autocommit=True) for _ in range(clients)]
    try:
        tallies = [Tally() for _ in connections]
        started = time.perf_counter()
        deadline = asyncio.get_running_loop().time() + duration
        await asyncio.gather(
            *(
                _client(db, way, orders, deadline, policy, random.Random(seed * 1000 + n), tally)
                for n, (db, tally) in enumerate(zip(connections, tallies, strict=True))
            )
        )
        total = Tally(seconds=time.perf_counter() - started)
        for tally in tallies:
            total.add(tally)  # a client's own seconds are 0: the run's are the clock's
        return total
    finally:
        for db in connections:
            await db.close()


# -- the correctness check --------------------------------------------------------------

LINES_AND_PIECES = (
    "SELECT l.pk, l.product_num, l.reserved, COALESCE(SUM(p.quantity), 0) "
    "FROM order_lines l LEFT JOIN refund_lines p ON p.line_pk = l.pk GROUP BY l.pk ORDER BY l.pk"
)


def problems(
    lines: Sequence[tuple[int, int, int, int]], acknowledged: int, stored: int
) -> list[str]:
    """What is wrong with the stored rows after a run, one line each (none: correct).
    ``lines``: each line's key, pieces, reserved pieces and its refunds' pieces;
    ``acknowledged``: refunds the clients saw committed; ``stored``: refunds stored."""
    found = []
    for key, pieces, reserved, refunded in lines:
        if reserved > pieces:
            found.append(f"line {key} over-reserved: {reserved} of {pieces} pieces")
        if reserved != refunded:
            found.append(f"line {key}: {reserved} reserved, its refunds hold {refunded}")
    if stored != acknowledged:
        found.append(f"{stored} refunds stored, {acknowledged} acknowledged")
    return found


def check(url: str, acknowledged: int) -> list[str]:
    """:func:`problems` of the database at ``url``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        lines = [(r[0], r[1], r[2], int(r[3])) for r in db.execute(LINES_AND_PIECES).fetchall()]
        row = db.execute("SELECT count(*) FROM refunds").fetchone()
    return problems(lines, acknowledged, int(row[0]) if row else 0)


# -- the database -----------------------------------------------------------------------


def bench_order(order_id: str, pieces: int) -> NewOrder:
    """A paid order of :data:`MERCHANT` with one line of ``pieces`` pieces."""
    from kakaclo_sandbox.domain.orders import NewLine, NewOrder

    now = time.time()
    return NewOrder(
        id=order_id,
        merchant=MERCHANT,
        custom_order_id=None,
        remark=None,
        status="processing",
        financial_status="paid",
        fulfillment_status="waiting_to_ship",
        warehouse_id=None,
        currency_code="USD",
        freight_e4=0,
        coupon_e4=0,
        promotion_e4=0,
        purchase_date=None,
        pay_date=now,
        create_date=now,
        modify_date=now,
        cancel_date=None,
        shipping_address={"country": "US"},
        fulfillments=None,
        lines=(
            NewLine(
                id=f"{order_id}-1",
                item_id="1",
                sku_code="BENCH_SKU",
                country_code="CN",
                product_name=None,
                image_url=None,
                options=(None, None, None),
                amount_e4=10_000,
                product_num=pieces,
                stock_status="in_stock",
            ),
        ),
    )


def spread_orders(count: int = SPREAD_ORDERS) -> list[str]:
    """The spread shape's order ids."""
    return [f"s{n}" for n in range(count)]


async def seed(url: str, spread: int = SPREAD_ORDERS) -> None:
    """The sandbox's schema, the hot order and ``spread`` others, through its own queries."""
    import psycopg

    from kakaclo_sandbox.storage.postgres import queries
    from kakaclo_sandbox.storage.postgres.schema import SCHEMA

    with psycopg.connect(url, autocommit=True) as db:
        db.execute(SCHEMA)
    async with await psycopg.AsyncConnection.connect(url) as db:
        await queries.insert_order(db, bench_order(HOT_ORDER, HOT_PIECES))
        for order_id in spread_orders(spread):
            await queries.insert_order(db, bench_order(order_id, SPREAD_PIECES))
        await db.commit()


def reset(url: str) -> None:
    """No refund stored, no piece reserved, and the dead rows of the last run vacuumed, so
    every run starts from the same tables."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("TRUNCATE refund_lines, refunds")
        db.execute("UPDATE order_lines SET reserved = 0, refunded = 0")
        db.execute("UPDATE orders SET pending_refunds = 0")
        db.execute("VACUUM ANALYZE orders")
        db.execute("VACUUM ANALYZE order_lines")


# -- the section ------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the section runs."""

    clients: tuple[int, ...] = CLIENTS
    duration: float = DURATION
    rounds: int = ROUNDS
    policy: RetryPolicy = RetryPolicy()
    spread: int = SPREAD_ORDERS


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank); nan for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def cell(
    way: str, shape: str, clients: int, tallies: Sequence[Tally], wrong: list[str]
) -> dict[str, Any]:
    """One row of the table: the rounds' tallies of (way, shape, clients) together."""
    total = Tally()
    for tally in tallies:
        total.add(tally)
    # every aborted try was tried again, but the last of a refund given up
    retries = total.aborted - total.gave_up
    return {
        "way": way,
        "shape": shape,
        "clients": clients,
        "refunds_per_second": round(total.refunds / total.seconds, 1) if total.seconds else 0.0,
        "p50_ms": round(percentile(total.latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(total.latencies, 0.99) * 1000, 2),
        "retries_per_refund": round(retries / total.refunds, 3) if total.refunds else 0.0,
        "aborted": total.aborted,
        "rw_dependencies": total.rw_dependencies,
        "gave_up": total.gave_up,
        "refused": total.refused,
        "refunds": total.refunds,
        "rounds_refunds_per_second": [
            round(t.refunds / t.seconds, 1) if t.seconds else 0.0 for t in tallies
        ],
        "correct": not wrong,
        "problems": wrong,
    }


def key(shape: str, clients: int) -> str:
    """A (shape, clients) pair's key in the results' ``ratios``."""
    return f"{shape}/{clients}"


def _call(ratios: Sequence[float]) -> str:
    """Which way a shape's ratios (row lock / serializable) put ahead."""
    if all(r >= 1 + PAR for r in ratios):
        return "row lock ahead"
    if all(r <= 1 - PAR for r in ratios):
        return "serializable ahead"
    if all(abs(r - 1) < PAR for r in ratios):
        return f"on par within {PAR:.0%}"
    return "mixed"


def verdict(ratios: Mapping[str, float], cells: Sequence[Mapping[str, Any]]) -> str:
    """The one line the figures say: the row lock's refunds/s against serializable's per
    shape and clients and which is ahead, the refunds serializable gave up, and whether
    every run was correct."""
    parts = []
    for shape, label in (("hot", "on one hot order"), ("spread", "spread")):
        mine = sorted(
            (int(k.split("/")[1]), r) for k, r in ratios.items() if k.split("/")[0] == shape
        )
        if mine:
            shown = ", ".join(f"{r:.2f}x at {clients}" for clients, r in mine)
            parts.append(f"{shown} {label} ({_call([r for _, r in mine])})")
    line = "row lock vs serializable refunds/s: " + "; ".join(parts)
    gave_up = sum(c["gave_up"] for c in cells if c["way"] == "serializable")
    if gave_up:
        line += f"; serializable gave {gave_up} refunds up (errors to their callers)"
    wrong = [f"{c['way']} {c['shape']}/{c['clients']}" for c in cells if not c["correct"]]
    return line + ("; every run correct" if not wrong else "; WRONG ROWS after " + ", ".join(wrong))


def _round_order(round_number: int) -> tuple[str, ...]:
    """The ways in the order a round runs them: who goes first alternates."""
    return WAYS if round_number % 2 == 0 else WAYS[::-1]


def measure(url: str, settings: Settings) -> dict[str, Any]:
    """Every (way, shape, clients) for ``settings.rounds`` rounds on the seeded database at
    ``url``; the cells, the paired ratios and the verdict."""
    orders = {"hot": [HOT_ORDER], "spread": spread_orders(settings.spread)}
    tallies: dict[tuple[str, str, int], list[Tally]] = {}
    wrong: dict[tuple[str, str, int], list[str]] = {}
    paired: dict[str, list[float]] = {}
    for number in range(settings.rounds):
        for shape in SHAPES:
            for clients in settings.clients:
                rate: dict[str, float] = {}
                for way in _round_order(number):
                    reset(url)
                    log(f"round {number + 1}: {way}, {shape}, {clients} clients")
                    tally = asyncio.run(
                        run_clients(
                            url,
                            way,
                            orders[shape],
                            clients,
                            settings.duration,
                            settings.policy,
                            seed=number,
                        )
                    )
                    found = check(url, tally.refunds)
                    for problem in found:
                        log(f"WRONG: {way} {shape} {clients}: {problem}")
                    tallies.setdefault((way, shape, clients), []).append(tally)
                    wrong.setdefault((way, shape, clients), []).extend(found)
                    rate[way] = tally.refunds / tally.seconds if tally.seconds else 0.0
                if rate["serializable"] > 0:
                    paired.setdefault(key(shape, clients), []).append(
                        rate["row_lock"] / rate["serializable"]
                    )
    cells = [
        cell(way, shape, clients, tallies[(way, shape, clients)], wrong[(way, shape, clients)])
        for shape in SHAPES
        for clients in settings.clients
        for way in WAYS
    ]
    ratios = {k: round(statistics.median(v), 3) for k, v in paired.items()}
    return {
        "settings": {
            "clients": list(settings.clients),
            "duration": settings.duration,
            "rounds": settings.rounds,
            "spread_orders": settings.spread,
            "tries": settings.policy.tries,
            "first_backoff_ms": settings.policy.first_backoff * 1000,
            "max_backoff_ms": settings.policy.max_backoff * 1000,
        },
        "cells": cells,
        "ratios": ratios,
        "ratio_rounds": {k: [round(r, 3) for r in v] for k, v in paired.items()},
        "verdict": verdict(ratios, cells),
    }


def measure_reservation(settings: Settings) -> dict[str, Any]:
    """Start a cluster (fsync on, unpinned), seed it, measure; the cluster is stopped on
    the way out, whatever happens."""
    from bench import postgres

    started = time.perf_counter()
    log("starting a PostgreSQL cluster (fsync on) for the reservation section")
    with postgres.cluster(None, fsync=True) as cluster:
        url = cluster.server.create_database("reservation")
        asyncio.run(seed(url, settings.spread))
        result = measure(url, settings)
    result["section_seconds"] = round(time.perf_counter() - started, 1)
    return result


def print_reservation(result: Mapping[str, Any]) -> None:
    """The table and the verdict."""
    settings = result["settings"]
    print(
        f"\nReserving pieces under races (issue 32): one refund of one piece per transaction, "
        f"{settings['duration']} s runs, {settings['rounds']} rounds, fsync on; "
        f"serializable retried up to {settings['tries']} tries (jittered backoff "
        f"{settings['first_backoff_ms']:g}-{settings['max_backoff_ms']:g} ms)"
    )
    print(
        f"{'way':<13} {'shape':<7} {'clients':>7} {'refunds/s':>10} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'retries/ref':>11} {'aborted':>8} {'rw-dep':>7} {'gave up':>8} "
        f"{'refused':>8} {'correct':>8}  rounds refunds/s"
    )
    for row in result["cells"]:
        print(
            f"{row['way']:<13} {row['shape']:<7} {row['clients']:>7} "
            f"{row['refunds_per_second']:>10.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{row['retries_per_refund']:>11.3f} {row['aborted']:>8} {row['rw_dependencies']:>7} "
            f"{row['gave_up']:>8} {row['refused']:>8} {'yes' if row['correct'] else 'NO':>8}  "
            + " ".join(f"{r:.0f}" for r in row["rounds_refunds_per_second"])
        )
    print(
        "refunds/s: over all rounds; p50/p99: a refund from its first BEGIN to its COMMIT, "
        "retries and backoff included\nretries/ref: tries after the first per refund made; "
        "aborted: transactions ended by 40001/40P01; rw-dep: of them, those SSI ended for a "
        "read/write dependency\n(its predicate locks), not for a row another transaction "
        "wrote; gave up: refunds whose every try was aborted\ncorrect: no line over-reserved, "
        "every line's reserved count its refunds' pieces, refunds stored = refunds acknowledged"
    )
    print(result["verdict"] + " (the median of the rounds' ratios, each of two runs back to back)")


def _positive(kind: type[int] | type[float], *, zero: bool = False) -> Callable[[str], Any]:
    """An option's parser: a number above 0 (or 0 too, ``zero``), else a clear error."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < 0 or (value == 0 and not zero):
            least = "0 or more" if zero else "more than 0"
            raise argparse.ArgumentTypeError(f"must be {least}, not {text}")
        return value

    return parse


def _client_counts(text: str) -> tuple[int, ...]:
    return tuple(_positive(int)(n) for n in text.split(","))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The section's options (shared with bench.run); a count or a time below its least
    is refused by the parser, with the option's name, before anything starts."""
    parser.add_argument(
        "--reservation-clients",
        type=_client_counts,
        default=CLIENTS,
        help="concurrent clients of the reservation runs (comma-separated, default 8,32)",
    )
    parser.add_argument(
        "--reservation-duration",
        type=_positive(float),
        default=DURATION,
        help="seconds per reservation run (default 2)",
    )
    parser.add_argument(
        "--reservation-rounds",
        type=_positive(int),
        default=ROUNDS,
        help="rounds of the reservation runs (default 3)",
    )
    parser.add_argument(
        "--reservation-tries",
        type=_positive(int),
        default=RetryPolicy.tries,
        help="tries of a serializable refund before it is given up (default 10)",
    )
    parser.add_argument(
        "--reservation-backoff-ms",
        type=_positive(float, zero=True),
        default=RetryPolicy.first_backoff * 1000,
        help="the most a first retry waits, doubled for each next one up to 50 ms "
        "(default 1; 0: retry at once)",
    )


def settings_of(args: argparse.Namespace) -> Settings:
    """The section's settings from parsed :func:`add_arguments` options."""
    return Settings(
        clients=args.reservation_clients,
        duration=args.reservation_duration,
        rounds=args.reservation_rounds,
        policy=RetryPolicy(
            tries=args.reservation_tries,
            first_backoff=args.reservation_backoff_ms / 1000,
        ),
    )


def main() -> int:
    """Run the section alone; results in reports/bench-reservation.json."""
    from bench import postgres

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args()
    why = postgres.missing()
    if why is not None:
        sys.exit(f"bench: the reservation section {why}")
    # a kill stops the cluster, as Ctrl-C does (the blocks' exits run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = measure_reservation(settings_of(args))
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({"reservation": result}, indent=2) + "\n")
    print_reservation(result)
    print(f"\nsaved to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
