"""The smart assistant on the phone and by e-mail (issue 5 §6) against a real database: the caller
is known by their number and the sender by their address, answers come from their own orders
only, a person takes over on the channel's own terms, and an e-mail gets at most one automatic
reply — through real aiosmtpd servers, as the desk's other e-mail tests do."""

from __future__ import annotations

import email
import smtplib
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from kefu.adapters.assistant_files import load_assistant_rules
from kefu.adapters.bot import load_or_train
from kefu.adapters.db.tables.catalog import Customer, Delivery, Order, OrderLine, OrderPayment, TrackingEvent
from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.adapters.db.tables.service_desk import CallRecord, Ticket, TicketMessage
from kefu.adapters.ivr_files import load_ivr_menu
from kefu.adapters.notify.senders import ChannelRouter, MemorySender, SmtpSender
from kefu.adapters.policy_files import load_policy_book
from kefu.config import PROJECT_ROOT
from kefu.domain.bot.answers import PERSON, Button, Reply
from kefu.domain.errors import Conflict, InputError
from kefu.domain.service.channels import InboundMessage
from kefu.domain.service.tickets import Category, Kind
from kefu.services import calls
from kefu.services.assistant import AssistantDeps
from kefu.services.assistant_channels import (
    EMAIL_FOOTER,
    PHONE_NO_ACCOUNT,
    answer_on_channel,
    ask_by_phone,
    email_auto_reply,
    identify,
    speakable,
    transfer_route,
)
from kefu.services.inbound import receive_message
from kefu.services.notifications import relay_outbox
from kefu.services.uow import Database
from tests.ports import free_port

from .desk_factories import RULES, DeskPeople, seed_desk
from .factories import NOW

POLICIES = PROJECT_ROOT / "policies"
MENU = load_ivr_menu(POLICIES)
DESK = "kefu@shop.example"
C1_PHONE, C2_PHONE = "13800001234", "13900005678"
ORDER_A = "202603051234"   # C1's, delivered, with tracking
ORDER_B = "202603061111"   # C1's, paid, not shipped
ORDER_C = "202603079999"   # C2's, in transit
SIGNED = "您的快件已签收，签收人：前台"
C2_EVENT = "李四的包裹正在派送中"


def clock() -> Any:
    return NOW


@pytest.fixture(scope="module")
def assistant() -> AssistantDeps:
    return AssistantDeps(scorer=load_or_train(), rules=load_assistant_rules(POLICIES),
                         book=load_policy_book(POLICIES), desk=RULES, clock=clock,
                         hotlines={"regular": "950618", "plus": "950616"})


def _order(s: Any, order_id: str, customer: str, status: str, delivery: str | None,
           events: list[tuple[float, str, str]]) -> None:
    order = Order(id=order_id, customer_id=customer, seller_id="SELF", status=status,
                  paid_at=NOW - timedelta(days=2), shipping_insurance=False, total_paid=Decimal("199.00"),
                  address="上海市浦东新区张江路 100 号", content_hash="test", created_at=NOW, updated_at=NOW)
    s.add(order)
    s.add(OrderLine(order=order, line_no=0, sku=f"SKU-{order_id}", name="蓝牙耳机", category="electronics",
                    quantity=1, unit_price=Decimal("199.00"), paid_amount=Decimal("199.00"), warranty_days=365,
                    services=[], price_protection_days=30, non_returnable_confirmed=False))
    s.add(OrderPayment(order=order, method="card", amount=Decimal("199.00")))
    if delivery is not None:
        d = Delivery(order=order, carrier="platform", carrier_name="京东物流", tracking_no=f"JD{order_id}",
                     status=delivery, shipped_at=NOW - timedelta(days=1),
                     signed_at=NOW - timedelta(hours=2) if delivery == "signed" else None)
        s.add(d)
        for hours_ago, where, text in events:
            s.add(TrackingEvent(delivery=d, at=NOW - timedelta(hours=hours_ago), location=where, description=text))


@pytest.fixture
def people(db: Database) -> DeskPeople:
    found = seed_desk(db)
    with db.uow() as uow:
        s = uow.session
        _order(s, ORDER_A, "C1", "delivered", "signed",
               [(20, "上海", "快件已到达【上海浦东新区营业部】"), (2, "上海浦东新", SIGNED)])
        _order(s, ORDER_B, "C1", "paid", None, [])
        _order(s, ORDER_C, "C2", "shipped", "in_transit", [(5, "北京", f"{C2_EVENT}，快递员电话 13700001111")])
        uow.commit()
    return found


