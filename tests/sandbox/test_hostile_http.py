"""Hostile input over a real socket: every request gets a documented answer.

Each class of input gets a hypothesis strategy; every example is sent to a
started ``kakaclo-sandbox`` on a kept-alive connection. For every answer:
the status is documented for that path, it carries the envelope and a
documented code, nothing was written when it is an error, and the next
request on the same connection still works. At the end the log holds no
traceback.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kakaclo_client.models import ErrorCode

from tests.live import LiveSandbox
from tests.spec_data import spec

API = "/openapi/openapi/v2/order/orders"
TOKEN = "demo-token"
JSON = {"Content-Type": "application/json"}  # every control POST says it (CSRF)
CODES = {int(code) for code in ErrorCode}


@dataclass
class Answer:
    """One parsed HTTP response."""

    status: int
    headers: dict[str, str]
    body: bytes

    def envelope(self) -> dict[str, Any]:
        assert self.headers.get("content-type", "").startswith("application/json"), self
        data = json.loads(self.body)
        assert set(data) == {"code", "message", "data"}, data
        return dict(data)


class Connection:
    """One kept-alive HTTP/1.1 connection, spoken with h11 (no client-side cleverness)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.http = h11.Connection(h11.CLIENT)

    def send(
        self, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Answer:
        if self.http.our_state is h11.DONE:
            self.http.start_next_cycle()
        fields = [("Host", "127.0.0.1"), ("Authorization", f"Bearer {TOKEN}")]
        fields += list((headers or {}).items())
        if body or method == "POST":
            fields.append(("Content-Length", str(len(body))))
        self.sock.sendall(self.http.send(h11.Request(method=method, target=target, headers=fields)))
        if body:
            self.sock.sendall(self.http.send(h11.Data(data=body)))
        self.sock.sendall(self.http.send(h11.EndOfMessage()))
        return self._read()

    def _read(self) -> Answer:
        status, headers, chunks = 0, {}, []
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA:
                self.http.receive_data(self.sock.recv(65536))
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode().lower(): v.decode() for k, v in event.headers}
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return Answer(status, headers, b"".join(chunks))
            elif isinstance(event, h11.ConnectionClosed):
                raise AssertionError("the server closed the connection")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSandbox]:
    db = tmp_path_factory.mktemp("hostile") / "sandbox.db"
    live = LiveSandbox(db=db, args=["--rate-limit", "off", "--log-level", "info"]).start()
    yield live
    live.stop()
    assert live.log is not None
    log = live.log.read_text()
    assert "Traceback" not in log, log[-4000:]


def _refunds_written(sandbox: LiveSandbox) -> int:
    with sqlite3.connect(f"file:{sandbox.db}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM refunds").fetchone()[0])


CONTROL = {"/_sandbox/reset": "POST", "/_sandbox/clock/advance": "POST", "/_sandbox/info": "GET"}
PLAIN_INTEGER = re.compile(r"[+-]?[0-9]+(\.0*)?")


def _documented(method: str, path: str) -> set[int]:
    """The statuses documented for a request: the spec's, the control surface's, else 404/405."""
    for op_method, op_path, operation in spec().operations():
        if re.fullmatch(("/openapi" + op_path).replace("{id}", "[^/]+"), path):
            if op_method != method:
                return {405}
            return {int(status) for status in operation["responses"]}
    if path in CONTROL:
        return {200, 400} if CONTROL[path] == method else {405}
    if path.startswith(("/_sandbox/", "/console")) and method == "POST":
        return {400, 404, 405}  # a control POST that is not JSON is refused first (40003)
    return {404, 405}


def check(
    sandbox: LiveSandbox,
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Answer:
    """Send one hostile request and hold its answer to the rules of this module."""
    with Connection(sandbox.port) as connection:
        return _check(sandbox, connection, method, target, body, headers)


def _check(
    sandbox: LiveSandbox,
    connection: Connection,
    method: str,
    target: str,
    body: bytes,
    headers: dict[str, str] | None,
) -> Answer:
    before = _refunds_written(sandbox)
    answer = connection.send(method, target, body, headers)
    path = target.split("?")[0]
    assert answer.status in _documented(method, path) | {413}, (target, answer)
    assert answer.status < 500, answer
    assert "location" not in answer.headers, answer
    envelope = answer.envelope()
    assert envelope["code"] in CODES, envelope
    if answer.status != 200:
        assert _refunds_written(sandbox) == before, f"an error answer wrote a refund: {answer}"
    follow_up = connection.send("GET", "/_sandbox/info")
    assert follow_up.status == 200, follow_up
    return answer


# -- classes of hostile input --------------------------------------------------

nesting = st.tuples(st.integers(33, 4000), st.sampled_from(["[", '{"a":']))


@given(shape=nesting)
def test_deep_json_is_refused_as_malformed(sandbox: LiveSandbox, shape: tuple[int, str]) -> None:
    depth, opener = shape
    closer = "]" if opener == "[" else "}"
    body = ('{"remark":' + opener * depth + "1" + closer * depth + "}").encode()
    answer = check(
        sandbox,
        "POST",
        f"{API}/10001/refund",
        body,
        {"Content-Type": "application/json"},
    )
    assert (answer.status, answer.envelope()["code"]) in {(400, 40001), (413, 41301)}


edge_dates = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-23:59",
            "2998-12-31T23:59:60Z",
            "2024-02-30T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "+2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.9999999999Z",
            "2024-01-01",
        ]
    ),
    st.from_regex(
        r"\A[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})\Z"
    ),
)


