"""What the assistant reads about a shopper: their orders with delivery and latest tracking event,
their after-sales applications and refunds, product attributes, price-protected lines.

Every reader takes the customer id of the logged-in shopper and filters on it in SQL, so an
order number typed by another shopper reads as "not found" — the assistant never sees, and so
can never say, anything about someone else's order. Prepared statements
(:mod:`kefu.adapters.db.prepared`): these run on every message, and the assistant answers in
about a millisecond.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from kefu.adapters.db.prepared import PreparedSet
from kefu.adapters.db.tables.aftersales import Application, Refund
from kefu.adapters.db.tables.catalog import Customer, Delivery, Order, OrderLine, OrderPayment, Product, TrackingEvent
from kefu.domain.aftersales.lifecycle import STATUS_LABELS, Status
from kefu.domain.bot.answers import ApplicationFact, LineFact, OrderFact, PriceDrop, TrackingFact
from kefu.domain.money import split_proportionally

_ORDER = (select(Order.id, Order.status, Order.paid_at, Order.total_paid, Order.address,
                 Delivery.id.label("delivery_id"), Delivery.carrier_name, Delivery.tracking_no,
                 Delivery.status.label("delivery_status"), Delivery.shipped_at, Delivery.signed_at)
          .outerjoin(Delivery, Delivery.order_id == Order.id))
_ONE_ORDER = _ORDER.where(Order.id == bindparam("order_id"), Order.customer_id == bindparam("customer_id"))
_RECENT = (_ORDER.where(Order.customer_id == bindparam("customer_id"))
           .order_by(Order.paid_at.desc(), Order.id.desc()).limit(bindparam("limit")))
_LINES = (select(OrderLine.order_id, OrderLine.line_no, OrderLine.sku, OrderLine.name, OrderLine.quantity,
                 OrderLine.unit_price, OrderLine.paid_amount, OrderLine.price_protection_days)
          .where(OrderLine.order_id == bindparam("order_id"))
          .order_by(OrderLine.line_no))
_LATEST = (select(TrackingEvent.delivery_id, TrackingEvent.at, TrackingEvent.location, TrackingEvent.description)
           .where(TrackingEvent.delivery_id == bindparam("delivery_id"))
           .order_by(TrackingEvent.at.desc(), TrackingEvent.id.desc()).limit(1))
_PRODUCT = select(Product.name, Product.attributes, Product.price).where(Product.sku == bindparam("sku"))
_LEVEL = select(Customer.level).where(Customer.id == bindparam("customer_id"))
_APPLICATIONS = (select(Application.id, Application.number, Application.order_id, Application.line_no,
                        Application.type, Application.status, Application.refund_amount, Application.refunded_at,
                        Application.due_at, Application.due_kind, OrderLine.name.label("line_name"))
                 .join(OrderLine, and_(OrderLine.order_id == Application.order_id,
                                       OrderLine.line_no == Application.line_no))
                 .where(Application.customer_id == bindparam("customer_id"))
                 .order_by(Application.created_at.desc(), Application.id.desc()).limit(bindparam("limit")))
_REFUNDS = select(Refund.method, Refund.amount).where(Refund.application_id == bindparam("app_id")).order_by(Refund.id)
_PAYMENTS = (select(OrderPayment.method, OrderPayment.amount).where(OrderPayment.order_id == bindparam("order_id"))
             .order_by(OrderPayment.id))
_PROTECTED = (select(Order.id.label("order_id"), Order.paid_at, OrderLine.line_no, OrderLine.sku, OrderLine.name,
                     OrderLine.quantity, OrderLine.unit_price, OrderLine.paid_amount,
                     OrderLine.price_protection_days, Product.price.label("current_price"))
              .join(OrderLine, OrderLine.order_id == Order.id)
              .join(Product, Product.sku == OrderLine.sku)
              .where(Order.customer_id == bindparam("customer_id"), Order.status != "cancelled",
                     OrderLine.price_protection_days > 0, Order.paid_at >= bindparam("since"))
              .order_by(Order.paid_at.desc()).limit(50))
_MAX_PROTECTION_DAYS = 365
_Q = PreparedSet(one_order=_ONE_ORDER, recent=_RECENT, lines=_LINES, latest=_LATEST, product=_PRODUCT,
                 level=_LEVEL, applications=_APPLICATIONS, refunds=_REFUNDS, payments=_PAYMENTS,
                 protected=_PROTECTED)


def _lines(conn: Connection, ids: Sequence[str]) -> dict[str, list[LineFact]]:
    lines = _Q.of(conn)["lines"]
    return {order_id: [LineFact(r.line_no, r.sku, r.name, r.quantity, r.unit_price, r.paid_amount,
                                r.price_protection_days) for r in lines.all(conn, order_id=order_id)]
            for order_id in ids}


def _fact(conn: Connection, row: Any, lines: list[LineFact], with_tracking: bool) -> OrderFact:
    latest = None
    if with_tracking and row.delivery_id is not None:
        event = _Q.of(conn)["latest"].first(conn, delivery_id=row.delivery_id)
        if event is not None:
            latest = TrackingFact(event.at, event.location or "", event.description)
    return OrderFact(id=row.id, status=row.status, paid_at=row.paid_at, total_paid=row.total_paid,
                     address=row.address or "", lines=tuple(lines), carrier_name=row.carrier_name,
                     tracking_no=row.tracking_no, delivery_status=row.delivery_status, shipped_at=row.shipped_at,
                     signed_at=row.signed_at, latest=latest)


def customer_order(conn: Connection, customer_id: str, order_id: str) -> OrderFact | None:
    """The shopper's order with its lines, delivery and latest tracking event; None when it does
    not exist or is not theirs."""
    row = _Q.of(conn)["one_order"].first(conn, order_id=order_id, customer_id=customer_id)
    if row is None:
        return None
    return _fact(conn, row, _lines(conn, [row.id])[row.id], with_tracking=True)


def recent_orders(conn: Connection, customer_id: str, limit: int = 5) -> list[OrderFact]:
    """The shopper's newest orders (for "which order?" buttons)."""
    rows = _Q.of(conn)["recent"].all(conn, customer_id=customer_id, limit=limit)
    lines = _lines(conn, [r.id for r in rows])
    return [_fact(conn, r, lines[r.id], with_tracking=False) for r in rows]


