"""The sandbox's control surface under arbitrary requests: every answer is a documented status
with the JSON envelope (never a 500 or text/plain), and a refused request changes nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.data import DEMO_DATA, load
from kakaclo_spec import Spec
from tests.fuzz.profile import fuzz
from tests.fuzz.strategies import KEYS, texts, values
from tests.sandbox.conftest import TOKEN_A, TOKEN_B, FakeTime
from tests.sandbox.helpers import API

JSON = {"Content-Type": "application/json"}
# docs/sandbox.md, "Control surface" and "Failures on demand": what the control surface answers.
DOCUMENTED = {200, 400, 401, 404, 405, 413}
PATHS = (
    "/_sandbox/orders",
    "/_sandbox/failures",
    "/_sandbox/clock/advance",
    "/_sandbox/clock/freeze",
    "/_sandbox/clock/resume",
    "/_sandbox/reset",
)
ORDER: dict[str, Any] = {
    "id": "70001",
    "status": "processing",
    "financialStatus": "paid",
    "fulfillmentStatus": "waiting_to_ship",
    "createDate": "2026-11-20T10:00:00Z",
    "orderItems": [
        {
            "id": "700011",
            "itemId": "7",
            "skuCode": "S",
            "countryCode": "CN",
            "amount": 1.5,
            "productNum": 1,
        }
    ],
}
# Header values httpx can send: Latin-1 without line breaks.
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)


def _mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with a field replaced, removed or added."""

    def mutate(choice: tuple[str, str, Any]) -> dict[str, Any]:
        kind, key, value = choice
        body = copy.deepcopy(base)
        if kind == "remove":
            body.pop(key, None)
        else:
            body[key] = value
        return body

    keys = st.sampled_from(sorted(base)) | KEYS
    return st.tuples(st.sampled_from(["replace", "remove"]), keys, values()).map(mutate)