@given(
    name=st.sampled_from(["createStartTime", "createEndTime", "updateStartTime", "updateEndTime"]),
    value=edge_dates,
)
def test_dates_at_the_calendar_edges(sandbox: LiveSandbox, name: str, value: str) -> None:
    answer = check(sandbox, "GET", f"{API}?{name}={quote(value)}")
    if answer.status != 200:
        assert (answer.status, answer.envelope()["code"]) == (400, 40002)


odd_integers = st.one_of(
    st.sampled_from(
        [
            "\u0661\u0662",
            "\uff11\uff10",
            "1_0",
            " 5",
            "5 ",
            "1e2",
            "0x10",
            "5.5",
            "--5",
            "",
            "-",
            "9" * 30,
        ]
    ),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=6),
    st.from_regex(r"\A[+-]?[0-9]{1,4}(\.0*)?\Z"),
)


@given(name=st.sampled_from(["pageSize", "pageNumber"]), value=odd_integers)
def test_integer_parameters_take_plain_digits_only(
    sandbox: LiveSandbox, name: str, value: str
) -> None:
    answer = check(sandbox, "GET", f"{API}?{name}={quote(value)}")
    if answer.status == 200:
        assert PLAIN_INTEGER.fullmatch(value), value
    else:
        assert (answer.status, answer.envelope()["code"]) == (400, 40002)


paths = st.one_of(
    st.sampled_from(
        [
            f"{API}/",
            f"{API}/refund/10001/",
            f"{API}/10001/refund/",
            "/openapi",
            "/openapi/",
            "/openapi/openapi/v2/",
            "/_sandbox/",
            "/_sandbox/info/",
            "/",
        ]
    ),
    st.lists(st.text("abc/.%_-", min_size=1, max_size=8), min_size=1, max_size=4).map(
        lambda parts: "/" + "/".join(quote(p) for p in parts)
    ),
)


@given(target=paths, method=st.sampled_from(["GET", "POST", "DELETE"]))
def test_unknown_paths_answer_the_envelope_never_a_redirect(
    sandbox: LiveSandbox, target: str, method: str
) -> None:
    if target.rstrip("/") in {"/docs", "/openapi.yaml"} or target.startswith("/docs/"):
        return  # pages, not envelopes
    answer = check(sandbox, method, target, b"{}" if method == "POST" else b"")
    assert answer.status in {404, 405, 400, 401, 409, 200}


@given(seconds=st.one_of(odd_integers, st.sampled_from(["1e309", "inf", "nan", "-1", "1" * 13])))
def test_the_clock_takes_bounded_plain_numbers_only(sandbox: LiveSandbox, seconds: str) -> None:
    answer = check(
        sandbox, "POST", f"/_sandbox/clock/advance?seconds={quote(seconds)}", headers=JSON
    )
    if answer.status != 200:
        assert (answer.status, answer.envelope()["code"]) == (400, 40002)
    with Connection(sandbox.port) as connection:
        info = connection.send("GET", "/_sandbox/info").envelope()
    assert info["data"]["now"] <= info["data"]["clock"]["latest"]


def test_the_clock_cannot_be_pushed_past_its_bound(sandbox: LiveSandbox) -> None:
    with Connection(sandbox.port) as connection:
        for _ in range(400):  # ten years a call: far more than the bound allows
            answer = connection.send(
                "POST", "/_sandbox/clock/advance?seconds=315360000", headers=JSON
            )
            if answer.status == 400:
                break
        assert (answer.status, answer.envelope()["code"]) == (400, 40002)
        assert "never past 2999-12-31T23:59:59Z" in answer.envelope()["message"]
        assert connection.send("GET", f"{API}?pageSize=1").status == 200
    # the bound survives a restart: the stored offset still gives a renderable clock
    sandbox.stop()
    sandbox.start()
    with Connection(sandbox.port) as connection:
        assert connection.send("GET", f"{API}?pageSize=1").status == 200
        assert connection.send("POST", "/_sandbox/reset", headers=JSON).status == 200


def test_a_client_that_hangs_up_mid_body_changes_nothing(sandbox: LiveSandbox) -> None:
    before = _refunds_written(sandbox)
    raw = socket.create_connection(("127.0.0.1", sandbox.port), timeout=10)
    raw.sendall(
        f"POST {API}/10001/refund HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        'Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"remark":'.encode()
    )
    raw.close()
    fresh = Connection(sandbox.port)
    try:
        assert fresh.send("GET", f"{API}?pageSize=1").status == 200
    finally:
        fresh.close()
    assert _refunds_written(sandbox) == before


def test_concurrent_replays_of_a_finished_key_are_all_replayed(sandbox: LiveSandbox) -> None:
    first = Connection(sandbox.port)
    body = json.dumps(
        {
            "orderItems": [
                {
                    "itemId": "120071",
                    "skuCode": "FSZW08923_R_L_NUB",
                    "quantity": 1,
                    "countryCode": "CN",
                }
            ]
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "hostile-replay-1"}
    try:
        original = first.send("POST", f"{API}/10007/refund", body, headers)
    finally:
        first.close()
    assert original.status == 200, original
    number = original.envelope()["data"]
    answers: list[Answer] = []
    lock = threading.Lock()

    def replay() -> None:
        own = Connection(sandbox.port)
        try:
            answer = own.send("POST", f"{API}/10007/refund", body, headers)
        finally:
            own.close()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=replay) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 16
    assert {(a.status, a.envelope()["data"]) for a in answers} == {(200, number)}
