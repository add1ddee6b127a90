"""In front of a sandbox that breaks one rule, the proxy reports it under that rule's check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.proxy.faulty import Faulty
from tests.proxy.servers import sandbox_app, through_proxy
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import item

API = "/openapi/v2/order/orders"  # a spec path, under the base URL (which ends in /openapi)
ONE_PIECE = {"orderItems": [item("120001", 1)]}

Scenario = Callable[[httpx.Client, Faulty], None]


def _root(http: httpx.Client) -> str:
    """The server root of the proxy (its base URL without /openapi)."""
    return str(http.base_url).removesuffix("/openapi/")


def _refund_then(fault: str, *, settle: bool = False) -> Scenario:
    """Refund one piece of 10001 (and settle it), then query its refunds with the fault on."""

    def run(http: httpx.Client, faulty: Faulty) -> None:
        assert http.post(f"{API}/10001/refund", json=ONE_PIECE).status_code == 200
        if settle:
            advance = f"{_root(http)}/_sandbox/clock/advance?seconds=3600"
            json_type = {"Content-Type": "application/json"}
            assert httpx.post(advance, headers=json_type).status_code == 200
        assert http.get(f"{API}/refund/10001").status_code == 200
        faulty.fault = fault
        http.get(f"{API}/refund/10001")

    return run


def _with_fault(fault: str | None, call: Callable[[httpx.Client], object]) -> Scenario:
    def run(http: httpx.Client, faulty: Faulty) -> None:
        faulty.fault = fault
        call(http)

    return run


def _amounts(http: httpx.Client, faulty: Faulty) -> None:
    assert http.post(f"{API}/10001/refund", json=ONE_PIECE).status_code == 200
    faulty.fault = "amounts"
    http.get(API, params={"ids": "10001"})


SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "status": (_with_fault("status", lambda http: http.get(API)), "error"),
    "content-type": (_with_fault("content-type", lambda http: http.get(API)), "error"),
    "response-schema": (
        _with_fault("response-schema", lambda http: http.get(f"{API}/refund/10001")),
        "error",
    ),
    "envelope": (_with_fault("envelope", lambda http: http.get(API)), "error"),
    "parameters": (
        _with_fault("parameters", lambda http: http.get(f"{API}/refund/10001?pageSize=0")),
        "error",
    ),
    "request-body": (
        _with_fault(
            "request-body", lambda http: http.post(f"{API}/10002/refund", json={"orderItems": 1})
        ),
        "error",
    ),
    "paging": (
        _with_fault("paging", lambda http: http.get(API, params={"pageNumber": 1})),
        "error",
    ),
    "amounts": (_amounts, "error"),
    "refund-listed": (_refund_then("refund-listed"), "error"),
    "settled-final": (_refund_then("settled-final", settle=True), "error"),
    # the sandbox's docs page: answered, and no path of the spec
    "operation": (_with_fault(None, lambda http: http.get(_root(http) + "/docs")), "warning"),
}
# a fault that breaks the envelope breaks the success schema too (its code is 10000)
ALSO = {"envelope": {"response-schema"}}


@pytest.mark.parametrize("check", sorted(SCENARIOS))
def test_each_fault_is_reported_under_its_check(tmp_path: Path, check: str) -> None:
    scenario, severity = SCENARIOS[check]
    faulty = Faulty(sandbox_app())
    with through_proxy(faulty, tmp_path, TOKEN_A) as (running, http):
        scenario(http, faulty)
    found = running.checks()
    assert (check, severity) in found, found
    assert {name for name, _ in found} <= {check} | ALSO.get(check, set()), found
    summary = running.summary()
    assert summary["passed"] is (severity == "warning")
    assert any(row["check"] == check and row[f"{severity}s"] for row in summary["checks"])


@pytest.mark.parametrize("check", sorted(set(SCENARIOS) - {"operation"}))
def test_the_same_scenario_without_its_fault_gives_no_finding(tmp_path: Path, check: str) -> None:
    scenario, _ = SCENARIOS[check]
    faulty = Faulty(sandbox_app())
    with through_proxy(faulty, tmp_path, TOKEN_A) as (running, http):
        scenario(http, _Unfaulted(faulty))
    assert running.findings == []
    assert running.summary()["passed"] is True


class _Unfaulted(Faulty):
    """Takes the fault a scenario sets and ignores it."""

    def __init__(self, faulty: Faulty) -> None:
        super().__init__(faulty.app)

    def __setattr__(self, name: str, value: object) -> None:
        if name != "fault":
            super().__setattr__(name, value)
