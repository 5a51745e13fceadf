"""An agent reviews a ``manual_review`` application in the browser through to the refund.

The application is submitted through the service (the delivery says ``in_transit`` although it
was signed for, so rule C1 sends it to a person); the customer's shipping back is a second,
separate browser context signed in as the customer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import update

from kefu.adapters.db.tables.aftersales import Application
from kefu.adapters.policy_files import load_policy_book
from kefu.config import Settings
from kefu.domain.actors import Actor, Role
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.domain.clock import system_clock
from kefu.services import aftersales as svc
from kefu.services.uow import Database
from tests.e2e.test_customer_return import seed_order, sign_in


def seed_manual_review(db: Database) -> tuple[str, str]:
    """A C1 application (delivery in transit yet signed for); returns (customer id, number)."""
    customer_id, order_id = seed_order(db, category="clothing", price="299.00", delivery_status="in_transit",
                                       payments=(("card", "200.00"), ("balance", "99.00")), name="羊毛开衫")
    customer = Actor(user_id=None, role=Role.CUSTOMER, customer_id=customer_id, display_name="张三")
    app = svc.submit_application(
        db, customer, svc.ApplicationRequest(order_id=order_id, line=0, type=RequestType.RETURN,
                                             reason=Reason.NO_REASON, description="尺码偏大"),
        load_policy_book(Settings().policy_dir), system_clock)
    assert app.status == "manual_review", app.decision
    assert "C1" in app.decision["rules"]
    # Past its review deadline, so the queue must mark it overdue.
    with db.uow() as uow:
        uow.session.execute(update(Application).where(Application.id == app.id)
                            .values(due_at=datetime.now(UTC) - timedelta(hours=1)))
        uow.commit()
    return customer_id, app.number


def test_agent_reviews_a_manual_review_application_through_to_the_refund(
        new_context: Callable[..., Any], live_db: Database, live_account: Callable[..., tuple[str, str]]) -> None:
    customer_id, number = seed_manual_review(live_db)
    agent_name, agent_password = live_account(role="agent", display_name="客服小王")
    customer_name, customer_password = live_account(role="customer", display_name="张三", customer_id=customer_id)

    agent = new_context().new_page()
    sign_in(agent, agent_name, agent_password)
    expect(agent).to_have_url(re.compile(r"/desk$"))
    row = agent.locator(f'[data-testid="queue-row"][data-number="{number}"]')
    expect(row).to_contain_text("人工审核中")
    expect(row.get_by_test_id("overdue")).to_have_text("已超时")
    row.get_by_test_id("queue-link").click()

    expect(agent).to_have_url(re.compile(rf"/desk/aftersales/{number}$"))
    expect(agent.get_by_test_id("status")).to_have_text("人工审核中")
    expect(agent.get_by_test_id("decision-rules").locator('[data-rule="C1"]')).to_contain_text("转人工核实")
    expect(agent.get_by_test_id("order")).to_contain_text("138****1234")
    expect(agent.get_by_test_id("order")).not_to_contain_text("13800001234")
    expect(agent.get_by_test_id("customer-level")).to_have_text("普通会员")

    # A rejection needs a reason: the service says so on the page, nothing changes.
    agent.get_by_test_id("form-reject").evaluate("f => f.noValidate = true")
    agent.get_by_test_id("do-reject").click()
    expect(agent.get_by_test_id("error-message")).to_have_text("拒绝时请填写原因。")
    expect(agent.get_by_test_id("status")).to_have_text("人工审核中")

    agent.get_by_test_id("do-approve").click()
    expect(agent.get_by_test_id("status")).to_have_text("已同意")
    expect(agent.get_by_test_id("form-receive")).to_have_count(0)   # nothing has come back yet

    # The customer ships the goods back from their own browser.
    shopper = new_context().new_page()
    sign_in(shopper, customer_name, customer_password)
    shopper.goto(f"/aftersales/{number}")
    expect(shopper.get_by_test_id("status")).to_have_text("已同意")
    shopper.get_by_test_id("carrier").fill("顺丰")
    shopper.get_by_test_id("waybill").fill("SF0000000001")
    shopper.get_by_test_id("do-ship_back").click()
    expect(shopper.get_by_test_id("status")).to_have_text("已寄回")

    agent.reload()
    expect(agent.get_by_test_id("status")).to_have_text("已寄回")
    agent.get_by_test_id("do-receive").click()
    expect(agent.get_by_test_id("status")).to_have_text("已收货待验货")
    agent.get_by_test_id("inspect-pass").check()
    agent.get_by_test_id("inspect-note").fill("吊牌完好，无穿着痕迹")
    agent.get_by_test_id("do-inspect").click()
    expect(agent.get_by_test_id("status")).to_have_text("验货通过")
    agent.get_by_test_id("do-refund").click()

    expect(agent.get_by_test_id("status")).to_have_text("已退款")
    refunds = agent.get_by_test_id("refund-row")
    expect(refunds).to_have_count(2)
    expect(refunds.nth(0)).to_contain_text("银行卡")
    expect(refunds.nth(0)).to_contain_text("¥200.00")
    expect(refunds.nth(1)).to_contain_text("余额")
    expect(refunds.nth(1)).to_contain_text("¥99.00")
    timeline = agent.get_by_test_id("timeline")
    for step in ("同意", "填写寄回运单", "确认收货", "验货", "退款"):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("吊牌完好，无穿着痕迹")

    # The customer sees the refund too.
    shopper.reload()
    expect(shopper.get_by_test_id("status")).to_have_text("已退款")
    expect(shopper.get_by_test_id("refund-row")).to_have_count(2)
