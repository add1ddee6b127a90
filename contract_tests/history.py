"""A ``kakaclo-sandbox`` process whose database already holds refunds: a sandbox with history.

The read-only contract suite checks what an account shows, so the account must
show every refund state. :func:`build_history` makes, once, a database in which
merchant A (``demo-token``) has

- two settled refunds (``refund_successfully``): one piece of order 10001, and
  the whole of order 10002;
- one failed refund (``refund_failed``: its remark holds ``[fail]``): order 10009;
- one pending refund (``pending_review``): order 10010, due a week after it was
  made, so it stays pending for any run;

and leaves orders 10007 and 10008 untouched for refund mode. The refunds are
made through the API, so the sandbox's own rules made them. :class:`HistorySandbox`
serves a fresh copy of that database (a run in refund mode changes it) with no
control surface, so the suite treats it as a real server and runs read-only.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.live import LiveSandbox

TOKEN = "demo-token"
OTHER_TOKEN = "demo-token-2"
ORDERS = "/openapi/openapi/v2/order/orders"
# The pending refund is due this long after it is made (the sandbox's largest settle-after).
A_WEEK = 604_800
SETTLED_ORDERS = ("10001", "10002")
FAILED_ORDER = "10009"
PENDING_ORDER = "10010"
REFUND_MODE_ORDERS = ("10007", "10008")
# A --no-control sandbox has no /_sandbox/info: wait for the API itself (401 without a token).
API_PROBE = ORDERS
SERVE_ARGS = ["--no-control", "--rate-limit", "off", "--settle-after", str(A_WEEK)]


class HistoryError(RuntimeError):
    """The history could not be made as described (a sandbox answered otherwise)."""


def _refund(client: httpx.Client, order_id: str, body: dict[str, Any]) -> str:
    answer = client.post(f"{ORDERS}/{order_id}/refund", json=body)
    if answer.status_code != 200:
        raise HistoryError(f"refund of {order_id}: {answer.status_code} {answer.text}")
    return str(answer.json()["data"])


def _statuses(client: httpx.Client, order_id: str) -> list[str]:
    answer = client.get(f"{ORDERS}/refund/{order_id}")
    if answer.status_code != 200:
        raise HistoryError(f"Query Refund of {order_id}: {answer.status_code} {answer.text}")
    return [str(entry["refundStatus"]) for entry in answer.json()["data"]["list"]]


def _client(sandbox: LiveSandbox) -> httpx.Client:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.Client(base_url=sandbox.root, headers=headers, timeout=10.0)


def _expect(client: httpx.Client, order_id: str, status: str) -> None:
    seen = _statuses(client, order_id)
    if seen != [status]:
        raise HistoryError(f"order {order_id}: refunds {seen}, expected [{status!r}]")


def build_history(db: Path) -> Path:
    """Write a database with history to ``db`` (which must not exist yet) and return it.

    Two sandbox processes in turn: the first settles at once (``--settle-after 0``:
    a read settles what is due), the second makes the pending refund due in a week.
    """
    settle_now = LiveSandbox(db, args=["--rate-limit", "off", "--settle-after", "0"]).start()
    try:
        with _client(settle_now) as client:
            piece = {"itemId": "120001", "skuCode": "FSZW08923_R_L_NUB", "quantity": 1}
            _refund(
                client,
                "10001",
                {"remark": "history", "orderItems": [piece | {"countryCode": "CN"}]},
            )
            _refund(client, "10002", {"remark": "history: the whole order"})
            _refund(client, FAILED_ORDER, {"remark": "history [fail]"})
            for order_id in SETTLED_ORDERS:
                _expect(client, order_id, "refund_successfully")
            _expect(client, FAILED_ORDER, "refund_failed")
    finally:
        settle_now.stop()
    settle_later = LiveSandbox(db, args=SERVE_ARGS).start(probe=API_PROBE)
    try:
        with _client(settle_later) as client:
            _refund(client, PENDING_ORDER, {"remark": "history: still pending"})
            _expect(client, PENDING_ORDER, "pending_review")
    finally:
        settle_later.stop()
    return db


def _copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database that no process holds open (with its -wal/-shm files, if any)."""
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{source}{suffix}")
        if part.exists():
            shutil.copyfile(part, Path(f"{target}{suffix}"))


@dataclass
class HistorySandbox:
    """A ``--no-control`` sandbox process on a fresh copy of a history database.

    ``with HistorySandbox(template) as sandbox:`` starts it (bounded wait) and
    stops it at the end; its copy of the database lives in a temporary directory.
    """

    template: Path
    sandbox: LiveSandbox | None = None
    _directory: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def root(self) -> str:
        """The server root, e.g. http://127.0.0.1:8123."""
        assert self.sandbox is not None
        return self.sandbox.root

    def __enter__(self) -> HistorySandbox:
        self._directory = tempfile.TemporaryDirectory(prefix="kakaclo-history-")
        db = Path(self._directory.name) / "sandbox.db"
        _copy_database(self.template, db)
        try:
            self.sandbox = LiveSandbox(db, args=SERVE_ARGS).start(probe=API_PROBE)
        except BaseException:
            self._directory.cleanup()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
        if self._directory is not None:
            self._directory.cleanup()
