"""Refunds accepted in the open batch, held in memory until the batch commits.

A refund of Refund Order writes no row when the rules accept it: it waits
here, and :class:`~kakaclo_sandbox.storage.store.Store` writes every refund
of the batch just before its ``COMMIT``, one statement per table
(:func:`~kakaclo_sandbox.storage.queries.insert_refunds`). Answers wait for
that commit, so nothing is acknowledged before it is in the database, and a
``kill -9`` loses only refunds nobody was told of.

A refund's number is counted here from AUTOINCREMENT's own count, so it is
known at once and is the number SQLite would have given it.

Nothing reads a staged refund from SQLite before it is written: every read
and every other write commits the open batch, or writes what is staged,
first (the ``Store`` sees to it), and the order of a staged refund stays kept
in memory (:class:`~kakaclo_sandbox.storage.kept_orders.KeptOrders`), so the
next refund of it does not read its row either.
"""

from __future__ import annotations

from kakaclo_sandbox.storage import queries
from kakaclo_sandbox.storage.schema import Connection


class StagedRefunds:
    """The open batch's refunds not yet written, and the last refund ``seq`` given out."""

    def __init__(self) -> None:
        self._refunds: list[queries.NewRefund] = []
        # None: read it again from the database (another write may have stored refunds).
        self._last_seq: int | None = None

    def __len__(self) -> int:
        return len(self._refunds)

    def add(
        self,
        db: Connection,
        order_key: int,
        pieces: dict[int, int],
        *,
        reason: str,
        remark: str | None,
        now: float,
        settle_at: float,
    ) -> int:
        """Stage a pending refund of ``pieces`` (line key -> quantity) of an order (by its
        key); its ``seq``."""
        last = self._last_seq
        if last is None:
            last = queries.last_refund_seq(db)
        seq = self._last_seq = last + 1
        self._refunds.append(
            queries.NewRefund(seq, order_key, pieces, reason, remark, now, settle_at)
        )
        return seq

    def drop_after(self, count: int) -> None:
        """Drop the refunds staged after the first ``count``: their numbers are free
        again, as those of a rolled-back INSERT are."""
        if len(self._refunds) > count:
            self._last_seq = self._refunds[count].seq - 1
            del self._refunds[count:]

    def write(self, db: Connection) -> None:
        """Write the staged refunds (inside the batch's transaction) and hold none."""
        if self._refunds:
            refunds, self._refunds = self._refunds, []
            queries.insert_refunds(db, refunds)

    def forget(self) -> None:
        """Drop what is staged and the count: the batch is rolled back, or another write
        may store refunds."""
        self._refunds = []
        self._last_seq = None
