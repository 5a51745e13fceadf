"""Unit of work: one transaction per service call (DESIGN.md convention 5).

A service opens ``with db.uow() as uow:``, reads and writes through ``uow.session`` and ends
with ``uow.commit()``; leaving the block without committing (an error, a refusal, a forgotten
commit) rolls everything back. Read-only work uses ``db.read()``, which never commits.

On SQLite a writing unit of work starts with ``BEGIN IMMEDIATE`` (see
:func:`kefu.adapters.db.base.writer`): it takes the write lock before reading, so two concurrent
writers queue on the busy timeout instead of both reading and then failing to upgrade the lock.
Readers use a plain ``BEGIN`` and run beside a writer under WAL.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from kefu.adapters.db.base import make_engine, make_session_factory, writer
from kefu.adapters.db.write_lock import WriterLock, sqlite_file

T = TypeVar("T")
R = TypeVar("R")


class UnitOfWork:
    """A session and its transaction; rolled back on exit unless :meth:`commit` was called."""

    def __init__(self, factory: sessionmaker[Session], *, readonly: bool = False,
                 lock: WriterLock | None = None) -> None:
        self._factory = factory
        self.readonly = readonly
        self._lock = lock
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use it in a with block")
        return self._session

    def __enter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        if self._lock is not None:
            self._lock.acquire()
        self._session = self._factory()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        session = self.session
        self._session = None
        try:
            # A reader just closes: close() ends the transaction without expiring what it loaded,
            # so the objects it returns stay readable. A writer that did not commit rolls back.
            if not self.readonly:
                session.rollback()
        finally:
            session.close()
            if self._lock is not None:
                self._lock.release()

    def commit(self) -> None:
        """Commit what was done so far; the session may go on in a new transaction."""
        if self.readonly:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


log = logging.getLogger("kefu.db")

#: write transactions between two WAL checkpoints (see :meth:`Database._checkpoints`); a batch
#: of tickets or bot turns writes some tens of pages, SQLite's own default is every 1,000 pages
CHECKPOINT_EVERY = 32


class Database:
    """The engine and its session factories, shared by the app, the CLI and the tests."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer_engine = writer(engine)
        self._writer: sessionmaker[Session] = make_session_factory(self._writer_engine)
        self._reader: sessionmaker[Session] = make_session_factory(engine)
        # SQLite: writers queue on a lock instead of SQLite's sleeping busy handler.
        file = sqlite_file(self.url)
        self._write_lock = WriterLock(file) if file is not None else None
        self._writes_since_checkpoint = 0
        self._checkpointing = threading.Lock()
        self._checkpoint_due = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._closed = False
        if self._write_lock is not None:
            self._write_lock.after_release = self._after_write

    @classmethod
    def from_url(cls, url: str, **engine_kwargs: Any) -> Database:
        return cls(make_engine(url, **engine_kwargs))

    @functools.cached_property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def uow(self) -> UnitOfWork:
        """A writing unit of work (SQLite: ``BEGIN IMMEDIATE``)."""
        return UnitOfWork(self._writer, lock=self._write_lock)

    def read(self) -> UnitOfWork:
        """A read-only unit of work on the plain engine; it cannot commit."""
        return UnitOfWork(self._reader, readonly=True)

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A plain connection for Core reads on a hot path (no ORM session to set up)."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """One write transaction on a plain connection: committed when the block ends normally,
        rolled back on an error. The Core twin of :meth:`uow` for hot paths that need no ORM."""
        if self._write_lock is not None:
            self._write_lock.acquire()
        try:
            with self._writer_engine.begin() as conn:
                yield conn
        finally:
            if self._write_lock is not None:
                self._write_lock.release()

    @contextmanager
    def prepared_write(self, conn: Connection | None = None) -> Iterator[Connection]:
        """A write transaction for prepared statements only (:mod:`kefu.adapters.db.prepared`):
        BEGIN (``BEGIN IMMEDIATE`` on SQLite, behind the writer lock) and COMMIT go straight to
        the driver, skipping Core's transaction events — about 0.1 ms less per transaction on a
        path that runs a thousand times a second. Core statements must not run inside it (Core
        would try to begin a transaction of its own).

        ``conn`` — a connection the caller already read with — saves a second pool checkout;
        whatever read transaction it has open is ended first."""
        if conn is not None:
            with self._prepared_transaction(conn):
                yield conn
            return
        with self.engine.connect() as own, self._prepared_transaction(own):
            yield own

    def write_batch(self, items: Sequence[T], write_one: Callable[[Connection, T], R],
                    finish: Callable[[Connection], None] | None = None) -> list[R | Exception]:
        """Group commit: ``write_one`` for every item in one :meth:`prepared_write` transaction —
        the write lock and BEGIN/COMMIT paid once for the batch — then ``finish`` (what the items
        left for the end of their transaction, e.g. their rows of one table in one INSERT). If
        any of them raises, the batch is rolled back and each item is written again in a
        transaction of its own (``write_one`` then ``finish``), so only the failing one fails
        (``write_one`` must not change its item). One result per item, in order: what
        ``write_one`` returned, or the exception raised for that item; a lone item's exception
        is raised."""
        try:
            with self.prepared_write() as conn:
                results = [write_one(conn, item) for item in items]
                if finish is not None:
                    finish(conn)
                return list(results)
        except Exception:
            if len(items) == 1:
                raise
        done: list[R | Exception] = []
        for item in items:
            try:
                with self.prepared_write() as conn:
                    result = write_one(conn, item)
                    if finish is not None:
                        finish(conn)
                done.append(result)
            except Exception as exc:
                done.append(exc)
        return done

    @contextmanager
    def _prepared_transaction(self, conn: Connection) -> Iterator[None]:
        driver: Any = conn.connection.driver_connection
        if conn.in_transaction():
            conn.rollback()
        if self._write_lock is not None:
            self._write_lock.acquire()
        try:
            if self.is_sqlite:
                if driver.in_transaction:
                    driver.rollback()
                driver.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                driver.rollback()
                raise
            driver.commit()
        finally:
            if self._write_lock is not None:
                self._write_lock.release()

    def _after_write(self) -> None:
        """Called when a write transaction has let go of the write lock: every
        ``CHECKPOINT_EVERY``-th one wakes this process's checkpoint thread (:meth:`_checkpoints`)."""
        self._writes_since_checkpoint += 1
        if self._writes_since_checkpoint < CHECKPOINT_EVERY:
            return
        self._writes_since_checkpoint = 0
        if self._checkpointer is None:
            with self._checkpointing:
                if self._checkpointer is None and not self._closed:
                    self._checkpointer = threading.Thread(target=self._checkpoints, name="kefu-wal-checkpoint",
                                                          daemon=True)
                    self._checkpointer.start()
        self._checkpoint_due.set()

    def _checkpoints(self) -> None:
        """SQLite's WAL checkpoints, run in a thread of their own instead of by COMMIT
        (``wal_autocheckpoint=0`` on every connection, ``make_engine``): COMMIT would run one
        while its process still holds the write lock — copying the log into a large database
        file takes milliseconds at times — and inside the request that happened to commit. Here
        no lock is held and no request waits; PASSIVE never waits for readers or writers."""
        while True:
            self._checkpoint_due.wait()
            self._checkpoint_due.clear()
            if self._closed:
                return
            self.checkpoint()

    def checkpoint(self) -> None:
        """One PASSIVE WAL checkpoint (SQLite; a failure is logged and the next one retries)."""
        try:
            raw = self.engine.raw_connection()
            try:
                driver: Any = raw.driver_connection
                if driver.in_transaction:
                    driver.rollback()
                driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                raw.close()
        except Exception:    # the writes before it are committed: report, and the next one retries
            log.warning("WAL checkpoint failed; retried after the next writes", exc_info=True)

    def dispose(self) -> None:
        with self._checkpointing:
            self._closed = True
        self._checkpoint_due.set()
        if self._checkpointer is not None:
            self._checkpointer.join(10)
        self.engine.dispose()
        if self._write_lock is not None:
            self._write_lock.close()
