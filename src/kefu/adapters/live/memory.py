"""Live events within one process: services publish from worker threads, SSE streams listen on
the event loop.

Each subscriber owns a bounded queue; publishing hands the event to the subscriber's loop with
``call_soon_threadsafe`` (services run in the thread pool). A subscriber that falls more than
``MAX_BACKLOG`` events behind is dropped — its stream ends and the browser reconnects and
reloads — rather than letting one slow reader grow memory without bound.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

MAX_BACKLOG = 1000

#: put in a subscriber's queue when it fell too far behind (its stream then ends)
OVERFLOW: dict[str, Any] = {"type": "overflow"}


class _Subscriber:
    __slots__ = ("dropped", "loop", "queue", "topics")

    def __init__(self, loop: asyncio.AbstractEventLoop, topics: frozenset[str]) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(MAX_BACKLOG + 1)
        self.topics = topics
        self.dropped = False

    def offer(self, event: dict[str, Any]) -> None:
        """Runs on the subscriber's loop."""
        if self.dropped:
            return
        if self.queue.qsize() >= MAX_BACKLOG:
            self.dropped = True
            self.queue.put_nowait(OVERFLOW)
            return
        self.queue.put_nowait(event)


class InProcessBroker:
    """Fan-out of ``publish(topic, event)`` to every subscriber of ``topic`` in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[_Subscriber] = set()

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Deliver ``event`` (with its ``topic`` added) to the topic's subscribers; safe from any thread."""
        message = {**event, "topic": topic}
        with self._lock:
            targets = [s for s in self._subscribers if topic in s.topics]
        for sub in targets:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, message)
            except RuntimeError:          # its loop has closed: the stream is gone
                self._remove(sub)

    def _remove(self, sub: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    @asynccontextmanager
    async def subscribe(self, topics: Iterable[str]) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """``async with broker.subscribe(["ticket:T1"]) as events: async for e in events: …``"""
        sub = _Subscriber(asyncio.get_running_loop(), frozenset(topics))
        with self._lock:
            self._subscribers.add(sub)

        async def events() -> AsyncIterator[dict[str, Any]]:
            while True:
                event = await sub.queue.get()
                yield event
                if event is OVERFLOW:
                    return

        try:
            yield events()
        finally:
            self._remove(sub)

    async def start(self) -> None:
        """Nothing to connect in memory (the Redis broker connects here)."""

    async def stop(self) -> None:
        """Nothing to close in memory."""
