"""Strategies shared by the fuzz tests: JSON-like values with the hostile corners drawn often."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Numbers as the text of a file spells them: huge, negative, inexact, and YAML 1.1's odd ones.
RAW_NUMBERS = (
    "1e400",
    "-1e400",
    "1" + "0" * 400,
    "-" + "9" * 40,
    "12.34567",
    "0.00001",
    "-0",
    "-12.5",
    "1e-400",
    "99999999999.9999",
    "100000000000",
    "1_000",
    "0x10",
    "0o17",
    ".inf",
    "-.inf",
    ".nan",
    "NaN",
    "Infinity",
    "12.50",
)
KEYS = st.text(max_size=12)
CONTROLS = "\x00\x07\x08\x0b\x0c\x1b\x7f\x85\x9b\u2028\ufeff"


def texts(long: bool = True) -> st.SearchStrategy[str]:
    """Short text with controls, escapes and odd characters often; sometimes very long."""
    short = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(CONTROLS), max_size=20)
    lengthy = st.builds(
        lambda piece, n: piece * n, st.text(min_size=1, max_size=3), st.integers(1000, 70_000)
    )
    odd = st.sampled_from(["", "\x1b]0;t\x07", "&a", "*a", "<<"])
    return st.one_of(short, short, short, lengthy, odd) if long else st.one_of(short, odd)


def leaves() -> st.SearchStrategy[Any]:
    """Scalars a JSON or YAML document may hold (raw numbers as :class:`Raw`)."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=10**15, max_value=10**60),
        st.integers(min_value=-(10**20), max_value=-1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.decimals(allow_nan=False, allow_infinity=False, places=6).map(lambda d: Raw(str(d))),
        st.sampled_from(RAW_NUMBERS).map(Raw),
        texts(),
    )


def values(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    """Any JSON-like value, nested a little."""
    return st.recursive(
        leaves(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
        max_leaves=max_leaves,
    )


def nested(depth: int, leaf: Any = 1) -> Any:
    """``leaf`` inside ``depth`` lists (built without recursion)."""
    value: Any = leaf
    for _ in range(depth):
        value = [value]
    return value


class Raw(str):
    """A number written into the file as this text, unquoted."""

    __slots__ = ()
