"""Run by peers/test_openapi_generator.py inside .tools/peers-venv: openapi-generator's Python
client against a sandbox.

    python og_python_flow.py PACKAGE_DIR BASE_URL TOKEN

Prints one JSON document: what the flow saw, and every error code parsed
through the generated ``Error`` model (``code`` read as a typed attribute).
Only the standard library and the generated package (pydantic, urllib3) are
used, as an integrator's script would.
"""

from __future__ import annotations

import contextlib
import http.client
import importlib
import json
import sys
import urllib.parse
from typing import Any

API = "/openapi/v2/order/orders"
SKU = "FSZW08923_R_L_NUB"


def _item(item_id: str, quantity: int, country: str = "CN") -> dict[str, Any]:
    return {"itemId": item_id, "skuCode": SKU, "quantity": quantity, "countryCode": country}


def raw(base: str, token: str, method: str, path: str, **options: Any) -> tuple[int, bytes]:
    """One request over plain HTTP: (status, body).

    http.client rather than urllib: a server may answer (413) and close before a large
    body is sent whole, and the answer must still be read after the broken pipe.
    """
    headers = {"Authorization": f"Bearer {token}", **options.get("headers", {})}
    body = options.get("body")
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    url = urllib.parse.urlsplit(base + path)
    connection = http.client.HTTPConnection(url.netloc, timeout=10)
    try:
        connection.putrequest(method, url.path + (f"?{url.query}" if url.query else ""))
        for name, value in {**headers, "Content-Length": str(len(body or b""))}.items():
            connection.putheader(name, value)
        connection.endheaders()
        # answered before the whole body arrived: the answer is what counts
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.send(body or b"")
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def main(package_dir: str, base: str, token: str) -> dict[str, Any]:
    """The flow, the errors produced live, and every other ErrorCode parsed."""
    sys.path.insert(0, package_dir)
    og: Any = importlib.import_module("kakaclo_og")
    models: Any = importlib.import_module("kakaclo_og.models")
    seen: dict[str, Any] = {}
    configuration = og.Configuration(host=base, access_token=token)
    with og.ApiClient(configuration) as client:
        refunds, orders = og.RefundsApi(client), og.OrdersApi(client)
        body = models.RefundRequest(
            remark="openapi-generator python",
            order_items=[
                models.RefundItem(
                    item_id="120071", sku_code=SKU, quantity=1, country_code=models.CountryCode.CN
                )
            ],
        )
        created = refunds.refund_order("10007", body)
        number = str(created.data.actual_instance)
        listed = refunds.query_refund("10007")
        page = orders.query_orders(ids="10007")
        seen["refund"] = {
            "code": created.code,
            "number": number,
            "listed": [(r.refund_no, r.refund_status.value) for r in listed.data.list],
            "orderRefundStatus": page.data.list[0].refund_status.value,
        }
        seen["errorsViaTheClient"] = {}
        try:
            refunds.query_refund("99999")
        except og.ApiException as error:
            seen["errorsViaTheClient"]["404"] = int(error.data.code.actual_instance)
    # Every error the operations produce, over raw HTTP, parsed with the generated model.
    requests: dict[str, tuple[str, str, dict[str, Any]]] = {
        "UNAUTHORIZED": ("GET", API, {"headers": {"Authorization": "Bearer not-a-token"}}),
        "ORDER_NOT_FOUND": ("GET", f"{API}/refund/99999", {}),
        "SCHEMA_VIOLATION": ("GET", f"{API}?pageSize=0", {}),
        "MALFORMED_JSON": ("POST", f"{API}/10009/refund", {"body": b"{", "headers": _json()}),
        "UNSUPPORTED_CONTENT_TYPE": ("POST", f"{API}/10009/refund", {"body": b"{}"}),
        "PAYLOAD_TOO_LARGE": (
            "POST",
            f"{API}/10009/refund",
            {"body": b'{"remark": "' + b"x" * 600_000 + b'"}', "headers": _json()},
        ),
        "ORDER_NOT_REFUNDABLE": ("POST", f"{API}/10003/refund", {"body": {}}),
        "ITEM_NOT_IN_ORDER": ("POST", f"{API}/10009/refund", {"body": _items("120099")}),
        "DUPLICATE_ITEM": (
            "POST",
            f"{API}/10009/refund",
            {"body": {"orderItems": [_item("120091", 1), _item("120091", 1)]}},
        ),
        "QUANTITY_EXCEEDS_REFUNDABLE": (
            "POST",
            f"{API}/10009/refund",
            {"body": {"orderItems": [_item("120091", 99)]}},
        ),
        "RATE_LIMITED": ("GET", API, {"headers": {"Prefer": "code=429"}}),
        "SERVER_ERROR": ("GET", API, {"headers": {"Prefer": "code=500"}}),
        "UPSTREAM_UNAVAILABLE": ("GET", API, {"headers": {"Prefer": "code=502"}}),
        "SERVICE_UNAVAILABLE": ("GET", API, {"headers": {"Prefer": "code=503"}}),
        "UNSUPPORTED_PREFERENCE": ("GET", API, {"headers": {"Prefer": "code=504"}}),
        "UNKNOWN_PATH": ("GET", "/openapi/v2/no/such/path", {}),
        "METHOD_NOT_ALLOWED": ("DELETE", API, {}),
    }
    live: dict[str, list[Any]] = {}
    for name, (method, path, options) in requests.items():
        status, content = raw(base, token, method, path, **options)
        live[name] = [status, *_typed_code(models, content, name)]
    # Whole-order refunds and keys, in order: nothing left, then a key with another body.
    keyed = {"Idempotency-Key": "og-python-key"}
    first = raw(base, token, "POST", f"{API}/10008/refund", body={}, headers=keyed)
    for name, (path, extra) in {
        "NOTHING_TO_REFUND": (f"{API}/10008/refund", {}),
        "IDEMPOTENCY_KEY_REUSED": (f"{API}/10010/refund", {"headers": keyed}),
    }.items():
        status, content = raw(base, token, "POST", path, body={}, **extra)
        live[name] = [status, *_typed_code(models, content, name)]
    seen["keyedWholeOrderRefund"] = first[0]
    seen["live"] = live
    # Every other ErrorCode (a key in flight needs two concurrent requests): its body parsed.
    others = {}
    for member in models.ErrorCode:
        if member.name not in live and member.name != "SUCCESS":
            body = json.dumps({"code": member.value, "message": member.name, "data": None})
            code, matches = _typed_code(models, body.encode(), member.name)
            others[member.name] = matches and code == member.value
    seen["parsedOthers"] = others
    return seen


def _typed_code(models: Any, content: bytes, name: str) -> tuple[int, bool]:
    """``Error.code`` of a body, read through the model (``ErrorCodeValue``, a oneOf of the
    enum and an integer), and whether it is the ``ErrorCode`` member ``name``."""
    value = models.Error.from_json(content.decode()).code.actual_instance
    return int(value), int(value) == int(getattr(models.ErrorCode, name))


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _items(item_id: str) -> dict[str, Any]:
    return {"orderItems": [_item(item_id, 1)]}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), indent=2))
