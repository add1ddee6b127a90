"""``--db`` and ``KAKACLO_SANDBOX_DB``: a value the sandbox cannot use is one line and exit 2,
before anything is created; a URL's password is never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import Settings, create_app
from kakaclo_sandbox.__main__ import DB_VARIABLE, build_parser, database_of, settings_from
from kakaclo_sandbox.banner import banner
from kakaclo_sandbox.database_url import PostgresUrl, SqliteFile
from kakaclo_sandbox.demo import dataset
from kakaclo_spec import Spec
from tests.live import free_port


def _sandbox(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    process = subprocess.run(
        [sys.executable, "-m", "kakaclo_sandbox", "--port", "1", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    return process.returncode, process.stderr


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("mysql://user:hunter2@db/sandbox", "the scheme mysql:// is not one the sandbox can use"),
        ("host=db dbname=sandbox", "not libpq's keyword=value form"),
    ],
)
def test_a_db_it_cannot_use_is_one_line_and_creates_nothing(
    tmp_path: Path, value: str, says: str
) -> None:
    """Issue 31: --db postgresql://... used to create a SQLite file named postgresql:/..."""
    for args, env in (([f"--db={value}"], None), ([], {DB_VARIABLE: value})):
        code, stderr = _sandbox(args, tmp_path, env)
        assert code == 2, stderr
        assert stderr.count("\n") == 1 and says in stderr, stderr
        assert "hunter2" not in stderr
        assert list(tmp_path.iterdir()) == []  # no file named after the URL, no .sandbox/


def test_a_postgresql_server_it_cannot_reach_is_one_line_naming_it_without_its_password(
    tmp_path: Path,
) -> None:
    """Nobody listens on the URL's port: one line, exit 2, the password masked, no file."""
    pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")
    url = f"postgresql://user:hunter2@127.0.0.1:{free_port()}/sandbox"
    shown = url.replace("hunter2", "***")
    for args, env in (([f"--db={url}"], None), ([], {DB_VARIABLE: url})):
        process = subprocess.run(
            [sys.executable, "-m", "kakaclo_sandbox", "--port", str(free_port()), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
            timeout=60,
        )
        assert process.returncode == 2, process.stderr
        assert process.stderr.startswith(f"kakaclo-sandbox: cannot connect to {shown}: ")
        assert process.stderr.count("\n") == 1 and "hunter2" not in process.stderr
        assert list(tmp_path.iterdir()) == []


def test_a_postgresql_url_names_a_postgresql_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")
    url = "postgresql://user:hunter2@127.0.0.1/sandbox"
    monkeypatch.setenv(DB_VARIABLE, url)
    assert database_of(build_parser().parse_args([])) == PostgresUrl(url)
    assert settings_from(build_parser().parse_args([])).db == url


def test_the_environment_names_the_database_and_the_option_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DB_VARIABLE, str(tmp_path / "from-env.db"))
    assert database_of(build_parser().parse_args([])) == SqliteFile(str(tmp_path / "from-env.db"))
    given = build_parser().parse_args(["--db", str(tmp_path / "given.db")])
    assert database_of(given) == SqliteFile(str(tmp_path / "given.db"))
    monkeypatch.delenv(DB_VARIABLE)
    assert database_of(build_parser().parse_args([])) == SqliteFile(".sandbox/sandbox.db")


def test_a_url_is_shown_without_its_password() -> None:
    settings = Settings(db="postgresql://user:hunter2@db/sandbox")
    assert settings.db_shown == "postgresql://user:***@db/sandbox"
    shown = banner("http://127.0.0.1:8080", "/openapi", settings, dataset(None, Spec.load()))
    assert "user:***@db" in shown and "hunter2" not in shown


def test_info_names_a_file_database_as_given(tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    with TestClient(create_app(Settings(db=db, rate_limit=None))) as client:
        info = client.get("/_sandbox/info").json()["data"]
    assert info["settings"]["db"] == db
