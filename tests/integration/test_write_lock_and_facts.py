"""The SQLite writer lock (threads and processes) and the facts loader behind every decision."""

from __future__ import annotations

import multiprocessing
import threading
import time
from decimal import Decimal
from pathlib import Path

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


def test_the_wal_is_checkpointed_outside_the_write_lock_every_few_transactions(tmp_path: Path) -> None:
    """COMMIT no longer checkpoints (``wal_autocheckpoint=0``): the database file stays as it was
    while the log grows, until the CHECKPOINT_EVERY-th write transaction of the process wakes the
    checkpoint thread, which copies the log into it without the write lock (another writer can
    take the lock meanwhile)."""
    from sqlalchemy import text

    from kefu.services.uow import CHECKPOINT_EVERY

    db = Database.from_url(f"sqlite:///{tmp_path / 'kefu.db'}")
    lock_free_during_checkpoint: list[bool] = []
    original = db.checkpoint

    def watched() -> None:
        probe = WriterLock(tmp_path / "kefu.db")          # another process's view of the lock
        got = threading.Thread(target=lambda: (probe.acquire(), probe.release()))
        got.start()
        got.join(5)
        lock_free_during_checkpoint.append(not got.is_alive())
        probe.close()
        original()

    db.checkpoint = watched  # type: ignore[method-assign]
    try:
        with db.read_connection() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        with db.write_connection() as conn:
            conn.execute(text("CREATE TABLE blobs (b BLOB)"))
        size = (tmp_path / "kefu.db").stat().st_size
        for _ in range(CHECKPOINT_EVERY - 2):
            with db.write_connection() as conn:
                conn.execute(text("INSERT INTO blobs VALUES (randomblob(4000))"))
        time.sleep(0.2)
        assert (tmp_path / "kefu.db").stat().st_size == size, "checkpointed before its turn"
        assert not lock_free_during_checkpoint
        with db.write_connection() as conn:
            conn.execute(text("INSERT INTO blobs VALUES (randomblob(4000))"))
        deadline = time.monotonic() + 10
        while (tmp_path / "kefu.db").stat().st_size == size and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (tmp_path / "kefu.db").stat().st_size > size + (CHECKPOINT_EVERY - 1) * 4000
        assert lock_free_during_checkpoint == [True]
        with db.read_connection() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM blobs").scalar() == CHECKPOINT_EVERY - 1
    finally:
        db.dispose()
    assert db._checkpointer is not None and not db._checkpointer.is_alive(), "dispose stops the thread"


def test_sqlite_file_of_a_url() -> None:
    assert sqlite_file("sqlite:////tmp/x/kefu.db") == Path("/tmp/x/kefu.db")
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None


def test_decision_facts_of_orders_as_the_factories_make_them(db: Database) -> None:
    seed_parties(db)
    make_order(db, "F1", gifts=(("杯", "30.00"), ("袋", "5.00")), services=("extended_warranty_1y",))
    make_order(db, "F2", seller="S3P", carrier="third_party", payments=(("wechat", "1000.00"),))
    make_order(db, "F3", status="lost")
    with db.read_connection() as conn:
        f1, f2, f3 = (load_decision_facts(conn, i) for i in ("F1", "F2", "F3"))
        assert load_decision_facts(conn, "NOPE") is None
    assert f1 is not None and f2 is not None and f3 is not None
    line = f1.order.lines[0]
    assert [g.value for g in line.gifts] == [Decimal("30.00"), Decimal("5.00")]
    assert line.services == frozenset({"extended_warranty_1y"}) and line.quantity == 2
    assert [(p.method, p.amount) for p in f1.order.payments] == [("card", Decimal("800.00")),
                                                               ("balance", Decimal("200.00"))]
    assert f1.customer.phone == "13800001234" and f1.seller_type == "self_operated"
    assert f2.order.seller.value == "third_party" and f2.order.delivery.carrier.value == "third_party"
    assert f3.order.delivery.status.value == "lost" and f3.order.delivery.receipt_time() is None
