"""What ``kakaclo`` prints: data never read as markup, keys never cut, JSON in one shape.

- Every value from a server is printed as plain text (``rich.text.Text``), so a
  remark such as ``[fail] on purpose`` shows as written, and terminal-safe: the
  C0 controls other than tab and newline (ESC among them), DEL and the C1
  controls are shown escaped (``\\x1b``, ``\\x9b``), on a terminal and piped,
  so a server cannot set the title, clear the screen or colour the text.
- Tables never truncate their key columns (ids, SKUs, refund numbers), and
  never break a word of the others (``processing``): they wrap between words;
  when even that cannot fit the terminal, each row is printed as
  ``name: value`` lines instead. Piped output is never wrapped.
- ``--json`` prints one JSON document on stdout, errors included
  (``{"error": {...}}``), with dates as the API writes them (``...Z``).
- A retry's wait shows while it lasts: a status line counting down on a
  terminal, else one line on stderr (:class:`RetryWaits`).
"""

from __future__ import annotations

import datetime
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.status import Status
from rich.table import Table
from rich.text import Text

from kakaclo_refunds.errors import ApiError, KakacloError
from kakaclo_refunds.retry import RetryNotice

BORDERS_PER_COLUMN = 3  # "│ " before a cell and the space after it
PIPED_WIDTH = 100_000  # piped output is never wrapped or cut


# the bidirectional controls (embeddings, overrides, isolates): they reorder what is shown
_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")  # json.dumps escapes the C0 controls


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """``text`` with every control a terminal acts on escaped (``\\x1b``, ``\\u202e``), tab
    and newline kept."""
    return _UNSAFE.sub(_escaped, text)


def one_line(text: str) -> str:
    """:func:`terminal_safe`, with line breaks escaped too (``\\n``): for a line that a
    server's text must not break, such as an error, a table cell or a ``name: value`` line."""
    return terminal_safe(text).replace("\n", "\\n")


def safe_text(value: object, style: str = "") -> Text:
    """A server's value as one line of plain ``Text``, escaped before Rich sees it (Rich
    drops some controls, BEL among them, that should show escaped)."""
    return Text(one_line(str(value)), style=style)


class SafeConsole(Console):
    """A console that escapes controls in all text it writes (its own styles and moves kept).

    The values are escaped before layout where they become cells
    (:func:`cell`); this is the net under everything else printed.
    """

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        safe = (
            segment
            if segment.control
            else Segment(terminal_safe(segment.text), segment.style, segment.control)
            for segment in buffer
        )
        return super()._render_buffer(safe)


def console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr); a pipe or a file gets lines of any length."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return SafeConsole(stderr=stderr, highlight=False)
    return SafeConsole(stderr=stderr, highlight=False, width=PIPED_WIDTH, no_color=True)


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
    text = json.dumps(json_value(data), indent=2, ensure_ascii=False)
    text = _UNSAFE_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
    sys.stdout.write(text + "\n")


def error_json(message: str, hint: str = "", error: KakacloError | None = None) -> dict[str, Any]:
    """The ``--json`` shape of every error."""
    body: dict[str, Any] = {"message": message, "hint": hint or None}
    if isinstance(error, ApiError) and (error.status != 200 or error.code is not None):
        body |= {"status": error.status, "code": error.code, "name": error.code_name}
    elif error is not None:  # no error answer: what the client found (a 200 listing nothing)
        body |= {"kind": type(error).__name__}
    return {"error": body}


def cell(value: object) -> Text:
    """A table cell: plain text on one line (line breaks escaped, so a value cannot forge a
    row), ``-`` for nothing, enums by value, dates with ``Z``."""
    if value is None:
        return Text("-")
    shown = json_value(value)
    return Text(one_line(shown if isinstance(shown, str) else str(shown)))


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
    word_widths = [
        max([_longest_word(Text(column.name)), *(_longest_word(row[i]) for row in rows)])
        for i, column in enumerate(columns)
    ]
    needed = (
        sum(
            whole if column.key else word
            for column, whole, word in zip(columns, key_widths, word_widths, strict=True)
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


def _longest_word(text: Text) -> int:
    return max((cell_len(word) for word in text.plain.split()), default=0)


def _print_records(out: Console, columns: Sequence[Column], rows: Sequence[Sequence[Text]]) -> None:
    for number, row in enumerate(rows):
        if number:
            out.print()
        for column, value in zip(columns, row, strict=True):
            out.print(Text(f"{column.name}: ", style="bold") + value, soft_wrap=True)


def describe_retry(notice: RetryNotice) -> str:
    """One retry in words: what failed, the wait and whose it is, the attempt that follows."""
    error = notice.error
    cause = f"{error.code_name} ({error.status})" if isinstance(error, ApiError) else error.message
    if notice.reconciliation is not None:
        cause += f"; {notice.reconciliation}, so it is sent again"
    whose = " (the server's Retry-After)" if notice.server_asked else ""
    return (
        f"{cause}: waiting {notice.wait:.3g} s{whose} before attempt "
        f"{notice.attempt + 1} of {notice.attempts}"
    )


class RetryWaits:
    """The client's ``on_retry`` and ``sleep``: each wait shows while it lasts.

    On a terminal a status line counts the seconds down (or the running
    status, when a command already shows one, says it); otherwise one line
    goes to the console (stderr) per retry.
    """

    def __init__(
        self,
        console: Console,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._sleep = sleep
        self._clock = clock
        self._said = ""
        self.status: Status | None = None  # a status line already on screen, to reuse

    def notice(self, notice: RetryNotice) -> None:
        """Hear a retry (before its wait)."""
        self._said = describe_retry(notice)
        if not self._console.is_terminal:
            self._console.print(Text(f"retry: {self._said}"), soft_wrap=True)

    def sleep(self, seconds: float) -> None:
        """Wait, counting down on a terminal."""
        if not self._console.is_terminal:
            self._sleep(seconds)
            return
        if self.status is not None:
            self._count_down(self.status, seconds)
            return
        with self._console.status(Text(self._said)) as status:
            self._count_down(status, seconds)

    def _count_down(self, status: Status, seconds: float) -> None:
        end = self._clock() + seconds
        while (left := end - self._clock()) > 0:
            status.update(Text(f"{self._said} ({math.ceil(left)} s left)"))
            self._sleep(min(1.0, left))
