"""Live events across app processes through Redis pub/sub (``KEFU_REDIS_URL``).

Publishing sends the event to one Redis channel. Each app process holds exactly one
subscription to it (started with the app) and fans what arrives out to its own SSE streams
through an :class:`InProcessBroker` — so a reply posted through one process reaches a stream
served by any other, and a process's own events make the same trip (one path, no duplicates).
If the subscription drops, it reconnects with back-off; events published meanwhile are lost
to live pages only (the pages reload their state on reconnect, the database has everything).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import redis
import redis.asyncio as aioredis

from kefu.adapters.live.memory import InProcessBroker

log = logging.getLogger("kefu.live")
CHANNEL = "kefu:live"


class RedisBroker:
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._publisher = redis.Redis.from_url(url)
        self._local = InProcessBroker()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Send to every process (this one included); safe from any thread."""
        self._publisher.publish(self.channel, json.dumps({**event, "topic": topic}, ensure_ascii=False))

    @asynccontextmanager
    async def subscribe(self, topics: Iterable[str]) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async with self._local.subscribe(topics) as events:
            yield events

    @property
    def subscriber_count(self) -> int:
        return self._local.subscriber_count

    async def start(self) -> None:
        """Open this process's subscription; returns once it is listening."""
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._publisher.close()

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self._ready.set()
                    delay = 0.2
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            event = json.loads(message["data"])
                            topic = event.pop("topic")
                        except (ValueError, KeyError, TypeError):
                            log.warning("dropped a malformed live event: %r", message.get("data"))
                            continue
                        self._local.publish(topic, event)
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                log.warning("live events: Redis subscription lost (%s); reconnecting in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                await client.aclose()


def make_broker(redis_url: str | None) -> InProcessBroker | RedisBroker:
    """The broker for these settings: Redis when a URL is set, memory otherwise."""
    return RedisBroker(redis_url) if redis_url else InProcessBroker()
