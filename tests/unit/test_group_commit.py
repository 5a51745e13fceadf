"""Group commit (kefu.web.group_commit): requests that arrive together are prepared in one trip to
the thread pool and written in one batch, and each still gets its own answer or its own error."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pytest

import kefu.web.group_commit as gc
from kefu.domain.errors import InputError
from kefu.web.group_commit import Done, GroupCommit


class Recorder:
    """The batch writer and the pool trips, as they happen."""

    def __init__(self) -> None:
        self.trips: list[tuple[str, int]] = []       # (what went to the pool, how many requests)
        self.batches: list[list[str]] = []
        self.prepared_in: set[int] = set()

    def write(self, drafts: Sequence[str]) -> list[str | Exception]:
        self.batches.append(list(drafts))
        return [InputError("bad_draft", "草稿有误", "Bad draft") if d == "poison" else d.upper() for d in drafts]

    def prepare(self, name: str) -> str | Done[str]:
        self.prepared_in.add(threading.get_ident())
        if name == "invalid":
            raise InputError("invalid", "输入有误", "Invalid input")
        if name == "cached":
            return Done("from memory")
        return name


@pytest.fixture()
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    real = gc.run_in_threadpool

    async def counting(func: Callable[..., Any], *args: Any) -> Any:
        if func is gc._prepare_each:
            rec.trips.append(("prepare", len(args[0])))
        else:
            rec.trips.append(("write", len(args[0])))
        return await real(func, *args)

    monkeypatch.setattr(gc, "run_in_threadpool", counting)
    return rec


def test_requests_arriving_together_are_prepared_in_one_trip_and_written_in_one_batch(recorder: Recorder) -> None:
    names = ["a", "b", "invalid", "c", "cached", "poison", "d"]

    async def main() -> list[Any]:
        queue: GroupCommit[str, str] = GroupCommit(recorder.write, asyncio.get_running_loop())
        return await asyncio.gather(*(queue.run(partial(recorder.prepare, n)) for n in names),
                                    return_exceptions=True)

    results = asyncio.run(main())
    assert recorder.trips[0] == ("prepare", 7)               # one trip prepared all seven
    assert [t for t in recorder.trips if t[0] == "prepare"] == [("prepare", 7)]
    assert recorder.batches == [["a", "b", "c", "poison", "d"]]   # neither the invalid one nor the answered one
    assert results[:2] == ["A", "B"] and results[3] == "C" and results[6] == "D"
    assert isinstance(results[2], InputError) and results[2].code == "invalid"
    assert results[4] == "from memory"
    assert isinstance(results[5], InputError) and results[5].code == "bad_draft"
    assert threading.get_ident() not in recorder.prepared_in     # never on the event loop


def test_a_request_arriving_during_a_round_is_prepared_in_the_next_and_joins_the_batch(recorder: Recorder) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(name: str) -> str:
        started.set()
        assert release.wait(5)
        return name

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        queue: GroupCommit[str, str] = GroupCommit(recorder.write, loop)
        first = asyncio.ensure_future(queue.run(partial(slow, "first")))
        await loop.run_in_executor(None, started.wait, 5)
        later = [asyncio.ensure_future(queue.run(partial(recorder.prepare, n))) for n in ("x", "y")]
        await asyncio.sleep(0)
        release.set()
        return list(await asyncio.gather(first, *later))

    assert asyncio.run(main()) == ["FIRST", "X", "Y"]
    assert [t for t in recorder.trips if t[0] == "prepare"] == [("prepare", 1), ("prepare", 2)]
    assert recorder.batches == [["first", "x", "y"]]          # the writer waited for the second round


def test_a_lone_request_is_prepared_and_written_at_once(recorder: Recorder) -> None:
    async def main() -> str:
        queue: GroupCommit[str, str] = GroupCommit(recorder.write, asyncio.get_running_loop())
        return await queue.run(partial(recorder.prepare, "alone"))

    assert asyncio.run(main()) == "ALONE"
    assert recorder.trips == [("prepare", 1), ("write", 1)]


def test_a_request_that_goes_away_leaves_the_others_answered(recorder: Recorder) -> None:
    async def main() -> list[Any]:
        queue: GroupCommit[str, str] = GroupCommit(recorder.write, asyncio.get_running_loop())
        tasks = [asyncio.ensure_future(queue.run(partial(recorder.prepare, n))) for n in ("p", "q", "r")]
        await asyncio.sleep(0)
        tasks[1].cancel()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    results = asyncio.run(main())
    assert results[0] == "P" and results[2] == "R"
    assert isinstance(results[1], asyncio.CancelledError)
