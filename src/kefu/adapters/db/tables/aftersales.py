"""Tables: after-sales applications, their append-only history, evidence files and refunds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.adapters.db.base import Base, JSONType, Money, UTCDateTime


class Application(Base):
    """One after-sales application (售后申请) on one order line."""

    __tablename__ = "aftersales_applications"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_range"),
        Index("ix_aftersales_open_due", "status", "due_at"),
        Index("ix_aftersales_seller_due", "seller_id", "status", "due_at"),
        Index("ix_aftersales_customer", "customer_id", "created_at"),
        Index("ix_aftersales_order_line", "order_id", "line_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    seller_type: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    #: the facts the customer declared, as submitted (condition flags, damage, proof …)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(24))
    #: the latest decision of the policy engine, in the conformance format
    outcome: Mapped[str] = mapped_column(String(16))
    decision: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    refund_amount: Mapped[Decimal | None] = mapped_column(Money)
    return_shipping_paid_by: Mapped[str | None] = mapped_column(String(16))
    free_pickup: Mapped[bool] = mapped_column(Boolean, default=False)
    repair_charge: Mapped[str | None] = mapped_column(String(8))
    due_kind: Mapped[str | None] = mapped_column(String(24))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_address: Mapped[str | None] = mapped_column(Text)
    return_waybill: Mapped[str | None] = mapped_column(String(64))
    return_carrier: Mapped[str | None] = mapped_column(String(64))
    inspection_passed: Mapped[bool | None] = mapped_column(Boolean)
    inspection_notes: Mapped[str | None] = mapped_column(Text)
    replacement_waybill: Mapped[str | None] = mapped_column(String(64))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: optimistic lock: every transition bumps it with a guarded UPDATE
    version: Mapped[int] = mapped_column(Integer, default=1)

    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id", lazy="raise_on_sql")
    evidence: Mapped[list[EvidenceFile]] = relationship(
        back_populates="application", order_by="EvidenceFile.id", lazy="raise_on_sql")
    refunds: Mapped[list[Refund]] = relationship(order_by="Refund.id", lazy="raise_on_sql")


class ApplicationEvent(Base):
    """Append-only history: who did what, when, from which status to which, and why."""

    __tablename__ = "aftersales_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("aftersales_applications.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    application: Mapped[Application] = relationship(back_populates="events")


class EvidenceFile(Base):
    """An uploaded photo or PDF; ``application_id`` is set once it is attached."""

    __tablename__ = "evidence_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("aftersales_applications.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="claim")   # claim | inspection
    uploaded_by: Mapped[int | None] = mapped_column(Integer, index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    application: Mapped[Application | None] = relationship(back_populates="evidence")


class Refund(Base):
    """Money back to one original payment method; at most one per application and method."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("application_id", "method", name="uq_refunds_application_method"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("aftersales_applications.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    method: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16), default="succeeded")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
