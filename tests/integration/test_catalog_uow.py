"""The unit of work: commit is explicit, anything else rolls back; SQLite writers queue."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kefu.adapters.db.tables.catalog import Customer
from kefu.services.uow import Database, UnitOfWork

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def names(db: Database) -> list[str]:
    with db.read() as uow:
        return list(uow.session.scalars(select(Customer.name).order_by(Customer.id)))


def test_commit_keeps_the_work_and_leaving_without_it_rolls_back(db: Database) -> None:
    with db.uow() as uow:
        uow.session.add(Customer(id="C1", name="张三", level="regular", created_at=NOW))
        uow.commit()
    with db.uow() as uow:
        uow.session.add(Customer(id="C2", name="李四", level="regular", created_at=NOW))
    with pytest.raises(RuntimeError, match="boom"), db.uow() as uow:
        uow.session.add(Customer(id="C3", name="王五", level="regular", created_at=NOW))
        uow.session.flush()
        raise RuntimeError("boom")
    assert names(db) == ["张三"]


def test_a_read_only_unit_cannot_commit(db: Database) -> None:
    with db.read() as uow:
        uow.session.add(Customer(id="C1", name="张三", level="regular", created_at=NOW))
        with pytest.raises(RuntimeError, match="read-only"):
            uow.commit()
    assert names(db) == []


def test_a_unit_is_used_once_and_only_inside_its_block(db: Database) -> None:
    unit = db.uow()
    assert isinstance(unit, UnitOfWork)
    with pytest.raises(RuntimeError, match="not open"):
        _ = unit.session
    with unit, pytest.raises(RuntimeError, match="twice"):
        unit.__enter__()


def test_database_knows_its_dialect(db: Database, db_url: str) -> None:
    assert db.is_sqlite is db_url.startswith("sqlite")
    assert db.url.split(":")[0] == db_url.split(":")[0]


def test_concurrent_sqlite_writers_queue_instead_of_failing(sqlite_db: Database) -> None:
    """BEGIN IMMEDIATE: each read-modify-write holds the write lock from its first read, so no
    update is lost and none fails with "database is locked"."""
    with sqlite_db.uow() as uow:
        uow.session.add(Customer(id="C1", name="0", level="regular", created_at=NOW))
        uow.commit()
    errors: list[BaseException] = []

    def bump(times: int) -> None:
        try:
            for _ in range(times):
                with sqlite_db.uow() as uow:
                    row = uow.session.get(Customer, "C1")
                    assert row is not None
                    row.name = str(int(row.name) + 1)
                    uow.commit()
        except BaseException as exc:  # reported below; a thread cannot raise into the test
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(40,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert names(sqlite_db) == ["160"]
