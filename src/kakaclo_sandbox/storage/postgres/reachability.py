"""Which PostgreSQL errors mean "the server cannot be reached now", and what they become.

A lost connection, a server shutting down or still starting, and a pool with no
connection to give within its wait all raise :class:`DatabaseUnavailable`, which the
API answers 503 (``Retry-After``). Every other error (a constraint, a deadlock, a
``COMMIT`` whose outcome is unknown) goes on as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import PoolTimeout

from kakaclo_sandbox.storage.interface import DatabaseUnavailable

# SQLSTATE classes of an unreachable server: 08 connection exception; 57P01 admin
# shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting or in recovery).
UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")


def is_unreachable(error: BaseException) -> bool:
    """True for an error that says the server cannot be reached (not that it refused)."""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, psycopg.OperationalError):
        # libpq's own connection failures carry no SQLSTATE
        return error.sqlstate is None or error.sqlstate.startswith(UNREACHABLE_STATES)
    return False


def first_line(error: BaseException) -> str:
    """An error's reason in one line (libpq's hint on the lines after it left out)."""
    return " ".join(str(error).split("\n", 1)[0].split()) or type(error).__name__


def unavailable(shown_url: str, error: BaseException) -> DatabaseUnavailable:
    """The error a request gets while ``shown_url`` (its password masked) is unreachable."""
    return DatabaseUnavailable(
        f"the sandbox's database {shown_url} cannot be reached: {first_line(error)}"
    )


@contextmanager
def reaching(shown_url: str) -> Iterator[None]:
    """Turn an unreachable server's errors inside the block into DatabaseUnavailable."""
    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as error:
        if is_unreachable(error):
            raise unavailable(shown_url, error) from error
        raise
