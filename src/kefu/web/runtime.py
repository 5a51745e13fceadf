"""What the app's routes share besides the database: policy, clock, storage and sender.

Built once per app from the settings (tests replace parts: a fixed clock, in-memory storage).
On the embedded default the app also runs the outbox relay and the seller-review sweep in a
background task; with several processes, the worker runs them instead (both are idempotent).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from fastapi import Request

from kefu.adapters.live.memory import InProcessBroker
from kefu.adapters.live.redis_pubsub import RedisBroker, make_broker
from kefu.adapters.notify.senders import ChannelRouter, LogFileSender, SmtpSender
from kefu.adapters.policy_files import load_policy_book
from kefu.adapters.storage.files import LocalFolderStorage
from kefu.bootstrap import desk_rules
from kefu.config import Settings
from kefu.domain.aftersales.params import PolicyBook
from kefu.domain.clock import Clock, system_clock
from kefu.services.aftersales import sweep_seller_reviews
from kefu.services.desk_clocks import DeskRules
from kefu.services.desk_sweep import sweep_desk
from kefu.services.notifications import relay_outbox
from kefu.services.ports import Sender, Storage
from kefu.services.uow import Database

if TYPE_CHECKING:
    from kefu.services.assistant import AssistantDeps

log = logging.getLogger("kefu.runtime")
RELAY_BATCH = 500


@dataclass
class Runtime:
    settings: Settings
    book: PolicyBook
    storage: Storage
    sender: Sender
    desk: DeskRules
    live: InProcessBroker | RedisBroker
    clock: Clock = field(default=system_clock)
    #: the assistant's heavy parts (classifier, policy data), built on first use
    _assistant_parts: Any = field(default=None, repr=False)
    _assistant_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def assistant_ready(self) -> bool:
        """Whether :meth:`assistant` answers without loading anything (no thread hop needed)."""
        return self._assistant_parts is not None

    def assistant(self) -> AssistantDeps:
        """The smart assistant's dependencies. The intent classifier (scikit-learn) loads on the
        first call — the app warms it in the background at start — and is shared afterwards;
        the clock, the live broker and the desk rules are read from this runtime each call, so a
        test that sets ``runtime.clock`` is obeyed."""
        from dataclasses import replace

        parts = self._assistant_parts
        if parts is None:
            with self._assistant_lock:
                parts = self._assistant_parts
                if parts is None:
                    from kefu.bootstrap import assistant_deps

                    parts = self._assistant_parts = assistant_deps(self.settings.policy_dir, self.book, self.desk,
                                                                   self.clock)
        deps: AssistantDeps = replace(parts, clock=self.clock, live=self.live, desk=self.desk, book=self.book)
        return deps

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        default = LogFileSender(settings.outbox_file)
        sender: Sender = default
        if settings.smtp_host:
            sender = ChannelRouter(default, email=SmtpSender(settings.smtp_host, settings.smtp_port,
                                                             settings.smtp_sender))
        return cls(settings=settings, book=load_policy_book(settings.policy_dir),
                   storage=LocalFolderStorage(settings.storage_dir), sender=sender,
                   desk=desk_rules(settings.policy_dir), live=make_broker(settings.redis_url))


def runtime_of(app: Any) -> Runtime:
    """The app's runtime, built from its settings on first use (tests may set their own first)."""
    runtime: Runtime | None = getattr(app.state, "runtime", None)
    if runtime is None:
        runtime = Runtime.from_settings(app.state.settings)
        app.state.runtime = runtime
    return runtime


def get_runtime(request: Request) -> Runtime:
    return runtime_of(request.app)


async def runtime_dep(request: Request) -> Runtime:
    """The dependency form of :func:`get_runtime` (async: no thread-pool hop)."""
    return runtime_of(request.app)


def run_background_once(db: Database, runtime: Runtime) -> tuple[int, int]:
    """One round of the periodic work: deliver the outbox, approve overdue seller reviews, run
    the service desk's SLA sweep."""
    sent = total = relay_outbox(db, runtime.sender, runtime.clock, batch=RELAY_BATCH)
    while sent == RELAY_BATCH and total < RELAY_BATCH * 20:     # drain a backlog, a bounded amount per round
        sent = relay_outbox(db, runtime.sender, runtime.clock, batch=RELAY_BATCH)
        total += sent
    sent = total
    approved = sweep_seller_reviews(db, runtime.book, runtime.clock)
    sweep_desk(db, runtime.desk, runtime.clock)
    return sent, approved


async def background_loop(db: Database, runtime: Runtime, every_s: float = 2.0) -> None:
    """Run :func:`run_background_once` every ``every_s`` seconds until cancelled.

    It runs in a thread of its own (its own limiter), so a slow mail server never takes a
    thread that requests need.
    """
    own_thread = anyio.CapacityLimiter(1)
    while True:
        try:
            await anyio.to_thread.run_sync(run_background_once, db, runtime, limiter=own_thread)
        except Exception:  # keep the loop alive; the next round retries what failed
            log.exception("background round failed")
        await asyncio.sleep(every_s)
