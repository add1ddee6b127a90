"""The sandbox's tables, written once for every engine: each column's name, kind,
nullability, default and constraints, each table's keys and its indexes.

:mod:`kakaclo_sandbox.storage.schema` renders them in SQLite's types and
:mod:`kakaclo_sandbox.storage.postgres.schema` in PostgreSQL's (:func:`render`); the
constraints and indexes are portable SQL, the same in both. Why the tables are shaped
so: :mod:`kakaclo_sandbox.storage.schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from kakaclo_client.models import RefundStatus

# The one place a status is written into SQL: a partial index serves only a query
# whose condition has the same literal (a bound parameter would not match it).
IS_PENDING = f"status = '{RefundStatus.PENDING_REVIEW.value}'"

# "key": the table's integer primary key, its values the engine's own; "serial": the
# same, never giving a value twice (a refund's seq); "real": epoch seconds.
Kind = Literal["key", "serial", "integer", "text", "real"]


@dataclass(frozen=True)
class Column:
    """One column: NOT NULL unless ``null``, or the table's key."""

    name: str
    kind: Kind
    null: bool = False
    default: int | None = None
    primary: bool = False  # the table's primary key, a column of a kind other than "key"
    references: str | None = None  # "table (column)"
    check: str | None = None


@dataclass(frozen=True)
class Index:
    """One index of a table (``where``: a partial index's condition)."""

    name: str
    columns: str
    where: str | None = None


@dataclass(frozen=True)
class Table:
    """One table: its columns in order, then its table constraints and its indexes.

    ``without_rowid``: SQLite stores the rows in the primary key's b-tree (other engines
    have no rowid anyway). ``unlogged``: rows a crash may lose (the engine need not write
    them ahead to disk, so a transaction writing only them waits for no disk:
    PostgreSQL's UNLOGGED; SQLite has no such tables).
    """

    name: str
    columns: tuple[Column, ...]
    constraints: tuple[str, ...] = ()
    indexes: tuple[Index, ...] = ()
    without_rowid: bool = False
    unlogged: bool = False


def _int(
    name: str,
    *,
    null: bool = False,
    default: int | None = None,
    references: str | None = None,
    check: str | None = None,
) -> Column:
    return Column(name, "integer", null, default, references=references, check=check)


def _text(name: str, *, null: bool = False) -> Column:
    return Column(name, "text", null=null)


def _real(name: str, *, null: bool = False) -> Column:
    return Column(name, "real", null=null)


