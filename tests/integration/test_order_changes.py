"""Cancel an order and change its address through the services (issue 5 §2), SQLite and PostgreSQL:
allowed and refused by state, who may act, the change row and the outbox, concurrency, and
nothing half-written on a refusal."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from kefu.adapters.db.tables.bot import OrderChange
from kefu.adapters.db.tables.catalog import Delivery, Order, OrderLine, OrderPayment
from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.order_changes import RefundLine
from kefu.domain.orders import SourceRecord
from kefu.services.order_changes import (
    cancel_order,
    change_address,
    change_options,
    list_order_changes,
)
from kefu.services.orders import get_order
from kefu.services.orders_import import import_orders
from kefu.services.uow import Database
from tests.unit.import_builders import order as order_record

from .factories import NOW, agent_actor, customer_actor, seed_parties, seller_actor

ADDRESS = "上海市浦东新区张江路 100 号"
NEW_ADDRESS = "北京市朝阳区建国路 88 号 SOHO 现代城 1 号楼"
CREATED = NOW - timedelta(days=1)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def seeded(db: Database) -> Database:
    seed_parties(db)
    return db


def paid_order(db: Database, order_id: str, *, customer: str = "C1", seller: str = "S3P", status: str = "paid",
               delivery: str | None = None, shipped: bool = False,
               payments: tuple[tuple[str, str], ...] = (("card", "800.00"), ("balance", "200.00"))) -> str:
    """An order of one line paid with ``payments``; a delivery record only when ``delivery`` is given."""
    total = sum((Decimal(a) for _m, a in payments), Decimal("0.00"))
    with db.uow() as uow:
        s = uow.session
        order = Order(id=order_id, customer_id=customer, seller_id=seller, status=status, paid_at=CREATED,
                      shipping_insurance=False, total_paid=total, address=ADDRESS, content_hash="shop-hash",
                      created_at=CREATED, updated_at=CREATED)
        s.add(order)
        s.add(OrderLine(order=order, line_no=0, sku=f"SKU-{order_id}", name="测试商品", category="home", quantity=1,
                        unit_price=total, paid_amount=total, warranty_days=None, services=[],
                        price_protection_days=0, non_returnable_confirmed=False))
        for method, amount in payments:
            s.add(OrderPayment(order=order, method=method, amount=Decimal(amount)))
        if delivery is not None:
            s.add(Delivery(order=order, carrier="platform", carrier_name="京东物流", tracking_no="JD1",
                           status=delivery, shipped_at=CREATED if shipped else None,
                           signed_at=CREATED if delivery == "signed" else None))
        uow.commit()
    return order_id


def order_row(db: Database, order_id: str) -> Order:
    with db.read() as uow:
        found = uow.session.get(Order, order_id)
        assert found is not None
        return found


def changes(db: Database, order_id: str | None = None) -> list[OrderChange]:
    with db.read() as uow:
        query = select(OrderChange).order_by(OrderChange.id)
        if order_id is not None:
            query = query.where(OrderChange.order_id == order_id)
        return list(uow.session.scalars(query))


def outbox(db: Database) -> list[OutboxMessage]:
    with db.read() as uow:
        return list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def bot_for(customer: str = "C1") -> Actor:
    return customer_actor(customer)


# ── cancel ───────────────────────────────────────────────────────────────────────────────────


def test_the_customer_cancels_a_paid_order_and_is_refunded_per_payment(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O1")
    result = cancel_order(seeded, customer_actor(), "O1", clock, reason="  不想要了 ")

    assert (result.order_id, result.action, result.status) == ("O1", "cancel", "cancelled")
    assert result.refund == (RefundLine("card", Decimal("800.00")), RefundLine("balance", Decimal("200.00")))
    assert result.refund_total == Decimal("1000.00") and result.at == NOW
    assert result.as_dict()["refund"] == [{"method": "card", "amount": "800.00"},
                                          {"method": "balance", "amount": "200.00"}]

    row = order_row(seeded, "O1")
    assert row.status == "cancelled" and row.updated_at == NOW
    assert row.content_hash == "shop-hash"                          # the import's hash is left alone
    [change] = changes(seeded)
    assert change.id == result.change_id
    assert (change.action, change.actor_role, change.actor_user_id, change.actor_name) == (
        "cancel", "customer", 101, "顾客C1")
    assert change.before == {"status": "paid"}
    assert change.after == {"status": "cancelled", "refund_total": "1000.00",
                            "refund": [{"method": "card", "amount": "800.00"},
                                       {"method": "balance", "amount": "200.00"}]}
    assert change.note == "不想要了" and change.at == NOW

    messages = outbox(seeded)
    assert sorted((m.channel, m.recipient) for m in messages) == [("inapp", "C1"), ("sms", "13800001234")]
    assert {m.event for m in messages} == {"order.cancelled"}
    assert all("O1" in m.body and "¥1000.00" in m.body and m.link == "/orders/O1" for m in messages)
    assert "original payment methods" in messages[0].data["en"]


def test_an_agent_cancels_for_the_customer_and_the_row_says_so(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O2")
    cancel_order(seeded, agent_actor(), "O2", clock, reason="顾客来电要求取消")
    [change] = changes(seeded)
    assert (change.actor_role, change.actor_user_id, change.actor_name) == ("agent", 201, "客服小王")


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_may_cancel_too(seeded: Database, clock: FixedClock, role: Role) -> None:
    paid_order(seeded, "O3")
    result = cancel_order(seeded, Actor(user_id=9, role=role, display_name="老周"), "O3", clock)
    assert result.status == "cancelled"
    assert changes(seeded)[0].actor_role == role.value


def test_the_assistant_cancels_for_the_shopper_as_bot(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O4")
    cancel_order(seeded, bot_for("C1"), "O4", clock, via_assistant=True)
    [change] = changes(seeded)
    assert (change.actor_role, change.actor_user_id) == ("bot", 101)


def test_a_free_order_is_cancelled_with_no_refund_and_no_money_in_the_message(
        seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O5", payments=(("coupon", "0.00"),))
    result = cancel_order(seeded, customer_actor(), "O5", clock)
    assert result.refund == () and result.refund_total == Decimal("0.00")
    assert all("¥" not in m.body for m in outbox(seeded))


REFUSED = [
    # status, delivery status, shipped → reason
    ("paid", "in_transit", True, "already_shipped"),
    ("paid", "in_transit", False, "already_shipped"),
    ("shipped", "in_transit", True, "already_shipped"),
    ("delivered", "signed", True, "already_delivered"),
    ("completed", "signed", True, "already_delivered"),
    ("paid", "lost", True, "parcel_lost"),
    ("cancelled", None, False, "already_cancelled"),
]


@pytest.mark.parametrize(("status", "delivery", "shipped", "reason"), REFUSED)
def test_a_refused_cancel_is_409_with_the_reason_and_writes_nothing(
        seeded: Database, clock: FixedClock, status: str, delivery: str | None, shipped: bool, reason: str) -> None:
    paid_order(seeded, "O6", status=status, delivery=delivery, shipped=shipped)
    with pytest.raises(Conflict) as refused:
        cancel_order(seeded, customer_actor(), "O6", clock, reason="不要了")
    assert refused.value.code == "order_not_cancellable" and refused.value.status == 409
    assert refused.value.detail["reason"] == reason
    assert refused.value.zh and refused.value.en
    row = order_row(seeded, "O6")
    assert (row.status, row.updated_at) == (status, CREATED)
    assert changes(seeded) == [] and outbox(seeded) == []


@pytest.mark.parametrize(("status", "delivery", "shipped", "reason"), REFUSED)
def test_a_refused_change_of_address_is_409_and_writes_nothing(
        seeded: Database, clock: FixedClock, status: str, delivery: str | None, shipped: bool, reason: str) -> None:
    paid_order(seeded, "O7", status=status, delivery=delivery, shipped=shipped)
    with pytest.raises(Conflict) as refused:
        change_address(seeded, agent_actor(), "O7", NEW_ADDRESS, clock, phone="13900001111")
    assert refused.value.code == "address_not_changeable" and refused.value.detail["reason"] == reason
    row = order_row(seeded, "O7")
    assert (row.address, row.recipient_phone, row.updated_at) == (ADDRESS, None, CREATED)
    assert changes(seeded) == [] and outbox(seeded) == []


def test_cancelling_twice_is_refused_the_second_time(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O8")
    cancel_order(seeded, customer_actor(), "O8", clock)
    with pytest.raises(Conflict) as again:
        cancel_order(seeded, agent_actor(), "O8", clock)
    assert again.value.detail["reason"] == "already_cancelled"
    assert "已取消" in again.value.zh
    assert len(changes(seeded)) == 1


def test_two_concurrent_cancels_one_wins_the_other_gets_409(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O9")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def cancel(actor: Actor) -> None:
        barrier.wait()
        try:
            cancel_order(seeded, actor, "O9", clock)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=cancel, args=(a,)) for a in (customer_actor(), agent_actor())]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "order_not_cancellable"]
    assert len(changes(seeded)) == 1
    assert len(outbox(seeded)) == 2                        # one in-app message and one SMS, once


# ── who may act ──────────────────────────────────────────────────────────────────────────────


def test_a_shopper_cannot_touch_another_shoppers_order_even_by_its_id(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O10", customer="C1")
    other = customer_actor("C2", 102)
    for attempt in (lambda: cancel_order(seeded, other, "O10", clock),
                    lambda: change_address(seeded, other, "O10", NEW_ADDRESS, clock),
                    lambda: list_order_changes(seeded, other, "O10"),
                    lambda: cancel_order(seeded, other, "O10", clock, via_assistant=True)):
        with pytest.raises(NotFound) as hidden:
            attempt()
        assert hidden.value.code == "order_not_found" and hidden.value.status == 404
    assert order_row(seeded, "O10").status == "paid" and changes(seeded) == [] and outbox(seeded) == []


def test_an_unknown_order_is_404(seeded: Database, clock: FixedClock) -> None:
    with pytest.raises(NotFound):
        cancel_order(seeded, agent_actor(), "NOPE", clock)


def test_sellers_may_not_cancel_or_re_address_even_their_own_orders(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O11", seller="S3P")
    with pytest.raises(PermissionDenied) as own:
        cancel_order(seeded, seller_actor("S3P"), "O11", clock)
    assert own.value.code == "not_allowed"
    with pytest.raises(PermissionDenied):
        change_address(seeded, seller_actor("S3P"), "O11", NEW_ADDRESS, clock)
    with pytest.raises(NotFound):                     # another shop's order does not exist for them
        cancel_order(seeded, seller_actor("S3Q", 302), "O11", clock)
    assert order_row(seeded, "O11").status == "paid" and changes(seeded) == []


def test_the_assistant_acts_only_for_a_shopper(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O12")
    with pytest.raises(PermissionDenied):
        cancel_order(seeded, agent_actor(), "O12", clock, via_assistant=True)
    assert changes(seeded) == []


# ── change of address ────────────────────────────────────────────────────────────────────────


def test_the_shopper_changes_the_address_and_phone(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O13")
    result = change_address(seeded, customer_actor(), "O13", f"  {NEW_ADDRESS}  ", clock, phone="１３９-0000 1111")

    assert (result.action, result.status, result.address, result.recipient_phone, result.refund) == (
        "change_address", "paid", NEW_ADDRESS, "13900001111", ())
    row = order_row(seeded, "O13")
    assert (row.address, row.recipient_phone, row.updated_at, row.content_hash) == (
        NEW_ADDRESS, "13900001111", NOW, "shop-hash")
    [change] = changes(seeded)
    assert change.before == {"address": ADDRESS, "recipient_phone": None}
    assert change.after == {"address": NEW_ADDRESS, "recipient_phone": "13900001111"}
    messages = outbox(seeded)
    assert sorted(m.channel for m in messages) == ["inapp", "sms"]
    assert {m.event for m in messages} == {"order.address_changed"}
    # the SMS carries the new address masked, never in full
    assert all("北京市朝阳区****" in m.body and NEW_ADDRESS not in m.body for m in messages)


def test_no_phone_keeps_the_recipients_phone(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O14")
    change_address(seeded, agent_actor(), "O14", NEW_ADDRESS, clock, phone="13900001111")
    clock.advance(minutes=5)
    later = change_address(seeded, bot_for(), "O14", "广州市天河区体育西路 1 号", clock, phone=" ",
                           via_assistant=True)
    assert later.recipient_phone == "13900001111"
    first, second = changes(seeded)
    assert (first.actor_role, second.actor_role) == ("agent", "bot")
    assert second.before == {"address": NEW_ADDRESS, "recipient_phone": "13900001111"}


@pytest.mark.parametrize(("address", "phone", "code"), [
    ("北京", None, "invalid_address"),
    ("北京市朝阳区\n建国路 88 号", None, "invalid_address"),
    ("北" * 201, None, "invalid_address"),
    (NEW_ADDRESS, "12345", "invalid_phone"),
    (NEW_ADDRESS, "+8613900001111", "invalid_phone"),
    (ADDRESS, None, "address_unchanged"),
])
def test_a_bad_new_address_is_422_and_writes_nothing(seeded: Database, clock: FixedClock, address: str,
                                                     phone: str | None, code: str) -> None:
    paid_order(seeded, "O15")
    with pytest.raises(InputError) as bad:
        change_address(seeded, customer_actor(), "O15", address, clock, phone=phone)
    assert bad.value.code == code and bad.value.status == 422
    assert order_row(seeded, "O15").address == ADDRESS
    assert changes(seeded) == [] and outbox(seeded) == []


def test_a_cancelled_order_keeps_its_address(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O16")
    cancel_order(seeded, customer_actor(), "O16", clock)
    with pytest.raises(Conflict) as refused:
        change_address(seeded, customer_actor(), "O16", NEW_ADDRESS, clock)
    assert refused.value.detail["reason"] == "already_cancelled"
    assert "已取消" in refused.value.zh


# ── history, options, re-import ──────────────────────────────────────────────────────────────


def test_the_history_lists_changes_oldest_first_masked_for_sellers(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O17", seller="S3P")
    paid_order(seeded, "O18")
    change_address(seeded, customer_actor(), "O17", NEW_ADDRESS, clock, phone="13900001111")
    clock.advance(hours=1)
    cancel_order(seeded, agent_actor(), "O17", clock, reason="缺货")
    cancel_order(seeded, customer_actor(), "O18", clock)

    mine = list_order_changes(seeded, customer_actor(), "O17")
    assert [(c.action, c.actor_role, c.note) for c in mine] == [
        ("change_address", "customer", ""), ("cancel", "agent", "缺货")]
    assert mine[0].after["address"] == NEW_ADDRESS and mine[1].at == NOW + timedelta(hours=1)
    assert list_order_changes(seeded, agent_actor(), "O17") == mine

    shop = list_order_changes(seeded, seller_actor("S3P"), "O17")
    assert shop[0].after == {"address": "北京市朝阳区****", "recipient_phone": "139****1111"}
    assert shop[0].before["address"] == "上海市浦东新****"
    assert shop[1].after["status"] == "cancelled"
    with pytest.raises(NotFound):
        list_order_changes(seeded, seller_actor("S3Q", 302), "O17")


def test_change_options_follow_the_rules_on_a_loaded_order(seeded: Database, clock: FixedClock) -> None:
    paid_order(seeded, "O19")
    paid_order(seeded, "O20", delivery="in_transit", shipped=True)
    cancel, address = change_options(get_order(seeded, agent_actor(), "O19"))
    assert cancel.allowed and address.allowed
    cancel, address = change_options(get_order(seeded, agent_actor(), "O20"))
    assert not cancel.allowed and not address.allowed and cancel.reason == "already_shipped"


def test_an_identical_re_import_from_the_shop_leaves_the_cancel_alone(seeded: Database, clock: FixedClock) -> None:
    record: dict[str, Any] = order_record("O-IMP", status="paid", delivery=None, customer={
        "id": "C1", "name": "张三"}, seller={"id": "SELF"})
    report = import_orders(seeded, [SourceRecord(1, record)], clock)
    assert report.created == 1
    cancel_order(seeded, customer_actor(), "O-IMP", clock)
    clock.advance(hours=1)
    again = import_orders(seeded, [SourceRecord(1, record)], clock)
    assert again.unchanged == 1
    row = order_row(seeded, "O-IMP")
    assert (row.status, row.updated_at) == ("cancelled", NOW)
    with seeded.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(OrderChange)) == 1
