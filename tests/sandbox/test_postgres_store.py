"""The sandbox on PostgreSQL: what only it has (the schema's twin, the row lock between
processes, its version row) and the flows the both-engine modules do not cover (data files
with merchants sharing ids, the console's feed). Each test gets a fresh database of the
session's server (tests/postgres_fixtures.py)."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from kakaclo_sandbox import create_app
from kakaclo_sandbox.storage.schema import SCHEMA as SQLITE_SCHEMA
from kakaclo_sandbox.storage.tables import TABLES
from kakaclo_sandbox.web import console
from tests.live import LiveSandbox
from tests.sandbox.conftest import TOKEN_A, FakeTime
from tests.sandbox.helpers import API, refund_url

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (make setup installs it)")

KIND = {"INTEGER": "integer", "BIGINT": "integer", "TEXT": "text", "REAL": "float"}
PG_KIND = {"bigint": "integer", "text": "text", "double precision": "float"}
# storage/tables.py's kinds, as the two engines above name them
TABLE_KIND = {
    "key": "integer",
    "serial": "integer",
    "integer": "integer",
    "text": "text",
    "real": "float",
}


def _sqlite_schema() -> dict[str, Any]:
    db = sqlite3.connect(":memory:")
    db.executescript(SQLITE_SCHEMA)
    tables: dict[str, Any] = {}
    for name, sql in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence'"
    ):
        columns = [
            (c[1], KIND[c[2]], bool(c[3] or c[5])) for c in db.execute(f"PRAGMA table_info({name})")
        ]
        primary = tuple(
            c[1]
            for c in sorted(db.execute(f"PRAGMA table_info({name})"), key=lambda c: c[5])
            if c[5]
        )
        unique = sorted(
            tuple(i[2] for i in db.execute(f"PRAGMA index_info('{index[1]}')"))
            for index in db.execute(f"PRAGMA index_list({name})")
            if index[3] == "u"
        )
        keys: dict[int, list[tuple[str, str, str]]] = {}
        for fk in db.execute(f"PRAGMA foreign_key_list({name})"):
            keys.setdefault(fk[0], []).append((fk[2], fk[3], fk[4]))
        foreign = sorted(
            (refs[0][0], tuple(r[1] for r in refs), tuple(r[2] for r in refs))
            for refs in keys.values()
        )
        tables[name] = (columns, primary, unique, foreign, sql.upper().count("CHECK ("))
    indexes = {
        name: (
            table,
            tuple(c[2] for c in db.execute(f"PRAGMA index_info('{name}')")),
            " WHERE " in sql,
        )
        for name, table, sql in db.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    }
    return {"tables": tables, "indexes": indexes}


def _postgres_schema(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        tables: dict[str, Any] = {}
        for name in names:
            columns = [
                (c[0], PG_KIND[c[1]], c[2] == "NO")
                for c in db.execute(
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                    "WHERE table_name = %s ORDER BY ordinal_position",
                    (name,),
                )
            ]

            def constraints(kind: str, table: str = name) -> list[Any]:
                return db.execute(  # type: ignore[no-any-return]
                    "SELECT (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(c.conkey) "
                    "WITH ORDINALITY k (num, n) JOIN pg_attribute a ON a.attrelid = c.conrelid "
                    "AND a.attnum = k.num), c.confrelid::regclass::text, "
                    "(SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(c.confkey) "
                    "WITH ORDINALITY k (num, n) JOIN pg_attribute a ON a.attrelid = c.confrelid "
                    "AND a.attnum = k.num) FROM pg_constraint c "
                    "WHERE c.conrelid = %s::regclass AND c.contype = %s",
                    (table, kind),
                ).fetchall()

            primary = tuple(constraints("p")[0][0])
            unique = sorted(tuple(row[0]) for row in constraints("u"))
            foreign = sorted((row[1], tuple(row[0]), tuple(row[2])) for row in constraints("f"))
            checks = len(constraints("c"))
            tables[name] = (columns, primary, unique, foreign, checks)
        indexes = {
            row[0]: (row[1], tuple(row[2]), row[3])
            for row in db.execute(
                "SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, "
                "(SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(i.indkey) "
                "WITH ORDINALITY k (num, n) JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = k.num), i.indpred IS NOT NULL FROM pg_index i "
                "JOIN pg_class t ON t.oid = i.indrelid "
                "JOIN pg_namespace s ON s.oid = t.relnamespace "
                "WHERE s.nspname = 'public' AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            )
        }
    return {"tables": tables, "indexes": indexes}


def test_the_two_schemas_have_the_same_tables_columns_constraints_and_indexes(
    postgres_url: str,
) -> None:
    create_app(db=postgres_url, rate_limit=None).state.sandbox.close()
    sqlite, postgres = _sqlite_schema(), _postgres_schema(postgres_url)
    assert sorted(sqlite["tables"]) == sorted(postgres["tables"])
    for table, shape in sqlite["tables"].items():
        assert postgres["tables"][table] == shape, table
    assert postgres["indexes"] == sqlite["indexes"]
    # both are rendered from storage/tables.py: each engine has its every column, as written
    assert sorted(sqlite["tables"]) == sorted(table.name for table in TABLES)
    for table in TABLES:
        written = [(c.name, TABLE_KIND[c.kind], not c.null) for c in table.columns]
        assert sqlite["tables"][table.name][0] == written, table.name


def _unlogged(url: str) -> list[str]:
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relpersistence = 'u' "
            "ORDER BY relname"
        ).fetchall()
    return [row[0] for row in rows]


def test_the_tables_a_crash_may_lose_are_unlogged_and_made_so_in_an_older_database(
    postgres_url: str,
) -> None:
    """The rate-limit buckets and the key claims are written by requests of a team
    without waiting for the disk (unlogged); a database that has them logged (made
    before) gets them unlogged at the next start, its rows kept."""
    create_app(db=postgres_url, rate_limit=None).state.sandbox.close()
    lost_in_a_crash = sorted(table.name for table in TABLES if table.unlogged)
    assert lost_in_a_crash == ["key_claims", "rate_buckets"]
    assert _unlogged(postgres_url) == lost_in_a_crash
    with psycopg.connect(postgres_url) as db:
        db.execute("ALTER TABLE rate_buckets SET LOGGED")
        db.execute("INSERT INTO rate_buckets VALUES ('t', 1, 0, 1)")
    assert _unlogged(postgres_url) == ["key_claims"]
    create_app(db=postgres_url, rate_limit=None).state.sandbox.close()
    assert _unlogged(postgres_url) == lost_in_a_crash
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT token FROM rate_buckets").fetchall() == [("t",)]


def test_a_database_of_another_schema_version_is_refused_in_one_line_until_fresh(
    postgres_url: str,
) -> None:
    create_app(db=postgres_url, rate_limit=None).state.sandbox.close()
    with psycopg.connect(postgres_url) as db:
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with pytest.raises(
        ValueError, match=r"made by another version .* \(schema 3, this one needs 4\)"
    ):
        create_app(db=postgres_url, rate_limit=None)
    with TestClient(create_app(db=postgres_url, rate_limit=None, fresh=True)) as client:
        assert client.get(API, headers=TOKEN_A).json()["data"]["total"] == 10
    client.app.state.sandbox.close()  # type: ignore[attr-defined]


def test_a_restart_keeps_the_data_and_a_reset_wipes_the_refunds(postgres_url: str) -> None:
    with TestClient(create_app(db=postgres_url, rate_limit=None, clock=FakeTime())) as client:
        number = client.post(refund_url("10002"), json={}, headers=TOKEN_A).json()["data"]
    with TestClient(create_app(db=postgres_url, rate_limit=None, clock=FakeTime())) as client:
        listed = client.get(f"{API}/refund/10002", headers=TOKEN_A).json()["data"]["list"]
        assert [r["refundNo"] for r in listed] == [number]
        reset = client.post("/_sandbox/reset", headers={"Content-Type": "application/json"})
        assert reset.status_code == 200, reset.text
        assert client.get(f"{API}/refund/10002", headers=TOKEN_A).json()["data"]["total"] == 0
        again = client.post(refund_url("10002"), json={}, headers=TOKEN_A).json()["data"]
        assert int(again) > int(number)  # a refund number is never given twice


ORDER: dict[str, Any] = {
    "id": "5001",
    "status": "processing",
    "financialStatus": "paid",
    "fulfillmentStatus": "waiting_to_ship",
    "createDate": "2026-11-20T10:00:00Z",
    "orderItems": [
        {
            "id": "50011",
            "itemId": "777",
            "skuCode": "S",
            "countryCode": "CN",
            "amount": 12.5,
            "productNum": 2,
        }
    ],
}
PIECE = {"itemId": "777", "skuCode": "S", "countryCode": "CN", "quantity": 1}


def test_a_data_file_with_two_merchants_sharing_ids_and_settled_refunds(
    postgres_url: str, tmp_path: Path
) -> None:
    settled = {**ORDER, "refunds": [{"refundStatus": "refund_successfully", "orderItems": [PIECE]}]}
    data = {
        "merchants": [
            {"merchant": "one", "tokens": ["t1"], "orders": [settled]},
            {"merchant": "two", "tokens": ["t2"], "orders": [ORDER]},
        ]
    }
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    app = create_app(db=postgres_url, rate_limit=None, data=path, validate_responses=True)
    one, two = {"Authorization": "Bearer t1"}, {"Authorization": "Bearer t2"}
    with TestClient(app) as client:
        first = client.get(API, headers=one).json()["data"]["list"]
        second = client.get(API, headers=two).json()["data"]["list"]
        assert [o["id"] for o in first] == [o["id"] for o in second] == ["5001"]
        assert first[0]["refundStatus"] == "partial_refund"  # its file's settled refund
        assert second[0]["refundStatus"] != "partial_refund"  # the other merchant's: none
        assert client.post(refund_url("5001"), json={}, headers=one).status_code == 200
        assert client.post(refund_url("5001"), json={}, headers=one).status_code == 409
        assert client.post(refund_url("5001"), json={}, headers=two).status_code == 200
        sandbox = app.state.sandbox
        reader = sandbox.feeds._reader()  # the feeds' own connection: a synchronous one
        try:
            shown = console.state(sandbox, reader, "two")
        finally:
            reader.close()
        assert [(o["id"], len(o["refunds"])) for o in shown["orders"]] == [("5001", 1)]
    app.state.sandbox.close()


async def _refund_together(
    apps: list[Any], order_id: str, body: dict[str, Any], n: int
) -> list[int]:
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")
        for app in apps
    ]
    try:
        answers = await asyncio.gather(
            *(
                clients[i % len(clients)].post(refund_url(order_id), json=body, headers=TOKEN_A)
                for i in range(n)
            )
        )
    finally:
        for client in clients:
            await client.aclose()
        for app in apps:
            await app.state.sandbox.release()
    return sorted(answer.status_code for answer in answers)


def test_concurrent_refunds_of_the_last_piece_from_two_sandboxes_give_exactly_one_200(
    postgres_url: str,
) -> None:
    """Two sandboxes on one database (as two processes): the order's row lock, not the
    process's memory, keeps the refunds of one piece to one."""
    apps = [create_app(db=postgres_url, rate_limit=None) for _ in range(2)]
    line = {"itemId": "120002", "skuCode": "FSZW08923_R_L_NUB", "countryCode": "US"}
    with TestClient(apps[0]) as client:
        order = client.get(API, params={"ids": "10001"}, headers=TOKEN_A).json()["data"]["list"][0]
        pieces = next(i["productNum"] for i in order["orderItems"] if i["itemId"] == "120002")
        if pieces > 1:
            body = {"orderItems": [{**line, "quantity": pieces - 1}]}
            assert client.post(refund_url("10001"), json=body, headers=TOKEN_A).status_code == 200
    codes = asyncio.run(
        _refund_together(apps, "10001", {"orderItems": [{**line, "quantity": 1}]}, 12)
    )
    assert codes == [200] + [409] * 11
    for app in apps:
        app.state.sandbox.close()


