"""Messages from outside channels (e-mail, WeChat, Weibo, phone) become tickets or join one
(issue 4 §6–§7).

Which ticket a message joins, in this order:
1. the ticket number it names (``[#T…]`` in a subject), if that ticket is the same person's;
2. the ticket holding the message it answers (e-mail In-Reply-To / References, the Weibo
   status it replies to);
3. for chat-like channels (WeChat, Weibo, phone), the person's open ticket on that channel;
otherwise a new ticket opens. A finished ticket is never reopened by mail: a new one opens and
mentions it. A message the platform delivers twice (same ``external_id``) is kept once.

The sender is matched to a customer by e-mail address or phone number where the channel gives
one; otherwise the ticket is kept under the platform identity (``contact``) until an agent links it.

A message that opens a new ticket may get one automatic reply (``auto_reply``: the smart
assistant's answer to an e-mail, :func:`kefu.services.assistant_channels.email_auto_reply`),
written in the ticket's own transaction; a message that joins a thread never does.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from kefu.adapters.db.tables.catalog import Customer
from kefu.adapters.db.tables.service_desk import Ticket, TicketAttachment, TicketMessage
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import Clock
from kefu.domain.service.channels import InboundMessage
from kefu.domain.service.tickets import FINAL_STATUSES, Category, Channel, Kind, Status
from kefu.services.desk_clocks import DeskRules
from kefu.services.ports import LiveEvents, Storage
from kefu.services.tickets import IS_OPEN, TicketRequest, open_ticket, post_message
from kefu.services.uow import Database

#: largest attachment kept from an inbound message (bigger ones are listed in the note, not kept)
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_CHAT_LIKE = frozenset({Channel.WECHAT.value, Channel.WEIBO.value, Channel.PHONE.value})
#: given a message about to open a new ticket, what to write in that ticket's transaction to
#: answer it automatically (``open_ticket``'s ``after_write``), or None for no automatic reply
AutoReply = Callable[[InboundMessage], Callable[[Connection, Ticket], None] | None]


@dataclass(frozen=True, slots=True)
class Received:
    ticket_number: str
    created: bool
    duplicate: bool = False


def _actor_for(msg: InboundMessage) -> Actor:
    return Actor(user_id=None, role=Role.SYSTEM, display_name=msg.sender_name or msg.sender)


def _customer_id(db: Database, msg: InboundMessage) -> str | None:
    with db.read_connection() as conn:
        if msg.channel == Channel.EMAIL.value and "@" in msg.sender:
            return conn.scalar(select(Customer.id).where(func.lower(Customer.email) == msg.sender.lower()).limit(1))
        if msg.channel == Channel.PHONE.value:
            return conn.scalar(select(Customer.id).where(Customer.phone == msg.sender).limit(1))
    return None


def _same_person(ticket: Ticket, msg: InboundMessage, customer_id: str | None) -> bool:
    if customer_id is not None and ticket.customer_id == customer_id:
        return True
    return ticket.contact is not None and ticket.contact.lower() == msg.sender.lower()


def _thread_of(db: Database, msg: InboundMessage, customer_id: str | None) -> Ticket | None:
    with db.read() as uow:
        s = uow.session
        if msg.ticket_number:
            named = s.scalars(select(Ticket).where(Ticket.number == msg.ticket_number)).first()
            if named is not None and _same_person(named, msg, customer_id):
                return named
        keys = [k for k in msg.thread_keys if k and k != msg.sender]
        if keys:
            found = s.scalars(select(Ticket).join(TicketMessage, TicketMessage.ticket_id == Ticket.id).where(
                TicketMessage.channel == msg.channel, TicketMessage.external_id.in_(keys),
            ).order_by(TicketMessage.id.desc()).limit(1)).first()
            if found is not None and _same_person(found, msg, customer_id):
                return found
        if msg.channel in _CHAT_LIKE:
            return s.scalars(select(Ticket).where(
                Ticket.channel == msg.channel, Ticket.contact == msg.sender, IS_OPEN,
            ).order_by(Ticket.id.desc()).limit(1)).first()
    return None


def _duplicate(db: Database, msg: InboundMessage) -> str | None:
    if not msg.external_id:
        return None
    with db.read_connection() as conn:
        return conn.scalar(select(Ticket.number).join(TicketMessage, TicketMessage.ticket_id == Ticket.id).where(
            TicketMessage.channel == msg.channel, TicketMessage.external_id == msg.external_id).limit(1))


def _store_attachments(db: Database, storage: Storage, number: str, msg: InboundMessage, clock: Clock) -> int:
    kept = 0
    with db.uow() as uow:
        s = uow.session
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)).one()
        message_id = s.scalar(select(TicketMessage.id).where(
            TicketMessage.ticket_id == ticket.id, TicketMessage.external_id == msg.external_id))
        for item in msg.attachments:
            if not item.data or len(item.data) > MAX_ATTACHMENT_BYTES:
                continue
            key = f"tickets/{ticket.id}/{secrets.token_hex(16)}"
            storage.save(key, item.data)
            s.add(TicketAttachment(ticket_id=ticket.id, message_id=message_id, uploaded_by=None,
                                   filename=item.filename[:255] or "attachment", content_type=item.content_type[:100],
                                   size=len(item.data), sha256=hashlib.sha256(item.data).hexdigest(),
                                   storage_key=key, created_at=clock()))
            kept += 1
        uow.commit()
    return kept


def receive_message(db: Database, msg: InboundMessage, rules: DeskRules, clock: Clock, *,
                    storage: Storage | None = None, live: LiveEvents | None = None,
                    category: Category = Category.OTHER, kind: Kind = Kind.CONSULTATION,
                    queue_code: str | None = None, auto_reply: AutoReply | None = None) -> Received:
    """Open a ticket for ``msg`` or add it to the thread it belongs to (see the module docstring)."""
    seen = _duplicate(db, msg)
    if seen is not None:
        return Received(seen, created=False, duplicate=True)
    customer_id = _customer_id(db, msg)
    actor = _actor_for(msg)
    body = msg.body.strip() or "（无正文）"
    thread = _thread_of(db, msg, customer_id)
    if thread is not None and Status(thread.status) not in FINAL_STATUSES:
        post_message(db, actor, thread.number, body, rules, clock, external_id=msg.external_id or None,
                     channel=msg.channel, live=live)
        number, created = thread.number, False
    else:
        if thread is not None:
            body = f"{body}\n\n（关联已关闭的工单 {thread.number}）"
        subject = (msg.subject or body.splitlines()[0])[:200]
        answer = auto_reply(msg) if auto_reply is not None and thread is None else None
        ticket = open_ticket(db, actor, TicketRequest(
            subject=subject, body=body, channel=Channel(msg.channel), category=category, kind=kind,
            customer_id=customer_id, contact=msg.sender, contact_name=msg.sender_name,
            external_id=msg.external_id or None, queue_code=queue_code), rules, clock, live=live,
            after_write=answer)
        number, created = ticket.number, True
    if storage is not None and msg.attachments:
        _store_attachments(db, storage, number, msg, clock)
    return Received(number, created=created)
