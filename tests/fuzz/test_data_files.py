"""Data files, hostile or nearly valid: a one-line DataError naming the file, or they load and
seed; never another exception, and a refused file leaves the store as it was."""

from __future__ import annotations

import copy
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, note
from hypothesis import strategies as st

from kakaclo_sandbox.data import DataError, load
from kakaclo_sandbox.seeding import seed
from kakaclo_sandbox.service.running import run_now
from kakaclo_sandbox.storage.sqlite import SqliteStore
from kakaclo_sandbox.storage.store import Store
from kakaclo_spec import Spec
from tests.fuzz.profile import fuzz
from tests.fuzz.strategies import KEYS, Raw, values
from tests.sandbox.helpers import MY_ORDER

SPEC = Spec.load()
ORDER: dict[str, Any] = {
    **MY_ORDER,
    "refunds": [
        {
            "refundStatus": "refund_successfully",
            "orderItems": [
                {"itemId": "777", "skuCode": "MY_SKU", "countryCode": "CN", "quantity": 1}
            ],
        }
    ],
}
VALID: dict[str, Any] = {
    "merchants": [{"merchant": "my-shop", "tokens": ["my-token"], "orders": [ORDER]}]
}


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a mutation may touch (the root excluded)."""
    found = [at] if at else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*at, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*at, index))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


DEPTHS = (65, 200, 1_100, 5_000, 100_000)


@st.composite
def near_valid(draw: st.DrawFn) -> Any:
    """The valid document with one to three mutations: a value replaced (wrong type, huge,
    negative, inexact, long, controls, deep), a key removed or added, an order or a line
    repeated (duplicate ids), an object shared (a YAML alias)."""
    document = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(document, path)
        kind = draw(st.sampled_from(["replace", "replace", "remove", "add", "repeat", "deep"]))
        if kind == "replace":
            parent[path[-1]] = draw(values())
        elif kind == "remove":
            del parent[path[-1]]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(values(3))
        elif kind == "repeat" and isinstance(parent, list):
            shared = draw(st.booleans())  # the same object twice: YAML writes an alias
            item = parent[path[-1]]
            parent.append(item if shared else copy.deepcopy(item))
        elif kind == "deep":
            depth = draw(st.sampled_from(DEPTHS))
            parent[path[-1]] = Raw("[" * depth + "1" + "]" * depth)
    return document


def _placeholders(value: Any, raws: list[str]) -> Any:
    if isinstance(value, Raw):
        raws.append(str(value))
        return f"RAWNUM{len(raws) - 1}X"
    if isinstance(value, dict):
        return {key: _placeholders(inner, raws) for key, inner in value.items()}
    if isinstance(value, list):
        return [_placeholders(inner, raws) for inner in value]
    return value


def _text(document: Any, as_json: bool, duplicate_key: bool) -> str:
    """``document`` as JSON or YAML text, raw numbers spelled as drawn."""
    raws: list[str] = []
    plain = _placeholders(document, raws)
    if as_json:
        text = json.dumps(plain, ensure_ascii=False)
        if duplicate_key:
            text = text.replace('"status": ', '"status": "cancelled", "status": ', 1)
    else:
        text = yaml.dump(plain, allow_unicode=True, sort_keys=False)
        if duplicate_key:
            text = re.sub(
                r"^(\s*)status: ", r"\1status: cancelled\n\1status: ", text, count=1, flags=re.M
            )
    for index, raw in enumerate(raws):
        for quoted in (f'"RAWNUM{index}X"', f"'RAWNUM{index}X'", f"RAWNUM{index}X"):
            text = text.replace(quoted, raw)
    return text


ALIAS_BOMB = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nmerchants: [*c, *c]\n"
MERGE_KEY = (
    "base: &base {merchant: m}\nmerchants:\n  - <<: *base\n    tokens: [t]\n    orders: []\n"
)

DOCUMENTS = st.one_of(
    st.tuples(near_valid(), st.booleans(), st.booleans()).map(lambda t: _text(*t)),
    st.tuples(values(), st.booleans(), st.just(False)).map(lambda t: _text(*t)),
    st.text(max_size=200),
    st.sampled_from([ALIAS_BOMB, MERGE_KEY, "!!python/object:os.system {}", "--- 1\n--- 2\n"]),
)


def _rows(store: Store) -> dict[str, list[Any]]:
    """Every row of every table: what the store holds."""
    with store.reading() as db:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            name: sorted(map(tuple, db.execute(f'SELECT * FROM "{name}"')), key=repr)
            for name in names
        }


def _refused(error: DataError, path: Path) -> None:
    message = str(error)
    assert message.startswith(f"{path}"), message
    assert "\n" not in message and "\r" not in message, message


def _load_and_seed(text: str | bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            dataset = load(path, SPEC)
        except DataError as error:
            _refused(error, path)
            return
        store = SqliteStore(":memory:")

        async def seed_it() -> None:
            async with store.writing() as unit:
                await seed(unit, dataset)

        try:
            before = _rows(store)
            try:
                run_now(seed_it())
            except DataError as error:
                _refused(error, path)
                assert _rows(store) == before  # nothing stayed, not even the merchants
        finally:
            store.close()


@fuzz(40)
@given(text=DOCUMENTS, suffix=st.sampled_from([".json", ".yaml"]))
def test_a_data_file_loads_or_is_refused_in_one_line(text: str, suffix: str) -> None:
    note(f"file{suffix}: {text[:300]!r} ... {text[-600:]!r}")
    _load_and_seed(text, suffix)


@fuzz(15)
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".json", ".yaml"]))
def test_random_bytes_are_refused_in_one_line(raw: bytes, suffix: str) -> None:
    _load_and_seed(raw, suffix)


def test_the_valid_document_loads_in_both_forms() -> None:
    """The mutations start from a file that loads (so a refusal is the mutation's doing)."""
    for as_json, suffix in ((True, ".json"), (False, ".yaml")):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"data{suffix}"
            path.write_text(_text(VALID, as_json, duplicate_key=False))
            assert [seeded.order.id for seeded in load(path, SPEC).orders] == ["5001"]


def _nested(depth: int, as_json: bool) -> str:
    inner = "[" * depth + "1" + "]" * depth
    return '{"merchants": ' + inner + "}" if as_json else f"merchants: {inner}\n"


REQUIRED_ONLY = {
    "id": "1",
    "status": "processing",
    "financialStatus": "paid",
    "fulfillmentStatus": "waiting_to_ship",
    "createDate": "2026-11-20T10:00:00Z",
}
NO_LINES = json.dumps(
    {"merchants": [{"merchant": "m", "tokens": ["t"], "orders": [REQUIRED_ONLY]}]}
)


@pytest.mark.parametrize(
    ("text", "suffix"),
    [
        (_nested(200, as_json=True), ".json"),
        (_nested(1_000, as_json=False), ".yaml"),
        (_nested(100_000, as_json=False), ".yaml"),
        (_nested(257, as_json=True), ".json"),
        (_nested(257, as_json=False), ".yaml"),
        (_nested(1_000, as_json=True), ".json"),
        (_nested(100_000, as_json=True), ".json"),
        ('{"\\n": null}', ".json"),
        ('"\\r": null\n', ".yaml"),
        (NO_LINES, ".json"),
    ],
    ids=[
        "json-200-deep",
        "yaml-1000-deep",
        "yaml-100000-deep",
        "json-257-deep",
        "yaml-257-deep",
        "json-1000-deep",
        "json-100000-deep",
        "json-key-newline",
        "yaml-key-return",
        "order-without-lines",
    ],
)
def test_what_fuzzing_found_is_refused_in_one_line(text: str, suffix: str) -> None:
    """The smallest failing examples make fuzz found in data.py (fixed in 966dc6f): nesting
    257 deep (jsonschema-rs's ValueError), JSON 1,000 deep (RecursionError), a key with a
    line break (a two-line DataError), an order without orderItems (KeyError)."""
    _load_and_seed(text, suffix)


@pytest.mark.parametrize("text", ["1: 1\n", "merchants:\n- {null: 1}\n"], ids=["int", "null"])
def test_what_fuzzing_found_a_key_that_is_not_text_is_refused_in_one_line(text: str) -> None:
    """jsonschema-rs's ValueError 'Dict key must be str' escaped (fixed in f4c9426)."""
    _load_and_seed(text, ".yaml")
