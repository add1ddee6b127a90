"""The control surface refuses cross-site requests (web/guard.py): a control POST that is
not JSON (body-less ones included), a foreign Origin, a Host it does not answer under.
Each refusal is the envelope, and nothing is carried out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.__main__ import build_parser, settings_from
from tests.live import LiveSandbox
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, item, refund_url

JSON = {"Content-Type": "application/json"}
CONTROL_POSTS = [
    "/_sandbox/reset",
    "/_sandbox/clock/advance?seconds=3600",
    "/_sandbox/clock/freeze",
    "/_sandbox/clock/resume",
    "/_sandbox/orders",
    "/_sandbox/failures",
]
ORDER = {
    "id": "5001",
    "status": "processing",
    "financialStatus": "paid",
    "fulfillmentStatus": "waiting_to_ship",
    "createDate": "2026-11-20T10:00:00Z",
    "payDate": "2026-11-20T10:00:04Z",
    "orderItems": [
        {"id": "50011", "itemId": "777", "skuCode": "MY_SKU", "countryCode": "CN"}
        | {"amount": 12.5, "productNum": 2}
    ],
}


@pytest.fixture
def guarded(fake_time: FakeTime) -> Iterator[TestClient]:
    """A sandbox that answers its control surface under 127.0.0.1 and localhost only."""
    app = create_app(
        db=":memory:", rate_limit=None, clock=fake_time, allowed_hosts=("127.0.0.1", "localhost")
    )
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        yield client


def _snapshot(client: TestClient) -> tuple[object, ...]:
    info = client.get("/_sandbox/info").json()["data"]
    refunds = client.get(f"{API}/refund/10001", headers=TOKEN_A).json()["data"]["total"]
    orders = client.get(API, params={"ids": "5001"}, headers=TOKEN_A).json()["data"]["total"]
    queued = client.get("/_sandbox/failures").json()["data"]["queued"]
    return info["now"], info["clock"]["frozen"], refunds, orders, queued


def _body(path: str) -> bytes:
    return {
        "/_sandbox/orders": b'{"id": "5001"}',
        "/_sandbox/failures": b'{"code": 503, "count": 5}',
    }.get(path, b"")


@pytest.mark.parametrize("path", CONTROL_POSTS)
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_control_post_that_is_not_json_is_refused_and_changes_nothing(
    guarded: TestClient, path: str, content_type: str | None
) -> None:
    assert guarded.post(refund_url("10001"), json={"orderItems": [item("120001", 1)]},
                        headers=TOKEN_A).status_code == 200  # fmt: skip
    before = _snapshot(guarded)
    headers = {**TOKEN_A, **({"Content-Type": content_type} if content_type else {})}
    if path == "/_sandbox/orders":
        body = b'{"id": "5001"}' if content_type else b""
    else:
        body = _body(path)
    answer = guarded.post(path, content=body, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (400, 40003), answer.text
    assert "application/json" in answer.json()["message"] and answer.json()["data"] is None
    assert _snapshot(guarded) == before


def test_a_body_less_control_post_with_json_passes(guarded: TestClient) -> None:
    for path in ("/_sandbox/clock/freeze", "/_sandbox/clock/resume", "/_sandbox/reset"):
        assert guarded.post(path, headers=JSON).status_code == 200
    added = guarded.post("/_sandbox/orders", json=ORDER, headers=TOKEN_A)
    assert added.status_code == 200, added.text


@pytest.mark.parametrize(
    "origin", ["http://evil.test", "null", "http://127.0.0.1:8081", "file://", "http://localhost"]
)
def test_a_foreign_origin_is_refused(guarded: TestClient, origin: str) -> None:
    before = _snapshot(guarded)
    answer = guarded.post("/_sandbox/failures", json={"code": 503}, headers={"Origin": origin})
    assert (answer.status_code, answer.json()["code"]) == (400, 40002), answer.text
    assert "Origin" in answer.json()["message"]
    assert _snapshot(guarded) == before
    events = guarded.get("/_sandbox/events", params={"token": "demo-token"},
                         headers={"Origin": origin})  # fmt: skip
    assert events.status_code == 400


def test_the_sandboxs_own_origin_passes(guarded: TestClient) -> None:
    answer = guarded.post(
        "/_sandbox/clock/advance",
        params={"seconds": 5},
        headers={**JSON, "Origin": "http://127.0.0.1:8080"},
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "host",
    [
        "evil.test",
        "evil.test:8080",
        "127.0.0.1.evil.test",
        "",
        "127.0.0.1:8080@evil.test",  # a stranger's: read as 127.0.0.1 before
        "127.0.0.1:8080/evil.test",
        "localhost.",
    ],
)
def test_a_host_it_does_not_answer_under_is_refused(guarded: TestClient, host: str) -> None:
    before = _snapshot(guarded)
    for method, path in [
        ("POST", "/_sandbox/reset"),
        ("GET", "/_sandbox/info"),
        ("GET", "/_sandbox/failures"),
        ("DELETE", "/_sandbox/failures"),
        ("GET", "/console"),
    ]:
        answer = guarded.request(method, path, headers={**JSON, "Host": host})
        assert (answer.status_code, answer.json()["code"]) == (400, 40002), (path, answer.text)
        assert "Host" in answer.json()["message"]
    assert _snapshot(guarded) == before
    # the API itself goes by its bearer token, not by name
    assert guarded.get(API, headers={**TOKEN_A, "Host": host or "x"}).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8080", "localhost:9", "LOCALHOST"])
def test_the_listen_address_and_localhost_pass(guarded: TestClient, host: str) -> None:
    assert guarded.get("/_sandbox/info", headers={"Host": host}).status_code == 200


def test_allowed_host_is_a_repeatable_option_of_the_command() -> None:
    args = build_parser().parse_args(
        ["--host", "0.0.0.0", "--allowed-host", "sandbox.test", "--allowed-host", "box.lan"]
    )
    assert settings_from(args).allowed_hosts == ("0.0.0.0", "localhost", "sandbox.test", "box.lan")
    assert settings_from(build_parser().parse_args([])).allowed_hosts == ("127.0.0.1", "localhost")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--allowed-host", "evil.test/path"])


@pytest.mark.parametrize("name", ["*", "evil.test:80", "x\x1b[31m", "", "a b", "cafe.de:80"])
def test_allowed_host_refuses_what_no_host_header_could_name(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wildcard, a port or controls were accepted (and then matched nothing, or everything
    a careless reader would think)."""
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["--allowed-host", name])
    assert refused.value.code == 2
    assert "must be a host name or address" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["sandbox.test", "::1", "[::1]", "10.0.0.7", "Box.LAN"])
def test_allowed_host_takes_names_and_addresses(name: str) -> None:
    args = build_parser().parse_args(["--allowed-host", name])
    allowed = settings_from(args).allowed_hosts
    assert allowed is not None and allowed[-1] == name


def test_the_command_answers_its_control_surface_under_allowed_names_only(tmp_path: Path) -> None:
    sandbox = LiveSandbox(
        db=tmp_path / "sandbox.db", args=["--rate-limit", "off", "--allowed-host", "sandbox.test"]
    ).start()
    try:
        reset = sandbox.root + "/_sandbox/reset"
        for host in ("sandbox.test", "localhost", "127.0.0.1"):
            assert httpx.post(reset, headers={**JSON, "Host": host}).status_code == 200
        refused = httpx.post(reset, headers={**JSON, "Host": "rebound.evil.test"})
        assert (refused.status_code, refused.json()["code"]) == (400, 40002)
        plain = httpx.post(reset, content=b"{}", headers={"Content-Type": "text/plain"})
        assert (plain.status_code, plain.json()["code"]) == (400, 40003)
    finally:
        sandbox.stop()
