"""Poll an IMAP mailbox for unseen mail (stdlib :mod:`imaplib`), for desks without their own MX.

:func:`poll_imap` logs in, selects the mailbox, searches ``UNSEEN`` by UID and for each mail
fetches ``BODY.PEEK[]`` (peeking leaves ``\\Seen`` unset) and its ``INTERNALDATE`` (the arrival
time, used as ``received_at``), parses it with
:func:`~kefu.adapters.channels.email_in.parse_email` and calls ``on_message``. Only after
``on_message`` returns is the mail marked ``\\Seen``; if it raises, the poll stops there and that
mail and the rest stay unseen for the next poll (de-duplicate on ``external_id``). A mail that
cannot be parsed is marked ``\\Seen \\Flagged`` and logged, so a person finds it and the poll does
not trip over it forever.

Run it from a scheduler (one poller per mailbox at a time). Tested against a small fake IMAP
server on the loopback (``tests/integration/test_imap_poll.py``), not against a real provider;
the mailbox name is sent as given, so a non-ASCII folder needs its modified UTF-7 name.
"""

from __future__ import annotations

import imaplib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from kefu.adapters.channels.email_in import MAX_MAIL_BYTES, parse_email
from kefu.domain.service.channels import DEFAULT_TICKET_PATTERN, InboundMessage

log = logging.getLogger("kefu.channels.imap")

_INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})"')
_MONTHS = {name: number for number, name in enumerate(
    (b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"), start=1)}


class ImapError(RuntimeError):
    """The IMAP server refused a command."""


def poll_imap(host: str, port: int, user: str, password: str, mailbox: str,
              on_message: Callable[[InboundMessage], None], ssl: bool = True, *,
              ticket_pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN,
              max_bytes: int = MAX_MAIL_BYTES, timeout: float = 30.0) -> int:
    """Hand every unseen mail in ``mailbox`` to ``on_message``; the number handed over."""
    client_class = imaplib.IMAP4_SSL if ssl else imaplib.IMAP4
    handed = 0
    with client_class(host, port, timeout=timeout) as imap:
        _ok(imap.login(user, password), "LOGIN")
        _ok(imap.select(_quoted(mailbox)), "SELECT")
        found = _ok(imap.uid("SEARCH", "UNSEEN"), "SEARCH")
        uids = found[0].decode("ascii").split() if found and isinstance(found[0], bytes) else []
        for uid in uids:
            raw, received_at = _fetch(imap, uid)
            try:
                message = parse_email(raw, received_at=received_at, ticket_pattern=ticket_pattern,
                                      max_bytes=max_bytes)
            except ValueError as exc:  # MalformedPayload or OversizePayload
                log.warning("IMAP %s uid %s: %s; flagged for a person", mailbox, uid, exc)
                _ok(imap.uid("STORE", uid, "+FLAGS", r"(\Seen \Flagged)"), "STORE")
                continue
            on_message(message)
            _ok(imap.uid("STORE", uid, "+FLAGS", r"(\Seen)"), "STORE")
            handed += 1
        imap.close()
    return handed


def _fetch(imap: imaplib.IMAP4, uid: str) -> tuple[bytes, datetime | None]:
    data = _ok(imap.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])"), "FETCH")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            head, body = item
            return bytes(body), parse_internaldate(head) or _internaldate_after(data, item)
    raise ImapError(f"FETCH of uid {uid} returned no message body")


def _internaldate_after(data: list[Any], item: object) -> datetime | None:
    """INTERNALDATE when the server sends it after the literal (``… BODY[] {n} <bytes> INTERNALDATE "…")``)."""
    position = data.index(item)
    tail = data[position + 1] if position + 1 < len(data) else b""
    return parse_internaldate(tail) if isinstance(tail, bytes) else None


def parse_internaldate(response: bytes) -> datetime | None:
    """The INTERNALDATE in a FETCH response line as an aware datetime, or None."""
    found = _INTERNALDATE.search(response)
    if found is None:
        return None
    day, month, year, hour, minute, second, sign, off_h, off_m = found.groups()
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == b"-" else 1)
    try:
        return datetime(int(year), number, int(day), int(hour), int(minute), int(second), tzinfo=timezone(offset))
    except ValueError:
        return None


def _quoted(mailbox: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends arguments as they are)."""
    if mailbox.isascii() and re.fullmatch(r"[A-Za-z0-9._/-]+", mailbox):
        return mailbox
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(response: tuple[str, list[Any]], command: str) -> list[Any]:
    status, data = response
    if status != "OK":
        detail = data[0].decode(errors="replace") if data and isinstance(data[0], bytes) else data
        raise ImapError(f"IMAP {command} failed: {status} {detail}")
    return data
