"""Rows for integration tests, written straight through the ORM (no import path involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kefu.adapters.db.tables.catalog import (
    Customer,
    Delivery,
    Order,
    OrderGift,
    OrderLine,
    OrderPayment,
    Seller,
)
from kefu.domain.actors import Actor, Role
from kefu.services.uow import Database

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)      # 10:00 in Shanghai


def customer_actor(customer_id: str = "C1", user_id: int = 101) -> Actor:
    return Actor(user_id=user_id, role=Role.CUSTOMER, customer_id=customer_id, display_name=f"顾客{customer_id}")


def agent_actor(user_id: int = 201) -> Actor:
    return Actor(user_id=user_id, role=Role.AGENT, display_name="客服小王")


def seller_actor(seller_id: str = "S3P", user_id: int = 301) -> Actor:
    return Actor(user_id=user_id, role=Role.SELLER, seller_id=seller_id, display_name="商家")


def seed_parties(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        s.add_all([
            Customer(id="C1", name="张三", phone="13800001234", email="c1@example.com", level="regular",
                     created_at=NOW),
            Customer(id="C2", name="李四", phone="13900005678", email=None, level="plus", created_at=NOW),
            Seller(id="SELF", name="平台自营", type="self_operated", created_at=NOW),
            Seller(id="S3P", name="好物小店", type="third_party", created_at=NOW),
            Seller(id="S3Q", name="另一家店", type="third_party", created_at=NOW),
        ])
        uow.commit()


def make_order(db: Database, order_id: str, *, customer: str = "C1", seller: str = "SELF",
               category: str = "home", quantity: int = 2, paid: str = "1000.00",
               payments: tuple[tuple[str, str], ...] = (("card", "800.00"), ("balance", "200.00")),
               signed_days_ago: float = 3, status: str = "signed", carrier: str = "platform",
               gifts: tuple[tuple[str, str], ...] = (), services: tuple[str, ...] = ()) -> str:
    signed = NOW - timedelta(days=signed_days_ago)
    with db.uow() as uow:
        s = uow.session
        order = Order(id=order_id, customer_id=customer, seller_id=seller, status="delivered",
                      paid_at=signed - timedelta(days=2), shipping_insurance=False, total_paid=Decimal(paid),
                      address="上海市浦东新区张江路 100 号", content_hash="test", created_at=NOW, updated_at=NOW)
        s.add(order)
        line = OrderLine(order=order, line_no=0, sku=f"SKU-{order_id}", name="测试商品", category=category,
                         quantity=quantity, unit_price=Decimal(paid) / quantity, paid_amount=Decimal(paid),
                         warranty_days=365, services=list(services), price_protection_days=0,
                         non_returnable_confirmed=False)
        s.add(line)
        for name, value in gifts:
            s.add(OrderGift(line=line, name=name, value=Decimal(value)))
        for method, amount in payments:
            s.add(OrderPayment(order=order, method=method, amount=Decimal(amount)))
        s.add(Delivery(order=order, carrier=carrier, carrier_name="京东物流", tracking_no="JD0001", status=status,
                       shipped_at=signed - timedelta(days=1), signed_at=signed if status == "signed" else None))
        uow.commit()
    return order_id
