"""Prepared statements (kefu.adapters.db.prepared) give exactly what a Core execution gives —
aware datetimes, parsed JSON, Decimal money, NULLs — on SQLite and PostgreSQL, run inside the
connection's transaction, and refuse what they cannot prepare."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, func, insert, select, update

from kefu.adapters.db.prepared import Prepared, PreparedSet
from kefu.adapters.db.tables.bot import BotSession
from kefu.adapters.db.tables.catalog import Order
from kefu.services.uow import Database

from .factories import NOW, make_order, seed_parties

ROWS = select(Order.id, Order.total_paid, Order.paid_at, Order.status, Order.address).where(
    Order.customer_id == bindparam("customer"), Order.status != "cancelled").order_by(Order.id)
Q = PreparedSet(rows=ROWS, count=select(func.count()).select_from(BotSession),
                add=insert(BotSession).values({c: bindparam(f"v_{c}") for c in (
                    "owner", "session_key", "customer_id", "channel", "state", "turns", "started_at", "updated_at")})
                .returning(BotSession.id, BotSession.state, BotSession.started_at),
                touch=update(BotSession).where(BotSession.owner == bindparam("owner"))
                .values(turns=BotSession.turns + 1, updated_at=bindparam("now")))


def test_rows_equal_core_results(db: Database) -> None:
    seed_parties(db)
    make_order(db, "O-1", paid="1234.50")
    make_order(db, "O-2", paid="99.00")
    with db.read_connection() as conn:
        core = [tuple(r) for r in conn.execute(ROWS, {"customer": "C1"})]
        prepared = Q.of(conn)["rows"].all(conn, customer="C1")
    assert prepared == core and len(core) == 2
    first = prepared[0]
    assert first.total_paid == Decimal("1234.50") and isinstance(first.total_paid, Decimal)
    assert first.paid_at.tzinfo is not None and first.paid_at.utcoffset().total_seconds() == 0


def test_writes_run_in_the_connections_transaction(db: Database) -> None:
    seed_parties(db)
    later = datetime(2026, 3, 11, 8, 30, tzinfo=UTC)
    with db.write_connection() as conn:
        q = Q.of(conn)
        row = q["add"].first(conn, v_owner="customer:C1", v_session_key="k", v_customer_id="C1", v_channel="api",
                             v_state={"order_id": "O-1", "recent": ["你好"]}, v_turns=1, v_started_at=NOW,
                             v_updated_at=NOW)
        assert row.state == {"order_id": "O-1", "recent": ["你好"]} and row.started_at == NOW
        assert q["touch"].run(conn, owner="customer:C1", now=later) == 1
    with db.read() as uow:
        saved = uow.session.scalars(select(BotSession)).one()
    assert (saved.turns, saved.updated_at, saved.state["recent"]) == (2, later, ["你好"])
    with pytest.raises(RuntimeError), db.write_connection() as conn:   # rolled back with the transaction
        Q.of(conn)["touch"].run(conn, owner="customer:C1", now=NOW)
        raise RuntimeError("abort")
    with db.read_connection() as conn:
        assert Q.of(conn)["count"].scalar(conn) == 1
    with db.read() as uow:
        assert uow.session.scalars(select(BotSession.turns)).one() == 2


def test_expanding_parameters_are_refused(db: Database) -> None:
    statement = select(Order.id).where(Order.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        Prepared(statement, db.engine.dialect)


def test_a_prepared_write_commits_once_or_leaves_nothing(db: Database) -> None:
    seed_parties(db)
    values = {"v_owner": "anon", "v_session_key": "k", "v_customer_id": None, "v_channel": "api", "v_state": {},
              "v_turns": 1, "v_started_at": NOW, "v_updated_at": NOW}
    with pytest.raises(RuntimeError), db.prepared_write() as conn:
        Q.of(conn)["add"].first(conn, **values)
        raise RuntimeError("abort")
    with db.read_connection() as conn:
        assert Q.of(conn)["count"].scalar(conn) == 0
    with db.prepared_write() as conn:
        Q.of(conn)["add"].first(conn, **values)
    with db.read_connection() as conn:
        assert Q.of(conn)["count"].scalar(conn) == 1
