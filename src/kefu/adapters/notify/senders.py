"""Notification senders: a log file (default, every channel), SMTP for email, and a fake.

SMS and in-app messages have no external gateway in the open-source build: the file sender
writes them as JSON lines (a gateway adapter plugs in behind the same :class:`Sender` port).
"""

from __future__ import annotations

import logging
import os
import smtplib
import threading
import time
import weakref
from email.message import EmailMessage
from pathlib import Path

import orjson

from kefu.services.ports import OutgoingMessage, Sender

log = logging.getLogger("kefu.notify")


class LogFileSender:
    """Appends each message as one JSON line to ``path`` and logs it. Each line is one
    ``write`` on a descriptor opened with ``O_APPEND``, so the app processes sharing the file
    never interleave or overwrite each other's lines; the directory is made when missing.

    The descriptor is kept for up to :data:`REOPEN_AFTER_S` and then opened again, so a file
    rotated away (moved, deleted) is followed within that time — the lines written meanwhile
    are in the rotated file — without an ``open`` and ``close`` for every message (two thirds
    of the relay's time in this sender when a thousand tickets a second each queue messages)."""

    #: seconds a descriptor is used before the path is opened again
    REOPEN_AFTER_S = 1.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._opened_at = 0.0
        self._closer = weakref.finalize(self, _close_descriptor, [None])

    def send(self, message: OutgoingMessage) -> None:
        line = orjson.dumps({"id": message.id, "channel": message.channel, "to": message.recipient,
                             "subject": message.subject, "body": message.body, "event": message.event}) + b"\n"
        with self._lock:
            os.write(self._descriptor(), line)
        log.info("notify %s %s: %s", message.channel, message.event, message.subject)

    def close(self) -> None:
        with self._lock:
            self._closer()
            self._fd = None

    def _descriptor(self) -> int:
        now = time.monotonic()
        if self._fd is not None and now - self._opened_at < self.REOPEN_AFTER_S:
            return self._fd
        try:
            fd = os.open(self.path, _APPEND, 0o644)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, _APPEND, 0o644)
        self._closer()
        self._fd, self._opened_at = fd, now
        self._closer = weakref.finalize(self, _close_descriptor, [fd])
        return fd


def _close_descriptor(holder: list[int | None]) -> None:
    """Close the descriptor in ``holder``, once (a sender's finaliser)."""
    fd = holder[0]
    if fd is not None:
        holder[0] = None
        os.close(fd)


_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT


class SmtpSender:
    """Sends email through an SMTP server."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, message: OutgoingMessage) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        for name, value in message.headers.items():
            mail[name] = value
        mail.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(mail)


class ChannelRouter:
    """Sends each channel through its own sender, falling back to ``default``."""

    def __init__(self, default: Sender, **by_channel: Sender) -> None:
        self.default = default
        self.by_channel = by_channel

    def send(self, message: OutgoingMessage) -> None:
        self.by_channel.get(message.channel, self.default).send(message)


class MemorySender:
    """The fake: keeps what it was given; ``fail_times`` makes the first sends raise."""

    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[OutgoingMessage] = []
        self.fail_times = fail_times

    def send(self, message: OutgoingMessage) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("fake sender failure")
        self.sent.append(message)
