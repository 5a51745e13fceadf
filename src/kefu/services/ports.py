"""Ports: what services need from the outside world, as small protocols (DESIGN.md, adapters).

Each has a real adapter (``kefu.adapters…``) and an in-memory fake that unit tests use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Storage(Protocol):
    """Where evidence files live (a local folder by default)."""

    def save(self, key: str, data: bytes) -> None: ...

    def load(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    id: int
    channel: str          # sms | email | inapp
    recipient: str
    subject: str
    body: str
    event: str
    #: extra e-mail headers (In-Reply-To, References) so a reply joins the customer's thread
    headers: dict[str, str] = field(default_factory=dict)


class Sender(Protocol):
    """Delivers one message; raises on failure so the relay can retry it."""

    def send(self, message: OutgoingMessage) -> None: ...


class LiveEvents(Protocol):
    """Where services announce a change for live pages (chat, queues) after they commit.

    ``topic`` names who listens (``ticket:<number>``, ``desk``); ``event`` is a small JSON-able
    dict (what changed, never the content: each listener reads what its viewer may see).
    In one process the events fan out in memory; with ``KEFU_REDIS_URL`` they go through Redis
    pub/sub to every app process.
    """

    def publish(self, topic: str, event: dict[str, Any]) -> None: ...
