"""The SQLite writer lock (threads and processes) and the Core facts loader's agreement with the ORM."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from kefu.adapters.db import catalog_repository as orders_repo
from kefu.adapters.db.decision_facts import load_decision_facts
from kefu.adapters.db.write_lock import WriterLock, sqlite_file
from kefu.services.uow import Database

from .factories import make_order, seed_parties


def _hold(path: str, started: multiprocessing.synchronize.Event, hold_s: float) -> None:
    lock = WriterLock(Path(path))
    with lock:
        started.set()
        time.sleep(hold_s)
    lock.close()


def test_the_writer_lock_excludes_another_process(tmp_path: Path) -> None:
    db_file = tmp_path / "kefu.db"
    started = multiprocessing.get_context("fork").Event()
    other = multiprocessing.get_context("fork").Process(target=_hold, args=(str(db_file), started, 0.5))
    other.start()
    assert started.wait(10)
    lock = WriterLock(db_file)
    t0 = time.monotonic()
    with lock:
        waited = time.monotonic() - t0
    other.join(10)
    lock.close()
    assert waited >= 0.3, "the second process got the lock while the first held it"


def test_the_writer_lock_excludes_threads_and_is_reentrant(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "kefu.db")
    inside = 0
    most = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(50):
            with lock, lock:                      # re-entering in one thread does not deadlock
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0005)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    lock.close()
    assert most == 1


def test_sqlite_file_of_a_url() -> None:
    assert sqlite_file("sqlite:////tmp/x/kefu.db") == Path("/tmp/x/kefu.db")
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None


def test_core_facts_agree_with_the_orm_mapping(db: Database) -> None:
    seed_parties(db)
    make_order(db, "F1", gifts=(("杯", "30.00"), ("袋", "5.00")), services=("extended_warranty_1y",))
    make_order(db, "F2", seller="S3P", carrier="third_party", payments=(("wechat", "1000.00"),))
    make_order(db, "F3", status="lost")
    for order_id in ("F1", "F2", "F3"):
        with db.read() as uow:
            orm = orders_repo.to_order_facts(orders_repo.get_order(uow.session, order_id))
            core = load_decision_facts(uow.session.connection(), order_id)
        assert core is not None and core.order == orm
    with db.read_connection() as conn:
        assert load_decision_facts(conn, "NOPE") is None
