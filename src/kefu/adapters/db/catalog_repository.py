"""Reading catalog and order rows for pages and the API (the policy engine's facts: decision_facts.py).

Every loader states what it brings along (``selectinload``), so the number of queries is fixed
whatever the number of lines, gifts or tracking events: one per relationship level, never one
per row (DESIGN.md convention 8). Collections on the order tables are ``lazy="raise"``, so a
forgotten load fails loudly instead of quietly issuing N+1 queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from kefu.adapters.db.tables.catalog import (
    Customer,
    Delivery,
    Order,
    OrderLine,
    Product,
    Seller,
)

_T = TypeVar("_T", bound=tuple[Any, ...])

#: The most a list call returns at once.
MAX_PAGE = 200


def _full_order() -> Select[tuple[Order]]:
    """An order with everything an after-sales decision or an order page needs."""
    return select(Order).options(
        joinedload(Order.customer),
        joinedload(Order.seller),
        selectinload(Order.lines).selectinload(OrderLine.gifts),
        selectinload(Order.payments),
        selectinload(Order.delivery).selectinload(Delivery.events),
    )


def get_order(session: Session, order_id: str) -> Order | None:
    """One order with customer, seller, lines and their gifts, payments, delivery and events."""
    return session.scalars(_full_order().where(Order.id == order_id)).unique().one_or_none()


def get_orders(session: Session, order_ids: Iterable[str]) -> dict[str, Order]:
    """Several fully loaded orders by id (missing ids are simply absent from the result)."""
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return {}
    rows = session.scalars(_full_order().where(Order.id.in_(ids))).unique().all()
    return {order.id: order for order in rows}


def _scoped(query: Select[_T], customer_id: str | None, seller_id: str | None) -> Select[_T]:
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if seller_id is not None:
        query = query.where(Order.seller_id == seller_id)
    return query


def list_orders(session: Session, *, customer_id: str | None = None, seller_id: str | None = None,
                limit: int = 20, offset: int = 0) -> Sequence[Order]:
    """Orders newest first (by payment time), with seller, lines and delivery loaded.

    Filtered by customer and/or seller when given; ``limit`` is capped at :data:`MAX_PAGE`.
    Four queries whatever the page size.
    """
    query = select(Order).options(
        joinedload(Order.seller),
        selectinload(Order.lines),
        selectinload(Order.delivery),
    )
    query = _scoped(query, customer_id, seller_id)
    query = query.order_by(Order.paid_at.desc(), Order.id.desc())
    query = query.limit(max(1, min(limit, MAX_PAGE))).offset(max(0, offset))
    return session.scalars(query).unique().all()


def count_orders(session: Session, *, customer_id: str | None = None,
                 seller_id: str | None = None) -> int:
    query = _scoped(select(func.count()).select_from(Order), customer_id, seller_id)
    return int(session.scalar(query) or 0)


def get_customer(session: Session, customer_id: str) -> Customer | None:
    return session.get(Customer, customer_id)


def get_seller(session: Session, seller_id: str) -> Seller | None:
    return session.get(Seller, seller_id)


def get_product(session: Session, sku: str) -> Product | None:
    return session.get(Product, sku)


def products_by_sku(session: Session, skus: Iterable[str]) -> dict[str, Product]:
    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return {}
    rows = session.scalars(select(Product).where(Product.sku.in_(wanted))).all()
    return {product.sku: product for product in rows}
