"""The tests' own PostgreSQL (tests/postgres.py): it starts as a user PostgreSQL accepts, even
under root, answers on the loopback, and is gone after the stop."""

from __future__ import annotations

import pytest

from tests.postgres import running


def test_the_tests_start_and_stop_their_own_postgresql() -> None:
    psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")
    with running() as server:
        url = server.create_database()
        with psycopg.connect(url) as connection:
            row = connection.execute("SELECT current_user, current_setting('port')").fetchone()
        assert row == ("kakaclo", str(server.port))
        directory = server.directory
    assert not directory.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
