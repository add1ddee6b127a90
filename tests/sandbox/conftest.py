from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from tests.live import LiveSandbox
from tests.postgres_fixtures import (  # noqa: F401 (fixtures)
    database,
    engine,
    parametrize_engines,
    postgres_server,
    postgres_url,
)

TOKEN_A = {"Authorization": "Bearer demo-token"}
TOKEN_B = {"Authorization": "Bearer demo-token-2"}
TOKEN_TWINS = {"Authorization": "Bearer demo-token-vendor"}


class FakeTime:
    """An injectable clock the test moves by hand."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize_engines(metafunc)  # a module with ENGINES runs on each


@pytest.fixture
def client(
    fake_time: FakeTime,
    engine: str,  # noqa: F811 (the fixture imported above)
    request: pytest.FixtureRequest,
) -> Iterator[TestClient]:
    """An in-process sandbox: a fresh database (in memory; or PostgreSQL in a module that
    runs on both engines), no rate limit, responses checked."""
    db = database(engine, request)
    app = create_app(db=db, rate_limit=None, validate_responses=True, clock=fake_time)
    try:
        with TestClient(app, raise_server_exceptions=True) as test_client:
            yield test_client
    finally:
        app.state.sandbox.close()


@pytest.fixture
def clean_client(fake_time: FakeTime) -> Iterator[TestClient]:
    """The same sandbox started with --clean: plain nulls, every field of the field table."""
    app = create_app(
        db=":memory:", rate_limit=None, validate_responses=True, clock=fake_time, clean=True
    )
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveSandbox]:
    """A real kakaclo-sandbox process on a free port with a fresh database file."""
    sandbox = LiveSandbox(db=tmp_path / "sandbox.db", args=["--rate-limit", "off"]).start()
    yield sandbox
    sandbox.stop()
