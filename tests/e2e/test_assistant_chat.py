"""The smart assistant in two browsers (issue 5, "What it must show"): a shopper asks
"我的订单到哪了", picks the order from the quick replies and sees its real latest tracking event;
asks whether it can be returned and sees the policy engine's decision with its rule; types 转人工,
and the agent's workspace — open in a second browser context — shows the conversation with its
transcript without a reload. The agent answers and the shopper's chat shows it live.

Debian's chromium against the real ``kefu serve`` (the trained classifier, the real policy
engine); the order and the desk set-up are seeded straight into its database.
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
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import system_clock
from kefu.services import desk_admin
from kefu.services import tickets as svc
from kefu.services.uow import Database
from tests.e2e.test_complaint_path import user_id
from tests.e2e.test_customer_return import sign_in

_numbers = itertools.count(1)
LATEST = "您的快件已由本人签收，感谢使用京东物流"


def seed_shopper_order(db: Database) -> tuple[str, str]:
    """A customer with one delivered order (a 12-digit order number, as shoppers type them)."""
    n = next(_numbers)
    customer_id, seller_id = f"CBOT-{os.getpid()}-{n}", f"SBOT-{os.getpid()}-{n}"
    order_id = f"7{os.getpid() % 100000:05d}{n:06d}"
    now = datetime.now(UTC)
    signed = now - timedelta(days=1)
    with db.uow() as uow:
        s = uow.session
        s.add(Customer(id=customer_id, name="王五", phone="13800005555", email=None, level="regular",
                       created_at=now))
        s.add(Seller(id=seller_id, name="平台自营", type="self_operated", created_at=now))
        order = Order(id=order_id, customer_id=customer_id, seller_id=seller_id, status="delivered",
                      paid_at=signed - timedelta(days=2), shipping_insurance=False, total_paid=Decimal("399.00"),
                      address="上海市浦东新区张江路 100 号", content_hash="e2e", created_at=now, updated_at=now)
        s.add(order)
        s.add(OrderLine(order=order, line_no=0, sku=f"SKU-BOT-{n}", name="北欧风陶瓷台灯", category="home",
                        quantity=1, unit_price=Decimal("399.00"), paid_amount=Decimal("399.00"), warranty_days=365,
                        services=[], price_protection_days=0, non_returnable_confirmed=False))
        s.add(OrderPayment(order=order, method="card", amount=Decimal("399.00")))
        delivery = Delivery(order=order, carrier="platform", carrier_name="京东物流", tracking_no=f"JD{order_id}",
                            status="signed", shipped_at=signed - timedelta(days=1), signed_at=signed)
        s.add(delivery)
        s.add(TrackingEvent(delivery=delivery, at=signed - timedelta(hours=5), location="上海",
                            description="快件已到达【上海浦东新区营业部】"))
        s.add(TrackingEvent(delivery=delivery, at=signed, location="上海浦东新", description=LATEST))
        uow.commit()
    return customer_id, order_id


def send(page: Any, text: str) -> None:
    page.get_by_test_id("chat-body").fill(text)
    page.get_by_test_id("chat-send").click()


def test_the_assistant_answers_from_the_order_and_hands_over_to_a_live_agent(
        new_context: Callable[..., Any], live_db: Database, live_account: Callable[..., tuple[str, str]]) -> None:
    customer_id, order_id = seed_shopper_order(live_db)
    shopper_login = live_account(role="customer", display_name="王五", customer_id=customer_id)
    agent_name, agent_password = live_account(role="agent", display_name="客服小林", employee_no="KF7301")
    supervisor = live_account(role="supervisor", display_name="主管老周", employee_no="KF7399")
    agent_id, sup_id = user_id(live_db, agent_name), user_id(live_db, supervisor[0])
    desk_admin.set_agent(live_db, Actor(sup_id, Role.SUPERVISOR, display_name="主管老周"), agent_id,
                         desk_admin.AgentSettings(queue_codes=("general", "logistics", "aftersales"), capacity=20,
                                                  skills=(), supervisor_id=sup_id), system_clock)
    svc.set_presence(live_db, Actor(agent_id, Role.AGENT, display_name="客服小林"), True, system_clock)

    # The agent has the workspace open before the shopper writes.
    agent = new_context().new_page()
    sign_in(agent, agent_name, agent_password)
    agent.goto("/desk/tickets")
    expect(agent.get_by_test_id("live-on")).to_be_visible()
    agent.evaluate("window.__stillTheSamePage = true")

    # The shopper opens the chat from the widget and asks where the order is.
    shopper = new_context().new_page()
    sign_in(shopper, *shopper_login)
    shopper.get_by_test_id("chat-widget").click()
    expect(shopper).to_have_url(re.compile(r"/chat$"))
    send(shopper, "我的订单到哪了")
    transcript = shopper.get_by_test_id("transcript")
    expect(transcript.locator('[data-role="bot"]').last).to_contain_text("哪个订单")
    pick = shopper.locator(f'[data-testid="quick-reply"][data-send="订单{order_id}"]')
    expect(pick).to_contain_text(order_id)
    pick.click()
    status = transcript.locator('[data-role="bot"]').last
    expect(status).to_contain_text(LATEST)                              # the real latest tracking event
    expect(status).to_contain_text("已签收")
    expect(status).not_to_contain_text("快件已到达")                     # only the latest one

    # Can it be returned? The policy engine's decision with its rule.
    send(shopper, "这个能退货吗")
    decision = transcript.locator('[data-role="bot"]').last
    expect(decision).to_contain_text("七天无理由退货：可以办理")
    expect(decision).to_contain_text("N1")
    expect(decision).to_contain_text("¥399.00")

    # 转人工: the chat becomes the ticket; the agent's open workspace shows it with the transcript.
    send(shopper, "转人工")
    expect(shopper.get_by_test_id("chat-ticket")).to_be_visible()
    number = shopper.get_by_test_id("chat-ticket").inner_text()
    expect(shopper.get_by_test_id("transcript")).to_contain_text("我的订单到哪了")
    expect(shopper.get_by_test_id("live-on")).to_be_visible()

    row = agent.locator(f'[data-testid="desk-ticket-row"][data-number="{number}"]')
    expect(row).to_contain_text("智能客服转人工")
    preview = agent.locator(f'[data-testid="chat-preview"][data-number="{number}"]')
    expect(preview).to_contain_text(LATEST)
    expect(preview).to_contain_text("N1")
    expect(preview).to_contain_text("转人工")
    assert agent.evaluate("window.__stillTheSamePage === true"), "the agent's workspace was reloaded"

    # The agent opens it: the whole transcript, the assistant's note, and the order beside it.
    row.get_by_test_id("desk-ticket-link").click()
    full = agent.get_by_test_id("transcript")
    expect(full).to_contain_text("我的订单到哪了")
    expect(full.locator('[data-role="bot"]')).to_have_count(4)
    expect(full.locator('[data-visibility="internal"]')).to_contain_text("顾客要求转人工")
    expect(agent.get_by_test_id("customer-panel")).to_contain_text(order_id)

    # The agent answers; the shopper's chat shows it live, without a reload.
    shopper.evaluate("window.__stillTheSamePage = true")
    agent.get_by_test_id("reply-body").fill("您好，我是客服小林，台灯可以退，我帮您安排上门取件。")
    agent.get_by_test_id("reply-submit").click()
    expect(shopper.get_by_test_id("transcript")).to_contain_text("我帮您安排上门取件")
    assert shopper.evaluate("window.__stillTheSamePage === true")