def customer_level(conn: Connection, customer_id: str) -> str:
    return str(_Q.of(conn)["level"].scalar(conn, customer_id=customer_id) or "regular")


def product(conn: Connection, sku: str) -> tuple[str, dict[str, Any], Decimal] | None:
    """A product's name, attributes and current price from the catalog."""
    row = _Q.of(conn)["product"].first(conn, sku=sku)
    return None if row is None else (row.name, dict(row.attributes or {}), row.price)


def applications(conn: Connection, customer_id: str, order_id: str | None = None,
                 limit: int = 5) -> list[ApplicationFact]:
    """The shopper's newest applications (of one order when given) with the refund route: the
    refunds made, or the order's payments split in proportion when not refunded yet."""
    found: list[ApplicationFact] = []
    q = _Q.of(conn)
    for r in q["applications"].all(conn, customer_id=customer_id, limit=limit * 4 if order_id else limit):
        if order_id is not None and r.order_id != order_id:
            continue
        route: tuple[tuple[str, Decimal], ...] = ()
        if r.refund_amount is not None:
            made = q["refunds"].all(conn, app_id=r.id)
            if made:
                route = tuple((m.method, m.amount) for m in made)
            else:
                payments = q["payments"].all(conn, order_id=r.order_id)
                shares = split_proportionally(r.refund_amount, [p.amount for p in payments]) if payments else []
                route = tuple((p.method, s) for p, s in zip(payments, shares, strict=True))
        found.append(ApplicationFact(number=r.number, order_id=r.order_id, line_name=r.line_name, type=r.type,
                                     status=r.status, status_label=STATUS_LABELS[Status(r.status)],
                                     refund_amount=r.refund_amount, route=route, refunded_at=r.refunded_at,
                                     due_at=r.due_at, due_kind=r.due_kind))
        if len(found) >= limit:
            break
    return found


def price_drops(conn: Connection, customer_id: str, now: datetime) -> tuple[list[PriceDrop], int]:
    """The shopper's lines still within their price-protection days (POLICY.md §8) whose product
    now costs less than the unit price paid, and how many lines are within protection at all."""
    drops: list[PriceDrop] = []
    eligible = 0
    since = now - timedelta(days=_MAX_PROTECTION_DAYS)
    for r in _Q.of(conn)["protected"].all(conn, customer_id=customer_id, since=since):
        until = r.paid_at + timedelta(days=r.price_protection_days)
        if until < now:
            continue
        eligible += 1
        line = LineFact(r.line_no, r.sku, r.name, r.quantity, r.unit_price, r.paid_amount, r.price_protection_days)
        drop = PriceDrop(r.order_id, line, r.current_price, until)
        if drop.difference > 0:
            drops.append(drop)
    return drops, eligible

