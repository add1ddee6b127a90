"""generated/kakaclo_client: current with the spec, lossless, and true to every vendor body."""

from __future__ import annotations

import datetime
import enum
import importlib
from pathlib import Path
from typing import Any

import pytest
from dateutil.parser import isoparse
from hypothesis import given
from kakaclo_client import models

from tests.spec_data import component_values, spec, vendor_body
from tools import codegen


def test_generated_client_matches_the_spec(capsys: pytest.CaptureFixture[str]) -> None:
    status = codegen.check()
    assert status == 0, capsys.readouterr().err


def test_drift_is_reported_with_a_readable_diff(tmp_path: Path) -> None:
    fresh = codegen.generate_into(tmp_path / "fresh")
    edited = tmp_path / "edited"
    import shutil

    shutil.copytree(fresh, edited)
    model = edited / "models" / "refund_item.py"
    model.write_text(model.read_text().replace("quantity", "qty"))
    (edited / "stray.py").write_text("")
    report = codegen.drift(edited, fresh)
    assert "differs: models/refund_item.py" in report
    assert "only in generated/ (not produced by the spec): stray.py" in report
    assert any(line.startswith("-") and "qty" in line for line in report)
    assert any(line.startswith("+") and "quantity" in line for line in report)


ENUM_SCHEMAS = {
    name: schema
    for name, schema in spec().document["components"]["schemas"].items()
    if "enum" in schema
}


@pytest.mark.parametrize("name", sorted(ENUM_SCHEMAS))
def test_every_enum_value_survives_generation(name: str) -> None:
    generated = getattr(models, name)
    assert issubclass(generated, enum.Enum)
    assert {member.value for member in generated} == set(ENUM_SCHEMAS[name]["enum"])
    assert len(list(generated)) == len(ENUM_SCHEMAS[name]["enum"]), (
        "two values merged into one name"
    )


def _model(name: str) -> Any:
    return getattr(models, name)


OBJECT_SCHEMAS = sorted(
    name
    for name, schema in spec().document["components"]["schemas"].items()
    if schema.get("type") == "object"
)


def test_every_object_schema_has_a_generated_model() -> None:
    missing = [name for name in OBJECT_SCHEMAS if not hasattr(models, name)]
    assert not missing


def _round_trip_test(name: str) -> Any:
    @given(component_values(name))
    def round_trip(body: dict[str, Any]) -> None:
        model = _model(name).from_dict(body)
        again = _model(name).from_dict(model.to_dict())
        assert again == model
        # and what the model writes is still valid by the spec
        errors = spec().component(name).errors(model.to_dict())
        assert not errors, errors

    return round_trip


@pytest.mark.parametrize("name", OBJECT_SCHEMAS)
def test_models_round_trip_for_data_drawn_from_the_spec(name: str) -> None:
    _round_trip_test(name)()


# Every real body of the vendor, and the response model it must parse into.
VENDOR_BODIES = {
    "query-order-waiting-to-ship.json": ("queryOrders", "QueryOrderResponse"),
    "query-order-partially-shipped.json": ("queryOrders", "QueryOrderResponse"),
    "query-order-shipped.json": ("queryOrders", "QueryOrderResponse"),
    "query-order-summary-example.json": ("queryOrders", "QueryOrderResponse"),
    "query-refund.json": ("queryRefund", "QueryRefundResponse"),
    "refund-order-field-table.json": ("refundOrder", "RefundOrderResponse"),
    "refund-order-curl-example.json": ("refundOrder", "RefundOrderResponse"),
}


def _same(original: Any, written: Any, where: str = "$") -> None:
    """Assert the model wrote back exactly what it read (date-times compared as instants)."""
    if isinstance(original, dict):
        assert isinstance(written, dict), where
        assert set(written) == set(original), f"{where}: keys {set(original) ^ set(written)}"
        for key in original:
            _same(original[key], written[key], f"{where}.{key}")
    elif isinstance(original, list):
        assert isinstance(written, list) and len(written) == len(original), where
        for index, (a, b) in enumerate(zip(original, written, strict=True)):
            _same(a, b, f"{where}[{index}]")
    elif isinstance(original, str) and isinstance(written, str) and original != written:
        assert isoparse(original) == isoparse(written), f"{where}: {original!r} != {written!r}"
    else:
        assert type(original) is type(written) and original == written, (
            f"{where}: {original!r} ({type(original).__name__}) became "
            f"{written!r} ({type(written).__name__})"
        )


@pytest.mark.parametrize("fixture", sorted(VENDOR_BODIES))
def test_vendor_bodies_validate_and_parse_without_loss(fixture: str) -> None:
    operation_id, model_name = VENDOR_BODIES[fixture]
    body = vendor_body(fixture)
    errors = spec().response_schema(operation_id, 200).errors(body)
    assert not errors, errors
    parsed = _model(model_name).from_dict(body)
    _same(body, parsed.to_dict())


def test_vendor_order_parses_into_the_right_types() -> None:
    page = models.QueryOrderResponse.from_dict(
        vendor_body("query-order-partially-shipped.json")
    ).data
    order = page.list_[0]
    assert isinstance(order.final_amount, float) and order.final_amount == 34.2
    assert order.fulfillment_status is models.FulfillmentStatus.PARTIALLY_SHIPPED
    assert order.refund_status is models.OrderRefundStatus.NULL
    assert order.pay_date == datetime.datetime(2022, 8, 20, 7, 26, 54, tzinfo=datetime.UTC)
    assert order.warehouse_id == 13
    assert order.order_items and order.order_items[1].country_code is models.CountryCode.US
    assert page.next_id is None and page.vo is None  # declared: their type is unknown
    assert page.additional_properties == {}
    summary = models.QueryOrderResponse.from_dict(vendor_body("query-order-summary-example.json"))
    assert summary.data.list_[0].additional_properties["skusAmount"] == 9.32


def test_refund_number_parses_as_string_or_integer() -> None:
    as_string = models.RefundOrderResponse.from_dict(vendor_body("refund-order-field-table.json"))
    as_integer = models.RefundOrderResponse.from_dict(vendor_body("refund-order-curl-example.json"))
    assert as_string.data == "111"
    assert as_integer.data == 10002


def test_generated_package_is_importable_in_full() -> None:
    for module in (
        "api.refunds.refund_order",
        "api.refunds.query_refund",
        "api.orders.query_orders",
    ):
        assert hasattr(importlib.import_module(f"kakaclo_client.{module}"), "sync_detailed")
