"""datamodel-code-generator 0.97 (pydantic v2 models) from openapi.yaml: every body parses.

The vendor's real bodies (tests/fixtures/vendor/) and the sandbox's answers in
both forms, the vendor's (``"NULL"`` strings, extra page keys) and ``--clean``
(plain nulls): a page of orders, the refunds of an order in each state, a
refund created, and an error envelope.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from peers.conftest import ROOT, SPEC, SandboxFactory, peers_python, run

VENDOR = ROOT / "tests" / "fixtures" / "vendor"
MODEL_OF_FIXTURE = {
    "query-order-partially-shipped.json": "QueryOrderResponse",
    "query-order-shipped.json": "QueryOrderResponse",
    "query-order-waiting-to-ship.json": "QueryOrderResponse",
    "query-order-summary-example.json": "QueryOrderResponse",
    "query-refund.json": "QueryRefundResponse",
    "refund-order-curl-example.json": "RefundOrderResponse",
    "refund-order-field-table.json": "RefundOrderResponse",
}
API = "/openapi/v2/order/orders"


@pytest.fixture
def models(tmp_path: Path) -> Path:
    generator = str(Path(peers_python()).parent / "datamodel-codegen")
    out = tmp_path / "models.py"
    ran = run(
        [
            generator,
            "--input",
            str(SPEC),
            "--input-file-type",
            "openapi",
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--formatters",
            "builtin",
            "--output",
            str(out),
        ]
    )
    assert ran.code == 0 and out.exists(), ran.output
    return tmp_path


def _sandbox_bodies(base_url: str, form: str) -> list[list[Any]]:
    """Answers of every operation: orders, refunds pending, settled and failed, an error."""
    root = base_url.removesuffix("/openapi")
    auth = {"Authorization": "Bearer demo-token"}
    with httpx.Client(base_url=base_url, headers=auth, timeout=10) as http:
        item = {
            "itemId": "120071",
            "skuCode": "FSZW08923_R_L_NUB",
            "quantity": 1,
            "countryCode": "CN",
        }
        created = http.post(f"{API}/10007/refund", json={"orderItems": [item]}).json()
        http.post(f"{API}/10008/refund", json={"remark": "[fail] on purpose"})
        httpx.post(
            root + "/_sandbox/clock/advance?seconds=3600",
            headers={"Content-Type": "application/json"},
            timeout=10,
        ).raise_for_status()
        http.post(f"{API}/10009/refund", json={})  # still pending
        bodies = [[f"{form}: refund created", "RefundOrderResponse", created]]
        for order_id in ("10007", "10008", "10009", "10001"):
            answer = http.get(f"{API}/refund/{order_id}").json()
            bodies.append([f"{form}: Query Refund {order_id}", "QueryRefundResponse", answer])
        page = http.get(API, params={"pageSize": 250}).json()
        bodies.append([f"{form}: Query Order, every order", "QueryOrderResponse", page])
        error = http.get(f"{API}/refund/99999").json()
        bodies.append([f"{form}: 404", "Error", error])
    return bodies


def test_the_models_parse_the_vendors_bodies_and_the_sandboxs_in_both_forms(
    models: Path, sandbox: SandboxFactory, tmp_path: Path
) -> None:
    bodies = [
        [f"vendor: {name}", model, json.loads((VENDOR / name).read_text())]
        for name, model in MODEL_OF_FIXTURE.items()
    ]
    assert {p.name for p in VENDOR.glob("*.json")} == set(MODEL_OF_FIXTURE)
    bodies += _sandbox_bodies(sandbox().base_url, "sandbox")
    bodies += _sandbox_bodies(sandbox("--clean").base_url, "sandbox --clean")
    listed = tmp_path / "bodies.json"
    listed.write_text(json.dumps(bodies))
    ran = run([peers_python(), str(ROOT / "peers" / "dmcg_parse.py"), str(models), str(listed)])
    assert ran.code == 0, ran.output[-3000:]
    verdicts = json.loads(ran.output)
    assert verdicts == dict.fromkeys(verdicts, "ok"), {
        k: v for k, v in verdicts.items() if v != "ok"
    }
    assert len(verdicts) == len(bodies) == 7 + 2 * 7
    # the vendor's form really differs from --clean (else one form was tested twice)
    vendor_page, clean_page = (b[2] for b in bodies if b[0].endswith("Query Order, every order"))
    assert "vo" in vendor_page["data"] and "vo" not in clean_page["data"]
