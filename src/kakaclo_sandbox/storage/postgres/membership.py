"""Which sandbox processes share one PostgreSQL database, and whether this one is alone.

Every process holds ``ATTACHED`` (a session advisory lock, shared) on a connection of
its own for as long as it runs. A process that finds itself the only one attached
also takes ``ALONE`` (exclusive): while it holds it, no other process writes to the
database, so this one's memory (the answer cache's version above all) is the record,
and a cached read needs no round trip to the server.

A process that joins announces itself (``NOTIFY``) and then waits for ``ALONE``. The
lone process, told by the notification (a thread of its own listens), starts checking
the database within every request and only then lets ``ALONE`` go: from then on every
process checks. A lone process still starting (seeding, storing the settings the others
must agree with) lets it go once started. ``--fresh`` takes ``ATTACHED`` exclusively,
so it wipes the database only while no other process is attached (and processes that
join wait until its wipe is done).

A process whose connection to the server is lost (a restart) is alone no more, and
may not write until it has joined again as above: until then its requests are told
the database cannot be reached. Joining again moves the write version, so no
process's answer cache outlives what the lost connection may have left untold.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import psycopg

from kakaclo_sandbox.database_url import shown
from kakaclo_sandbox.storage.postgres import queries
from kakaclo_sandbox.storage.postgres.reachability import first_line

log = logging.getLogger("kakaclo_sandbox")

NAMESPACE = 0x6B616B61  # the first key of this module's advisory locks ("kaka")
ATTACHED, ALONE = 1, 2
CHANNEL = "kakaclo_sandbox_join"
# What another process changed, for the consoles: a merchant, or "" for every one.
CHANGES = queries.CHANGES
JOIN_SECONDS = 60  # the longest a joining process waits for the others' locks
LISTEN_SECONDS = 1.0  # how often the listener looks up from its wait (to notice a stop)
CONNECT_SECONDS = 10
LOST_LOG_SECONDS = 10  # while the server cannot be reached, the log says so this often


class MembershipRefused(ValueError):
    """A process cannot join (``--fresh`` while others are attached, or a wait too long)."""


class Membership:
    """This process's place among the sandbox processes of one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.alone = False  # True while this process holds ALONE: its memory is the record
        self.pid = 0  # the backend pid of its connection: what its claims are held by
        self.joined = False  # False after the connection was lost, until joined again
        self.starting = True  # until started(): a lone process keeps ALONE meanwhile
        self._lost_at: float | None = None  # when the connection was lost (monotonic)
        self._told_at = 0.0  # when the log last said so
        self.join_asked = False  # a process asked to join while this one was starting
        self._connection: psycopg.Connection[Any] | None = None
        self._stop = threading.Event()
        # called in the listener's thread with the merchant (None: every one) another
        # process changed
        self.on_change: Callable[[str | None], None] | None = None
        # called in the listener's thread once it joined again after losing the server
        self.on_rejoined: Callable[[], None] | None = None
        self._listener: threading.Thread | None = None

    # -- joining --------------------------------------------------------------

    def attach(self, *, exclusively: bool) -> None:
        """Attach to the database: shared with the others, or ``exclusively`` (``--fresh``:
        refused in one line while another process is attached; :meth:`share` ends it)."""
        connection = self._connect()
        if exclusively:
            taken = connection.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, ATTACHED)
            ).fetchone()
            if taken != (True,):
                others = self._attached(connection)
                connection.close()
                raise MembershipRefused(
                    f"--fresh would wipe {shown(self.url)} under {others} other "
                    "kakaclo-sandbox process(es) attached to it; stop them first, or start "
                    "without --fresh to join them"
                )
        else:
            self._wait_for(connection, "SELECT pg_advisory_lock_shared(%s, %s)", ATTACHED)
        self._connection = connection
        self.pid = _backend_pid(connection)

    def started(self) -> None:
        """This process's start is done: a process waiting to join is let in (by the
        listener, within :data:`LISTEN_SECONDS`)."""
        self.starting = False

    def share(self) -> None:
        """After an exclusive attach's work (the wipe): attached as the others are."""
        connection = self._held()
        connection.execute("SELECT pg_advisory_lock_shared(%s, %s)", (NAMESPACE, ATTACHED))
        connection.execute("SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, ATTACHED))

    def settle_in(self, alone: Callable[[psycopg.Connection[Any]], None] | None = None) -> None:
        """Be alone if no other process is attached; otherwise tell the lone one (if any)
        and wait until it checks the database too. Then listen for processes joining.
        ``alone`` is called with the connection when this process is alone, before any
        other may join."""
        connection = self._held()
        connection.execute(f"LISTEN {CHANNEL}; LISTEN {CHANGES}")
        if self._attached(connection) == 0:
            taken = connection.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, ALONE)
            ).fetchone()
            self.alone = taken == (True,)
        if self.alone and alone is not None:
            alone(connection)  # no listener yet: ALONE is held until it lets go
        if not self.alone:
            self._join_the_others(connection)
        self.joined = True
        # The thread holds the membership weakly: one dropped without close() (an app a
        # test let go) is detached when it is collected, not kept alive by its listener.
        self._listener = threading.Thread(
            target=_listen,
            args=(weakref.ref(self), self._stop),
            name="kakaclo-membership",
            daemon=True,
        )
        self._listener.start()
        weakref.finalize(self, _detach, self._stop, self._connection)

    def _join_the_others(self, connection: psycopg.Connection[Any]) -> None:
        connection.execute(f"NOTIFY {CHANNEL}")
        self._wait_for(connection, "SELECT pg_advisory_lock_shared(%s, %s)", ALONE)

    # -- while serving --------------------------------------------------------

    def listen_once(self) -> None:
        """Wait a moment for a process joining (then let ALONE go) or changing what a
        console shows (then tell :attr:`on_change`), or join again after the connection
        was lost."""
        connection = self._connection
        try:
            if connection is None or connection.closed:
                self._rejoin()
                return
            # gathered first: the generator holds the connection's lock while it runs
            heard = list(connection.notifies(timeout=LISTEN_SECONDS, stop_after=1))
            if any(notice.channel == CHANNEL for notice in heard):
                self.join_asked = True
            if self.alone and self.join_asked and not self.starting:
                self._let_alone_go(connection)
            told = self.on_change
            if told is not None:
                for merchant in {n.payload for n in heard if n.channel == CHANGES}:
                    try:
                        told(merchant or None)
                    except Exception:  # a console's redraw never stops the listener
                        log.exception("telling the console of a change failed")
        except psycopg.Error as error:
            if not self._stop.is_set():
                self._lost(error)

    def _let_alone_go(self, connection: psycopg.Connection[Any]) -> None:
        # the order matters: every request checks the database before another writes
        self.alone = False
        connection.execute("SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, ALONE))
        log.info("another sandbox process joined %s: shared from now on", shown(self.url))

    def _lost(self, error: BaseException) -> None:
        self.alone = False
        self.joined = False
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        reason = first_line(error)
        now = time.monotonic()
        if self._lost_at is None:
            self._lost_at = self._told_at = now
            log.warning(
                "cannot reach %s (%s): requests are answered 503 until it is back; "
                "trying again every %g s",
                shown(self.url),
                reason,
                LISTEN_SECONDS,
            )
        elif now - self._told_at >= LOST_LOG_SECONDS:
            self._told_at = now
            log.warning(
                "still cannot reach %s after %.0f s (%s)",
                shown(self.url),
                now - self._lost_at,
                reason,
            )
        self._stop.wait(LISTEN_SECONDS)

    def _rejoin(self) -> None:
        connection: psycopg.Connection[Any] | None = None
        try:
            connection = self._connect()
            connection.execute(f"LISTEN {CHANNEL}; LISTEN {CHANGES}")
            self._wait_for(connection, "SELECT pg_advisory_lock_shared(%s, %s)", ATTACHED)
            self._join_the_others(connection)
            # whatever this process's writes could not tell while it was cut off (a version
            # move after a COMMIT), every process's answer cache misses once
            connection.execute(queries.MOVE_VERSION)
        except (psycopg.Error, MembershipRefused) as error:
            if connection is not None:
                connection.close()
            self._lost(error)
            return
        self._connection = connection
        self.pid = _backend_pid(connection)
        self.joined = True
        lost_for = 0.0 if self._lost_at is None else time.monotonic() - self._lost_at
        self._lost_at = None
        log.warning("reached %s again after %.0f s: answering again", shown(self.url), lost_for)
        rejoined = self.on_rejoined
        if rejoined is not None:
            try:
                rejoined()
            except Exception:  # the pool's check is a courtesy: the listener goes on
                log.exception("checking the pooled connections failed")

    def close(self) -> None:
        """Detach: the locks go with the connection."""
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=LISTEN_SECONDS * 3)
        if self._connection is not None:
            self._connection.close()
        self._connection = None
        self.alone = self.joined = False

    # -- helpers --------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_SECONDS)

    def _held(self) -> psycopg.Connection[Any]:
        assert self._connection is not None, "attach() first"
        return self._connection

    def _wait_for(self, connection: psycopg.Connection[Any], sql: str, lock: int) -> None:
        """Take a lock, waiting at most JOIN_SECONDS (one line past it)."""
        connection.execute(f"SET lock_timeout = '{JOIN_SECONDS}s'")
        try:
            connection.execute(sql, (NAMESPACE, lock))
        except psycopg.errors.LockNotAvailable:
            raise MembershipRefused(
                f"another kakaclo-sandbox process on {shown(self.url)} did not let this one "
                f"join within {JOIN_SECONDS} s (a --fresh start still wiping, or a process "
                "that stopped answering)"
            ) from None
        finally:
            connection.execute("SET lock_timeout = 0")

    @staticmethod
    def _attached(connection: psycopg.Connection[Any]) -> int:
        """How many other sessions hold ATTACHED on this database."""
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s::oid AND objid = %s::oid AND objsubid = 2 "
            "AND pid <> pg_backend_pid()",
            (NAMESPACE, ATTACHED),
        ).fetchone()
        return int(row[0]) if row else 0


def _listen(membership: weakref.ref[Membership], stop: threading.Event) -> None:
    """The listener thread: until stopped, or until its membership is collected."""
    while not stop.is_set():
        held = membership()
        if held is None:
            return
        held.listen_once()
        del held


def _detach(stop: threading.Event, connection: psycopg.Connection[Any] | None) -> None:
    """A membership collected without close(): stop its thread, close its connection."""
    stop.set()
    if connection is not None:
        connection.close()


def _backend_pid(connection: psycopg.Connection[Any]) -> int:
    row = connection.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])
