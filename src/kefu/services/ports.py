"""Ports: what services need from the outside world, as small protocols (DESIGN.md, adapters).

Each has a real adapter (``kefu.adapters…``) and an in-memory fake that unit tests use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


class Sender(Protocol):
    """Delivers one message; raises on failure so the relay can retry it."""

    def send(self, message: OutgoingMessage) -> None: ...
