"""Reading orders, with who may see what (DESIGN.md §Security and data).

A customer sees only their own orders, a seller only the orders of their goods, agents and
admins all of them (optionally one customer's). An order the actor may not see is answered as
not found, so that ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass

from kefu.adapters.db import catalog_repository as repo
from kefu.adapters.db.tables.catalog import Order
from kefu.domain.actors import Actor, Role
from kefu.domain.errors import NotFound, PermissionDenied
from kefu.services.uow import Database


@dataclass(frozen=True, slots=True)
class OrderPage:
    items: list[Order]
    total: int
    limit: int
    offset: int


def _scope(actor: Actor, customer_id: str | None) -> tuple[str | None, str | None]:
    """The (customer_id, seller_id) filter the actor's role imposes."""
    if actor.role is Role.CUSTOMER:
        if actor.customer_id is None or (customer_id is not None and customer_id != actor.customer_id):
            raise PermissionDenied("not_allowed", "您只能查看自己的订单。", "You may only see your own orders.")
        return actor.customer_id, None
    if actor.role is Role.SELLER:
        if actor.seller_id is None:
            raise PermissionDenied("not_allowed", "此商家账号未关联店铺。", "This seller account has no shop.")
        return customer_id, actor.seller_id
    if actor.is_staff:
        return customer_id, None
    raise PermissionDenied("not_allowed", "您无权查看订单。", "You may not see orders.")


def list_orders(db: Database, actor: Actor, *, customer_id: str | None = None, limit: int = 20,
                offset: int = 0) -> OrderPage:
    """The orders the actor may see, newest first, with seller, lines and delivery loaded."""
    customer, seller = _scope(actor, customer_id)
    limit = max(1, min(limit, repo.MAX_PAGE))
    offset = max(0, offset)
    with db.read() as uow:
        items = list(repo.list_orders(uow.session, customer_id=customer, seller_id=seller, limit=limit,
                                      offset=offset))
        total = repo.count_orders(uow.session, customer_id=customer, seller_id=seller)
    return OrderPage(items=items, total=total, limit=limit, offset=offset)


def may_see(actor: Actor, order: Order) -> bool:
    return actor.may_see(order.customer_id, order.seller_id)


def get_order(db: Database, actor: Actor, order_id: str) -> Order:
    """One order with everything loaded, or ``404 order_not_found`` (also when not the actor's)."""
    with db.read() as uow:
        order = repo.get_order(uow.session, order_id)
    if order is None or not may_see(actor, order):
        raise NotFound("order_not_found", "订单不存在。", "Order not found.", order_id=order_id)
    return order
