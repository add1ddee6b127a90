"""``--db``: a path is SQLite, a postgresql:// URL is PostgreSQL, anything else is refused."""

from __future__ import annotations

import importlib.util

import pytest

from kakaclo_sandbox.database_url import PostgresUrl, SqliteFile, parse, shown


@pytest.mark.parametrize("value", [".sandbox/sandbox.db", "/tmp/x.db", ":memory:", "a b.db"])
def test_a_path_is_a_sqlite_file(value: str) -> None:
    assert parse(value) == SqliteFile(value)


@pytest.mark.parametrize(
    "value", ["postgresql://u@127.0.0.1:5432/sandbox", "postgres://u:secret@db/sandbox"]
)
def test_a_postgresql_url_is_postgres(value: str) -> None:
    assert parse(value) == PostgresUrl(value)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("mysql://u@db/sandbox", "mysql:// is not one the sandbox can use"),
        ("sqlite:///tmp/x.db", "sqlite:// is not one the sandbox can use"),
        ("host=db dbname=sandbox", "not libpq's keyword=value form"),
        ("  ", "it is empty"),
    ],
)
def test_a_value_it_cannot_use_is_one_line(value: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as refused:
        parse(value)
    assert "\n" not in str(refused.value)


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(ValueError, match="mysql://user:\\*\\*\\*@db") as refused:
        parse("mysql://user:hunter2@db/sandbox")
    assert "hunter2" not in str(refused.value)


def test_postgresql_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "psycopg" else real(name, *a),
    )
    with pytest.raises(ValueError, match=r"pip install 'kakaclo-refunds\[postgres\]'"):
        parse("postgresql://u@db/sandbox")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:hunter2@db:5432/s", "postgresql://u:***@db:5432/s"),
        ("postgresql://u@db/s", "postgresql://u@db/s"),
        (
            "postgresql://db/s?password=hunter2&sslmode=require",
            "postgresql://db/s?password=***&sslmode=require",
        ),
        ("postgresql://u:p%40ss@db/s", "postgresql://u:***@db/s"),
        ("postgresql://u:a@b@db/s", "postgresql://u:***@db/s"),
    ],
)
def test_shown_masks_every_password(url: str, expected: str) -> None:
    assert shown(url) == expected
    assert parse(url).shown() == expected