def start(db: Database, call_id: str, caller: str = C1_PHONE) -> None:
    calls.start_call(db, call_id, caller, "950618", MENU, RULES, clock)


def call_record(db: Database, call_id: str) -> CallRecord:
    with db.read() as uow:
        return uow.session.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).one()


# ── who is asking ──────────────────────────────────────────────────────────────────────────


def test_the_customer_is_known_by_number_or_address_and_only_when_unambiguous(db: Database,
                                                                              people: DeskPeople) -> None:
    def who(channel: str, sender: str) -> str | None:
        found = identify(db, channel, sender)
        return found.customer_id if found is not None else None

    assert who("phone", C1_PHONE) == who("phone", "+86 138-0000-1234") == who("email", "C1@Example.COM") == "C1"
    c1 = identify(db, "email", "c1@example.com")
    assert c1 is not None and c1.role.value == "customer" and c1.user_id == 101
    assert identify(db, "phone", "13700000000") is None
    assert identify(db, "phone", "") is None
    assert identify(db, "email", "stranger@example.com") is None
    with db.uow() as uow:                           # two customers on one number: neither is assumed
        uow.session.add(Customer(id="C9", name="王五", phone=C2_PHONE, email=None, level="regular", created_at=NOW))
        uow.commit()
    assert identify(db, "phone", C2_PHONE) is None


# ── the phone ──────────────────────────────────────────────────────────────────────────────


def test_a_caller_hears_their_own_order_from_the_database(db: Database, people: DeskPeople,
                                                          assistant: AssistantDeps) -> None:
    start(db, "call-a")
    answer = ask_by_phone(db, "call-a", C1_PHONE, f"我的订单{ORDER_A}到哪了", assistant, MENU)
    assert answer.transfer_queue is None and answer.ticket is None
    assert answer.intent.value == "order_status" and answer.confidence > 0.5
    assert ORDER_A in answer.say and SIGNED in answer.say and "已签收" in answer.say
    assert "/orders/" not in answer.say and "查看订单" not in answer.say      # no links, no href labels
    assert "您可以说：" in answer.say and "转人工" in answer.say
    record = call_record(db, "call-a")
    assert record.status == "ivr"
    assert f"来电者：我的订单{ORDER_A}到哪了" in record.notes and SIGNED in record.notes
    # the hang-up keeps the conversation and adds the agent's notes after it
    ended = calls.end_call(db, "call-a", clock, notes="客户已知悉", rules=RULES)
    assert ended.notes.startswith("来电者：") and ended.notes.endswith("客户已知悉")


def test_a_caller_gets_nothing_about_another_customers_order(db: Database, people: DeskPeople,
                                                             assistant: AssistantDeps) -> None:
    start(db, "call-b")
    answer = ask_by_phone(db, "call-b", C1_PHONE, f"我的订单{ORDER_C}到哪了", assistant, MENU)
    assert answer.transfer_queue is None
    assert "没有在您的账号下找到订单" in answer.say
    assert C2_EVENT not in answer.say and "北京" not in answer.say and "运输中" not in answer.say
    # a number no customer has: general answers only, never an order
    start(db, "call-c", caller="13700000000")
    stranger = ask_by_phone(db, "call-c", "13700000000", f"我的订单{ORDER_A}到哪了", assistant, MENU)
    assert stranger.transfer_queue is None
    assert SIGNED not in stranger.say and PHONE_NO_ACCOUNT in stranger.say and "登录" not in stranger.say
    assert "已付款" not in stranger.say and ORDER_A not in stranger.say


def test_asking_for_a_person_queues_the_call_with_the_conversation(db: Database, people: DeskPeople,
                                                                   assistant: AssistantDeps) -> None:
    start(db, "call-d")
    ask_by_phone(db, "call-d", C1_PHONE, f"我的订单{ORDER_A}到哪了", assistant, MENU)
    answer = ask_by_phone(db, "call-d", C1_PHONE, "转人工", assistant, MENU)
    assert answer.handoff == "request" and answer.say == MENU.settings.transfer_prompt
    assert answer.transfer_queue == "logistics" and answer.ticket      # the topic the caller was on
    record = call_record(db, "call-d")
    assert record.status == "queued" and record.queue_code == "logistics"
    with db.read() as uow:
        ticket = uow.session.scalars(select(Ticket).where(Ticket.number == answer.ticket)).one()
        first = uow.session.scalars(select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id)
                                    .order_by(TicketMessage.id)).first() or ""
    assert ticket.channel == "phone" and ticket.customer_id == "C1" and ticket.category == "logistics"
    assert f"来电者：我的订单{ORDER_A}到哪了" in first and "转人工（" in first
    with pytest.raises(Conflict) as caught:                            # the call has left the assistant
        ask_by_phone(db, "call-d", C1_PHONE, "你好", assistant, MENU)
    assert caught.value.code == "call_not_in_menu"


