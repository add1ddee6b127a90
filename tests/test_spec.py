"""openapi.yaml itself: valid OpenAPI 3.1, complete, and every example true to its schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts as versions
from openapi_spec_validator.versions.shortcuts import get_spec_version

from tests.spec_data import spec


def test_spec_is_valid_openapi_3_1() -> None:
    document = spec().document
    assert get_spec_version(document) == versions.OPENAPIV31
    validate(document)  # raises on any violation of the OpenAPI 3.1 meta-schema


def test_every_operation_is_named_tagged_and_described() -> None:
    operations = list(spec().operations())
    assert {op["operationId"] for _, _, op in operations} == {
        "refundOrder",
        "queryRefund",
        "queryOrders",
    }
    for method, path, operation in operations:
        assert path.startswith("/openapi/v2/"), path
        for key in ("tags", "summary", "description"):
            assert operation.get(key), f"{method} {path} has no {key}"


def test_bearer_auth_is_required_on_every_operation() -> None:
    document = spec().document
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    for _, _, operation in spec().operations():
        assert operation.get("security", document["security"]) == [{"bearerAuth": []}]
        assert "401" in operation["responses"]


def test_servers_are_production_test_and_sandbox() -> None:
    urls = [server["url"] for server in spec().document["servers"]]
    assert urls == [
        "https://developer.kakaclo.com/openapi",
        "https://test-developer.kakaclo.com/openapi",
        "http://127.0.0.1:8080/openapi",
    ]


def _located_examples(node: Any, where: str) -> Iterator[tuple[str, Any, Any]]:
    """Yield (location, schema, example) for every example anywhere in the document."""
    if isinstance(node, dict):
        schema = node.get("schema")
        if schema is not None:
            if "example" in node:
                yield where + ".example", schema, node["example"]
            for name, example in (node.get("examples") or {}).items():
                yield f"{where}.examples.{name}", schema, spec().resolve(example)["value"]
        if isinstance(node.get("examples"), list) and "schema" not in node:
            # a Schema Object with JSON Schema `examples`
            for index, example in enumerate(node["examples"]):
                yield f"{where}.examples[{index}]", node, example
        for key, value in node.items():
            yield from _located_examples(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _located_examples(value, f"{where}[{index}]")


EXAMPLES = list(_located_examples(spec().document, "#"))


def test_the_spec_has_examples_everywhere_it_should() -> None:
    locations = {location for location, _, _ in EXAMPLES}
    assert any("refundSomeItems" in loc for loc in locations)
    assert any("refundEntireOrder" in loc for loc in locations)
    assert any("quantityExceedsRefundable" in loc for loc in locations)
    assert len(EXAMPLES) > 30


@pytest.mark.parametrize(("location", "schema", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_validates_against_its_schema(
    location: str, schema: Any, example: Any
) -> None:
    errors = spec().compile(schema).errors(example)
    assert not errors, f"{location}: " + "; ".join(map(str, errors))


def test_vendor_curl_examples_are_the_named_request_examples() -> None:
    _, _, operation = spec().operation("refundOrder")
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert examples["refundEntireOrder"]["value"] == {"remark": "other reason"}
    items = examples["refundSomeItems"]["value"]["orderItems"]
    assert [(i["itemId"], i["quantity"], i["countryCode"]) for i in items] == [
        ("120001", 1, "CN"),
        ("120002", 2, "US"),
    ]


def test_refund_order_links_to_query_refund_by_order_id() -> None:
    _, _, operation = spec().operation("refundOrder")
    link = operation["responses"]["200"]["links"]["QueryRefundOfThisOrder"]
    assert link == {**link, "operationId": "queryRefund", "parameters": {"id": "$request.path.id"}}


def _error_codes() -> dict[str, int]:
    schema = spec().document["components"]["schemas"]["ErrorCode"]
    return dict(zip(schema["x-enum-varnames"], schema["enum"], strict=True))


def test_every_error_code_is_documented_under_exactly_one_status() -> None:
    codes = _error_codes()
    documented: dict[int, set[int]] = {}
    for _, _, operation in spec().operations():
        for status in operation["responses"]:
            if status.startswith(("4", "5")):
                for code in spec().documented_error_codes(operation["operationId"], int(status)):
                    documented.setdefault(code, set()).add(int(status))
    # 10000 is success; UNKNOWN_PATH and METHOD_NOT_ALLOWED answer requests outside
    # the operations, so no operation lists them (ErrorCode's description does).
    outside = {codes["SUCCESS"], codes["UNKNOWN_PATH"], codes["METHOD_NOT_ALLOWED"]}
    assert set(documented) == set(codes.values()) - outside
    for code, statuses in documented.items():
        assert statuses == {code // 100}, f"code {code} appears under {statuses}"


def test_every_response_states_the_envelope_rule_in_x_codes() -> None:
    # x-codes is the rule tools read (a 200 carries 10000; an error, a code its response
    # lists); it must say what the examples and descriptions say.
    for _, _, operation in spec().operations():
        operation_id = operation["operationId"]
        for status in operation["responses"]:
            codes = spec().codes(operation_id, int(status))
            assert codes is not None, (operation_id, status)
            if status == "200":
                assert codes == {10000}, operation_id
            examples = spec().example_codes(operation_id, int(status))
            assert examples and examples <= codes, (operation_id, status, examples, codes)


def test_an_unknown_error_code_is_exactly_one_errorcode_does_not_list() -> None:
    # Error.code is a oneOf of ErrorCode and an integer outside it; the second branch
    # repeats ErrorCode's values (a oneOf needs its branches apart)
    code = spec().document["components"]["schemas"]["Error"]["properties"]["code"]
    unknown = code["oneOf"][1]["not"]["enum"]
    assert sorted(unknown) == sorted(_error_codes().values())
    assert spec().component("Error").is_valid({"code": 40401, "message": "x"})
    assert spec().component("Error").is_valid({"code": 12345, "message": "x"})
    assert not spec().component("Error").is_valid({"code": "40401", "message": "x"})


def test_schema_valid_requests_never_get_400_business_rules_are_409() -> None:
    # 400 is documented for schema violations only; every rule code is a 409.
    rule_codes = spec().documented_error_codes("refundOrder", 409)
    assert rule_codes == {40901, 40902, 40903, 40904, 40905, 40911, 40912}
    # 40004 answers a sandbox-only Prefer header, which no operation declares
    assert spec().documented_error_codes("refundOrder", 400) == {40001, 40002, 40003, 40004}


def test_every_operation_lists_the_server_errors_a_client_may_see() -> None:
    for _, _, operation in spec().operations():
        assert {"500", "503"} <= set(operation["responses"]), operation["operationId"]
        assert "Retry-After" in spec().resolve(operation["responses"]["503"])["headers"]


def test_rate_limited_answers_carry_retry_after() -> None:
    for _, _, operation in spec().operations():
        response = spec().resolve(operation["responses"]["429"])
        assert response["headers"]["Retry-After"]
