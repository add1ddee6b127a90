"""A refund answered 200 survives kill -9; pending refunds still settle after a restart."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx
import pytest

from tests.live import LiveSandbox
from tests.postgres_fixtures import ENGINES, database  # noqa: F401 (runs on both engines)
from tests.sandbox.conftest import TOKEN_A
from tests.sandbox.helpers import refund_url, refunds

SPARE = {
    "10007": ("120071", "120072"),
    "10008": ("120081", "120082"),
    "10009": ("120091", "120092"),
    "10010": ("120101", "120102"),
}


def _refund_one_piece_at_a_time(
    root: str, order_id: str, accepted: list[str], enough: threading.Event
) -> None:
    with httpx.Client(base_url=root, timeout=5.0) as http:
        for item_id, country in zip(SPARE[order_id], ("CN", "US"), strict=True):
            for _ in range(5):
                body = {
                    "orderItems": [
                        {
                            "itemId": item_id,
                            "skuCode": "FSZW08923_R_L_NUB",
                            "quantity": 1,
                            "countryCode": country,
                        }
                    ]
                }
                try:
                    answer = http.post(refund_url(order_id), json=body, headers=TOKEN_A)
                except httpx.TransportError:
                    return  # the server was killed
                if answer.status_code == 200:
                    accepted.append(answer.json()["data"])
                    if len(accepted) >= 15:
                        enough.set()


def test_kill_9_under_load_loses_no_accepted_refund(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    db = tmp_path / "sandbox.db"
    url = database(engine, request) if engine == "postgresql" else None
    args = ["--rate-limit", "off", "--settle-after", "3600"]
    first = LiveSandbox(db=db, args=args, url=url).start()
    accepted: list[str] = []
    enough = threading.Event()
    workers = [
        threading.Thread(target=_refund_one_piece_at_a_time, args=(first.root, o, accepted, enough))
        for o in SPARE
    ]
    for worker in workers:
        worker.start()
    assert enough.wait(timeout=60), "the load never reached 15 accepted refunds"
    first.kill()  # kill -9 while the workers are still sending
    for worker in workers:
        worker.join(timeout=30)
    answered = set(accepted)
    assert len(answered) >= 15

    second = LiveSandbox(db=db, args=args, url=url).start()
    try:
        with httpx.Client(base_url=second.root) as http:
            stored = {r["refundNo"]: r for o in SPARE for r in refunds(http, TOKEN_A, o)}
            assert answered <= set(stored), f"lost: {answered - set(stored)}"
            assert {r["refundStatus"] for r in stored.values()} == {"pending_review"}
            http.post(
                "/_sandbox/clock/advance",
                params={"seconds": 3600},
                headers={"Content-Type": "application/json"},
            )
            settled = {r["refundNo"]: r for o in SPARE for r in refunds(http, TOKEN_A, o)}
            assert set(settled) == set(stored)
            assert {r["refundStatus"] for r in settled.values()} == {"refund_successfully"}
    finally:
        second.stop()


def test_sigterm_shuts_down_cleanly_and_keeps_the_clock(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    first = LiveSandbox(db=db, args=["--settle-after", "60"]).start()
    with httpx.Client(base_url=first.root) as http:
        refund_no = http.post(refund_url("10002"), json={}, headers=TOKEN_A).json()["data"]
        http.post(
            "/_sandbox/clock/advance",
            params={"seconds": 30},
            headers={"Content-Type": "application/json"},
        )
    # uvicorn shuts down, then re-raises the signal so the exit status tells why it ended
    assert first.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert first.log is not None
    assert "Application shutdown complete" in first.log.read_text()
    second = LiveSandbox(db=db, args=["--settle-after", "60"]).start()
    try:
        with httpx.Client(base_url=second.root) as http:
            assert refunds(http, TOKEN_A, "10002")[0]["refundStatus"] == "pending_review"
            http.post(
                "/_sandbox/clock/advance",
                params={"seconds": 30},
                headers={"Content-Type": "application/json"},
            )  # 30 + 30 = 60
            assert refunds(http, TOKEN_A, "10002") == [
                {"refundNo": refund_no, "refundStatus": "refund_successfully", "id": "10002"}
            ]
    finally:
        second.stop()
