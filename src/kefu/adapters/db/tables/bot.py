"""Tables: the smart assistant's conversations, the FAQ knowledge base, and changes made to orders
after the sale (cancel, change of address) by a shopper, an agent or the assistant.

A conversation (:class:`BotSession`) belongs to one owner — a customer, or an anonymous visitor —
and is named by the client's ``session_id``; the same ``session_id`` under another owner is
another conversation, so one shopper can never continue (or read) another's. Each message and the
assistant's answer is one :class:`BotTurn`: the supervisor's bot metrics (volume per intent,
answered without a person, handoffs by reason, the least sure messages) are read from these rows.
When the conversation is handed to a person it points at the web-chat ticket that carries its
transcript.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.adapters.db.base import Base, JSONType, UTCDateTime


class BotSession(Base):
    """One conversation with the assistant."""

    __tablename__ = "bot_sessions"
    __table_args__ = (
        UniqueConstraint("owner", "session_key", name="uq_bot_sessions_owner_key"),
        Index("ix_bot_sessions_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: ``customer:<id>`` for a logged-in shopper, ``anon`` for a visitor
    owner: Mapped[str] = mapped_column(String(48))
    #: the client's ``session_id``
    session_key: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    #: web_chat | app | phone | email | api
    channel: Mapped[str] = mapped_column(String(16))
    #: what the conversation remembers between turns (order, line, last intent, pending step …)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    #: the web-chat ticket the conversation was handed over to
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    #: request | low_confidence | angry | complaint | repeated
    handoff_reason: Mapped[str | None] = mapped_column(String(16))
    handoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotTurn(Base):
    """One customer message and the assistant's answer (``reply`` empty when it stayed silent
    because a person is on the conversation)."""

    __tablename__ = "bot_turns"
    __table_args__ = (
        Index("ix_bot_turns_session", "session_id", "id"),
        Index("ix_bot_turns_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("bot_sessions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str] = mapped_column(String(24))
    confidence: Mapped[float] = mapped_column(Float)
    slots: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reply: Mapped[str] = mapped_column(Text, default="")
    #: what the answer was built from: ``order``, ``policy``, ``faq:<slug>``, ``catalog`` …
    source: Mapped[str] = mapped_column(String(64), default="")
    #: the handoff this turn caused, if any (same values as ``BotSession.handoff_reason``)
    handoff: Mapped[str | None] = mapped_column(String(16))


class FaqArticle(Base):
    """A knowledge-base article the assistant retrieves and cites; admins edit them."""

    __tablename__ = "faq_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")
    #: extra words people use for this topic (not shown; they help retrieval)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: the intent this article answers, when there is one (invoice, membership …)
    intent: Mapped[str | None] = mapped_column(String(24), index=True)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100), default="")


class OrderChange(Base):
    """An append-only record of a change to an order after the sale (cancel, new address)."""

    __tablename__ = "order_changes"
    __table_args__ = (Index("ix_order_changes_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    #: customer | agent | supervisor | admin | bot (the assistant acting for the logged-in shopper)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    #: cancel | change_address
    action: Mapped[str] = mapped_column(String(24))
    before: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
