"""Notifications through the outbox (DESIGN.md: side effects leave after commit).

A service writes the customer's messages into ``outbox_messages`` in its own transaction with
:func:`queue_customer_messages`; :func:`relay_outbox` later delivers pending rows through a
:class:`~kefu.services.ports.Sender`, retrying failures with back-off. In-app messages are also
the customer's inbox (:func:`list_inbox`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, text, update

from kefu.adapters.db.prepared import PreparedSet
from kefu.adapters.db.tables.outbox import UNDELIVERED_SQL, OutboxMessage
from kefu.domain.clock import Clock
from kefu.services.ports import OutgoingMessage, Sender
from kefu.services.uow import Database

MAX_ATTEMPTS = 8


class Recipient(Protocol):
    """A customer to write to (a Customer row or any record with these members)."""

    @property
    def id(self) -> str: ...

    @property
    def phone(self) -> str | None: ...

    @property
    def email(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Notice:
    """What to tell the customer, in both languages."""

    event: str
    zh: str
    en: str
    link: str | None = None
    sms: bool = True
    email: bool = True


_INSERT_MESSAGE = insert(cast(Table, OutboxMessage.__table__))


def queue_customer_messages(conn: Connection, customer: Recipient, notice: Notice, now: datetime) -> None:
    """Write the in-app message, and SMS / email when the customer has a phone / address.

    One multi-row INSERT in the caller's transaction, so the messages exist exactly when the
    change they announce does.
    """
    subject = notice.zh.split("。")[0][:60]
    targets = [("inapp", customer.id)]
    if notice.sms and customer.phone:
        targets.append(("sms", customer.phone))
    if notice.email and customer.email:
        targets.append(("email", customer.email))
    conn.execute(_INSERT_MESSAGE, [
        {"created_at": now, "channel": channel, "event": notice.event, "customer_id": customer.id,
         "recipient": recipient, "subject": f"【kefu】{subject}", "body": notice.zh, "link": notice.link,
         "data": {"en": notice.en}, "status": "pending", "attempts": 0, "available_at": now, "read": False}
        for channel, recipient in targets])


def queue_email(conn: Connection, *, recipient: str, subject: str, body: str, event: str, now: datetime,
                customer_id: str | None = None, headers: dict[str, str] | None = None) -> None:
    """Write one e-mail to the outbox in the caller's transaction (a reply in a customer's mail
    thread: ``headers`` carries In-Reply-To and References)."""
    conn.execute(_INSERT_MESSAGE, {
        "created_at": now, "channel": "email", "event": event, "customer_id": customer_id, "recipient": recipient,
        "subject": subject[:200], "body": body, "link": None, "data": {"headers": headers or {}},
        "status": "pending", "attempts": 0, "available_at": now, "read": False})


#: how long a claimed message is reserved for the relay that claimed it; if that relay dies
#: before recording the outcome, another one sends it again after this (at-least-once delivery)
CLAIM_LEASE = timedelta(minutes=2)


_OUTBOX = cast(Table, OutboxMessage.__table__)


def _claim_statement(dialect: str) -> Any:
    """Lease the due messages in one statement: ``UPDATE … WHERE id IN (the first due ids) RETURNING``
    — on PostgreSQL the ids are taken ``FOR UPDATE SKIP LOCKED``. The due ones are read from
    ``ix_outbox_due`` in its order (its condition is written out, so both databases use it)."""
    t = _OUTBOX.c
    due = (select(t.id).where(text(UNDELIVERED_SQL), t.available_at <= bindparam("now"))
           .order_by(t.available_at, t.id).limit(bindparam("batch")))
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (update(_OUTBOX).where(t.id.in_(due.scalar_subquery()))
            .values(status="sending", available_at=bindparam("lease_until"), attempts=t.attempts + 1)
            .returning(t.id, t.channel, t.recipient, t.subject, t.body, t.event, t.data, t.attempts))


_RELAY = PreparedSet(
    claim=_claim_statement,
    sent=update(_OUTBOX).where(_OUTBOX.c.id == bindparam("message_id"))
    .values(status="sent", sent_at=bindparam("done")),
    failed=update(_OUTBOX).where(_OUTBOX.c.id == bindparam("message_id"))
    .values(status=bindparam("next_status"), last_error=bindparam("error"), available_at=bindparam("retry_at")),
)


def relay_outbox(db: Database, sender: Sender, clock: Clock, batch: int = 200) -> int:
    """Deliver up to ``batch`` due messages; returns how many were sent.

    Three steps, so no transaction is open while a message travels (an SMTP server may take
    seconds; on SQLite an open write transaction would stop every other write meanwhile):

    1. claim: in a short transaction, take due ``pending`` rows (and ``sending`` rows whose
       lease ran out), the longest-waiting first, and lease them by moving ``available_at``
       forward — one ``UPDATE … RETURNING``; on PostgreSQL the rows are picked ``FOR UPDATE SKIP
       LOCKED``, so several relays share the work without overlap;
    2. send each one through the sender port, outside any transaction, in the order they were
       written (id);
    3. record: in a second short transaction, mark them ``sent``, or schedule a retry with
       exponential back-off (``failed`` after MAX_ATTEMPTS).

    Prepared statements (:mod:`kefu.adapters.db.prepared`), the outcomes recorded with one
    ``executemany`` each: the relay runs in every app process on the embedded default, beside
    the requests, and each opened ticket or submission queues messages for it.
    """
    now = clock()
    with db.prepared_write() as conn:
        rows = _RELAY.of(conn)["claim"].all(conn, now=now, batch=batch, lease_until=now + CLAIM_LEASE)
    if not rows:
        return 0

    delivered: list[int] = []
    failures: list[tuple[int, int, str]] = []
    for row in sorted(rows, key=lambda r: r.id):
        headers = (row.data or {}).get("headers") or {}
        message = OutgoingMessage(row.id, row.channel, row.recipient, row.subject, row.body, row.event,
                                  headers=dict(headers))
        try:
            sender.send(message)
        except Exception as exc:  # any sender failure is retried later, never lost
            failures.append((row.id, row.attempts, f"{type(exc).__name__}: {exc}"[:1000]))
        else:
            delivered.append(row.id)

    with db.prepared_write() as conn:
        done = clock()
        statements = _RELAY.of(conn)
        statements["sent"].run_many(conn, [{"message_id": message_id, "done": done} for message_id in delivered])
        statements["failed"].run_many(conn, [
            {"message_id": message_id, "error": error,
             "next_status": "pending" if attempts < MAX_ATTEMPTS else "failed",
             "retry_at": done + timedelta(seconds=2 ** attempts * 15) if attempts < MAX_ATTEMPTS else done}
            for message_id, attempts, error in failures])
    return len(delivered)


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    at: datetime
    event: str
    zh: str
    en: str
    link: str | None
    read: bool


def list_inbox(db: Database, customer_id: str, limit: int = 50) -> list[InboxItem]:
    """The customer's in-app messages, newest first."""
    with db.read() as uow:
        rows = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.customer_id == customer_id,
                                        OutboxMessage.channel == "inapp")
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit))
        return [InboxItem(r.id, r.created_at, r.event, r.body, str((r.data or {}).get("en", r.body)),
                          r.link, r.read) for r in rows]


def mark_inbox_read(db: Database, customer_id: str) -> int:
    """Mark all of the customer's in-app messages read; returns how many changed."""
    with db.uow() as uow:
        result = uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.customer_id == customer_id,
                                        OutboxMessage.channel == "inapp", OutboxMessage.read.is_(False))
            .values(read=True))
        uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)
