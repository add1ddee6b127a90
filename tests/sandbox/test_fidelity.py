"""The sandbox answers like the vendor: each real body has a twin in the demo data, compared
field by field (keys, nullness, JSON types, quirk forms), and every difference is in the
table of allowed differences of docs/sandbox.md ("It answers like the vendor") with its reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, TOKEN_TWINS
from tests.sandbox.helpers import API, item, refund_url

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "tests" / "fixtures" / "vendor"
# each real body of Query Order or Query Refund, and the twin the demo data holds for it
TWINS = {
    "query-order-waiting-to-ship.json": (API, {"ids": "1000000463303"}),
    "query-order-partially-shipped.json": (API, {"ids": "1000000387267"}),
    "query-order-shipped.json": (API, {"ids": "1000000462144"}),
    "query-refund.json": (f"{API}/refund/1000000387523", {}),
}
# the values that say which state a body shows: the twin must be in the same one
STATE_FIELDS = ("status", "financialStatus", "fulfillmentStatus", "refundStatus")
DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")


def form(value: Any) -> str:
    """The JSON type of a value, with the vendor's string quirks told apart."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if value == "NULL":
        return '"NULL" string'
    if DATE_TIME.fullmatch(value):
        return "date-time string"
    if value.isdigit():
        return "digit string"
    try:
        return "JSON object in a string" if isinstance(json.loads(value), dict) else "string"
    except ValueError:
        return "string"


def differences(vendor: Any, ours: Any, path: str = "") -> set[tuple[str, str]]:
    """(field path, difference) for every key, nullness, type or form that differs."""
    found: set[tuple[str, str]] = set()
    if form(vendor) != form(ours):
        return {(path, f"{form(vendor)} in the real body, {form(ours)} in the sandbox's")}
    if isinstance(vendor, dict):
        for key in vendor.keys() - ours.keys():
            found.add((f"{path}.{key}".lstrip("."), "missing from the sandbox's"))
        for key in ours.keys() - vendor.keys():
            found.add((f"{path}.{key}".lstrip("."), "only in the sandbox's"))
        for key in vendor.keys() & ours.keys():
            found |= differences(vendor[key], ours[key], f"{path}.{key}".lstrip("."))
    elif isinstance(vendor, list):
        if len(vendor) != len(ours):
            found.add((path, f"{len(vendor)} entries in the real body, {len(ours)} in ours"))
        for theirs, mine in zip(vendor, ours, strict=False):
            found |= differences(theirs, mine, f"{path}[]")
    return found


def allowed_differences() -> set[tuple[str, str, str]]:
    """(body, field, difference) rows of docs/sandbox.md's table."""
    page = (ROOT / "docs" / "sandbox.md").read_text()
    table = page.split("<!-- allowed-differences -->")[1].split("<!-- /allowed-differences -->")[0]
    rows = set()
    for line in table.strip().splitlines()[2:]:
        body, field, difference, reason = (cell.strip() for cell in line.strip("|").split("|"))
        assert reason, f"a row of the table gives no reason: {line}"
        rows.add((body.strip("`"), field.strip("`"), difference))
    return rows


def twin_answer(client: TestClient, name: str) -> Any:
    path, params = TWINS[name]
    answer = client.get(path, params=params, headers=TOKEN_TWINS)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_real_body_has_a_twin_or_a_reason() -> None:
    bodies = {path.name for path in VENDOR.glob("query-*.json")}
    without = {body for body, field, _ in allowed_differences() if field == "(the whole body)"}
    assert bodies == set(TWINS) | without
    assert not set(TWINS) & without


@pytest.mark.parametrize("name", sorted(TWINS))
def test_the_twin_is_in_the_same_state(client: TestClient, name: str) -> None:
    vendor = json.loads((VENDOR / name).read_text())["data"]["list"][0]
    ours = twin_answer(client, name)["data"]["list"][0]
    assert {k: ours.get(k) for k in STATE_FIELDS} == {k: vendor.get(k) for k in STATE_FIELDS}


def test_twins_answer_like_the_real_bodies_but_for_the_table(client: TestClient) -> None:
    found = {
        (name, field, difference)
        for name in TWINS
        for field, difference in differences(
            json.loads((VENDOR / name).read_text()), twin_answer(client, name)
        )
    }
    allowed = {row for row in allowed_differences() if row[1] != "(the whole body)"}
    assert found - allowed == set(), "differences docs/sandbox.md's table does not allow"
    assert allowed - found == set(), "rows of docs/sandbox.md's table that no longer happen"


def test_the_comparison_sees_each_kind_of_difference() -> None:
    real = {"a": "NULL", "b": None, "c": '{"name":"size", "value":"S"}', "d": 1.5, "e": [1]}
    ours = {"a": None, "b": "x", "c": "S", "d": 1, "e": [1, 2], "f": 0}
    assert {field for field, _ in differences(real, ours)} == {"a", "b", "c", "d", "e", "f"}
    assert differences(real, real) == set()


def test_no_refund_yet_is_the_vendors_form(client: TestClient) -> None:
    answer = client.get(API, params={"ids": "10001"}, headers=TOKEN_A).json()["data"]
    assert {"vo", "totalPageNumber", "modifyDate", "nextId"} <= answer.keys()
    order = answer["list"][0]
    assert order["refundStatus"] == "NULL"
    assert order["completedDate"] == order["payDate"]
    assert not {"currencyCode", "refundedAmount", "refundableAmount"} & order.keys()
    line = order["orderItems"][0]
    assert line["refundStatus"] == "NULL"
    assert json.loads(line["option1"]) == {"name": "color", "value": "Red"}
    assert not {"stockStatus", "fulfillmentStatus"} & line.keys()


def test_a_refund_brings_the_field_table_fields(client: TestClient) -> None:
    client.post(refund_url("10001"), json={"orderItems": [item("120001", 1)]}, headers=TOKEN_A)
    order = client.get(API, params={"ids": "10001"}, headers=TOKEN_A).json()["data"]["list"][0]
    assert order["refundStatus"] == "refunding"
    assert (order["refundedAmount"], order["refundableAmount"]) == (0, 45.25)
    assert order["currencyCode"] == "USD"
    assert [line["refundStatus"] for line in order["orderItems"]] == ["refunding", "NULL"]
    assert {line["stockStatus"] for line in order["orderItems"]} == {"normal"}


def test_clean_sends_plain_nulls_and_every_field(clean_client: TestClient) -> None:
    answer = clean_client.get(API, params={"ids": "1000000387267"}, headers=TOKEN_TWINS).json()
    assert not {"vo", "totalPageNumber", "nextId"} & answer["data"].keys()
    order = answer["data"]["list"][0]
    assert order["refundStatus"] is None
    assert (order["refundedAmount"], order["refundableAmount"]) == (0, 34.2)
    assert all(line["refundStatus"] is None for line in order["orderItems"])
    assert order["fulfillments"][0]["items"][0]["countryCode"] == "CN"
    assert "NULL" not in json.dumps(answer)
