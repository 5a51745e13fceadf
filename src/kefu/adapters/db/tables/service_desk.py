"""Tables: the service desk — queues, agents' availability, tickets, their messages, history,
SLA clocks, tags, compensation requests, satisfaction surveys, canned replies, call records and
the compliance record of blocked replies.

The queue listing is the hottest read: the partial index ``ix_tickets_queue_open`` holds only
open tickets, ordered the way agents work them (priority, then age), so a page is one index
range scan whatever the number of closed tickets (keyset pagination on ``(priority, id)``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.adapters.db.base import Base, JSONType, Money, UTCDateTime

#: the SQL condition of "still open" used by the partial indexes (keep in step with
#: :data:`kefu.domain.service.tickets.OPEN_STATUSES`)
OPEN_STATUS_VALUES = ("new", "confirmed", "processing", "waiting_customer")
OPEN_SQL = "status IN (" + ", ".join(f"'{v}'" for v in OPEN_STATUS_VALUES) + ")"
_OPEN = text(OPEN_SQL)
_SLA_PENDING = text("met_at IS NULL AND breached_at IS NULL")
_WARN_PENDING = text("met_at IS NULL AND warned_at IS NULL AND breached_at IS NULL")


class Queue(Base):
    """A work queue (队列): which categories it takes, which skill it needs, how it assigns."""

    __tablename__ = "desk_queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    #: ticket categories routed here by default
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: the skill an agent needs to take this queue's tickets ('' = any agent of the queue)
    skill: Mapped[str] = mapped_column(String(32), default="")
    #: ``least_load`` or ``round_robin``
    strategy: Mapped[str] = mapped_column(String(16), default="least_load")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class QueueMember(Base):
    """An agent who works a queue."""

    __tablename__ = "desk_queue_members"

    queue_id: Mapped[int] = mapped_column(ForeignKey("desk_queues.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class AgentProfile(Base):
    """An agent's desk settings: supervisor (D9), capacity, skills and whether they are online."""

    __tablename__ = "desk_agents"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    capacity: Mapped[int] = mapped_column(Integer, default=5)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    #: when this agent last got a ticket by assignment (round robin takes the longest idle)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: how many open tickets are assigned to this agent — kept by the database's triggers on
    #: ``tickets`` (migration 0009), never written by the application
    open_load: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class Ticket(Base):
    """One ticket (工单): a consultation or a complaint, followed to its end."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue_open", "queue_id", "priority", "id", sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_tickets_assignee_open", "assignee_id", "priority", "id",
              sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_tickets_customer", "customer_id", "id"),
        Index("ix_tickets_seller", "seller_id", "id"),
        Index("ix_tickets_contact", "channel", "contact"),
        Index("ix_tickets_status", "status", "id"),
        #: the sweep's auto-close: the oldest resolved tickets, in order (migration 0007)
        Index("ix_tickets_status_resolved", "status", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    #: who wrote in when no customer account is known yet (an e-mail address, a WeChat OpenID …)
    contact: Mapped[str | None] = mapped_column(String(254))
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("aftersales_applications.id"))
    #: the seller whose goods it is about (the seller may read and answer it)
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20))
    #: lower is served first (D5: PLUS and enterprise rank ahead of regular of the same priority)
    priority: Mapped[int] = mapped_column(Integer)
    customer_level: Mapped[str] = mapped_column(String(16), default="regular")
    subject: Mapped[str] = mapped_column(String(200))
    queue_id: Mapped[int] = mapped_column(ForeignKey("desk_queues.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: D9: the employee number a complaint names (it never goes to that agent)
    named_employee_no: Mapped[str | None] = mapped_column(String(32))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set while waiting for the customer: the SLA clocks are paused
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class TicketMessage(Base):
    """A public reply or an internal note on a ticket (the transcript of a chat, too)."""

    __tablename__ = "ticket_messages"
    __table_args__ = (
        Index("ix_ticket_messages_ticket", "ticket_id", "id"),
        UniqueConstraint("channel", "external_id", name="uq_ticket_messages_external"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: customer | agent | supervisor | seller | admin | system | bot
    author_role: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str] = mapped_column(String(100), default="")
    #: public (the customer sees it) | internal (staff only)
    visibility: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    #: the platform's message id (Message-ID, WeChat MsgId …), to drop a message delivered twice
    external_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketAttachment(Base):
    """A file on a ticket (evidence, a screenshot, an e-mail attachment), kept through the storage port."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_messages.id"))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketEvent(Base):
    """Append-only history of a ticket: who did what, when, from which status to which."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class TicketTag(Base):
    __tablename__ = "ticket_tags"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class TicketSla(Base):
    """One SLA clock of a ticket (first response, confirm, first result, resolution).

    ``due_at`` and ``warn_at`` move later while the ticket waits for the customer; the sweep
    finds the clocks to warn or breach through the two partial indexes, and stamps each once.
    """

    __tablename__ = "ticket_sla"
    __table_args__ = (
        Index("ix_ticket_sla_due", "due_at", sqlite_where=_SLA_PENDING, postgresql_where=_SLA_PENDING),
        Index("ix_ticket_sla_warn", "warn_at", sqlite_where=_WARN_PENDING, postgresql_where=_WARN_PENDING),
        Index("ix_ticket_sla_ticket", "ticket_id", "metric"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    metric: Mapped[str] = mapped_column(String(16))
    #: ``business`` (D1's business hours and holidays) or ``always`` (7×24)
    calendar: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CompensationRequest(Base):
    """A compensation a complaint asks for (shipping subsidy, goodwill); approved within D10's limits."""

    __tablename__ = "compensation_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text, default="")
    #: who must approve it under D10: agent | supervisor | manager
    approver_level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SatisfactionSurvey(Base):
    """D7: one survey per resolution, answerable once before ``due_at``.

    The agent, queue and seller are copied in when it is sent, so reports group without joins.
    """

    __tablename__ = "satisfaction_surveys"
    __table_args__ = (
        Index("ix_surveys_agent", "agent_id", "answered_at"),
        Index("ix_surveys_queue", "queue_id", "answered_at"),
        Index("ix_surveys_seller", "seller_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("desk_queues.id"))
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CannedReply(Base):
    """A canned reply or macro: a body with variables ({customer_name}, {order_id} …) and
    optional steps to take with it (a tag, a status)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(24))
    actions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplianceViolation(Base):
    """A reply the compliance check blocked, kept for the author's (and the seller's) record."""

    __tablename__ = "compliance_violations"
    __table_args__ = (Index("ix_compliance_violations_seller", "seller_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    author_role: Mapped[str] = mapped_column(String(16))
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    text: Mapped[str] = mapped_column(Text)
    kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    matches: Mapped[list[str]] = mapped_column(JSONType, default=list)


class CallRecord(Base):
    """A phone call through the IVR: menu path, queue, agent, duration, recording, notes."""

    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(32), index=True)
    dialled: Mapped[str] = mapped_column(String(32), default="")
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    menu_path: Mapped[str] = mapped_column(String(64), default="")
    #: invalid key presses in a row at the current menu (the IVR transfers after too many)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    #: ivr | queued | answered | ended
    status: Mapped[str] = mapped_column(String(12), default="ivr")
    queue_code: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    recording_key: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str] = mapped_column(Text, default="")
