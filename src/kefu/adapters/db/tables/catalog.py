"""Tables: catalog and orders — customers, sellers, products, orders with their lines, gifts,
payments, delivery and tracking events.

This is reference data imported from the shop (``kefu import orders``, ``POST
/api/v1/orders/import``). An order line keeps its own copy of the policy attributes it was sold
with (category, warranty, services, price protection), because the product may change after the
sale and after-sales decisions are made on what was bought. Lines are addressed by ``line_no``
(0-based, the index an after-sales request names); their ``id`` is stable across re-imports so
that other tables may reference it.
"""

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
from kefu.domain.aftersales.model import Carrier, Category, CustomerLevel, DeliveryStatus, SellerType
from kefu.domain.orders import OrderStatus


def _one_of(column: str, values: type[Any]) -> str:
    """A CHECK expression that keeps ``column`` within an enum's values."""
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({allowed})"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (CheckConstraint(_one_of("level", CustomerLevel), name="level"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    level: Mapped[str] = mapped_column(String(16), default=CustomerLevel.REGULAR.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Seller(Base):
    __tablename__ = "sellers"
    __table_args__ = (CheckConstraint(_one_of("type", SellerType), name="type"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint(_one_of("category", Category), name="category"),
        CheckConstraint("price >= 0", name="price"),
        CheckConstraint("warranty_days >= 0", name="warranty_days"),
        CheckConstraint("price_protection_days >= 0", name="price_protection_days"),
    )

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32), index=True)
    brand: Mapped[str | None] = mapped_column(String(100))
    price: Mapped[Decimal] = mapped_column(Money)
    warranty_days: Mapped[int] = mapped_column(Integer, default=0)
    #: service codes sold with the product, e.g. ``size_exchange_90d``, ``accident_protection``
    services: Mapped[list[str]] = mapped_column(JSONType, default=list)
    price_protection_days: Mapped[int] = mapped_column(Integer, default=0)
    non_returnable: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the parameters a shopper asks about: size, weight, battery, colour, material, compatibility…
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    seller: Mapped[Seller] = relationship()


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_one_of("status", OrderStatus), name="status"),
        CheckConstraint("total_paid >= 0", name="total_paid"),
        Index("ix_orders_customer_id_paid_at", "customer_id", "paid_at"),
        Index("ix_orders_seller_id_paid_at", "seller_id", "paid_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    status: Mapped[str] = mapped_column(String(16))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shipping_insurance: Mapped[bool] = mapped_column(Boolean, default=False)
    total_paid: Mapped[Decimal] = mapped_column(Money)
    address: Mapped[str] = mapped_column(Text, default="")
    #: the recipient's phone for this delivery, when it differs from the customer's
    recipient_phone: Mapped[str | None] = mapped_column(String(32))
    #: sha256 of the imported record's canonical form: an identical re-import touches nothing
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    seller: Mapped[Seller] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan",
        passive_deletes=True, lazy="raise")
    payments: Mapped[list[OrderPayment]] = relationship(
        back_populates="order", order_by="OrderPayment.id", cascade="all, delete-orphan", passive_deletes=True,
        lazy="raise")
    delivery: Mapped[Delivery | None] = relationship(
        back_populates="order", cascade="all, delete-orphan", uselist=False,
        passive_deletes=True, lazy="raise")


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_id_line_no"),
        CheckConstraint("line_no >= 0", name="line_no"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("paid_amount >= 0", name="paid_amount"),
        CheckConstraint(_one_of("category", Category), name="category"),
        CheckConstraint("price_protection_days >= 0", name="price_protection_days"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    #: what the customer paid for the whole line after coupons were apportioned
    paid_amount: Mapped[Decimal] = mapped_column(Money)
    warranty_days: Mapped[int | None] = mapped_column(Integer)
    services: Mapped[list[str]] = mapped_column(JSONType, default=list)
    price_protection_days: Mapped[int] = mapped_column(Integer, default=0)
    #: the customer confirmed at checkout that this item cannot be returned without a reason
    non_returnable_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)

    order: Mapped[Order] = relationship(back_populates="lines")
    gifts: Mapped[list[OrderGift]] = relationship(
        back_populates="line", order_by="OrderGift.id", cascade="all, delete-orphan", passive_deletes=True,
        lazy="raise")


class OrderGift(Base):
    __tablename__ = "order_gifts"
    __table_args__ = (CheckConstraint("value >= 0", name="value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: declared value, deducted from a refund when the gift is not sent back (POLICY.md)
    value: Mapped[Decimal] = mapped_column(Money)

    line: Mapped[OrderLine] = relationship(back_populates="gifts")


class OrderPayment(Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    #: ``card``, ``balance``, ``wechat``, ``alipay``, ``coupon``…; refunds go back per method
    method: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[Order] = relationship(back_populates="payments")


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_one_of("carrier", Carrier), name="carrier"),
        CheckConstraint(_one_of("status", DeliveryStatus), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    carrier: Mapped[str] = mapped_column(String(16))
    #: the carrier's name as shown to people, e.g. 京东物流, 顺丰速运
    carrier_name: Mapped[str] = mapped_column(String(64), default="")
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: receipt as recorded by platform logistics or at self-pickup
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: receipt as reported by a third-party carrier's tracking
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="delivery")
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="delivery", order_by="(TrackingEvent.at, TrackingEvent.id)",
        cascade="all, delete-orphan", passive_deletes=True,
        lazy="raise")


class TrackingEvent(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (Index("ix_tracking_events_delivery_id_at", "delivery_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text)

    delivery: Mapped[Delivery] = relationship(back_populates="events")
