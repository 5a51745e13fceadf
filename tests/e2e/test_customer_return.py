"""A customer applies for a 7-day no-reason return in the browser and sees the decision live.

Debian's chromium against the real ``kefu serve``; the order is seeded straight into its database.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from playwright.sync_api import expect

from kefu.adapters.db.tables.catalog import Customer, Delivery, Order, OrderLine, OrderPayment, Seller, TrackingEvent
from kefu.services.uow import Database

_ids = itertools.count(1)


def seed_order(db: Database, *, seller_type: str = "self_operated", category: str = "home",
               price: str = "299.00", delivery_status: str = "signed", signed_days_ago: float = 2,
               payments: tuple[tuple[str, str], ...] | None = None, level: str = "regular",
               name: str = "北欧风陶瓷台灯") -> tuple[str, str]:
    """A customer with one delivered order of one line; returns (customer id, order id)."""
    n = f"{os.getpid()}-{next(_ids)}"
    customer_id, seller_id, order_id = f"CUS-{n}", f"SEL-{n}", f"ORD-{n}"
    now = datetime.now(UTC)
    signed = now - timedelta(days=signed_days_ago)
    with db.uow() as uow:
        s = uow.session
        s.add(Customer(id=customer_id, name="张三", phone="13800001234", email=None, level=level, created_at=now))
        s.add(Seller(id=seller_id, name="平台自营" if seller_type == "self_operated" else "好物小店",
                     type=seller_type, created_at=now))
        order = Order(id=order_id, customer_id=customer_id, seller_id=seller_id, status="delivered",
                      paid_at=signed - timedelta(days=2), shipping_insurance=False, total_paid=Decimal(price),
                      address="上海市浦东新区张江路 100 号", content_hash="e2e", created_at=now, updated_at=now)
        s.add(order)
        s.add(OrderLine(order=order, line_no=0, sku=f"SKU-{n}", name=name, category=category, quantity=1,
                        unit_price=Decimal(price), paid_amount=Decimal(price), warranty_days=365, services=[],
                        price_protection_days=0, non_returnable_confirmed=False))
        for method, amount in payments or (("card", price),):
            s.add(OrderPayment(order=order, method=method, amount=Decimal(amount)))
        delivery = Delivery(order=order, carrier="platform", carrier_name="京东物流", tracking_no=f"JD{n}",
                            status=delivery_status, shipped_at=signed - timedelta(days=1), signed_at=signed)
        s.add(delivery)
        s.add(TrackingEvent(delivery=delivery, at=signed, location="上海", description="您的快件已签收"))
        uow.commit()
    return customer_id, order_id


def sign_in(page: Any, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_customer_applies_for_a_no_reason_return_and_sees_it_approved_with_its_reason(
        page: Any, live_db: Database, live_account: Callable[..., tuple[str, str]]) -> None:
    customer_id, order_id = seed_order(live_db, category="home")
    username, password = live_account(role="customer", display_name="张三", customer_id=customer_id)

    sign_in(page, username, password)
    expect(page).to_have_url(re.compile(r"/orders$"))
    row = page.get_by_test_id("order-row").filter(has_text=order_id)
    expect(row).to_contain_text("已签收")
    expect(row).to_contain_text("您的快件已签收")
    row.get_by_test_id("order-link").click()

    expect(page).to_have_url(re.compile(rf"/orders/{order_id}$"))
    page.get_by_test_id("apply-0").click()
    expect(page).to_have_url(re.compile(r"/lines/0/apply$"))

    # Change the form and watch the decision come back before anything is submitted.
    page.get_by_test_id("type").select_option("exchange")
    expect(page.get_by_test_id("decision-outcome")).to_be_visible()
    page.get_by_test_id("type").select_option("return")
    page.get_by_test_id("reason").select_option("no_reason")
    page.get_by_test_id("cond-packaging_opened").check()
    preview = page.locator("#preview")
    expect(preview.get_by_test_id("decision-outcome")).to_have_text("已同意")
    expect(preview.locator('[data-rule="N1"]')).to_contain_text("N1")
    n1_reason = preview.locator('[data-rule="N1"]').inner_text()
    assert "7" in n1_reason and len(n1_reason) > 6
    expect(preview.get_by_test_id("decision-refund")).to_have_text("¥299.00")
    # Nothing was submitted yet.
    page.goto("/aftersales")
    expect(page.get_by_test_id("application-row")).to_have_count(0)
    page.go_back()

    page.get_by_test_id("reason").select_option("no_reason")
    page.get_by_test_id("description").fill("不喜欢颜色")
    page.get_by_test_id("submit").click()

    expect(page).to_have_url(re.compile(r"/aftersales/AS\d+$"))
    expect(page.get_by_test_id("status")).to_have_text("已同意")
    expect(page.get_by_test_id("decision-rules").locator('[data-rule="N1"]')).to_have_text(n1_reason)
    expect(page.get_by_test_id("timeline")).to_contain_text("提交申请")
    expect(page.get_by_test_id("form-cancel")).to_be_visible()
    expect(page.get_by_test_id("form-ship_back")).to_be_visible()

    # The customer ships it back with a waybill; the timeline records it.
    page.get_by_test_id("waybill").fill("SF1234567890")
    page.get_by_test_id("do-ship_back").click()
    expect(page.get_by_test_id("status")).to_have_text("已寄回")

    # The decision message is in the inbox, and the page speaks English on request.
    page.get_by_test_id("nav-inbox").click()
    expect(page.get_by_test_id("inbox-item").first).to_contain_text("售后申请")
    page.reload()                                   # looking at the inbox does not mark it read
    expect(page.get_by_test_id("unread-count")).to_be_visible()
    page.get_by_test_id("mark-read").click()
    expect(page.get_by_test_id("mark-read")).to_have_count(0)
    page.get_by_test_id("lang-en").click()
    expect(page.get_by_test_id("nav-orders")).to_have_text("My orders")