def test_a_sandbox_process_on_postgresql_never_shows_the_password_and_stops_cleanly(
    postgres_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("CREATE ROLE sandbox_user LOGIN SUPERUSER PASSWORD 'hunter2'")
    url = postgres_url.replace("kakaclo@", "sandbox_user:hunter2@")
    live = LiveSandbox(db=tmp_path / "sandbox", url=url, args=["--rate-limit", "off"]).start()
    try:
        info = httpx.get(live.root + "/_sandbox/info").json()["data"]
        assert info["settings"]["db"] == url.replace("hunter2", "***")
        answer = httpx.post(live.root + refund_url("10002"), json={}, headers=TOKEN_A)
        assert answer.status_code == 200, answer.text
    finally:
        code = live.stop(signal.SIGTERM)
    assert code in (0, -signal.SIGTERM)
    assert live.log is not None
    log = live.log.read_text()
    assert "Application shutdown complete" in log and "Traceback" not in log
    assert "hunter2" not in log and "sandbox_user:***@" in log  # the banner and the log


def test_query_refund_of_a_quiet_order_reads_its_index_beside_a_hot_order(
    postgres_url: str,
) -> None:
    """With 50,000 refunds on one hot order, the prepared (generic) plan of a Query Refund
    page still reads the order's refunds through the (order_pk, seq) index, never by
    scanning every refund."""
    create_app(db=postgres_url, rate_limit=None).state.sandbox.close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        hot = db.execute("SELECT pk FROM orders WHERE id = '10002'").fetchone()
        db.execute(
            "INSERT INTO refunds (order_pk, status, reason, created_at, settle_at) "
            "SELECT %s, 'refund_successfully', 'Other', 1, 1 FROM generate_series(1, 50000)",
            hot,
        )
        db.execute("ANALYZE refunds")
        db.execute("SET plan_cache_mode = force_generic_plan")
        sql = (
            "SELECT (SELECT COUNT(*) FROM refunds WHERE order_pk = o.pk), r.seq FROM orders o "
            "LEFT JOIN LATERAL (SELECT seq FROM refunds WHERE order_pk = o.pk "
            "ORDER BY seq DESC LIMIT $1 OFFSET $2) r ON true WHERE o.merchant = $3 AND o.id = $4"
        )
        db.execute(f"PREPARE page (int, int, text, text) AS {sql}")
        plan = "\n".join(
            row[0] for row in db.execute("EXPLAIN EXECUTE page (10, 0, 'merchant-a', '10001')")
        )
    assert "refunds_by_order" in plan, plan
    assert "Seq Scan on refunds" not in plan and "refunds_pkey" not in plan, plan
