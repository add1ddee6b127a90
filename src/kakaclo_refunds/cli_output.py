"""What ``kakaclo`` prints: data never read as markup, keys never cut, JSON in one shape.

- Every value from a server is printed as plain text (``rich.text.Text``), so a
  remark such as ``[fail] on purpose`` shows as written.
- Tables never truncate their key columns (ids, SKUs, refund numbers): the
  other columns fold; when even that cannot fit the terminal, each row is
  printed as ``name: value`` lines instead. Piped output is never wrapped.
- ``--json`` prints one JSON document on stdout, errors included
  (``{"error": {...}}``), with dates as the API writes them (``...Z``).
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from kakaclo_refunds.errors import ApiError, KakacloError

NARROWEST_FOLDED = 6  # characters a folded (non-key) column keeps
BORDERS_PER_COLUMN = 3  # "│ " before a cell and the space after it
PIPED_WIDTH = 100_000  # piped output is never wrapped or cut


def console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr); a pipe or a file gets lines of any length."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr, highlight=False)
    return Console(stderr=stderr, highlight=False, width=PIPED_WIDTH, no_color=True)


def json_value(value: Any) -> Any:
    """A value as JSON: dates in ISO 8601 with ``Z``, amounts as numbers, enums by value."""
    if isinstance(value, datetime.datetime):
        text = value.isoformat()
        return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    return value


def print_json(data: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(json_value(data), indent=2, ensure_ascii=False) + "\n")


def error_json(message: str, hint: str = "", error: KakacloError | None = None) -> dict[str, Any]:
    """The ``--json`` shape of every error."""
    body: dict[str, Any] = {"message": message, "hint": hint or None}
    if isinstance(error, ApiError):
        body |= {"status": error.status, "code": error.code, "name": error.code_name}
    elif error is not None:
        body |= {"kind": type(error).__name__}
    return {"error": body}


def cell(value: object) -> Text:
    """A table cell: plain text, ``-`` for nothing, enums by value, dates with ``Z``."""
    if value is None:
        return Text("-")
    shown = json_value(value)
    return Text(shown if isinstance(shown, str) else str(shown))


@dataclass(frozen=True)
class Column:
    """A column of a table; a key column (an id, a SKU) is never cut or folded."""

    name: str
    key: bool = False


def print_table(out: Console, columns: Sequence[Column], rows: Sequence[Sequence[Text]]) -> None:
    """A table when it fits with every key whole, else ``name: value`` lines per row."""
    key_widths = [
        max([len(column.name), *(row[i].cell_len for row in rows)])
        for i, column in enumerate(columns)
    ]
    needed = (
        sum(
            width if column.key else min(width, NARROWEST_FOLDED)
            for column, width in zip(columns, key_widths, strict=True)
        )
        + BORDERS_PER_COLUMN * len(columns)
        + 1
    )
    if needed > out.width:
        _print_records(out, columns, rows)
        return
    table = Table()
    for column, width in zip(columns, key_widths, strict=True):
        if column.key:
            table.add_column(column.name, no_wrap=True, min_width=width)
        else:
            table.add_column(column.name, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _print_records(out: Console, columns: Sequence[Column], rows: Sequence[Sequence[Text]]) -> None:
    for number, row in enumerate(rows):
        if number:
            out.print()
        for column, value in zip(columns, row, strict=True):
            out.print(Text(f"{column.name}: ", style="bold") + value, soft_wrap=True)
