"""An SMTP receiver for the desk's mailbox: each accepted mail becomes an :class:`InboundMessage`.

:class:`InboundMailHandler` is an aiosmtpd handler. For every mail it parses the DATA with
:func:`~kefu.adapters.channels.email_in.parse_email` and hands the result to ``on_message``,
run in a worker thread so a slow callback (a database write) does not stall the SMTP loop.
Replies to the sending server:

- ``250 OK``      parsed and handed over;
- ``550 5.1.1``   a recipient outside ``recipients`` (when given), refused at RCPT;
- ``552 5.3.4``   over the size limit (also enforced by aiosmtpd while receiving);
- ``554 5.6.0``   not a readable mail (no valid From address, empty);
- ``451 4.3.0``   ``on_message`` raised: a temporary failure, so the sender retries later and
                   the mail is not lost (de-duplicate on ``external_id``).

No STARTTLS or AUTH here: run it behind the organisation's MTA, or pass aiosmtpd's own
``tls_context`` through ``smtp_options``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Collection
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from kefu.adapters.channels.email_in import MAX_MAIL_BYTES, parse_email
from kefu.domain.clock import Clock, system_clock
from kefu.domain.service.channels import (
    DEFAULT_TICKET_PATTERN,
    InboundMessage,
    MalformedPayload,
    OversizePayload,
)

log = logging.getLogger("kefu.channels.smtp")

OnMessage = Callable[[InboundMessage], None]


class InboundMailHandler:
    """aiosmtpd handler: parse each mail and pass it to ``on_message`` (replies: the module doc)."""

    def __init__(self, on_message: OnMessage, *, recipients: Collection[str] | None = None,
                 ticket_pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN,
                 max_bytes: int = MAX_MAIL_BYTES, clock: Clock = system_clock) -> None:
        self.on_message = on_message
        self.recipients = None if recipients is None else frozenset(r.lower() for r in recipients)
        self.ticket_pattern = ticket_pattern
        self.max_bytes = max_bytes
        self.clock = clock

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.recipients is not None and address.lower() not in self.recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content
        if raw is None:
            content = envelope.content
            raw = content.encode("utf-8", "surrogateescape") if isinstance(content, str) else content or b""
        try:
            message = parse_email(raw, received_at=self.clock(), ticket_pattern=self.ticket_pattern,
                                  max_bytes=self.max_bytes)
        except OversizePayload:
            return "552 5.3.4 Message too big for this mailbox"
        except MalformedPayload as exc:
            log.warning("refused unreadable mail from %s: %s", envelope.mail_from, exc.en)
            return "554 5.6.0 Unreadable mail: " + _reply_text(exc.en)
        try:
            await asyncio.to_thread(self.on_message, message)
        except Exception:  # any failure downstream: tell the sender to retry rather than lose the mail
            log.exception("on_message failed for %s", message.external_id)
            return "451 4.3.0 Temporary failure, please retry later"
        return "250 OK"


def _reply_text(text: str) -> str:
    """A one-line ASCII SMTP reply text."""
    return re.sub(r"[^\x20-\x7e]", "?", text)[:200]


def start_smtp_receiver(host: str, port: int, on_message: OnMessage, *,
                        recipients: Collection[str] | None = None,
                        ticket_pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN,
                        max_bytes: int = MAX_MAIL_BYTES, clock: Clock = system_clock,
                        ready_timeout: float = 5.0, **smtp_options: Any) -> Controller:
    """Start an SMTP receiver on ``host:port`` in a background thread; call ``.stop()`` to end it.

    ``smtp_options`` go to aiosmtpd's ``SMTP`` (``tls_context``, ``require_starttls``,
    ``timeout`` …); SMTPUTF8 is on and the DATA size limit is ``max_bytes``.
    """
    handler = InboundMailHandler(on_message, recipients=recipients, ticket_pattern=ticket_pattern,
                                 max_bytes=max_bytes, clock=clock)
    controller = Controller(handler, hostname=host, port=port, ready_timeout=ready_timeout,
                            data_size_limit=max_bytes, enable_SMTPUTF8=True, **smtp_options)
    controller.start()
    return controller