TABLES: tuple[Table, ...] = (
    Table("meta", (Column("key", "text", primary=True), _text("value"))),
    Table("merchants", (Column("token", "text", primary=True), _text("merchant"))),
    Table(
        "orders",
        (
            Column("pk", "key"),
            _text("merchant"),
            _text("id"),
            _text("custom_order_id", null=True),
            _text("remark", null=True),
            _text("status"),
            _text("financial_status"),
            _text("fulfillment_status"),
            _int("warehouse_id", null=True),
            _text("currency_code"),
            _int("freight_e4"),
            _int("coupon_e4"),
            _int("promotion_e4"),
            _int("pending_refunds", default=0),
            _real("purchase_date", null=True),
            _real("pay_date", null=True),
            _real("create_date"),
            _real("modify_date"),
            _real("cancel_date", null=True),
            _real("refund_date", null=True),
            _text("shipping_address"),
            _text("fulfillments", null=True),
        ),
        # (pk, merchant): the target of order_lines' foreign key
        constraints=("UNIQUE (merchant, id)", "UNIQUE (pk, merchant)"),
        indexes=(Index("orders_by_merchant", "merchant, create_date"),),
    ),
    Table(
        "order_lines",
        (
            Column("pk", "key"),
            _int("order_pk"),
            _text("merchant"),
            _text("id"),
            _int("position"),
            _text("item_id"),
            _text("sku_code"),
            _text("country_code", null=True),
            _text("product_name", null=True),
            _text("image_url", null=True),
            _text("option1", null=True),
            _text("option2", null=True),
            _text("option3", null=True),
            _int("amount_e4"),
            _int("product_num"),
            _text("stock_status"),
            _int("reserved", default=0),
            _int("refunded", default=0),
        ),
        constraints=(
            "CHECK (0 <= refunded AND refunded <= reserved AND reserved <= product_num)",
            "UNIQUE (merchant, id)",
            "FOREIGN KEY (order_pk, merchant) REFERENCES orders (pk, merchant)",
        ),
        indexes=(Index("lines_by_order", "order_pk, position"),),
    ),
    Table(
        "refunds",
        (
            # the refund number is derived from seq (queries.refund_no), so it costs no index
            Column("seq", "serial"),
            _int("order_pk", references="orders (pk)"),
            _text("status"),
            _text("reason"),
            _text("remark", null=True),
            _real("created_at"),
            _real("settle_at"),
            _real("settled_at", null=True),
        ),
        indexes=(
            Index("refunds_by_order", "order_pk, seq"),
            # Pending refunds by due time: settling costs a range lookup, however many
            # refunds are stored.
            Index("refunds_due", "settle_at", where=IS_PENDING),
        ),
    ),
    Table(
        "refund_lines",
        (
            _int("refund_seq", references="refunds (seq)"),
            _int("line_pk", references="order_lines (pk)"),
            _int("quantity", check="quantity > 0"),
        ),
        constraints=("PRIMARY KEY (refund_seq, line_pk)",),
        without_rowid=True,
    ),
    Table(
        "idempotency_keys",
        (
            _text("merchant"),
            _text("key"),
            _text("fingerprint"),
            _text("refund_no"),
            _real("created_at"),
        ),
        constraints=("PRIMARY KEY (merchant, key)",),
    ),
    # Idempotency-Keys whose first request is in flight where several processes share
    # the database: the claiming process (its membership connection's backend pid, a
    # claim of a process no longer attached is void) holds the key until it answered.
    Table(
        "key_claims",
        (_text("merchant"), _text("key"), _int("owner")),
        constraints=("PRIMARY KEY (merchant, key)",),
        unlogged=True,  # a crash ends every claim's owner: its claims are void anyway
    ),
    # The rate limit's buckets where several processes share the database (one alone
    # keeps them in memory): each token's level at ``at`` (epoch seconds on the
    # database's clock) and whether its last request was let through.
    Table(
        "rate_buckets",
        (_text("token"), _real("level"), _real("at"), _int("admitted")),
        constraints=("PRIMARY KEY (token)",),
        # written by every request of a team: a crash empties the buckets, harmless
        unlogged=True,
    ),
    # The failures queued on demand where several processes share the database (SQLite's
    # process keeps them in memory): taken in ``id`` order, an operation's own (its
    # ``operation``) before those for any (NULL).
    Table(
        "queued_failures",
        (
            Column("id", "key"),
            _text("operation", null=True),
            _int("code", null=True),
            _int("retry_after", null=True),
            _real("delay"),
            _text("drop_mode", null=True),
        ),
        indexes=(Index("failures_in_order", "operation, id"),),
    ),
)


def _column(column: Column, types: Mapping[Kind, str], width: int) -> str:
    sql = f"{column.name:<{width}} {types[column.kind]}"
    if not (column.null or column.primary or column.kind in ("key", "serial")):
        sql += " NOT NULL"
    if column.default is not None:
        sql += f" DEFAULT {column.default}"
    if column.primary:
        sql += " PRIMARY KEY"
    if column.references is not None:
        sql += f" REFERENCES {column.references}"
    if column.check is not None:
        sql += f" CHECK ({column.check})"
    return sql


def render(
    types: Mapping[Kind, str], *, without_rowid: bool = False, unlogged: bool = False
) -> str:
    """Every table and index as one engine's DDL (``IF NOT EXISTS``): ``types`` spells each
    kind (a key's and a serial's with their PRIMARY KEY); ``without_rowid``: the engine
    has rowids, and the tables that do without them say so; ``unlogged``: the engine has
    unlogged tables, and the tables that may be so are."""
    statements = []
    for table in TABLES:
        width = max(len(column.name) for column in table.columns)
        lines = [_column(column, types, width) for column in table.columns]
        lines += table.constraints
        body = ",\n".join(f"    {line}" for line in lines)
        suffix = " WITHOUT ROWID" if without_rowid and table.without_rowid else ""
        kind = "UNLOGGED TABLE" if unlogged and table.unlogged else "TABLE"
        statements.append(f"CREATE {kind} IF NOT EXISTS {table.name} (\n{body}\n){suffix};")
        for index in table.indexes:
            where = f" WHERE {index.where}" if index.where is not None else ""
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {index.name} ON {table.name} ({index.columns}){where};"
            )
    return "\n".join(statements) + "\n"
