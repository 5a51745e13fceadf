"""One normalised inbound message for every channel the service desk listens on.

Each platform has its own wire format (an RFC 5322 mail, a WeChat Official Account XML push,
a Weibo fans-service JSON push, a phone call record …). The channel adapters in
``kefu.adapters.channels`` turn each of them into an :class:`InboundMessage`, and the ticket
service works only with that value (DESIGN.md capability 3, "tickets across channels").

Errors raised by the adapters for a payload they cannot read::

    ValueError
     ├── MalformedPayload   (also kefu BadRequest, 400)       the payload does not fit the format
     ├── OversizePayload    (also kefu PayloadTooLarge, 413)  the payload is over the size limit
     └── NotAMessage                                          a valid push that is not a customer
                                                              message (follow, subscribe, menu click)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kefu.domain.errors import BadRequest, PayloadTooLarge
from kefu.domain.service.tickets import Channel

#: the channels a message can arrive on (POLICY.md §10 D1–D3 name their service levels)
CHANNELS = frozenset(channel.value for channel in Channel)

#: how a ticket number is written in a subject or message by default: ``[#T12345]``
DEFAULT_TICKET_PATTERN = r"\[#(T\d+)\]"


class MalformedPayload(BadRequest, ValueError):
    """A platform payload that cannot be read as that platform's format."""

    def __init__(self, channel: str, reason_zh: str, reason_en: str) -> None:
        super().__init__("channel_payload_malformed", f"无法解析{channel}消息：{reason_zh}",
                         f"Cannot read the {channel} message: {reason_en}", channel=channel)
        self.channel = channel


class OversizePayload(PayloadTooLarge, ValueError):
    """A platform payload over the adapter's size limit (refused before it is parsed)."""

    def __init__(self, channel: str, size: int, limit: int) -> None:
        super().__init__("channel_payload_too_large", f"{channel}消息过大：{size} 字节，上限 {limit} 字节。",
                         f"The {channel} message is {size} bytes, over the {limit}-byte limit.",
                         channel=channel, size=size, limit=limit)
        self.channel = channel


class NotAMessage(ValueError):
    """A well-formed push that carries no customer message (an event such as follow or subscribe).

    Callers acknowledge it to the platform and do not open a ticket for it.
    """

    def __init__(self, channel: str, event: str) -> None:
        super().__init__(f"{channel} push is the event {event!r}, not a customer message")
        self.channel = channel
        self.event = event


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """A file that came with a message."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message from any channel, normalised (DESIGN.md capability 3).

    ``sender`` is the platform identity (a lower-cased email address, a WeChat OpenID, a Weibo
    uid, a caller number); ``external_id`` is the platform's message id, used to drop a message
    the platform delivers twice; ``thread_keys`` are ids that link this message to an earlier one
    (an email's References and In-Reply-To, a WeChat OpenID, the Weibo status it replies to).
    ``received_at`` is normalised to UTC; a naive datetime is refused.
    """

    channel: str
    sender: str
    sender_name: str
    external_id: str
    thread_keys: tuple[str, ...]
    subject: str
    body: str
    received_at: datetime
    attachments: tuple[InboundAttachment, ...] = ()
    ticket_number: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {sorted(CHANNELS)}")
        if not self.sender:
            raise ValueError("an inbound message needs a sender")
        if not self.external_id:
            raise ValueError("an inbound message needs an external id")
        offset = self.received_at.utcoffset()
        if offset is None:
            raise ValueError("received_at must be timezone-aware")
        if offset != timedelta(0) or self.received_at.tzinfo is not UTC:
            # frozen: normalising the stored value is the one write allowed here
            object.__setattr__(self, "received_at", self.received_at.astimezone(UTC))


def compile_ticket_pattern(pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN) -> re.Pattern[str]:
    """The ticket-number pattern, compiled; it must have exactly one group (the number)."""
    compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
    if compiled.groups != 1:
        raise ValueError("a ticket-number pattern needs exactly one group, the number")
    return compiled


def find_ticket_number(text: str, pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN) -> str | None:
    """The first ticket number written in ``text`` (a subject, or a chat message), or ``None``.

    The default pattern reads ``[#T12345]``, the tag replies carry in their subject; operators
    may configure another, e.g. ``r"工单号[:：\\s]*(T\\d+)"``.
    """
    found = compile_ticket_pattern(pattern).search(text)
    return found.group(1) if found else None
