"""A dead or slow upstream: the proxy answers 502 UPSTREAM_UNAVAILABLE itself, as the spec
documents it, and reports and records that answer as its own."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from kakaclo_client.models import ErrorCode

from kakaclo_spec import shipped_spec
from tests.live import free_port
from tests.proxy.servers import proxy, sandbox_app, upstream
from tests.sandbox.conftest import TOKEN_A

API = "/openapi/v2/order/orders"


def _is_documented_bad_gateway(answer: httpx.Response) -> None:
    assert answer.status_code == 502
    body = answer.json()
    assert body["code"] == ErrorCode.UPSTREAM_UNAVAILABLE
    assert shipped_spec().response_schema("queryOrders", 502).errors(body) == []


def test_a_dead_upstream_gets_a_502_of_the_proxys_own(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/openapi"
    with proxy(dead, tmp_path, record=tmp_path / "run.har") as running:
        answer = httpx.get(running.base_url + API, headers=TOKEN_A, timeout=10)
    _is_documented_bad_gateway(answer)
    assert "cannot connect" in answer.json()["message"]
    assert running.checks() == {("upstream", "error")}
    entry = json.loads((tmp_path / "run.har").read_text())["log"]["entries"][0]
    assert entry["_answeredBy"] == "proxy" and entry["response"]["status"] == 502


def test_a_slow_upstream_gets_a_502_after_the_timeout_and_a_patient_one_its_answer(
    tmp_path: Path,
) -> None:
    with upstream(sandbox_app()) as upstream_url:
        with proxy(upstream_url, tmp_path / "impatient", read_timeout=0.3) as impatient:
            slow = httpx.get(
                impatient.base_url + API, headers={**TOKEN_A, "Prefer": "delay=2"}, timeout=10
            )
        with proxy(upstream_url, tmp_path / "patient", read_timeout=5) as patient:
            waited = httpx.get(
                patient.base_url + API, headers={**TOKEN_A, "Prefer": "delay=0.5"}, timeout=10
            )
    _is_documented_bad_gateway(slow)
    assert "no answer within 0.3 s" in slow.json()["message"]
    assert impatient.checks() == {("upstream", "error")}
    assert waited.status_code == 200 and waited.headers["preference-applied"] == "delay=0.5"
    assert patient.findings == []
