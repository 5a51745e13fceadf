"""The complaint path in two browsers: a customer files a complaint with a photo, an agent sees it
arrive on the desk, confirms it and answers, the customer's open page shows the answer arrive
live (no reload), the agent resolves it, the customer accepts the result and rates the service.

Debian's chromium against the real ``kefu serve``; people, the order and the desk set-up are
seeded straight into its database. An internal note the agent writes must never reach the
customer's page — neither live nor after a reload.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.service_desk import SatisfactionSurvey, Ticket, TicketAttachment, TicketMessage
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import system_clock
from kefu.services import desk_admin
from kefu.services import tickets as svc
from kefu.services.uow import Database
from tests.e2e.test_customer_return import seed_order, sign_in

REPLY = "您好，已核实是物流延误，我们已加急处理，预计明天送达。"
NOTE = "内部：顾客第二次来电，情绪激动，优先跟进"


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (220, 40, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def user_id(db: Database, username: str) -> int:
    with db.read() as uow:
        found = uow.session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return int(found)


def seed_complaints_desk(db: Database, live_account: Callable[..., tuple[str, str]]) -> tuple[tuple[str, str],
                                                                                             tuple[str, str]]:
    """An online agent (capacity 5, skill "complaints") in the complaints queue, and their supervisor."""
    agent = live_account(role="agent", display_name="客服小陈", employee_no="KF7001")
    supervisor = live_account(role="supervisor", display_name="主管老周", employee_no="KF7100")
    agent_id, sup_id = user_id(db, agent[0]), user_id(db, supervisor[0])
    desk_admin.set_agent(db, Actor(sup_id, Role.SUPERVISOR, display_name="主管老周"), agent_id,
                         desk_admin.AgentSettings(queue_codes=("complaints",), capacity=5, skills=("complaints",),
                                                  supervisor_id=sup_id), system_clock)
    svc.set_presence(db, Actor(agent_id, Role.AGENT, display_name="客服小陈"), True, system_clock)
    return agent, supervisor


def test_a_complaint_is_answered_live_resolved_accepted_and_rated(
        new_context: Callable[..., Any], live_db: Database, live_account: Callable[..., tuple[str, str]]) -> None:
    customer_id, order_id = seed_order(live_db, category="home", delivery_status="in_transit", name="北欧风陶瓷台灯")
    shopper_login = live_account(role="customer", display_name="张三", customer_id=customer_id)
    (agent_name, agent_password), _supervisor = seed_complaints_desk(live_db, live_account)

    # The agent is on the desk before the complaint arrives: the list refreshes by itself.
    agent = new_context().new_page()
    sign_in(agent, agent_name, agent_password)
    agent.get_by_test_id("nav-desk-tickets").click()
    expect(agent).to_have_url(re.compile(r"/desk/tickets$"))
    expect(agent.get_by_test_id("presence-state")).to_have_text("接待中")
    expect(agent.get_by_test_id("live-on")).to_be_visible()

    # The customer files a complaint about the late order, with a photo.
    shopper = new_context().new_page()
    sign_in(shopper, *shopper_login)
    shopper.get_by_test_id("nav-tickets").click()
    shopper.get_by_test_id("new-ticket").click()
    expect(shopper).to_have_url(re.compile(r"/tickets/new$"))
    shopper.get_by_test_id("kind-complaint").check()
    shopper.get_by_test_id("category").select_option(label="物流")
    shopper.get_by_test_id("order").select_option(order_id)
    shopper.get_by_test_id("subject").fill("台灯一周还没送到")
    shopper.get_by_test_id("body").fill("物流信息五天没有更新，客服电话也打不通。")
    shopper.get_by_test_id("evidence").set_input_files(
        [{"name": "物流截图.png", "mimeType": "image/png", "buffer": png_bytes()}])
    shopper.get_by_test_id("submit").click()

    expect(shopper).to_have_url(re.compile(r"/tickets/T\d+$"))
    number = shopper.get_by_test_id("number").inner_text()
    expect(shopper.get_by_test_id("status")).to_have_text("待处理")
    expect(shopper.get_by_test_id("steps").locator('[data-state="current"]')).to_have_text("待处理")
    expect(shopper.get_by_test_id("attachment")).to_have_count(1)
    expect(shopper.get_by_test_id("live-on")).to_be_visible()          # the live stream is open
    shopper.evaluate("window.__stillTheSamePage = true")

    # The agent's list shows it without a reload; they open it and confirm the problem.
    row = agent.locator(f'[data-testid="desk-ticket-row"][data-number="{number}"]')
    expect(row).to_contain_text("投诉")
    expect(row).to_contain_text("物流")
    expect(row).to_contain_text("客服小陈")
    row.get_by_test_id("desk-ticket-link").click()
    expect(agent).to_have_url(re.compile(rf"/desk/tickets/{number}$"))
    expect(agent.get_by_test_id("customer-panel")).to_contain_text("138****1234")
    expect(agent.get_by_test_id("customer-panel")).to_contain_text(order_id)
    expect(agent.get_by_test_id("attachment")).to_have_count(1)
    agent.get_by_test_id("do-confirm").click()
    expect(agent.get_by_test_id("status")).to_have_text("问题已确认")

    # The customer's page follows the status live.
    expect(shopper.get_by_test_id("status")).to_have_text("问题已确认")

    # An internal note, then the public answer.
    agent.get_by_test_id("reply-body").fill(NOTE)
    agent.get_by_test_id("reply-internal").check()
    agent.get_by_test_id("reply-submit").click()
    expect(agent.get_by_test_id("transcript").locator('[data-visibility="internal"]')).to_contain_text(NOTE)
    agent.get_by_test_id("reply-body").fill(REPLY)
    agent.get_by_test_id("reply-submit").click()
    expect(agent.get_by_test_id("transcript")).to_contain_text(REPLY)

    # The answer arrives on the customer's open page — no reload — and the note never does.
    transcript = shopper.get_by_test_id("transcript")
    expect(transcript).to_contain_text(REPLY)
    expect(transcript.get_by_test_id("message").last).to_contain_text("客服小陈")
    expect(shopper.get_by_test_id("status")).to_have_text("处理中")
    assert shopper.evaluate("window.__stillTheSamePage === true"), "the customer's page was reloaded"
    assert shopper.evaluate("performance.getEntriesByType('navigation').length") == 1
    expect(transcript).not_to_contain_text(NOTE)
    expect(transcript.locator('[data-visibility="internal"]')).to_have_count(0)

    # The agent resolves it; the customer's page offers to accept the result and the survey.
    agent.get_by_test_id("do-resolve").click()
    expect(agent.get_by_test_id("status")).to_have_text("已处理，待顾客确认")
    expect(shopper.get_by_test_id("do-accept")).to_be_visible()
    expect(shopper.get_by_test_id("survey")).to_be_visible()
    assert shopper.evaluate("window.__stillTheSamePage === true")

    shopper.get_by_test_id("do-accept").click()
    expect(shopper.get_by_test_id("status")).to_have_text("已关闭")
    shopper.get_by_test_id("score-very_satisfied").check()
    shopper.get_by_test_id("survey-comment").fill("处理很及时，谢谢")
    shopper.get_by_test_id("survey-submit").click()
    expect(shopper.get_by_test_id("survey-answered")).to_contain_text("非常满意")
    expect(shopper.get_by_test_id("survey")).to_have_count(0)                 # answerable once
    expect(shopper.get_by_test_id("transcript")).not_to_contain_text(NOTE)    # not after a reload either
    expect(shopper.get_by_test_id("transcript")).to_contain_text(REPLY)

    # What the database holds.
    with live_db.read() as uow:
        s = uow.session
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert (ticket.status, ticket.kind, ticket.category, ticket.order_id) == (
            "closed", "complaint", "logistics", order_id)
        survey = s.scalars(select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id)).one()
        assert survey.score == "very_satisfied" and survey.comment == "处理很及时，谢谢"
        assert survey.answered_at is not None and survey.agent_id == user_id(live_db, agent_name)
        notes = list(s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id,
                                                           TicketMessage.body == NOTE)))
        assert [n.visibility for n in notes] == ["internal"]
        files = list(s.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id)))
        assert [(f.filename, f.content_type) for f in files] == [("物流截图.png", "image/png")]
