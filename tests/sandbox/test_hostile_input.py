"""Hostile input: a clear 4xx, never a 5xx, and nothing written."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from kakaclo_spec.validation import MAX_BODY_BYTES
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import refund_url, snapshot

JSON = {**TOKEN_A, "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"remark": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}', 413, 41301),
        (b"[" * 300_000 + b"]" * 300_000, 413, 41301),
        (b"[" * 100_000 + b"]" * 100_000, 400, 40001),
        (b"[" * 30_000 + b"]" * 30_000, 400, 40001),
        (b'{"remark": "\xff\xfe"}', 400, 40001),
        (
            b'{"orderItems": [{"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", '
            b'"countryCode": "CN", "quantity": ' + b"9" * 5000 + b"}]}",
            400,
            40001,
        ),
        (
            b'{"orderItems": [{"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", '
            b'"countryCode": "CN", "quantity": 99999999999999999999999999}]}',
            400,
            40002,
        ),
        (
            b'{"orderItems": [{"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", '
            b'"countryCode": "CN", "quantity": 1e400}]}',
            400,
            40002,
        ),
        (
            b'{"orderItems": [{"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", '
            b'"countryCode": "CN", "quantity": NaN}]}',
            400,
            40001,
        ),
        (b'{"remark": "a", "remark": 5}', 400, 40002),
        (b"", 400, 40002),
        (b"null", 400, 40002),
        (b'"just a string"', 400, 40002),
        (b'{"remark": "\\ud800"}', 400, 40001),
    ],
    ids=[
        "oversized",
        "oversized-nesting",
        "nesting-past-the-parser",
        "deep-nesting",
        "invalid-utf8",
        "5000-digit-integer",
        "huge-integer",
        "infinite-float",
        "nan",
        "duplicate-key",
        "empty",
        "null",
        "string",
        "lone-surrogate",
    ],
)
def test_hostile_bodies(client: TestClient, body: bytes, status: int, code: int) -> None:
    before = snapshot(client, TOKEN_A)
    answer = client.post(refund_url("10001"), content=body, headers=JSON)
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text[:300]
    assert snapshot(client, TOKEN_A) == before


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "json"],
)
def test_wrong_content_types(client: TestClient, content_type: str | None) -> None:
    headers = dict(TOKEN_A)
    if content_type:
        headers["Content-Type"] = content_type
    answer = client.post(refund_url("10001"), content=b'{"remark": "x"}', headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (400, 40003)


def test_json_with_charset_is_fine(client: TestClient) -> None:
    answer = client.post(
        refund_url("10002"),
        content=b"{}",
        headers={**TOKEN_A, "Content-Type": "application/json; charset=utf-8"},
    )
    assert answer.status_code == 200


def test_oversized_declared_length_is_refused_before_reading(client: TestClient) -> None:
    answer = client.post(
        refund_url("10001"),
        content=b"{}",
        headers={**JSON, "Content-Length": str(MAX_BODY_BYTES + 1)},
    )
    assert answer.status_code in (400, 413)  # the test client may fix the length itself
    assert answer.status_code < 500


def test_the_largest_schema_valid_body_is_under_the_size_limit(client: TestClient) -> None:
    """413 never refuses a body the schema accepts (positive data is never refused)."""
    wide = "\U0001f600" * 64  # 64 characters, each a \u-escaped surrogate pair in JSON
    body = {
        "remark": wide * 7 + "x" * 52,
        "refundReason": "Product Selection Error/Multiple Selection",
        "orderItems": [{"itemId": wide, "skuCode": wide, "quantity": 100000, "countryCode": "CN"}]
        * 250,
    }
    raw = json.dumps(body).encode()  # ensure_ascii: the longest encoding of these values
    assert len(raw) <= MAX_BODY_BYTES
    answer = client.post(refund_url("10001"), content=raw, headers=JSON)
    assert answer.status_code != 413, answer.text
