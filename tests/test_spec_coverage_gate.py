"""The spec coverage matrix and its gate: a sandbox run that misses a documented answer fails."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kakaclo_contract import spec_coverage, verdict
from kakaclo_contract.settings import RunSettings


@pytest.fixture(autouse=True)
def fresh_counts() -> Iterator[None]:
    saved = spec_coverage.PAIRS.copy(), spec_coverage.CODES.copy()
    spec_coverage.PAIRS.clear()
    spec_coverage.CODES.clear()
    yield
    spec_coverage.PAIRS.clear()
    spec_coverage.CODES.clear()
    spec_coverage.PAIRS.update(saved[0])
    spec_coverage.CODES.update(saved[1])


def _observe_everything() -> None:
    for operation_id, status in spec_coverage.documented_pairs():
        spec_coverage.PAIRS[(operation_id, status)] += 1
    for code in spec_coverage.documented_codes():
        spec_coverage.CODES[code] += 1


def test_answers_are_counted_by_pair_and_code() -> None:
    body = json.dumps({"code": 40904, "message": "m", "data": None}).encode()
    spec_coverage.observe("POST", "/openapi/openapi/v2/order/orders/10001/refund", 409, body)
    spec_coverage.observe("GET", "/openapi/openapi/v2/no/such", 404, b'{"code": 40400}')
    spec_coverage.observe("GET", "/openapi/openapi/v2/order/orders", 200, b"not json")
    assert spec_coverage.PAIRS == {("refundOrder", 409): 1, ("queryOrders", 200): 1}
    assert spec_coverage.CODES == {40904: 1, 40400: 1}


def test_every_documented_pair_and_code_is_known() -> None:
    pairs = spec_coverage.documented_pairs()
    assert ("refundOrder", 413) in pairs and ("queryOrders", 503) in pairs
    assert ("queryOrders", 404) not in pairs  # Query Order has no 404
    assert {10000, 40912, 50301} <= spec_coverage.documented_codes()


def test_a_sandbox_run_with_a_gap_fails_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdict, "gate_reasons", lambda settings: [])
    _observe_everything()
    del spec_coverage.PAIRS[("refundOrder", 413)]
    del spec_coverage.CODES[40912]
    run = RunSettings()
    failed = verdict.decide(0, run, sandbox=True)
    assert failed.code == verdict.EXIT_VIOLATIONS
    assert failed.reasons == ["spec coverage: the run never observed refundOrder 413, code 40912"]
    assert verdict.decide(0, run, sandbox=False).code == verdict.EXIT_PASSED  # only reported
    assert spec_coverage.as_json()["missingPairs"] == ["refundOrder 413"]
    assert "not observed: refundOrder 413, code 40912" in spec_coverage.lines()[-1]


def test_a_complete_run_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdict, "gate_reasons", lambda settings: [])
    _observe_everything()
    assert verdict.decide(0, RunSettings(), sandbox=True).code == verdict.EXIT_PASSED
    assert spec_coverage.gate_reason() is None