def test_a_complaint_goes_to_the_complaint_queue_and_an_order_change_to_a_person(
        db: Database, people: DeskPeople, assistant: AssistantDeps) -> None:
    start(db, "call-e")
    complaint = ask_by_phone(db, "call-e", C1_PHONE, "我要投诉，快递员态度太差", assistant, MENU)
    assert complaint.handoff == "complaint" and complaint.transfer_queue == "complaints"
    with db.read() as uow:
        assert uow.session.scalars(select(Ticket.kind).where(Ticket.number == complaint.ticket)).one() == "complaint"
    start(db, "call-f")
    cancel = ask_by_phone(db, "call-f", C1_PHONE, f"取消订单{ORDER_B}", assistant, MENU)
    assert cancel.handoff == "order_change" and cancel.transfer_queue
    with db.read() as uow:
        order = uow.session.get(Order, ORDER_B)
        assert order is not None and order.status == "paid"             # nothing changed on a caller's word


def test_the_caller_must_be_the_calls_caller(db: Database, people: DeskPeople, assistant: AssistantDeps) -> None:
    start(db, "call-g")
    with pytest.raises(InputError) as caught:
        ask_by_phone(db, "call-g", C2_PHONE, f"我的订单{ORDER_C}到哪了", assistant, MENU)
    assert caught.value.code == "caller_mismatch"


def test_transfer_routes_follow_the_menu() -> None:
    assert transfer_route(MENU, Category.LOGISTICS, Kind.CONSULTATION)[0] == "logistics"
    assert transfer_route(MENU, Category.MEMBERSHIP, Kind.CONSULTATION)[0] == "payment"
    assert transfer_route(MENU, Category.OTHER, Kind.CONSULTATION)[0] == "general"
    assert transfer_route(MENU, Category.PRODUCT, Kind.COMPLAINT)[0] == "complaints"


def test_speakable_text_has_no_links_rule_ids_or_labels() -> None:
    reply = Reply("「耳机」七天无理由退货：可以办理（规则 R-7D、R-USED）。\n· R-7D：签收 3 天，未超过 7 天\n"
                  "预计退款 ¥199.00。详见 https://shop.example/help 或 /orders/1", "",
                  (Button("申请售后", "Apply", href="/orders/1/lines/0/apply"),
                   Button("能退货吗", "Can I", send="这个能退货吗"), PERSON))
    said = speakable(reply)
    assert "R-7D" not in said and "http" not in said and "/orders" not in said and "申请售后" not in said
    assert "预计退款 199.00元" in said and "签收 3 天，未超过 7 天" in said
    assert said.endswith("您可以说：“这个能退货吗”，或者说“转人工”。")


# ── e-mail ─────────────────────────────────────────────────────────────────────────────────


