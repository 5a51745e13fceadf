"""Tables: the notification outbox (SMS, email, in-app), written in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.adapters.db.base import Base, JSONType, UTCDateTime

#: the rows the relay still has to deliver (``ix_outbox_due`` holds only them: a delivered
#: message leaves it, so it stays as small as the backlog however long the history grows)
UNDELIVERED_SQL = "status IN ('pending', 'sending')"
_UNDELIVERED = text(UNDELIVERED_SQL)


class OutboxMessage(Base):
    """One message to deliver after commit. In-app messages are also the customer's inbox."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_due", "available_at", "id", sqlite_where=_UNDELIVERED, postgresql_where=_UNDELIVERED),
        Index("ix_outbox_inbox", "customer_id", "channel", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(8))           # sms | email | inapp
    event: Mapped[str] = mapped_column(String(48))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    recipient: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(8), default="pending")   # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    read: Mapped[bool] = mapped_column(Boolean, default=False)
