"""PostgreSQL for the sandbox's tests: one server per test session (tests/postgres.py), a
fresh database per test. Without the postgres extra or the server's binaries a test
skips with one line, and under CI (``CI`` set) fails (tests/tools.py's rule)."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.postgres import PostgresServer, running
from tests.tools import missing

ENGINES = ("sqlite", "postgresql")  # what a module that runs on both sets as its ENGINES


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server, started on first use and stopped at the end."""
    if importlib.util.find_spec("psycopg") is None:
        missing("needs the postgres extra (pip install -e '.[postgres]'; make setup does)")
    with running() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database of the session's server."""
    return postgres_server.create_database()


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine the sandbox fixtures open: SQLite, unless the module runs on both (its
    ``ENGINES``, parametrized by :func:`parametrize_engines`)."""
    return str(getattr(request, "param", "sqlite"))


def parametrize_engines(metafunc: pytest.Metafunc) -> None:
    """Run each test of a module that sets ``ENGINES`` once per engine it names."""
    engines = getattr(metafunc.module, "ENGINES", None)
    if engines and "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", engines, indirect=True)


def database(engine: str, request: pytest.FixtureRequest) -> str:
    """``--db`` for a fresh database of ``engine``: SQLite in memory, or a new PostgreSQL
    database of the session's server."""
    if engine == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return ":memory:"


URL_VARIABLE = "KAKACLO_TEST_POSTGRES_URL"  # the database contract_app opens


def contract_app(**options: Any) -> Any:
    """``KAKACLO_APP=tests.postgres_fixtures:contract_app``: the in-process contract suite's
    sandbox on a new database of the server ``$KAKACLO_TEST_POSTGRES_URL`` names, one per
    app the suite builds, as each of its in-memory databases would be new (the suite holds
    several apps at once: one database, wiped with ``--fresh`` for each, is refused while
    another app is attached to it)."""
    import psycopg

    from kakaclo_sandbox import create_app

    server, _, _ = os.environ[URL_VARIABLE].rpartition("/")
    name = f"c_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(os.environ[URL_VARIABLE], autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    return create_app(**{**options, "db": f"{server}/{name}"})
