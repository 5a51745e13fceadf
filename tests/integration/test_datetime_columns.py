"""``UTCDateTime`` columns on both databases: aware datetimes in, the same instants out in UTC,
naive ones refused. On SQLite the stored text is exactly what SQLAlchemy's own ``DATETIME``
writes (the type formats and parses it itself, in C), so rows written before and after read
and compare alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.types import DateTime

from kefu.adapters.db.base import UTCDateTime
from kefu.services.uow import Database

SHANGHAI = timezone(timedelta(hours=8))
INSTANTS = [datetime(2026, 3, 10, 2, 0, tzinfo=UTC), datetime(2026, 3, 10, 10, 0, 5, 7, tzinfo=SHANGHAI),
            datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]


@pytest.fixture
def stamps(db: Database) -> Table:
    table = Table("dt_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime))
    table.create(db.engine)
    yield table
    table.drop(db.engine)


def test_instants_round_trip_in_utc_and_compare_in_sql(db, stamps):
    with db.engine.begin() as conn:
        conn.execute(insert(stamps), [{"id": i, "at": at} for i, at in enumerate(INSTANTS)])
    with db.engine.connect() as conn:
        back = dict(conn.execute(select(stamps.c.id, stamps.c.at)).all())
        later = conn.execute(select(stamps.c.id).where(stamps.c.at > datetime(2026, 3, 10, 1, 0, 5, tzinfo=UTC))
                             .order_by(stamps.c.id)).scalars().all()
        if db.is_sqlite:
            stored = conn.execute(text("SELECT at FROM dt_probe ORDER BY id")).scalars().all()
            sqlalchemy_text = DateTime()._cached_bind_processor(sqlite.dialect())
            assert stored == [sqlalchemy_text(at.astimezone(UTC).replace(tzinfo=None)) for at in INSTANTS]
            assert stored[1] == "2026-03-10 02:00:05.000007"
    assert [back[i] for i in range(3)] == INSTANTS and all(v.tzinfo is UTC for v in back.values())
    assert later == [0, 1]


def test_a_naive_datetime_is_refused_and_nothing_is_written(db, stamps):
    with pytest.raises(StatementError, match="naive datetime"), db.engine.begin() as conn:
        conn.execute(insert(stamps), [{"id": 1, "at": datetime(2026, 3, 10, 2, 0)}])
    with db.engine.connect() as conn:
        assert conn.execute(select(stamps.c.id)).all() == []


def test_a_value_written_by_sql_itself_reads_back_as_utc(db, stamps):
    """SQLite: text without microseconds (as SQL's own functions write it); PostgreSQL: a literal
    with its offset."""
    literal = "2026-03-10 02:00:00" if db.is_sqlite else "2026-03-10 10:00:00+08:00"
    with db.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO dt_probe (id, at) VALUES (1, '{literal}')"))
    with db.engine.connect() as conn:
        assert conn.execute(select(stamps.c.at)).scalar_one() == datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
