"""One SQLite writer at a time, across threads and processes, without the busy handler's sleeps.

SQLite allows a single writer. When several threads or worker processes start ``BEGIN
IMMEDIATE`` together, the losers sit in SQLite's busy handler, which sleeps 1, 2, 5, 10 … 100 ms
between retries while the lock is often already free; under load that turns 2 ms transactions
into p99s of seconds. This lock queues writers instead: a thread lock inside the process and an
``flock`` on ``<database>.writelock`` between processes. The kernel wakes the next waiter the
moment the holder releases, so the write lock is never idle while someone waits.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux: the thread lock alone still helps
    fcntl = None  # type: ignore[assignment]


class WriterLock:
    """Re-entrant within a thread; exclusive across threads and processes."""

    def __init__(self, database_file: Path) -> None:
        self.path = database_file.with_name(database_file.name + ".writelock")
        self._thread_lock = threading.RLock()
        self._depth = threading.local()
        self._fd: int | None = None
        #: called after the outermost release, with no lock held (Database: the WAL checkpoint)
        self.after_release: Callable[[], None] | None = None

    def _file(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def acquire(self) -> None:
        self._thread_lock.acquire()
        depth = getattr(self._depth, "n", 0)
        if depth == 0 and fcntl is not None:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth.n = depth + 1

    def release(self) -> None:
        depth = self._depth.n - 1
        self._depth.n = depth
        try:
            if depth == 0 and fcntl is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()
        if depth == 0 and self.after_release is not None:
            self.after_release()

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None (memory databases and other dialects)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path.split("?", 1)[0])
