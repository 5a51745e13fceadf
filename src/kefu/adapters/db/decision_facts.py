"""The facts an after-sales decision needs about one order, read with three Core queries.

Submitting an application is the hot write path; loading the whole ORM graph of an order
(customer, seller, lines, gifts, payments, delivery, tracking) costs six queries and the ORM's
bookkeeping. A decision needs none of the tracking events and no managed objects, so this reads
plain rows and builds :class:`~kefu.domain.aftersales.model.OrderFacts` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, bindparam, select

from kefu.adapters.db.prepared import PreparedSet
from kefu.adapters.db.tables.catalog import Customer, Delivery, Order, OrderGift, OrderLine, OrderPayment, Seller
from kefu.domain.aftersales import model as facts
from kefu.domain.clock import to_utc


@dataclass(frozen=True, slots=True)
class OrderParty:
    """Who an order belongs to: enough to check access and to write the customer's messages."""

    id: str
    level: str
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    order: facts.OrderFacts
    customer: OrderParty
    customer_id: str
    seller_id: str
    seller_type: str
    address: str


_HEAD = (select(Order.id, Order.customer_id, Order.seller_id, Order.paid_at, Order.shipping_insurance, Order.address,
                Seller.type, Customer.level, Customer.phone, Customer.email,
                Delivery.carrier, Delivery.status, Delivery.signed_at, Delivery.arrived_at)
         .join(Seller, Seller.id == Order.seller_id)
         .join(Customer, Customer.id == Order.customer_id)
         .outerjoin(Delivery, Delivery.order_id == Order.id)
         .where(Order.id == bindparam("order_id")))
_LINES = (select(OrderLine.line_no, OrderLine.sku, OrderLine.name, OrderLine.category, OrderLine.quantity,
                 OrderLine.unit_price, OrderLine.paid_amount, OrderLine.warranty_days, OrderLine.services,
                 OrderLine.price_protection_days, OrderLine.non_returnable_confirmed, OrderGift.name.label("gift"),
                 OrderGift.value)
          .outerjoin(OrderGift, OrderGift.line_id == OrderLine.id)
          .where(OrderLine.order_id == bindparam("order_id")).order_by(OrderLine.line_no, OrderGift.id))
_PAYMENTS = (select(OrderPayment.method, OrderPayment.amount).where(OrderPayment.order_id == bindparam("order_id"))
             .order_by(OrderPayment.id))


#: prepared (kefu.adapters.db.prepared): every submission, preview and assistant answer about
#: returns reads these three, and Core's per-statement machinery cost more than SQLite's work
_FACTS_Q = PreparedSet(head=_HEAD, lines=_LINES, payments=_PAYMENTS)


def load_decision_facts(conn: Connection, order_id: str) -> DecisionFacts | None:
    """The order's facts, its customer and seller, or None when there is no such order.

    Prepared statements on a connection (a session's, or a plain one; inside its transaction
    when it has one): none of the ORM's or Core's per-statement bookkeeping on this hot path.
    """
    q = _FACTS_Q.of(conn)
    head = q["head"].first(conn, order_id=order_id)
    if head is None:
        return None
    seller_type = facts.SellerType(head.type)
    lines: dict[int, dict[str, object]] = {}
    gifts: dict[int, list[facts.Gift]] = {}
    for row in q["lines"].all(conn, order_id=order_id):
        if row.line_no not in lines:
            lines[row.line_no] = dict(
                category=facts.Category(row.category), quantity=row.quantity, paid_amount=Decimal(row.paid_amount),
                sku=row.sku, name=row.name, unit_price=Decimal(row.unit_price), warranty_days=row.warranty_days,
                services=frozenset(row.services or ()), price_protection_days=row.price_protection_days,
                non_returnable_confirmed=row.non_returnable_confirmed)
            gifts[row.line_no] = []
        if row.gift is not None:
            gifts[row.line_no].append(facts.Gift(row.gift, Decimal(row.value)))
    payments = tuple(facts.Payment(method, Decimal(amount))
                     for method, amount in q["payments"].all(conn, order_id=order_id))
    if head.carrier is None:
        # not shipped yet: nothing was received, so the receipt time is unknown (POLICY.md T1)
        carrier = facts.Carrier.PLATFORM if seller_type is facts.SellerType.SELF_OPERATED else facts.Carrier.THIRD_PARTY
        delivery = facts.Delivery(carrier, facts.DeliveryStatus.IN_TRANSIT)
    else:
        delivery = facts.Delivery(facts.Carrier(head.carrier), facts.DeliveryStatus(head.status),
                                  to_utc(head.signed_at) if head.signed_at else None,
                                  to_utc(head.arrived_at) if head.arrived_at else None)
    order = facts.OrderFacts(
        id=head.id, seller=seller_type, delivery=delivery, paid_at=to_utc(head.paid_at), payments=payments,
        shipping_insurance=head.shipping_insurance,
        lines=tuple(facts.Line(**lines[n], gifts=tuple(gifts[n])) for n in sorted(lines)))  # type: ignore[arg-type]
    return DecisionFacts(order=order, customer=OrderParty(head.customer_id, head.level, head.phone, head.email),
                         customer_id=head.customer_id, seller_id=head.seller_id, seller_type=head.type,
                         address=head.address)