# refundOrder: a failure queued for it is never spent by the snapshot's Query Order calls
FAILURE = {"operation": "refundOrder", "count": 1, "code": 503, "retryAfter": 1, "delay": 0.5}
BODIES = st.one_of(
    st.none(),
    st.binary(max_size=200),
    values().map(lambda value: json.dumps(value, default=str).encode()),
    _mutated(ORDER).map(lambda body: json.dumps(body, default=str).encode()),
    _mutated(FAILURE).map(lambda body: json.dumps(body, default=str).encode()),
    st.sampled_from([64, 200, 1_000, 100_000]).map(lambda d: b"[" * d + b"1" + b"]" * d),
    st.just(b'{"id": "1", "id": "2"}'),
    st.just(b'{"remark": "' + b"x" * (600 * 1024) + b'"}'),  # over the body cap
)
QUERIES = st.one_of(
    st.just(""),
    st.one_of(
        texts(long=False), st.sampled_from(["5", "1e400", "-1", "nan", "315360001", "1_0", "0x10"])
    ).map(lambda seconds: urlencode({"seconds": seconds})),
    st.dictionaries(KEYS, texts(long=False), max_size=2).map(urlencode),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes | None]:
    """A method, a URL, headers and a body aimed at the control surface."""
    method = draw(st.sampled_from(["POST"] * 6 + ["GET", "DELETE", "PUT"]))
    path = draw(st.sampled_from([*PATHS, *PATHS, *PATHS, "/_sandbox/nope", "/_sandbox/reset/x"]))
    query = draw(QUERIES)
    headers: dict[str, str] = {}
    own = {
        "Content-Type": "application/json",
        "Origin": "http://testserver",
        "Host": "testserver",
        "Prefer": "",
        "Authorization": "Bearer demo-token",
    }
    hostile = {
        "Content-Type": st.sampled_from(
            ["application/json; charset=utf-8", "text/plain", "APPLICATION/JSON"]
        )
        | HEADER_TEXT,
        "Origin": st.sampled_from(["http://evil.example", "null", "http://testserver:1"])
        | HEADER_TEXT,
        "Host": st.sampled_from(["evil.example", "localhost", "testserver:1", "127.0.0.1"])
        | HEADER_TEXT,
        "Prefer": st.sampled_from(["delay=5", "delay=1e9", "respond-async", "code=500", "drop"])
        | HEADER_TEXT,
        "Authorization": st.sampled_from(["Bearer demo-token-2", "Bearer nope", "Basic x"])
        | HEADER_TEXT,
    }
    for name, strategy in hostile.items():  # mostly what a real client sends, one in five not
        choice = draw(st.sampled_from(["own", "own", "own", "absent", "hostile"]))
        if choice == "own" and own[name]:
            headers[name] = own[name]
        elif choice == "hostile":
            headers[name] = draw(strategy)
    return method, path + (f"?{query}" if query else ""), headers, draw(BODIES)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """One sandbox for every example (a fresh one per example costs its data's load)."""
    app = create_app(
        db=":memory:", rate_limit=None, clock=FakeTime(), allowed_hosts=("testserver",)
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _state(client: TestClient) -> dict[str, Any]:
    """What the control surface can change: the clock, the failures queue, each merchant's
    orders (read through control GETs and Query Order, with no failure queued)."""
    info = client.get("/_sandbox/info").json()["data"]
    queued = client.get("/_sandbox/failures").json()["data"]
    orders = {
        token["Authorization"]: client.get(API, params={"pageSize": 250}, headers=token).json()
        for token in (TOKEN_A, TOKEN_B)
    }
    return {"info": info, "failures": queued, "orders": orders}


def _envelope(answer: Any) -> None:
    assert answer.status_code in DOCUMENTED, (answer.status_code, answer.text[:300])
    assert answer.headers.get("content-type", "").startswith("application/json"), answer.headers
    body = answer.json()
    assert isinstance(body, dict) and set(body) == {"code", "message", "data"}, body
    assert isinstance(body["code"], int) and isinstance(body["message"], str), body
    expected = 100 if answer.status_code == 200 else answer.status_code
    assert body["code"] // 100 == expected, body


@fuzz(50)
@given(request=requests())
def test_a_control_request_is_answered_as_documented_and_a_refusal_changes_nothing(
    client: TestClient, request: tuple[str, str, dict[str, str], bytes | None]
) -> None:
    method, url, headers, body = request
    note(f"{method} {url} {headers} {body[:300] if body else body!r}")
    assert client.delete("/_sandbox/failures", headers=JSON).status_code == 200
    before = _state(client)
    raw = [(name.encode(), value.encode("latin-1")) for name, value in headers.items()]
    answer = client.request(method, url, headers=raw, content=body)
    event(f"{answer.status_code} {answer.text[9:14]}")  # the statuses and codes reached
    _envelope(answer)
    if answer.status_code != 200:
        assert _state(client) == before


def _order(order_id: str) -> dict[str, Any]:
    """``ORDER`` under another id, its line's id too (ids are the merchant's own)."""
    return {
        **ORDER,
        "id": order_id,
        "orderItems": [{**ORDER["orderItems"][0], "id": order_id + "1"}],
    }


def test_the_state_sees_what_an_accepted_request_changes(client: TestClient) -> None:
    """The snapshot is not blind: an accepted clock move, failure and order each show in it."""
    client.delete("/_sandbox/failures", headers=JSON)
    changes: tuple[tuple[str, dict[str, str], bytes | None], ...] = (
        ("/_sandbox/clock/advance?seconds=5", {}, None),
        ("/_sandbox/failures", {}, json.dumps(FAILURE).encode()),
        ("/_sandbox/orders", TOKEN_A, json.dumps(_order("79999")).encode()),
    )
    for url, token, body in changes:
        before = _state(client)
        answer = client.post(url, headers={**JSON, **token}, content=body)
        assert answer.status_code == 200, answer.text
        assert _state(client) != before, url
    client.delete("/_sandbox/failures", headers=JSON)


def test_the_demo_data_loads() -> None:
    """The module's sandbox starts from the demo data (its tokens are the snapshot's)."""
    assert {"demo-token", "demo-token-2"} <= set(load(DEMO_DATA, Spec.load()).tokens)


@pytest.mark.parametrize("path", ["/_sandbox/orders", "/_sandbox/failures"])
@pytest.mark.parametrize("depth", [200, 256, 1_000, 100_000])
def test_what_fuzzing_found_a_deep_control_body_is_refused_as_documented(
    client: TestClient, path: str, depth: int
) -> None:
    """The smallest failing bodies make fuzz found (a JSON array nested 256 deep or more
    answered 500 text/plain; fixed in 7623ebf and 276ef56)."""
    client.delete("/_sandbox/failures", headers=JSON)
    before = _state(client)
    body = b"[" * depth + b"1" + b"]" * depth
    answer = client.post(path, headers={**JSON, **TOKEN_A}, content=body)
    _envelope(answer)
    assert answer.status_code == 400 and _state(client) == before