class Mailbox:
    """The customer's mail server: a real aiosmtpd that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


class Desk:
    """The desk's SMTP receiver feeding receive_message with the assistant's auto-reply, and the
    relay delivering the outbox's e-mail to the customer's server."""

    def __init__(self, db: Database, assistant: AssistantDeps, box_port: int) -> None:
        self.db, self.port = db, free_port()
        self.received: list[Any] = []
        self.auto_reply = email_auto_reply(db, lambda: assistant)
        self.controller = start_receiver(self.port, self.on_message)
        self.sender = ChannelRouter(MemorySender(), email=SmtpSender("127.0.0.1", box_port, DESK))

    def on_message(self, msg: InboundMessage) -> None:
        self.received.append(receive_message(self.db, msg, RULES, clock, auto_reply=self.auto_reply))

    def send(self, mail: EmailMessage, count: int) -> list[Any]:
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
            smtp.send_message(mail)
        wait_for(lambda: len(self.received) >= count)
        relay_outbox(self.db, self.sender, clock)
        return self.received


def start_receiver(port: int, on_message: Callable[[InboundMessage], None]) -> Controller:
    from kefu.adapters.channels.smtp_server import start_smtp_receiver

    return start_smtp_receiver("127.0.0.1", port, on_message, recipients=[DESK])


def wait_for(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def mail(db: Database, people: DeskPeople, assistant: AssistantDeps) -> Iterator[tuple[Desk, Mailbox]]:
    box, box_port = Mailbox(), free_port()
    customer_server = Controller(box, hostname="127.0.0.1", port=box_port)
    customer_server.start()
    desk = Desk(db, assistant, box_port)
    try:
        yield desk, box
    finally:
        desk.controller.stop()
        customer_server.stop()


def letter(sender: str, subject: str, body: str, message_id: str, in_reply_to: str | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"], mail["Message-ID"] = sender, DESK, subject, message_id
    if in_reply_to:
        mail["In-Reply-To"] = mail["References"] = in_reply_to
    mail.set_content(body)
    return mail


def messages(db: Database, number: str) -> list[tuple[str, str]]:
    with db.read() as uow:
        return [(m.author_role, m.body) for m in uow.session.scalars(
            select(TicketMessage).join(Ticket).where(Ticket.number == number).order_by(TicketMessage.id))]


def outbox_emails(db: Database) -> list[OutboxMessage]:
    with db.read() as uow:
        return list(uow.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")))


def test_an_order_question_by_mail_gets_exactly_one_answer_in_the_thread(mail: tuple[Desk, Mailbox],
                                                                         db: Database) -> None:
    desk, box = mail
    received = desk.send(letter("张三 <c1@example.com>", "订单咨询", f"你好，我的订单{ORDER_A}到哪了？",
                                "<q1@example.com>"), 1)
    assert received[0].created
    number = received[0].ticket_number
    wait_for(lambda: len(box.messages) >= 1)
    time.sleep(0.3)                                                     # nothing else is on its way
    assert len(box.messages) == 1                                       # the answer, not also "已受理"
    reply = box.messages[0]
    text = reply.get_content()
    assert reply["To"] == "c1@example.com" and reply["In-Reply-To"] == "<q1@example.com>"
    assert reply["Auto-Submitted"] == "auto-replied" and f"[#{number}]" in reply["Subject"]
    assert SIGNED in text and ORDER_A in text and EMAIL_FOOTER in text
    assert C2_EVENT not in text
    thread = messages(db, number)
    assert [role for role, _ in thread] == ["customer", "bot"] and SIGNED in thread[1][1]
    assert [m.event for m in outbox_emails(db)] == ["ticket_auto_reply"]

    # the customer answers in the thread: a person is on it, no second automatic reply
    desk.send(letter("c1@example.com", reply["Subject"], f"那订单{ORDER_B}呢？到哪了",
                     "<q2@example.com>", in_reply_to="<q1@example.com>"), 2)
    assert desk.received[1].ticket_number == number and not desk.received[1].created
    time.sleep(0.3)
    assert len(box.messages) == 1
    assert [role for role, _ in messages(db, number)] == ["customer", "bot", "customer"]


def test_a_mail_asking_for_a_person_gets_no_bot_reply_only_the_desks_acknowledgement(
        mail: tuple[Desk, Mailbox], db: Database) -> None:
    desk, box = mail
    received = desk.send(letter("c1@example.com", "请转人工", "请帮我转人工客服处理", "<p1@example.com>"), 1)
    number = received[0].ticket_number
    assert [role for role, _ in messages(db, number)] == ["customer"]
    wait_for(lambda: len(box.messages) >= 1)
    time.sleep(0.3)
    assert len(box.messages) == 1 and "已受理" in box.messages[0].get_content()
    assert [m.event for m in outbox_emails(db)] == ["ticket_opened"]


def test_a_stranger_or_an_unclear_mail_gets_no_bot_reply(mail: tuple[Desk, Mailbox], db: Database) -> None:
    desk, box = mail
    first = desk.send(letter("someone@example.net", "查物流", f"我的订单{ORDER_A}到哪了", "<s1@example.net>"), 1)
    second = desk.send(letter("c1@example.com", "耳机", "耳机左耳没有声音怎么办", "<s2@example.com>"), 2)
    for received in (first[0], second[1]):
        assert [role for role, _ in messages(db, received.ticket_number)] == ["customer"]
    assert all(m.event == "ticket_opened" for m in outbox_emails(db))
    assert all(SIGNED not in m.get_content() for m in box.messages)


def test_answer_on_channel_does_not_open_a_web_chat_ticket(db: Database, people: DeskPeople,
                                                           assistant: AssistantDeps) -> None:
    found = answer_on_channel(db, "email", "c1@example.com", "email-x1", "我要投诉，客服态度太差", assistant)
    assert found.handoff == "complaint" and found.reply is None and not found.confident
    with db.read() as uow:
        assert uow.session.scalars(select(Ticket)).all() == []

