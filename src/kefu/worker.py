"""The worker of the scaled-out mode (``KEFU_REDIS_URL`` set): the outbox relay and the sweeps
run as Dramatiq tasks on Redis instead of inside each app process.

``kefu worker`` starts Dramatiq worker threads in this process and a ticker that, every
``interval`` seconds, enqueues each periodic task. Several workers may run: a ticker enqueues a
task only when it wins that interval's Redis lock (``SET … NX PX``), so one round is enqueued
per interval whatever the number of workers, and any worker may execute it. Every task is
idempotent (guarded updates, leases), so a message delivered twice — or two workers running
the same sweep at once — changes nothing twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from kefu.config import Settings
from kefu.services.aftersales import sweep_seller_reviews
from kefu.services.desk_sweep import sweep_desk
from kefu.services.notifications import relay_outbox
from kefu.services.uow import Database
from kefu.web.runtime import RELAY_BATCH, Runtime

log = logging.getLogger("kefu.worker")
QUEUE = "kefu"
NAMESPACE = "kefu"


@dataclass
class WorkerContext:
    """What the tasks of this process share: one database pool and the runtime pieces."""

    db: Database
    runtime: Runtime


_context: WorkerContext | None = None
_context_lock = threading.Lock()


def context_for(settings: Settings) -> WorkerContext:
    global _context
    with _context_lock:
        if _context is None:
            _context = WorkerContext(db=Database.from_url(settings.database_url),
                                     runtime=Runtime.from_settings(settings))
        return _context


@dataclass(frozen=True)
class Tasks:
    """The periodic tasks, declared on one broker."""

    broker: RedisBroker
    relay_outbox: dramatiq.Actor[[], int]
    sweep_seller_reviews: dramatiq.Actor[[], int]
    sweep_desk: dramatiq.Actor[[], dict[str, int]]

    def periodic(self) -> list[dramatiq.Actor[Any, Any]]:
        return [self.relay_outbox, self.sweep_seller_reviews, self.sweep_desk]


def declare_tasks(settings: Settings) -> Tasks:
    """Make the broker for ``settings.redis_url`` and declare the tasks on it."""
    if not settings.redis_url:
        raise ValueError("KEFU_REDIS_URL is not set: the embedded default runs this work inside the app")
    broker = RedisBroker(url=settings.redis_url, namespace=NAMESPACE)  # type: ignore[no-untyped-call]
    dramatiq.set_broker(broker)

    def relay() -> int:
        ctx = context_for(settings)
        total = sent = relay_outbox(ctx.db, ctx.runtime.sender, ctx.runtime.clock, batch=RELAY_BATCH)
        while sent == RELAY_BATCH and total < RELAY_BATCH * 20:
            sent = relay_outbox(ctx.db, ctx.runtime.sender, ctx.runtime.clock, batch=RELAY_BATCH)
            total += sent
        return total

    def reviews() -> int:
        ctx = context_for(settings)
        return sweep_seller_reviews(ctx.db, ctx.runtime.book, ctx.runtime.clock)

    def desk() -> dict[str, int]:
        ctx = context_for(settings)
        result = sweep_desk(ctx.db, ctx.runtime.desk, ctx.runtime.clock)
        return {"warned": result.warned, "breached": result.breached, "closed": result.closed,
                "indexed": result.indexed}

    def actor(fn: Callable[[], Any], name: str) -> dramatiq.Actor[Any, Any]:
        declare = dramatiq.actor(actor_name=name, queue_name=QUEUE, broker=broker, max_retries=3,
                                 min_backoff=1000, time_limit=5 * 60 * 1000)
        return declare(fn)

    return Tasks(broker=broker, relay_outbox=actor(relay, "kefu.relay_outbox"),
                 sweep_seller_reviews=actor(reviews, "kefu.sweep_seller_reviews"),
                 sweep_desk=actor(desk, "kefu.sweep_desk"))


def tick(client: redis.Redis, tasks: Tasks, interval_s: float) -> list[str]:
    """Enqueue each periodic task whose lock for this interval this process wins; returns their names."""
    sent = []
    for task in tasks.periodic():
        if client.set(f"{NAMESPACE}:tick:{task.actor_name}", "1", nx=True, px=max(1, int(interval_s * 1000))):
            task.send()
            sent.append(task.actor_name)
    return sent


def run_worker(settings: Settings, *, threads: int = 2, interval_s: float = 2.0,
               stop: threading.Event | None = None) -> None:
    """Run worker threads and the ticker until ``stop`` is set (or the process is interrupted)."""
    tasks = declare_tasks(settings)
    stop = stop or threading.Event()
    worker = dramatiq.Worker(tasks.broker, queues={QUEUE}, worker_threads=threads, worker_timeout=500)
    worker.start()
    client = redis.Redis.from_url(settings.redis_url or "")
    log.info("kefu worker: %d threads, ticking every %.1fs", threads, interval_s)
    try:
        while not stop.is_set():
            try:
                tick(client, tasks, interval_s)
            except redis.RedisError:
                log.exception("ticker: Redis unavailable; retrying")
            stop.wait(interval_s)
    finally:
        worker.stop(timeout=10_000)
        client.close()
        if _context is not None:
            _context.db.dispose()
