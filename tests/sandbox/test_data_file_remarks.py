"""A data file's settled refunds keep their remarks (Query Refund shows them).

The contract suite cannot see this: the only seeded refund of the demo data has no
remark, and a run against one server never loads a data file of its own. `make
mutation` found the data path's refund written without its remark unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from tests.sandbox.conftest import FakeTime
from tests.sandbox.helpers import API, MY_ORDER

MY_TOKEN = {"Authorization": "Bearer my-token"}
ONE_PIECE = {"itemId": "777", "skuCode": "MY_SKU", "countryCode": "CN", "quantity": 1}


def test_a_data_files_refunds_keep_their_remarks(tmp_path: Path) -> None:
    order: dict[str, Any] = {
        **MY_ORDER,
        "refunds": [
            {"refundStatus": "refund_successfully", "orderItems": [ONE_PIECE], "remark": "kept"},
            {"refundStatus": "refund_failed", "orderItems": [ONE_PIECE], "remark": "declined"},
        ],
    }
    data = {"merchants": [{"merchant": "my-shop", "tokens": ["my-token"], "orders": [order]}]}
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))  # JSON: a data file refuses YAML's aliases
    app = create_app(db=":memory:", rate_limit=None, data=path, clock=FakeTime())
    with TestClient(app) as client:
        page = client.get(f"{API}/refund/5001", headers=MY_TOKEN).json()["data"]
    assert [(r["refundStatus"], r["remark"]) for r in page["list"]] == [
        ("refund_failed", "declined"),
        ("refund_successfully", "kept"),
    ], page
