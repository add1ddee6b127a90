"""The Operations middleware: the spec's operations straight to their handlers.

What it passes on must still get what Starlette's router gave: HEAD of a GET
operation, the 405 of another method, the 404 of an unknown path. And the
parameters it reads must be those Starlette would give (the last of a
repeated query name, the first of a repeated header).
"""

from __future__ import annotations

from kakaclo_client.models import ErrorCode
from starlette.testclient import TestClient

from kakaclo_spec.validation import RequestParameters
from tests.postgres_fixtures import ENGINES  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A

ROOT = "/openapi/openapi/v2/order/orders"


def test_head_of_a_get_operation_is_answered_without_a_body(client: TestClient) -> None:
    answer = client.head(ROOT, headers=TOKEN_A)
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["content-type"] == "application/json"


def test_another_method_on_an_operations_path_is_405_with_the_envelope(client: TestClient) -> None:
    answer = client.delete(f"{ROOT}/10001/refund", headers=TOKEN_A)
    assert answer.status_code == 405
    assert answer.json()["code"] == ErrorCode.METHOD_NOT_ALLOWED.value
    assert "POST" in answer.headers["allow"]


def test_a_path_under_the_root_that_is_no_operation_is_404_with_the_envelope(
    client: TestClient,
) -> None:
    answer = client.get("/openapi/openapi/v2/order/nothing", headers=TOKEN_A)
    assert answer.status_code == 404
    assert answer.json()["code"] == ErrorCode.UNKNOWN_PATH.value


def test_an_operations_refusal_is_its_envelope(client: TestClient) -> None:
    answer = client.get(f"{ROOT}/refund/10001", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert answer.json() == {
        "code": ErrorCode.UNAUTHORIZED.value,
        "message": "missing or unknown bearer token",
        "data": None,
    }


def test_the_last_of_a_repeated_query_name_counts(client: TestClient) -> None:
    answer = client.get(f"{ROOT}/refund/10001?pageSize=abc&pageSize=5", headers=TOKEN_A)
    assert answer.status_code == 200
    assert answer.json()["data"]["pageSize"] == 5


def test_the_first_of_a_repeated_header_counts(client: TestClient) -> None:
    headers = [("authorization", "Bearer demo-token"), ("authorization", "Bearer wrong")]
    answer = client.get(f"{ROOT}/refund/10001", headers=headers)
    assert answer.status_code == 200


def test_request_parameters_read_an_asgi_scope_as_starlette_does() -> None:
    scope = {
        "query_string": b"a=1&b=%C3%A9&a=2&empty=",
        "headers": [(b"X-One", b"first"), (b"x-one", b"second")],
        "path_params": {"id": "10001"},
    }
    read = RequestParameters.of(scope)
    assert read.query_params == {"a": "2", "b": "é", "empty": ""}
    assert read.headers == {"x-one": "first"}
    assert read.path_params == {"id": "10001"}
