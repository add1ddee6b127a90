"""The bench's own machinery: the bulk-preloaded refunds, the load table's medians and the
profile's frame tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from bench.profile import top_frames
from bench.run import (
    REFUNDS_PER_ORDER,
    LoadResult,
    _interleaved_us,
    median_load,
    paired_ratio,
    preload_refunds,
    preloaded_order,
    rotated,
    seed_bench_db,
)
from kakaclo_sandbox import create_app

AUTH = {"Authorization": "Bearer demo-token"}
API = "/openapi/openapi/v2/order/orders"


def test_preloaded_refunds_read_back_through_the_api_as_settled_refunds(tmp_path: Path) -> None:
    db = tmp_path / "scale.db"
    seed_bench_db(db)
    assert preload_refunds(db, 1_000) == 100
    assert preload_refunds(db, 1_000) == 0  # already there: nothing added
    assert preload_refunds(db, 2_000) == 100  # grows on from where it was
    with TestClient(create_app(db=str(db), rate_limit=None)) as client:
        for n in (1, 100, 200):
            order_id = preloaded_order(n)
            refunds = client.get(f"{API}/refund/{order_id}", headers=AUTH).json()["data"]
            assert refunds["total"] == REFUNDS_PER_ORDER
            assert {r["refundStatus"] for r in refunds["list"]} == {"refund_successfully"}
            order = client.get(API, params={"ids": order_id}, headers=AUTH).json()["data"]
            (shown,) = order["list"]
            assert shown["refundedAmount"] + shown["refundableAmount"] == shown["finalAmount"]
            assert shown["refundedAmount"] > 0
        # the copies are refundable like any order: half of the line's pieces are left
        answer = client.post(
            f"{API}/{preloaded_order(1)}/refund",
            json={"orderItems": [{**_line_of(client, preloaded_order(1)), "quantity": 10}]},
            headers=AUTH,
        )
        assert answer.status_code == 200, answer.text
        missing = client.get(f"{API}/refund/{preloaded_order(201)}", headers=AUTH)
        assert missing.status_code == 404  # 2,000 refunds: 200 orders, no more


def _line_of(client: TestClient, order_id: str) -> dict[str, object]:
    order = client.get(API, params={"ids": order_id}, headers=AUTH).json()["data"]["list"][0]
    line = order["orderItems"][0]
    return {
        "itemId": line["itemId"],
        "skuCode": line["skuCode"],
        "countryCode": line["countryCode"],
    }


def test_the_load_table_takes_the_median_of_its_rounds_and_counts_every_error() -> None:
    rounds = [
        LoadResult(900.0, 1.0, 9.0, 9000, 0, 0),
        LoadResult(5000.0, 0.5, 2.0, 50000, 2, 0),
        LoadResult(3000.0, 0.7, 4.0, 30000, 0, 1),
    ]
    row = median_load(rounds)
    assert (row["requests_per_second"], row["p50_ms"], row["p99_ms"]) == (3000.0, 0.7, 4.0)
    assert (row["requests"], row["non_2xx"], row["socket_errors"]) == (89000, 2, 1)
    assert row["rounds"] == [900, 5000, 3000]


def test_the_clients_are_timed_call_by_call_in_rotating_turns() -> None:
    order: list[str] = []

    def note(name: str) -> Callable[[], object]:
        return lambda: order.append(name)

    contenders = {name: note(name) for name in "abc"}
    times = _interleaved_us(contenders, 4)
    assert order == list("abcbcacababc")
    assert {name: len(samples) for name, samples in times.items()} == {"a": 4, "b": 4, "c": 4}
    assert all(sample >= 0 for samples in times.values() for sample in samples)


def test_top_frames_share_own_and_total_time() -> None:
    collapsed = "main;handle;query 6\nmain;handle;render 3\nmain;idle 1\nnot a stack line\n"
    own, total = top_frames(collapsed, 2)
    assert own == [("query", 0.6), ("render", 0.3)]
    assert total == [("main", 1.0), ("handle", 0.9)]
    assert top_frames("", 5) == ([], [])


def test_the_paced_load_sends_its_schedule_and_times_each_answer() -> None:
    import asyncio

    from bench.paced import paced
    from tests.proxy.servers import sandbox_app, upstream

    with upstream(sandbox_app()) as base_url:
        url = base_url + "/openapi/v2/order/orders/refund/10001"
        latencies = asyncio.run(paced(url, 100, 0.3, {"Authorization": "Bearer demo-token"}))
    assert len(latencies) == 30
    assert all(0 < latency < 10 for latency in latencies)


def test_the_load_table_rotates_who_leads_and_pairs_its_ratios() -> None:
    names = ["sandbox", "uncached", "prism", "floor"]
    leaders = [rotated(names, turn)[0] for turn in range(5)]
    assert leaders == ["sandbox", "uncached", "prism", "floor", "sandbox"]
    assert sorted(rotated(names, 6)) == sorted(names)
    # a slow spell halves both runs of round 2: the pairs keep the ratio at 3
    assert paired_ratio([3000, 1500, 3300], [1000, 500, 1100]) == 3.0
    assert paired_ratio([10, 20, 30], [10, 10, 10]) == 2.0  # the median of 1, 2, 3
