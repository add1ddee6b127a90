"""Where the sandbox keeps its data: ``--db`` (or ``KAKACLO_SANDBOX_DB``) read once.

A path is a SQLite file (the embedded default). A ``postgresql://`` URL (or
``postgres://``, libpq's other spelling) is a PostgreSQL database, and needs the
``[postgres]`` extra. Anything else that looks like a URL or a libpq
connection string is refused, rather than becoming a SQLite file of that name.

A URL is shown only through :func:`shown`, which masks its password (in the
authority and in a ``password`` query parameter), so no banner, log line or
``/_sandbox/info`` answer ever holds one.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql", "postgres")
MASK = "***"
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
# libpq's keyword/value form ("host=db dbname=sandbox"): not taken for a file name
_KEYWORDS = re.compile(r"^\s*(host|hostaddr|port|dbname|user|password|service)\s*=", re.I)


@dataclass(frozen=True)
class SqliteFile:
    """A SQLite database file (``:memory:`` for one that lives as long as the process)."""

    path: str

    def shown(self) -> str:
        """How banners, logs and ``/_sandbox/info`` name it."""
        return self.path


@dataclass(frozen=True)
class PostgresUrl:
    """A PostgreSQL database, as libpq reads a ``postgresql://`` URL."""

    url: str

    def shown(self) -> str:
        """The URL with its password masked."""
        return shown(self.url)


Database = SqliteFile | PostgresUrl


def parse(value: str) -> Database:
    """``--db``'s value as a database; ``ValueError`` with one line for one it cannot use."""
    if not value.strip():
        raise ValueError("it is empty: give a SQLite file path or a postgresql:// URL")
    match = _URL.match(value)
    if match is None:
        if _KEYWORDS.match(value):
            raise ValueError(
                "give a SQLite file path or a postgresql:// URL, not libpq's keyword=value form"
            )
        return SqliteFile(value)
    scheme = match["scheme"].lower()
    if scheme not in POSTGRES_SCHEMES:
        raise ValueError(
            f"{shown(value)}: the scheme {match['scheme']}:// is not one the sandbox can use; "
            "give a SQLite file path or a postgresql:// URL"
        )
    if importlib.util.find_spec("psycopg") is None:
        raise ValueError(
            "a postgresql:// URL needs the postgres extra: pip install 'kakaclo-refunds[postgres]'"
        )
    return PostgresUrl(value)


def shown(url: str) -> str:
    """``url`` with any password masked (``postgresql://user:***@host/db``)."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        user, at, host = netloc.rpartition("@")
        if at and ":" in user:
            netloc = f"{user.split(':', 1)[0]}:{MASK}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(key.lower() == "password" for key, _ in pairs):
                query = urlencode(
                    [(key, MASK if key.lower() == "password" else v) for key, v in pairs],
                    safe="*",
                )
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:  # not even a URL urllib can split: show only its scheme
        scheme = _URL.match(url)
        return f"{scheme['scheme']}://{MASK}" if scheme else MASK
