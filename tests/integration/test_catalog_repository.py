"""Catalog and order rows on SQLite and PostgreSQL: round trips, loading, listing, OrderFacts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError, InvalidRequestError

from kefu.adapters.db import catalog_repository as repo
from kefu.adapters.db.decision_facts import load_decision_facts
from kefu.adapters.db.tables.catalog import Customer, Order, OrderLine, Product, Seller
from kefu.domain.aftersales.model import (
    Carrier,
    Category,
    CustomerLevel,
    Delivery,
    DeliveryStatus,
    Gift,
    Line,
    OrderFacts,
    Payment,
    SellerType,
)
from kefu.domain.clock import FixedClock
from kefu.domain.orders import SourceRecord
from kefu.services.orders_import import import_orders
from kefu.services.uow import Database

from ..unit.import_builders import line, order, second_line

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def load(db: Database, *raws: dict[str, Any]) -> None:
    report = import_orders(db, (SourceRecord(i + 1, raw) for i, raw in enumerate(raws)), FixedClock(NOW))
    assert report.failed == 0, report.errors


@contextmanager
def count_selects(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_an_order_round_trips_with_decimal_money_and_aware_utc_times(db: Database) -> None:
    load(db, order())
    with db.read() as uow:
        loaded = repo.get_order(uow.session, "O202405010001")
        assert loaded is not None
        assert loaded.customer.name == "张三" and loaded.seller.type == "self_operated"
        assert loaded.total_paid == Decimal("7177.10") and isinstance(loaded.total_paid, Decimal)
        assert loaded.paid_at == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
        assert loaded.paid_at.utcoffset() == timedelta(0)
        assert loaded.created_at == NOW and loaded.updated_at == NOW
        first, second = loaded.lines
        assert (first.line_no, second.line_no) == (0, 1)
        assert first.unit_price == Decimal("6999.00") and isinstance(first.paid_amount, Decimal)
        assert second.paid_amount == Decimal("378.10")
        assert first.services == ["extended_warranty_1y"] and second.warranty_days is None
        assert [(g.name, g.value) for g in first.gifts] == [("快充充电头", Decimal("99.00"))]
        assert [(p.method, p.amount) for p in loaded.payments] == [
            ("card", Decimal("7000.00")), ("balance", Decimal("177.10"))]
        assert loaded.delivery is not None
        assert loaded.delivery.carrier_name == "京东物流"
        assert loaded.delivery.signed_at == datetime(2024, 5, 3, 7, 30, tzinfo=UTC)
        assert [e.description for e in loaded.delivery.events] == ["您的订单已出库", "已签收，签收人：本人"]
        assert all(e.at.tzinfo is not None for e in loaded.delivery.events)


def test_loading_orders_takes_a_fixed_number_of_queries(db: Database) -> None:
    three_lines = {"lines": [line(), second_line(), second_line()],
                   "payments": [{"method": "wechat", "amount": "7555.20"}]}
    load(db, *(order(f"O{n}", **three_lines) if n % 2 else order(f"O{n}") for n in range(1, 9)))
    with db.read() as uow, count_selects(db) as one:
        assert repo.get_order(uow.session, "O1") is not None
    with db.read() as uow, count_selects(db) as many:
        loaded = repo.get_orders(uow.session, [f"O{n}" for n in range(1, 9)] + ["missing"])
        assert len(loaded) == 8 and sum(len(o.lines) for o in loaded.values()) == 20
        assert sum(len(ln.gifts) for o in loaded.values() for ln in o.lines) == 8
    # order+customer+seller, lines, gifts, payments, delivery, events: the same for 1 or 8 orders
    assert len(one) == len(many) == 6


def test_unloaded_collections_raise_instead_of_querying(db: Database) -> None:
    load(db, order())
    with db.read() as uow:
        plain = uow.session.scalars(select(Order)).one()
        with pytest.raises(InvalidRequestError):
            _ = plain.lines


def test_list_orders_newest_first_paginated_and_scoped(db: Database) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    load(db, *(order(f"O{n:02d}", paid_at=(start + timedelta(days=n)).isoformat(),
                     customer={"id": "C1" if n % 3 else "C2", "name": "顾客"},
                     seller={"id": "S1" if n < 6 else "S2", "name": "店", "type": "third_party"})
               for n in range(10)))
    with db.read() as uow, count_selects(db) as statements:
        page = repo.list_orders(uow.session, customer_id="C1", limit=3)
        assert [o.id for o in page] == ["O08", "O07", "O05"]
        assert [o.id for o in repo.list_orders(uow.session, customer_id="C1", limit=3, offset=3)] == [
            "O04", "O02", "O01"]
        assert all(o.lines and o.delivery for o in page)
        assert [o.id for o in repo.list_orders(uow.session, seller_id="S2")] == ["O09", "O08", "O07", "O06"]
        assert repo.count_orders(uow.session) == 10
        assert repo.count_orders(uow.session, customer_id="C1") == 6
        assert repo.count_orders(uow.session, customer_id="C1", seller_id="S2") == 2
        assert repo.list_orders(uow.session, customer_id="nobody") == []
    # a page is 3 queries (orders joined to sellers, lines, deliveries) whatever its size; a count
    # is 1; an empty page needs no follow-up
    assert len(statements) == 3 * 3 + 3 * 1 + 1


def test_order_maps_to_the_policy_engines_facts(db: Database) -> None:
    load(db, order())
    with db.read_connection() as conn:
        found = load_decision_facts(conn, "O202405010001")
    assert found is not None
    facts = found.order
    assert CustomerLevel(found.customer.level) is CustomerLevel.PLUS
    assert facts == OrderFacts(
        id="O202405010001",
        seller=SellerType.SELF_OPERATED,
        delivery=Delivery(carrier=Carrier.PLATFORM, status=DeliveryStatus.SIGNED,
                          signed_at=datetime(2024, 5, 3, 7, 30, tzinfo=UTC)),
        lines=(
            Line(category=Category.PHONE, quantity=1, paid_amount=Decimal("6799.00"), sku="100012043978",
                 name="华为 Mate 60 Pro 12GB+512GB 雅川青", unit_price=Decimal("6999.00"), warranty_days=365,
                 services=frozenset({"extended_warranty_1y"}), price_protection_days=30,
                 gifts=(Gift("快充充电头", Decimal("99.00")),)),
            Line(category=Category.CLOTHING, quantity=2, paid_amount=Decimal("378.10"), sku="100009464799",
                 name="优衣库 男装 摇粒绒拉链茄克", unit_price=Decimal("199.00"),
                 services=frozenset({"size_exchange_90d"})),
        ),
        paid_at=datetime(2024, 5, 1, 2, 0, tzinfo=UTC),
        payments=(Payment("card", Decimal("7000.00")), Payment("balance", Decimal("177.10"))),
        shipping_insurance=True,
    )
    assert facts.delivery.receipt_time() == datetime(2024, 5, 3, 7, 30, tzinfo=UTC)


def test_an_unshipped_third_party_order_has_no_receipt_time(db: Database) -> None:
    load(db, order("O2", status="paid", delivery=None,
                   seller={"id": "S9", "name": "优衣库官方旗舰店", "type": "third_party"}))
    with db.read_connection() as conn:
        found = load_decision_facts(conn, "O2")
    assert found is not None
    facts = found.order
    assert facts.seller is SellerType.THIRD_PARTY
    assert facts.delivery == Delivery(carrier=Carrier.THIRD_PARTY, status=DeliveryStatus.IN_TRANSIT)
    assert facts.delivery.receipt_time() is None


def test_products_keep_structured_attributes(db: Database) -> None:
    with db.uow() as uow:
        uow.session.add(Seller(id="S1", name="华为京东自营旗舰店", type="self_operated", created_at=NOW))
        uow.session.add(Product(
            sku="100012043978", seller_id="S1", name="华为 Mate 60 Pro", category="phone", brand="华为",
            price=Decimal("6999.00"), warranty_days=365, services=["extended_warranty_1y"],
            price_protection_days=30, non_returnable=False,
            attributes={"colour": "雅川青", "storage": "512GB", "battery_mah": 5000, "weight_g": 225,
                        "compatibility": ["5G", "NFC"]}))
        uow.commit()
    with db.read() as uow:
        product = repo.get_product(uow.session, "100012043978")
        assert product is not None
        assert product.attributes["battery_mah"] == 5000 and product.attributes["colour"] == "雅川青"
        assert product.price == Decimal("6999.00") and product.services == ["extended_warranty_1y"]
        assert set(repo.products_by_sku(uow.session, ["100012043978", "x"])) == {"100012043978"}


@pytest.mark.parametrize(("column", "value"), [("quantity", 0), ("paid_amount", Decimal("-1.00")),
                                               ("category", "spaceship")])
def test_check_constraints_guard_the_order_lines(db: Database, column: str, value: object) -> None:
    load(db, order())
    with db.uow() as uow:
        row = uow.session.scalars(select(OrderLine).where(OrderLine.line_no == 0)).one()
        setattr(row, column, value)
        with pytest.raises(IntegrityError):
            uow.session.flush()


def test_customer_level_is_constrained(db: Database) -> None:
    with db.uow() as uow:
        uow.session.add(Customer(id="C1", name="张三", level="gold", created_at=NOW))
        with pytest.raises(IntegrityError):
            uow.session.flush()
