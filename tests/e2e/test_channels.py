"""Channels end to end (issue 4 §6–§7): the e-mail round trip through real local SMTP servers,
WeChat's server callback and Weibo's webhook with their own message formats, and the IVR
driven by HTTP calls as a PBX makes them."""

from __future__ import annotations

import email
import hashlib
import smtplib
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.adapters.channels.smtp_server import start_smtp_receiver
from kefu.adapters.db.tables.catalog import Delivery, Order, OrderLine, TrackingEvent
from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.adapters.db.tables.service_desk import CallRecord, Ticket, TicketMessage
from kefu.adapters.notify.senders import SmtpSender
from kefu.config import Settings
from kefu.domain.clock import system_clock
from kefu.services import accounts
from kefu.services.inbound import receive_message
from kefu.services.notifications import relay_outbox
from kefu.services.uow import Database
from kefu.web.app import create_app
from kefu.web.runtime import runtime_of
from tests.integration.desk_factories import RULES, DeskPeople, seed_desk
from tests.ports import free_port

DESK = "kefu@shop.example"
PBX = {"X-PBX-Secret": "pbx-secret"}


@pytest.fixture
def people(db: Database) -> DeskPeople:
    return seed_desk(db)


@pytest.fixture
def channel_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(env="test", database_url=db_url, storage_dir=tmp_path / "uploads",
                    outbox_file=tmp_path / "outbox.log", background_jobs=False, wechat_token="wx-token",
                    weibo_app_secret="wb-secret", pbx_secret="pbx-secret", desk_email=DESK)


@pytest.fixture
def channel_app(channel_settings: Settings, db: Database) -> FastAPI:
    return create_app(channel_settings, db=db)


