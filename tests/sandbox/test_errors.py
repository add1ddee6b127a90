"""Every error path answers its documented status and code, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A, TOKEN_B
from tests.sandbox.helpers import API, PARTIAL_BODY, item, query_refund_url, refund_url, snapshot
from tests.spec_data import spec

JSON = {"Content-Type": "application/json"}

# (name, order, headers, raw body or JSON body, status, code, words the message must contain)
CASES: list[tuple[str, str, dict[str, str], Any, int, int, str]] = [
    ("no token", "10001", {}, {}, 401, 40101, "bearer token"),
    ("unknown token", "10001", {"Authorization": "Bearer nope"}, {}, 401, 40101, "bearer"),
    ("basic auth", "10001", {"Authorization": "Basic ZGVtbw=="}, {}, 401, 40101, "bearer"),
    ("bad json", "10001", TOKEN_A, b'{"remark": }', 400, 40001, "not valid JSON"),
    ("wrong type", "10001", TOKEN_A, {"remark": 5}, 400, 40002, "remark"),
    ("unknown reason", "10001", TOKEN_A, {"refundReason": "Bored"}, 400, 40002, "refundReason"),
    ("unknown field", "10001", TOKEN_A, {"reason": "Other"}, 400, 40002, "'reason'"),
    (
        "missing field",
        "10001",
        TOKEN_A,
        {"orderItems": [{"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", "quantity": 1}]},
        400,
        40002,
        "countryCode",
    ),
    (
        "quantity zero",
        "10001",
        TOKEN_A,
        {"orderItems": [item("120001", 0)]},
        400,
        40002,
        "orderItems[0].quantity",
    ),
    ("empty items", "10001", TOKEN_A, {"orderItems": []}, 400, 40002, "orderItems"),
    (
        "bad country",
        "10001",
        TOKEN_A,
        {"orderItems": [{**item("120001", 1), "countryCode": "DE"}]},
        400,
        40002,
        "orderItems[0].countryCode",
    ),
    ("bad order id", "abc", TOKEN_A, {}, 400, 40002, "path parameter id"),
    ("unknown order", "99999", TOKEN_A, {}, 404, 40401, "99999"),
    ("other merchant's order", "20001", TOKEN_A, {}, 404, 40401, "20001"),
    ("shipped", "10003", TOKEN_A, {}, 409, 40901, "fully_shipped"),
    ("partly shipped", "10005", TOKEN_A, {}, 409, 40901, "partially_shipped"),
    ("unpaid", "10004", TOKEN_A, {}, 409, 40901, "financialStatus is waiting"),
    ("cancelled", "10006", TOKEN_A, {}, 409, 40901, "status is cancel"),
    ("no such line", "10001", TOKEN_A, {"orderItems": [item("120009", 1)]}, 409, 40902, "120009"),
    (
        "wrong warehouse",
        "10001",
        TOKEN_A,
        {"orderItems": [item("120001", 1, "US")]},
        409,
        40902,
        "countryCode US",
    ),
    (
        "same line twice",
        "10001",
        TOKEN_A,
        {"orderItems": [item("120001", 1), item("120001", 1)]},
        409,
        40903,
        "orderItems[1]",
    ),
    (
        "over-refund",
        "10001",
        TOKEN_A,
        {"orderItems": [item("120001", 3)]},
        409,
        40904,
        "2 pieces still refundable",
    ),
]


@pytest.mark.parametrize(
    ("order_id", "headers", "body", "status", "code", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_refund_order_errors(
    client: TestClient,
    order_id: str,
    headers: dict[str, str],
    body: Any,
    status: int,
    code: int,
    words: str,
) -> None:
    before = snapshot(client, TOKEN_A), snapshot(client, TOKEN_B)
    if isinstance(body, bytes):
        answer = client.post(refund_url(order_id), content=body, headers={**headers, **JSON})
    else:
        answer = client.post(refund_url(order_id), json=body, headers=headers)
    assert answer.status_code == status, answer.text
    envelope = answer.json()
    assert envelope["code"] == code
    assert words in envelope["message"]
    assert envelope["data"] is None
    assert code in spec().documented_error_codes("refundOrder", status)
    assert (snapshot(client, TOKEN_A), snapshot(client, TOKEN_B)) == before


def test_wrong_content_type_is_400(client: TestClient) -> None:
    answer = client.post(
        refund_url("10001"), content=b"remark=x", headers={**TOKEN_A, "Content-Type": "text/plain"}
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == 40003
    assert "text/plain" in answer.json()["message"]


def test_nothing_left_to_refund_is_409(client: TestClient) -> None:
    assert client.post(refund_url("10002"), json={}, headers=TOKEN_A).status_code == 200
    before = snapshot(client, TOKEN_A)
    again = client.post(refund_url("10002"), json={}, headers=TOKEN_A)
    assert (again.status_code, again.json()["code"]) == (409, 40905)
    assert snapshot(client, TOKEN_A) == before


def test_quantity_counts_pending_refunds(client: TestClient) -> None:
    assert (
        client.post(
            refund_url("10001"), json={"orderItems": [item("120001", 1)]}, headers=TOKEN_A
        ).status_code
        == 200
    )
    second = client.post(
        refund_url("10001"), json={"orderItems": [item("120001", 2)]}, headers=TOKEN_A
    )
    assert (second.status_code, second.json()["code"]) == (409, 40904)
    assert "1 pieces still refundable" in second.json()["message"]


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (API, {"pageSize": 251}),
        (API, {"pageSize": "ten"}),
        (API, {"pageNumber": 0}),
        (API, {"ids": "10001,abc"}),
        (API, {"createStartTime": "yesterday"}),
        (query_refund_url("10001"), {"pageSize": 0}),
    ],
)
def test_query_parameters_are_validated(
    client: TestClient, url: str, params: dict[str, Any]
) -> None:
    answer = client.get(url, params=params, headers=TOKEN_A)
    assert answer.status_code == 400
    assert answer.json()["code"] == 40002
    assert next(iter(params)) in answer.json()["message"]


def test_query_refund_of_unknown_or_foreign_order_is_404(client: TestClient) -> None:
    for order_id in ("99999", "20001"):
        answer = client.get(query_refund_url(order_id), headers=TOKEN_A)
        assert (answer.status_code, answer.json()["code"]) == (404, 40401)


def test_queries_need_a_token(client: TestClient) -> None:
    for url in (API, query_refund_url("10001")):
        answer = client.get(url)
        assert (answer.status_code, answer.json()["code"]) == (401, 40101)


def test_integer_valued_floats_are_integers(client: TestClient) -> None:
    body = {"orderItems": [{**item("120001", 1), "quantity": 2.0}]}
    assert client.post(refund_url("10001"), json=body, headers=TOKEN_A).status_code == 200
    assert client.get(API, params={"pageSize": "5.0"}, headers=TOKEN_A).status_code == 200


def test_vendor_partial_body_is_accepted(client: TestClient) -> None:
    assert client.post(refund_url("10001"), json=PARTIAL_BODY, headers=TOKEN_A).status_code == 200
