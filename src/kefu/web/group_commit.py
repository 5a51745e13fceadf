"""Group commit for the API's hottest writes (opening a ticket, submitting an application,
the assistant's turns): the requests one app process has in flight are written together, in one
write transaction, instead of one transaction each.

Each request prepares what it will write in the thread pool (reads, checks, computing — no
lock held), then waits here. The requests that arrive while a round of preparing is under way
are prepared together in the next round — one trip to the thread pool for all of them, one
after the other, each with its own result or error — since a trip costs the event loop more
than a short prepare (measured: 49 µs of the loop's time per trip through anyio's pool, 25 µs
through a plain executor). A writer task takes the waiting drafts and hands them to the
service's batch writer in the thread pool; before it does, it lets the requests still being
prepared join the batch (a few hundred microseconds each), so under load a batch holds about
every request the process has in flight, while a lone request is prepared and written at once.
What a batch shares: the database's write lock (on SQLite one writer at a time across
processes), BEGIN and COMMIT, and the index pages every row touches.

The batch writer answers one result per draft, in order — the written value, or the exception
that draft alone raised (the service writes a failing draft's batch again one by one, so only
the failing one fails). Every request gets its own answer or error; a request whose client went
away is simply not answered.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from starlette.concurrency import run_in_threadpool

D = TypeVar("D")
R = TypeVar("R")

#: the service function that writes a batch: one result or exception per draft, in order
BatchWriter = Callable[[Sequence[D]], Sequence[R | Exception]]


@dataclass(frozen=True, slots=True)
class Done(Generic[R]):
    """What a ``prepare`` returns for a request it finished itself (nothing left to write in the
    batch): :meth:`GroupCommit.run` answers ``value`` at once."""

    value: R


class GroupCommit(Generic[D, R]):
    """One group-commit queue in one event loop (see the module's docstring)."""

    #: at most this many drafts per transaction (the write lock is held for the whole batch)
    MAX_BATCH = 32

    def __init__(self, write: BatchWriter[D, R], loop: asyncio.AbstractEventLoop) -> None:
        self.write, self.loop = write, loop
        self._to_prepare: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._preparer: asyncio.Task[None] | None = None
        self._waiting: list[tuple[D, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._preparing = 0
        self._changed = asyncio.Event()

    async def run(self, prepare: Callable[[], D | Done[R]]) -> R:
        """Prepare the draft in the thread pool (with the other requests that arrived meanwhile),
        then have it written with the others; its result, or the exception writing it raised
        (``prepare``'s own errors are raised as is; a :class:`Done` it returns is answered
        without a write)."""
        self._preparing += 1
        try:
            prepared: asyncio.Future[D | Done[R]] = self.loop.create_future()
            self._to_prepare.append((prepare, prepared))
            if self._preparer is None:
                self._preparer = self.loop.create_task(self._prepare_waiting())
            draft = await prepared
        finally:
            self._preparing -= 1
            self._changed.set()
        if isinstance(draft, Done):
            return draft.value
        done: asyncio.Future[R] = self.loop.create_future()
        self._waiting.append((draft, done))
        if self._writer is None:
            self._writer = self.loop.create_task(self._write_waiting())
        return await done

    async def _prepare_waiting(self) -> None:
        try:
            while self._to_prepare:
                batch, self._to_prepare = self._to_prepare, []
                try:
                    outcomes = await run_in_threadpool(_prepare_each, [prepare for prepare, _ in batch])
                except asyncio.CancelledError:        # the loop is going away: so are the requests
                    for _, prepared in (*batch, *self._to_prepare):
                        prepared.cancel()
                    raise
                except Exception as exc:              # the trip itself failed: every request of it hears why
                    outcomes = [(False, exc)] * len(batch)
                for (_, prepared), (ok, value) in zip(batch, outcomes, strict=True):
                    if prepared.cancelled():
                        continue
                    if ok:
                        prepared.set_result(value)
                    else:
                        prepared.set_exception(value)
        finally:
            self._preparer = None

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                while self._preparing and len(self._waiting) < self.MAX_BATCH:
                    self._changed.clear()
                    await self._changed.wait()
                batch, self._waiting = self._waiting[:self.MAX_BATCH], self._waiting[self.MAX_BATCH:]
                results: Sequence[R | Exception]
                try:
                    results = await run_in_threadpool(self.write, [draft for draft, _ in batch])
                except Exception as exc:                 # the transaction itself failed: all of it
                    results = [exc] * len(batch)
                for (_, done), result in zip(batch, results, strict=True):
                    if done.cancelled():
                        continue
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
        finally:
            self._writer = None


def _prepare_each(prepares: Sequence[Callable[[], Any]]) -> list[tuple[bool, Any]]:
    """Run each request's ``prepare`` in turn (in a pool thread): ``(True, draft)``, or
    ``(False, exception)`` for one whose input or reads failed — that request alone gets it."""
    outcomes: list[tuple[bool, Any]] = []
    for prepare in prepares:
        try:
            outcomes.append((True, prepare()))
        except Exception as exc:
            outcomes.append((False, exc))
    return outcomes


_QUEUES: weakref.WeakKeyDictionary[Any, dict[str, GroupCommit[Any, Any]]] = weakref.WeakKeyDictionary()


def group_commit(owner: Any, name: str, write: BatchWriter[D, R]) -> GroupCommit[D, R]:
    """The ``name`` queue of ``owner`` (the app's :class:`~kefu.services.uow.Database`) in the
    running event loop, made on first use (a test's new loop gets a new one)."""
    loop = asyncio.get_running_loop()
    queues = _QUEUES.setdefault(owner, {})
    found = queues.get(name)
    if found is None or found.loop is not loop:
        found = queues[name] = GroupCommit(write, loop)
    return found