@pytest.fixture
def api(channel_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(channel_app, raise_server_exceptions=False) as client:
        yield client


class Mailbox:
    """The customer's mail server: a real aiosmtpd that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def customer_mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def wait_for(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


# ── e-mail ─────────────────────────────────────────────────────────────────────────────────


def test_email_round_trip_through_local_smtp_servers(db, people, api, channel_app, customer_mailbox):
    box, mailbox_port = customer_mailbox
    runtime = runtime_of(channel_app)
    received: list[str] = []

    def on_message(msg) -> None:
        received.append(receive_message(db, msg, RULES, system_clock, storage=runtime.storage).ticket_number)

    desk_port = free_port()
    desk = start_smtp_receiver("127.0.0.1", desk_port, on_message, recipients=[DESK])
    try:
        first = EmailMessage()
        first["From"] = "张三 <c1@example.com>"                 # the address of customer C1
        first["To"] = DESK
        first["Subject"] = "耳机左边没声音"
        first["Message-ID"] = "<first-1@example.com>"
        first.set_content("订单里的耳机左耳没有声音，怎么处理？")
        first.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 64, maintype="image", subtype="png",
                             filename="耳机.png")
        with smtplib.SMTP("127.0.0.1", desk_port, timeout=10) as smtp:
            smtp.send_message(first)
        wait_for(lambda: len(received) == 1)
        number = received[0]
        with db.read() as uow:
            ticket = uow.session.scalars(select(Ticket).where(Ticket.number == number)).one()
            assert ticket.channel == "email" and ticket.customer_id == "C1" and ticket.contact == "c1@example.com"

        agent = {"Authorization": f"Bearer {accounts.issue_api_token(db, people.agent2, 't')}"}
        r = api.post(f"/api/v1/tickets/{number}/messages", json={"body": "您好，请寄回检测，我们包邮。"},
                     headers=agent)
        assert r.status_code == 201, r.text
        # the relay sends the reply through SMTP to the customer's server
        assert relay_outbox(db, SmtpSender("127.0.0.1", mailbox_port, DESK), system_clock) >= 1
        assert box.arrived.wait(10)
        reply = next(m for m in box.messages if "请寄回检测" in m.get_content())
        assert reply["To"] == "c1@example.com"
        assert reply["In-Reply-To"] == "<first-1@example.com>"
        assert f"[#{number}]" in reply["Subject"]

        answer = EmailMessage()
        answer["From"] = "c1@example.com"
        answer["To"] = DESK
        answer["Subject"] = reply["Subject"]
        answer["Message-ID"] = "<answer-2@example.com>"
        answer["In-Reply-To"] = "<first-1@example.com>"
        answer.set_content("好的，已经寄出，单号 SF1234567890。\n\n> 您好，请寄回检测，我们包邮。")
        with smtplib.SMTP("127.0.0.1", desk_port, timeout=10) as smtp:
            smtp.send_message(answer)
            smtp.send_message(answer)                                  # delivered twice: kept once
        wait_for(lambda: len(received) == 3)
        assert received == [number, number, number]
        with db.read() as uow:
            bodies = [m.body for m in uow.session.scalars(select(TicketMessage).join(Ticket).where(
                Ticket.number == number).order_by(TicketMessage.id))]
        assert len(bodies) == 3 and bodies[2].startswith("好的，已经寄出") and "请寄回检测" not in bodies[2]
    finally:
        desk.stop()


# ── WeChat Official Account ────────────────────────────────────────────────────────────────


def wechat_query(token: str = "wx-token") -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), "1234567"
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


def wechat_text(openid: str, content: str, msg_id: str) -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


def test_wechat_callback_verifies_opens_and_joins_a_ticket(api, db, people):
    q = wechat_query()
    r = api.get("/api/v1/channels/wechat", params={**q, "echostr": "hello-wx"})
    assert r.status_code == 200 and r.text == "hello-wx"
    bad = api.get("/api/v1/channels/wechat", params={**q, "signature": "0" * 40, "echostr": "x"})
    assert bad.status_code == 403 and bad.json()["code"] == "bad_signature"

    r = api.post("/api/v1/channels/wechat", params=wechat_query(),
                 content=wechat_text("oABC123", "我的快递到哪了", "9001"))
    assert r.status_code == 200
    reply = ET.fromstring(r.content)
    assert reply.findtext("ToUserName") == "oABC123" and reply.findtext("MsgType") == "text"
    number = reply.findtext("Content").split("工单号 ")[1].split("）")[0]
    again = api.post("/api/v1/channels/wechat", params=wechat_query(),
                     content=wechat_text("oABC123", "单号是 JD0001", "9002"))
    assert again.status_code == 200
    same = api.post("/api/v1/channels/wechat", params=wechat_query(),
                    content=wechat_text("oABC123", "单号是 JD0001", "9002"))        # WeChat retries
    assert same.status_code == 200
    with db.read() as uow:
        t = uow.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert t.channel == "wechat" and t.contact == "oABC123"
        bodies = list(uow.session.scalars(select(TicketMessage.body).where(TicketMessage.ticket_id == t.id)))
    assert bodies == ["我的快递到哪了", "单号是 JD0001"]
    event = (b"<xml><ToUserName><![CDATA[gh_kefu]]></ToUserName><FromUserName><![CDATA[oNEW]]></FromUserName>"
             b"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
             b"<Event><![CDATA[subscribe]]></Event></xml>")
    assert api.post("/api/v1/channels/wechat", params=wechat_query(), content=event).text == "success"
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>'
    assert api.post("/api/v1/channels/wechat", params=wechat_query(), content=bomb).status_code == 400


def test_channels_are_off_until_configured(client):
    assert client.get("/api/v1/channels/wechat", params=wechat_query()).json()["code"] == "channel_not_configured"
    assert client.post("/api/v1/ivr/calls", json={"call_id": "c", "caller": "1"}).status_code == 404


# ── Weibo ──────────────────────────────────────────────────────────────────────────────────


def test_weibo_webhook_opens_a_ticket_from_a_mention(api, db, people):
    q = wechat_query("wb-secret")
    mention = {"mid": "4975311234567890", "id": 4975311234567890, "text": "@品牌客服 耳机坏了，求处理",
               "created_at": "Mon Nov 23 16:10:00 +0800 2026",
               "user": {"id": 1234567890, "screen_name": "小明爱购物"}}
    r = api.post("/api/v1/channels/weibo", params=q, json=mention)
    assert r.status_code == 201, r.text
    number = r.json()["ticket"]
    push = {"type": "text", "receiver_id": 5566778899, "sender_id": 1234567890,
            "created_at": "Mon Nov 23 16:12:00 +0800 2026", "text": "私信补充：订单号 O-1", "data": {}}
    r2 = api.post("/api/v1/channels/weibo", params=wechat_query("wb-secret"), json=push)
    assert r2.status_code == 200 and r2.json()["ticket"] == number and r2.json()["created"] is False
    with db.read() as uow:
        t = uow.session.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert t.channel == "weibo" and t.contact_name == "小明爱购物"
    bad = api.post("/api/v1/channels/weibo", params={**q, "signature": "f" * 40}, json=mention)
    assert bad.status_code == 403
    assert api.post("/api/v1/channels/weibo", params=wechat_query("wb-secret"), content=b"[1,2").status_code == 400


# ── the IVR, as a PBX drives it ────────────────────────────────────────────────────────────


def test_ivr_driven_by_http_calls_as_a_pbx_makes_them(api, db, people):
    assert api.post("/api/v1/ivr/calls", json={"call_id": "c1", "caller": "13800001234", "dialled": "950618"},
                    headers={"X-PBX-Secret": "wrong"}).status_code == 403
    first = api.post("/api/v1/ivr/calls", json={"call_id": "call-001", "caller": "13800001234", "dialled": "950618"},
                     headers=PBX).json()
    assert first["action"] == "prompt" and first["collect"] and "按1" in first["prompt"] and "1" in first["valid_keys"]
    wrong = api.post("/api/v1/ivr/calls/call-001/keys", json={"key": "7"}, headers=PBX).json()
    assert wrong["action"] == "repeat" and wrong["collect"]
    menu = api.post("/api/v1/ivr/calls/call-001/keys", json={"key": "1"}, headers=PBX).json()
    assert menu["action"] == "prompt"
    routed = api.post("/api/v1/ivr/calls/call-001/keys", json={"key": "1"}, headers=PBX).json()
    assert routed["action"] == "route" and not routed["collect"] and routed["ticket"]
    assert routed["queue"] == "logistics"
    late = api.post("/api/v1/ivr/calls/call-001/keys", json={"key": "1"}, headers=PBX)
    assert late.status_code == 409 and late.json()["code"] == "call_not_in_menu"
    answered = api.post("/api/v1/ivr/calls/call-001/answer", json={"employee_no": "KF0003"}, headers=PBX).json()
    assert answered["status"] == "answered" and answered["agent_id"] == 203
    ended = api.post("/api/v1/ivr/calls/call-001/hangup", headers=PBX,
                     json={"recording": "rec/2026/11/call-001.wav", "notes": "已告知物流进度", "duration_s": 95}).json()
    assert ended["status"] == "ended" and ended["duration_s"] == 95 and ended["ticket"] == routed["ticket"]
    with db.read() as uow:
        s = uow.session
        record = s.scalars(select(CallRecord).where(CallRecord.call_id == "call-001")).one()
        assert record.customer_id == "C1" and record.menu_path == "11" and record.queue_code == "logistics"
        ticket = s.scalars(select(Ticket).where(Ticket.number == routed["ticket"])).one()
        assert ticket.channel == "phone" and ticket.customer_id == "C1" and ticket.category == "logistics"
        notes = list(s.scalars(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id,
                                                                TicketMessage.visibility == "internal")))
    assert any("rec/2026/11/call-001.wav" in n and "95" in n for n in notes)
    # a PLUS member on the PLUS hotline goes straight to the member queue
    plus = api.post("/api/v1/ivr/calls", json={"call_id": "call-002", "caller": "13900005678", "dialled": "950616"},
                    headers=PBX).json()
    assert plus["action"] == "route" and plus["queue"] == "vip" and plus["ticket"]
    # the PBX retrying the start of a call gets the same answer and no second record
    again = api.post("/api/v1/ivr/calls", json={"call_id": "call-002", "caller": "13900005678", "dialled": "950616"},
                     headers=PBX).json()
    assert again["ticket"] == plus["ticket"]


# ── the smart assistant on the phone and by e-mail (issue 5 §6) ────────────────────────────

SIGNED = "您的快件已签收，签收人：前台"


def seed_orders(db: Database) -> None:
    """C1's delivered order 202603051234 with tracking; C2's order 202603079999 on its way."""
    now = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    with db.uow() as uow:
        s = uow.session
        for order_id, customer, status, delivery, event in (
                ("202603051234", "C1", "delivered", "signed", SIGNED),
                ("202603079999", "C2", "shipped", "in_transit", "李四的包裹正在派送中")):
            order = Order(id=order_id, customer_id=customer, seller_id="SELF", status=status,
                          paid_at=now - timedelta(days=2), shipping_insurance=False, total_paid=Decimal("199.00"),
                          address="上海市浦东新区张江路 100 号", content_hash="test", created_at=now, updated_at=now)
            s.add(order)
            s.add(OrderLine(order=order, line_no=0, sku=f"SKU-{order_id}", name="蓝牙耳机", category="electronics",
                            quantity=1, unit_price=Decimal("199.00"), paid_amount=Decimal("199.00"),
                            warranty_days=365, services=[], price_protection_days=30, non_returnable_confirmed=False))
            delivered = Delivery(order=order, carrier="platform", carrier_name="京东物流", tracking_no=f"JD{order_id}",
                                 status=delivery, shipped_at=now - timedelta(days=1))
            s.add(delivered)
            s.add(TrackingEvent(delivery=delivered, at=now - timedelta(hours=2), location="上海", description=event))
        uow.commit()


def test_ivr_ask_answers_the_caller_by_number_and_transfers_on_request(api, db, people):
    seed_orders(db)
    ask = {"call_id": "call-ask", "caller": "13800001234", "text": "我的订单202603051234到哪了"}
    assert api.post("/api/v1/channels/ivr/ask", json=ask, headers={"X-PBX-Secret": "wrong"}).status_code == 403
    assert api.post("/api/v1/channels/ivr/ask", json=ask, headers=PBX).json()["code"] == "call_not_found"
    started = api.post("/api/v1/ivr/calls", json={"call_id": "call-ask", "caller": "13800001234", "dialled": "950618"},
                       headers=PBX)
    assert started.status_code == 200
    r = api.post("/api/v1/channels/ivr/ask", json=ask, headers=PBX)
    assert r.status_code == 200, r.text
    own = r.json()
    assert own["transfer"] is None and own["intent"] == "order_status"
    assert SIGNED in own["say"] and "已签收" in own["say"] and "/orders/" not in own["say"]
    # another customer's order number: nothing about it
    other = api.post("/api/v1/channels/ivr/ask", headers=PBX, json={**ask, "text": "帮我看看订单202603079999"}).json()
    assert other["transfer"] is None and "没有在您的账号下找到订单" in other["say"]
    assert "李四的包裹" not in other["say"] and "运输中" not in other["say"]
    # a caller who is not the call's caller
    wrong = api.post("/api/v1/channels/ivr/ask", headers=PBX, json={**ask, "caller": "13900005678"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "caller_mismatch"

    person = api.post("/api/v1/channels/ivr/ask", headers=PBX, json={**ask, "text": "转人工"}).json()
    assert person["transfer"]["queue"] == "logistics" and person["transfer"]["ticket"]
    assert "转接" in person["say"]
    again = api.post("/api/v1/channels/ivr/ask", headers=PBX, json={**ask, "text": "你好"})
    assert again.status_code == 409 and again.json()["code"] == "call_not_in_menu"
    with db.read() as uow:
        s = uow.session
        record = s.scalars(select(CallRecord).where(CallRecord.call_id == "call-ask")).one()
        assert record.status == "queued" and record.queue_code == "logistics"
        assert "来电者：我的订单202603051234到哪了" in record.notes and SIGNED in record.notes
        ticket = s.scalars(select(Ticket).where(Ticket.number == person["transfer"]["ticket"])).one()
        assert ticket.channel == "phone" and ticket.customer_id == "C1" and ticket.id == record.ticket_id


def raw_mail(sender: str, body: str, message_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = sender, DESK, "订单咨询", message_id
    mail.set_content(body)
    return mail.as_bytes()


def test_a_mail_through_the_gateway_gets_the_assistants_answer_instead_of_the_acknowledgement(api, db, people):
    seed_orders(db)
    r = api.post("/api/v1/channels/email", headers=PBX,
                 content=raw_mail("c1@example.com", "我的订单202603051234到哪了？", "<gw-1@example.com>"))
    assert r.status_code == 201, r.text
    number = r.json()["ticket"]
    with db.read() as uow:
        s = uow.session
        bodies = [(m.author_role, m.body) for m in s.scalars(select(TicketMessage).join(Ticket).where(
            Ticket.number == number).order_by(TicketMessage.id))]
        emails = list(s.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")))
    assert [role for role, _ in bodies] == ["customer", "bot"] and SIGNED in bodies[1][1]
    assert [(m.event, m.recipient) for m in emails] == [("ticket_auto_reply", "c1@example.com")]
    assert emails[0].data["headers"]["In-Reply-To"] == "<gw-1@example.com>" and SIGNED in emails[0].body


def test_email_auto_replies_can_be_turned_off(channel_settings, db, people):
    seed_orders(db)
    app = create_app(channel_settings.model_copy(update={"email_auto_reply": False}), db=db)
    with TestClient(app) as client:
        r = client.post("/api/v1/channels/email", headers=PBX,
                        content=raw_mail("c1@example.com", "我的订单202603051234到哪了？", "<gw-2@example.com>"))
    assert r.status_code == 201
    with db.read() as uow:
        s = uow.session
        roles = list(s.scalars(select(TicketMessage.author_role)))
        events = list(s.scalars(select(OutboxMessage.event).where(OutboxMessage.channel == "email")))
    assert roles == ["customer"] and events == ["ticket_opened"]

