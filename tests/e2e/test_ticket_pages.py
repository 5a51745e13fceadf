"""The service-desk pages over HTTP (FastAPI's TestClient, SQLite and PostgreSQL): who may open
which page, the complaint form, the blocked reply, canned replies with macros, compensation
limits, the after-sales application an agent files for a customer, the chat, English on request,
and the workspace's query count.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from kefu.adapters.db.tables.service_desk import (
    CompensationRequest,
    ComplianceViolation,
    Ticket,
    TicketMessage,
    TicketTag,
)
from kefu.domain.actors import Actor, Role
from kefu.domain.service.tickets import Category, Kind
from kefu.services import accounts, desk_admin
from kefu.services import tickets as svc
from kefu.services.uow import Database
from kefu.web.runtime import runtime_of
from tests.e2e.test_pages_access import PASSWORD, csrf_of, sign_in
from tests.integration.factories import make_order, seed_parties


@dataclass(frozen=True)
class Desk:
    complaint: str          # C1's complaint about order O-S3P (seller S3P)
    question: str           # C2's consultation about order O-S3Q (seller S3Q)
    agent: Actor
    sup: Actor


def _actor(info: accounts.UserInfo) -> Actor:
    return Actor(info.id, info.role, customer_id=info.customer_id, seller_id=info.seller_id,
                 display_name=info.display_name)


@pytest.fixture
def desk(db: Database, app: FastAPI) -> Desk:
    seed_parties(db)
    make_order(db, "O-S3P", customer="C1", seller="S3P")
    make_order(db, "O-S3Q", customer="C2", seller="S3Q")
    users = {}
    for username, role, extra in (
            ("cust1", "customer", {"customer_id": "C1", "display_name": "张三"}),
            ("cust2", "customer", {"customer_id": "C2", "display_name": "李四"}),
            ("agent", "agent", {"employee_no": "KF0001", "display_name": "客服小王"}),
            ("sup", "supervisor", {"employee_no": "KF0100", "display_name": "主管老周"}),
            ("seller3p", "seller", {"seller_id": "S3P"}), ("seller3q", "seller", {"seller_id": "S3Q"}),
            ("admin", "admin", {})):
        users[username] = _actor(accounts.create_user(db, username=username, password=PASSWORD, role=role, **extra))
    runtime = runtime_of(app)
    sup = users["sup"]
    desk_admin.set_agent(db, sup, users["agent"].user_id, desk_admin.AgentSettings(
        queue_codes=("general", "complaints"), capacity=10, skills=("complaints",), supervisor_id=sup.user_id),
        runtime.clock)
    svc.set_presence(db, users["agent"], True, runtime.clock)
    complaint = svc.open_ticket(db, users["cust1"], svc.TicketRequest(
        subject="快递一直没送到", body="物流停了五天", kind=Kind.COMPLAINT, category=Category.LOGISTICS,
        order_id="O-S3P"), runtime.desk, runtime.clock)
    question = svc.open_ticket(db, users["cust2"], svc.TicketRequest(
        subject="有没有发票", body="请问可以开发票吗", order_id="O-S3Q"), runtime.desk, runtime.clock)
    return Desk(complaint=complaint.number, question=question.number, agent=users["agent"], sup=sup)


def login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    sign_in(client, username)


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


# ── who may open what ──────────────────────────────────────────────────────────────────────


def test_a_customer_sees_only_their_own_tickets_and_no_desk_page(client: TestClient, desk: Desk) -> None:
    login(client, "cust1")
    mine = client.get("/tickets")
    assert mine.status_code == 200 and desk.complaint in mine.text and desk.question not in mine.text
    page = client.get(f"/tickets/{desk.complaint}")
    assert page.status_code == 200
    assert 'data-testid="status"' in page.text and "待处理" in page.text
    assert f'sse-connect="/tickets/{desk.complaint}/live"' in page.text
    assert client.get("/tickets/new").status_code == 200
    other = client.get(f"/tickets/{desk.question}")
    assert other.status_code == 404 and "工单不存在" in other.text
    assert client.get(f"/tickets/{desk.question}/live").status_code == 404
    for path in ("/desk/tickets", f"/desk/tickets/{desk.complaint}", "/desk/settings", "/desk/canned",
                 "/desk/satisfaction", "/desk/live"):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("path", ["/tickets", "/tickets/new", "/chat", "/desk/tickets", "/desk/settings",
                                  "/desk/satisfaction"])
def test_an_anonymous_visitor_is_sent_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_agents_work_their_queues_and_see_the_customer_beside_the_ticket(client: TestClient, desk: Desk) -> None:
    login(client, "agent")
    work = client.get("/desk/tickets")
    assert work.status_code == 200
    assert desk.complaint in work.text and desk.question in work.text
    assert 'sse-connect="/desk/live"' in work.text and 'hx-trigger="sse:ticket' in work.text
    assert 'data-testid="go-offline"' in work.text                         # online already
    mine_only = client.get("/desk/tickets?queue=complaints").text
    assert desk.complaint in mine_only and desk.question not in mine_only
    not_mine = client.get("/desk/tickets?queue=logistics")
    assert not_mine.status_code == 403 and 'data-testid="error-message"' in not_mine.text

    page = client.get(f"/desk/tickets/{desk.complaint}")
    assert page.status_code == 200
    panel = page.text[page.text.index('data-testid="customer-panel"'):]
    assert "138****1234" in panel and "13800001234" not in page.text
    assert "O-S3P" in panel and 'data-testid="apply-for-customer"' in panel
    assert 'data-testid="do-confirm"' in page.text
    # a customer's link to the ticket takes staff to the desk's page
    assert client.get(f"/tickets/{desk.complaint}", follow_redirects=False).headers["location"] == \
        f"/desk/tickets/{desk.complaint}"


def test_a_seller_sees_only_tickets_about_their_goods(client: TestClient, desk: Desk) -> None:
    login(client, "seller3p")
    work = client.get("/desk/tickets")
    assert work.status_code == 200
    assert desk.complaint in work.text and desk.question not in work.text
    # the list refreshes live for sellers too (events about their goods only); no presence toggle
    assert 'sse-connect="/desk/live"' in work.text and 'data-testid="presence"' not in work.text
    page = client.get(f"/desk/tickets/{desk.complaint}")
    assert page.status_code == 200
    assert 'data-testid="reply-internal"' not in page.text and 'data-testid="transfer-form"' not in page.text
    assert client.get(f"/desk/tickets/{desk.question}").status_code == 404
    assert client.get("/desk/settings").status_code == 403
    assert client.get("/desk/satisfaction").status_code == 200
    assert client.get("/tickets").status_code == 403


# ── the complaint form ─────────────────────────────────────────────────────────────────────


def test_a_customer_files_a_complaint_with_evidence_and_a_compensation_request(
        client: TestClient, desk: Desk, db: Database) -> None:
    login(client, "cust1")
    form = client.get("/tickets/new?kind=complaint")
    assert "服务态度" in form.text and "O-S3P" in form.text and "O-S3Q" not in form.text
    done = client.post("/tickets/new", follow_redirects=False, data={
        "csrf_token": csrf_of(form.text), "kind": "complaint", "category": "service_attitude",
        "order_id": "O-S3P", "employee_no": "KF0001", "subject": "客服态度差", "body": "客服不耐烦",
        "comp_kind": "goodwill", "comp_amount": "15", "comp_reason": "耽误时间"},
        files=[("evidence", ("shot.png", _png(), "image/png"))])
    assert done.status_code == 303, done.text
    number = done.headers["location"].rsplit("/", 1)[-1]
    page = client.get(done.headers["location"])
    assert "待处理" in page.text and "服务补偿" in page.text and "¥15.00" in page.text
    found = re.search(rf'href="(/tickets/{number}/attachments/\d+)"', page.text)
    assert found, "the evidence is not on the ticket page"
    image = client.get(found.group(1))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    with db.read() as uow:
        ticket = uow.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert ticket.named_employee_no == "KF0001" and ticket.assignee_id == desk.sup.user_id      # D9
        assert uow.session.scalars(select(CompensationRequest).where(
            CompensationRequest.ticket_id == ticket.id)).one().approver_level == "agent"

    login(client, "cust2")
    assert client.get(found.group(1)).status_code == 404

    # the named agent never sees it (D9)
    login(client, "agent")
    assert number not in client.get("/desk/tickets").text
    assert client.get(f"/desk/tickets/{number}").status_code == 404


def test_a_bad_form_is_shown_again_with_its_reason(client: TestClient, desk: Desk) -> None:
    login(client, "cust1")
    token = csrf_of(client.get("/tickets/new").text)
    refused = client.post("/tickets/new", data={"csrf_token": token, "kind": "complaint", "category": "logistics",
                                                "subject": "没到货", "body": "快递没动", "comp_kind": "goodwill",
                                                "comp_amount": "abc"})
    assert refused.status_code == 422
    assert "金额格式不正确" in refused.text and "没到货" in refused.text
    assert client.get("/tickets").text.count('data-testid="ticket-row"') == 1
    no_csrf = client.post("/tickets/new", data={"subject": "x", "body": "y"})
    assert no_csrf.status_code == 403


# ── replies: compliance, internal notes, canned replies ────────────────────────────────────


def test_a_blocked_reply_shows_each_violation_and_keeps_the_text(client: TestClient, desk: Desk,
                                                                  db: Database) -> None:
    login(client, "agent")
    page = client.get(f"/desk/tickets/{desk.complaint}")
    text = "加我微信 kefu8888 详聊，或拨打 13912345678"
    blocked = client.post(f"/desk/tickets/{desk.complaint}/reply",
                          data={"csrf_token": csrf_of(page.text), "body": text})
    assert blocked.status_code == 422
    block = blocked.text[blocked.text.index('data-testid="compliance-block"'):]
    kinds = re.findall(r'data-testid="violation" data-kind="(\w+)"', block)
    assert set(kinds) >= {"im_account", "phone"}
    assert "13912345678" in block and "站外聊天账号" in block
    assert f">{text}</textarea>" in blocked.text
    with db.read() as uow:
        assert not uow.session.scalars(select(TicketMessage).where(TicketMessage.body == text)).first()
        assert uow.session.scalars(select(ComplianceViolation)).one().seller_id == "S3P"

    # the seller's record shows it, another seller's does not; supervisors see all
    login(client, "seller3p")
    assert "kefu8888" in client.get("/desk/satisfaction").text
    login(client, "seller3q")
    assert "kefu8888" not in client.get("/desk/satisfaction").text
    login(client, "sup")
    assert "kefu8888" in client.get("/desk/satisfaction").text

    token = csrf_of(client.get(f"/desk/tickets/{desk.complaint}").text)
    en = client.post(f"/desk/tickets/{desk.complaint}/reply?lang=en", data={"csrf_token": token, "body": text})
    assert en.status_code == 422 and "messenger account" in en.text


def test_an_internal_note_never_reaches_the_customer(client: TestClient, desk: Desk) -> None:
    login(client, "agent")
    token = csrf_of(client.get(f"/desk/tickets/{desk.complaint}").text)
    for body, internal in (("内部：顾客第三次来电", "1"), ("您好，已为您催促快递。", "")):
        done = client.post(f"/desk/tickets/{desk.complaint}/reply",
                           data={"csrf_token": token, "body": body, "internal": internal}, follow_redirects=False)
        assert done.status_code == 303, done.text
    staff = client.get(f"/desk/tickets/{desk.complaint}").text
    assert "内部：顾客第三次来电" in staff and 'data-testid="internal-badge"' in staff
    login(client, "cust1")
    page = client.get(f"/tickets/{desk.complaint}").text
    assert "您好，已为您催促快递。" in page and "内部：顾客第三次来电" not in page
    login(client, "seller3p")
    assert "内部：顾客第三次来电" not in client.get(f"/desk/tickets/{desk.complaint}").text


def test_a_canned_reply_fills_the_box_and_its_macro_follows_the_reply(client: TestClient, desk: Desk,
                                                                      db: Database) -> None:
    login(client, "sup")
    form = client.get("/desk/canned")
    assert form.status_code == 200 and "{customer_name}" in form.text
    saved = client.post("/desk/canned", follow_redirects=False, data={
        "csrf_token": csrf_of(form.text), "title": "请补充照片",
        "body": "{customer_name}您好，请补充快递面单照片（工单 {ticket_number}）。",
        "category": "", "tags": "待补充, 物流", "step": "wait_customer"})
    assert saved.status_code == 303, saved.text
    bad = client.post("/desk/canned", data={"csrf_token": csrf_of(form.text), "title": "", "body": ""})
    assert bad.status_code == 422 and 'data-testid="error-message"' in bad.text

    login(client, "agent")
    page = client.get(f"/desk/tickets/{desk.complaint}")
    canned_id = re.search(r'<option value="(\d+)">请补充照片</option>', page.text).group(1)
    box = client.get(f"/desk/tickets/{desk.complaint}/canned?canned={canned_id}", headers={"HX-Request": "true"})
    assert box.status_code == 200
    assert f"张三您好，请补充快递面单照片（工单 {desk.complaint}）。" in box.text
    assert f'name="canned_id" value="{canned_id}"' in box.text and "等待顾客" in box.text
    no_js = client.get(f"/desk/tickets/{desk.complaint}/canned?canned={canned_id}")       # follows to the page
    assert "张三您好" in no_js.text

    token = csrf_of(page.text)
    client.post(f"/desk/tickets/{desk.complaint}/do/confirm", data={"csrf_token": token})
    sent = client.post(f"/desk/tickets/{desk.complaint}/reply", follow_redirects=False, data={
        "csrf_token": token, "body": f"张三您好，请补充快递面单照片（工单 {desk.complaint}）。",
        "canned_id": canned_id})
    assert sent.status_code == 303
    with db.read() as uow:
        ticket = uow.session.scalars(select(Ticket).where(Ticket.number == desk.complaint)).one()
        assert ticket.status == "waiting_customer"
        assert set(uow.session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id))) == \
            {"待补充", "物流"}


# ── steps, compensation, an application for the customer ───────────────────────────────────


def test_an_illegal_step_and_an_approval_over_the_limit_are_shown_on_the_page(
        client: TestClient, desk: Desk, db: Database) -> None:
    login(client, "agent")
    token = csrf_of(client.get(f"/desk/tickets/{desk.complaint}").text)
    illegal = client.post(f"/desk/tickets/{desk.complaint}/do/close", data={"csrf_token": token})
    assert illegal.status_code == 409 and "不能关闭" in illegal.text
    nowhere = client.post(f"/desk/tickets/{desk.complaint}/do/merge", data={"csrf_token": token,
                                                                            "merge_into": "T0000000000"})
    assert nowhere.status_code == 404 and 'data-testid="transcript"' in nowhere.text       # shown on the page
    assert "工单不存在" in nowhere.text
    asked = client.post(f"/desk/tickets/{desk.complaint}/compensation", follow_redirects=False,
                        data={"csrf_token": token, "kind": "shipping_subsidy", "amount": "100", "reason": "延误"})
    assert asked.status_code == 303
    with db.read() as uow:
        request_id = uow.session.scalars(select(CompensationRequest.id)).one()
    refused = client.post(f"/desk/tickets/{desk.complaint}/compensation/{request_id}",
                          data={"csrf_token": token, "decision": "approve"})
    assert refused.status_code == 403
    assert 'data-testid="compensation-error"' in refused.text and "超出您的审批权限" in refused.text

    login(client, "sup")
    token = csrf_of(client.get(f"/desk/tickets/{desk.complaint}").text)
    approved = client.post(f"/desk/tickets/{desk.complaint}/compensation/{request_id}", follow_redirects=False,
                           data={"csrf_token": token, "decision": "approve", "note": "同意"})
    assert approved.status_code == 303
    assert "已批准" in client.get(f"/desk/tickets/{desk.complaint}").text


def test_an_agent_files_an_after_sales_application_for_the_customer(client: TestClient, desk: Desk,
                                                                     db: Database) -> None:
    login(client, "agent")
    form = client.get(f"/desk/tickets/{desk.complaint}/apply/O-S3P/0")
    assert form.status_code == 200 and 'data-testid="apply-form"' in form.text
    assert client.get(f"/desk/tickets/{desk.complaint}/apply/O-S3Q/0").status_code == 404   # not this customer's
    done = client.post(f"/desk/tickets/{desk.complaint}/apply/O-S3P/0", follow_redirects=False, data={
        "csrf_token": csrf_of(form.text), "type": "return", "reason": "quality", "quantity": "1",
        "description": "顾客来电说开机黑屏"})
    assert done.status_code == 303, done.text
    page = client.get(f"/desk/tickets/{desk.complaint}").text
    number = re.search(r"已为顾客提交售后申请 (AS\d+)", page)
    assert number, "no internal note links the application"
    assert f'href="/desk/aftersales/{number.group(1)}"' in page
    login(client, "cust1")
    assert number.group(1) in client.get("/aftersales").text
    assert "已为顾客提交售后申请" not in client.get(f"/tickets/{desk.complaint}").text


def test_the_customer_accepts_the_result_and_rates_it_once(client: TestClient, desk: Desk) -> None:
    login(client, "agent")
    token = csrf_of(client.get(f"/desk/tickets/{desk.question}").text)
    client.post(f"/desk/tickets/{desk.question}/reply", data={"csrf_token": token, "body": "可以开具电子发票。"})
    assert client.post(f"/desk/tickets/{desk.question}/do/resolve", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    login(client, "cust2")
    page = client.get(f"/tickets/{desk.question}").text
    assert 'data-testid="do-accept"' in page and 'data-testid="survey"' in page
    token = csrf_of(page)
    assert client.post(f"/tickets/{desk.question}/do/accept", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    rated = client.post(f"/tickets/{desk.question}/survey", data={"csrf_token": token, "score": "satisfied",
                                                                  "comment": "很快"})
    assert rated.status_code == 200
    assert "已关闭" in rated.text and 'data-testid="survey-answered"' in rated.text and "很快" in rated.text
    again = client.post(f"/tickets/{desk.question}/survey", data={"csrf_token": token, "score": "satisfied"})
    assert again.status_code == 409 and "您已经评价过了" in again.text
    login(client, "sup")
    report = client.get("/desk/satisfaction").text
    assert 'data-testid="satisfaction-row"' in report and "100.0%" in report


# ── chat, settings, English ────────────────────────────────────────────────────────────────


def test_the_chat_answers_with_the_assistant_then_hands_over_to_a_web_chat_ticket(client: TestClient, desk: Desk,
                                                                                  db: Database) -> None:
    login(client, "cust1")
    assert 'data-testid="chat-widget"' in client.get("/tickets").text
    first = client.get("/chat")
    assert "智能客服" in first.text and 'data-testid="chat-widget"' not in first.text
    assert "kefu_chat" in first.headers.get("set-cookie", "")
    token = csrf_of(first.text)
    htmx = {"HX-Request": "true"}
    asked = client.post("/chat/send", data={"csrf_token": token, "body": "发票怎么开"}, headers=htmx)
    assert asked.status_code == 200 and 'data-role="bot"' in asked.text and "发票" in asked.text
    assert 'data-intent="invoice"' in asked.text and 'hx-swap-oob="true"' in asked.text
    assert "发票怎么开" in client.get("/chat").text                       # the turn is kept
    empty = client.post("/chat/send", data={"csrf_token": token, "body": "  "}, headers=htmx)
    assert empty.headers["HX-Retarget"] == "#chat-error" and "请输入您的问题" in empty.text
    handed = client.post("/chat/send", data={"csrf_token": token, "body": "转人工"}, headers=htmx)
    assert handed.headers["HX-Redirect"] == "/chat"
    chat = client.get("/chat").text
    assert "发票怎么开" in chat and "data-conversation=" in chat and 'sse-swap="message"' in chat
    number = re.search(r'data-conversation="(T\d+)"', chat).group(1)
    sent = client.post("/chat/send", data={"csrf_token": csrf_of(chat), "body": "提示已过期"}, headers=htmx)
    assert sent.status_code == 200 and sent.headers["HX-Trigger"] == "kefu-sent"
    assert "提示已过期" in client.get("/chat").text
    with db.read() as uow:
        ticket = uow.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert (ticket.channel, ticket.kind) == ("web_chat", "consultation")
        roles = uow.session.scalars(select(TicketMessage.author_role).where(TicketMessage.ticket_id == ticket.id)
                                    .order_by(TicketMessage.id)).all()
    assert roles[:2] == ["customer", "bot"] and roles.count("customer") == 3
    fresh = client.post("/chat/new", data={"csrf_token": csrf_of(chat)}, follow_redirects=False)
    assert fresh.status_code == 303 and "kefu_chat" in fresh.headers["set-cookie"]


def test_supervisors_set_up_queues_and_agents(client: TestClient, desk: Desk, db: Database) -> None:
    login(client, "sup")
    page = client.get("/desk/settings")
    assert page.status_code == 200 and 'data-code="complaints"' in page.text and "客服小王" in page.text
    token = csrf_of(page.text)
    made = client.post("/desk/settings/queues", follow_redirects=False, data={
        "csrf_token": token, "code": "bulk", "name_zh": "企业采购", "name_en": "Bulk orders", "categories": ["payment"],
        "skill": "bulk", "strategy": "round_robin", "is_active": "1"})
    assert made.status_code == 303, made.text
    taken = client.post("/desk/settings/queues", data={"csrf_token": token, "code": "bulk", "name_zh": "x",
                                                       "name_en": "x", "strategy": "least_load"})
    assert taken.status_code == 409 and "该队列代码已被使用" in taken.text
    set_agent = client.post(f"/desk/settings/agents/{desk.agent.user_id}", follow_redirects=False, data={
        "csrf_token": token, "queues": ["general", "bulk"], "capacity": "7", "skills": "bulk, complaints",
        "supervisor_id": str(desk.sup.user_id)})
    assert set_agent.status_code == 303
    rows = {r.username: r for r in desk_admin.list_agents(db, desk.sup)}
    assert rows["agent"].queues == ["general", "bulk"] and rows["agent"].capacity == 7
    bad = client.post(f"/desk/settings/agents/{desk.agent.user_id}", data={"csrf_token": token, "capacity": "99"})
    assert bad.status_code == 422 and "接待上限须在 0 到 50 之间" in bad.text


def test_pages_speak_english_on_request(client: TestClient, desk: Desk) -> None:
    login(client, "cust1")
    mine = client.get("/tickets?lang=en").text
    assert "My tickets" in mine and "New" in mine
    detail = client.get(f"/tickets/{desk.complaint}").text          # the cookie remembers
    assert "Conversation" in detail and "Complaint" in detail and "沟通记录" not in detail
    login(client, "agent")
    work = client.get("/desk/tickets?lang=en").text
    assert "Ticket desk" in work and "Go offline" in work and "工单工作台" not in work
    login(client, "sup")
    assert "Desk settings" in client.get("/desk/settings?lang=en").text
    assert "Satisfaction" in client.get("/desk/satisfaction?lang=en").text


# ── query count ────────────────────────────────────────────────────────────────────────────


def test_the_ticket_workspace_costs_the_same_queries_for_2_or_30_tickets(
        client: TestClient, desk: Desk, db: Database, app: FastAPI) -> None:
    """DESIGN.md convention 8: list pages assert their query counts, so N+1 cannot creep in."""
    login(client, "sup")
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    def queries_for_workspace() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/desk/tickets").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    few = queries_for_workspace()
    runtime = runtime_of(app)
    customer = Actor(None, Role.AGENT, display_name="客服小王")
    for i in range(28):
        svc.open_ticket(db, customer, svc.TicketRequest(
            subject=f"咨询 {i}", body="请问", customer_id="C1" if i % 2 else "C2",
            kind=Kind.COMPLAINT if i % 3 == 0 else Kind.CONSULTATION), runtime.desk, runtime.clock)
    many = queries_for_workspace()
    page = client.get("/desk/tickets").text
    assert page.count('data-testid="desk-ticket-row"') == 30
    assert 'data-testid="level-badge"' in page                               # C2 is a PLUS member
    assert many == few, f"{few} queries for 2 tickets, {many} for 30"


def test_agents_search_tickets_by_chinese_words_and_customers_cannot(client: TestClient, desk: Desk) -> None:
    login(client, "sup")
    found = client.get("/desk/search", params={"q": "物流停了"})
    assert found.status_code == 200
    assert desk.complaint in found.text and desk.question not in found.text
    assert client.get("/desk/search", params={"q": "发票"}).text.count('data-testid="desk-ticket-row"') == 1
    assert 'data-testid="search-form"' in client.get("/desk/tickets").text
    login(client, "cust1")
    assert client.get("/desk/search", params={"q": "物流"}).status_code == 403
