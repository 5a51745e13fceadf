"""The smart assistant against a real database (issue 5 §2, §4, §5): every grounded answer is read
from the database — change the delivery or the product attribute and the answer changes — a
shopper never sees another shopper's order, and handoff carries the transcript to a ticket."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from kefu.adapters.assistant_files import load_assistant_rules
from kefu.adapters.bot import load_or_train
from kefu.adapters.db.tables.bot import BotSession, BotTurn, FaqArticle, OrderChange
from kefu.adapters.db.tables.catalog import Delivery, Order, OrderLine, OrderPayment, Product, TrackingEvent
from kefu.adapters.db.tables.service_desk import Ticket, TicketMessage, TicketTag
from kefu.adapters.policy_files import load_policy_book
from kefu.bootstrap import FaqKnowledge
from kefu.config import PROJECT_ROOT
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.domain.errors import InputError
from kefu.services.aftersales import ApplicationRequest, preview_application, submit_application
from kefu.services.assistant import AssistantDeps, converse
from kefu.services.faq import import_articles
from kefu.services.uow import Database

from .desk_factories import RULES, DeskPeople, seed_desk
from .factories import NOW

POLICIES = PROJECT_ROOT / "policies"
BOOK = load_policy_book(POLICIES)
ORDER_A = "202603051234"   # C1's phone, two lines, delivered with tracking
ORDER_B = "202603061111"   # C1's book, paid, not shipped
ORDER_C = "202603079999"   # C2's order


class Published:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, channel: str, event: Mapping[str, Any]) -> None:
        self.events.append((channel, dict(event)))


class FixedScorer:
    """A classifier that answers what the test says (for the confidence rules)."""

    def __init__(self, intent: str, p: float) -> None:
        self.intent, self.p = intent, p

    def intent_probabilities(self, features: str) -> Mapping[str, float]:
        return {self.intent: self.p, "out_of_scope": (1 - self.p) / 2, "greeting": (1 - self.p) / 2}


def deps(**over: Any) -> AssistantDeps:
    base = AssistantDeps(scorer=load_or_train(), rules=load_assistant_rules(POLICIES), book=BOOK, desk=RULES,
                         clock=lambda: NOW, live=Published(), hotlines={"regular": "950618", "plus": "950616"})
    return AssistantDeps(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **over})


def _product(s: Any, sku: str, name: str, category: str, price: str, attributes: dict[str, Any]) -> None:
    s.add(Product(sku=sku, seller_id="SELF", name=name, category=category, brand="", price=Decimal(price),
                  warranty_days=365, services=[], price_protection_days=30, non_returnable=False,
                  attributes=attributes))


def _order(s: Any, order_id: str, customer: str, status: str, lines: list[tuple[str, str, str, str]],
           paid_days_ago: float, delivery: str | None, events: list[tuple[float, str, str]] = ()) -> None:
    paid_at = NOW - timedelta(days=paid_days_ago)
    total = sum(Decimal(p) for _, _, _, p in lines)
    order = Order(id=order_id, customer_id=customer, seller_id="SELF", status=status, paid_at=paid_at,
                  shipping_insurance=False, total_paid=total, address="上海市浦东新区张江路 100 号",
                  content_hash="test", created_at=NOW, updated_at=NOW)
    s.add(order)
    for n, (sku, name, category, paid) in enumerate(lines):
        s.add(OrderLine(order=order, line_no=n, sku=sku, name=name, category=category, quantity=1,
                        unit_price=Decimal(paid), paid_amount=Decimal(paid), warranty_days=365, services=[],
                        price_protection_days=30, non_returnable_confirmed=False))
    s.add(OrderPayment(order=order, method="card", amount=total))
    if delivery is not None:
        d = Delivery(order=order, carrier="platform", carrier_name="京东物流", tracking_no=f"JD{order_id}",
                     status=delivery, shipped_at=paid_at + timedelta(hours=6),
                     signed_at=NOW - timedelta(days=1) if delivery == "signed" else None)
        s.add(d)
        for hours_ago, where, text in events:
            s.add(TrackingEvent(delivery=d, at=NOW - timedelta(hours=hours_ago), location=where, description=text))


@pytest.fixture
def people(db: Database) -> DeskPeople:
    found = seed_desk(db)
    _seed_orders(db)
    return found


def _seed_orders(db: Database) -> None:
    with db.uow() as uow:
        s = uow.session
        _product(s, "P-PHONE", "小米 15 16GB+512GB 白色", "phone", "3999.00",
                 {"battery": "5400mAh", "weight": "191g", "colour": ["白色", "黑色"]})
        _product(s, "P-CASE", "小米 15 硅胶保护壳", "electronics", "39.00", {"material": "液态硅胶"})
        _product(s, "P-BOOK", "三体（全三册）", "book", "68.00", {})
        _product(s, "P-SHOE", "李宁 篮球鞋 43", "shoes", "899.00", {"size": "43"})
        _order(s, ORDER_A, "C1", "delivered", [("P-PHONE", "小米 15 16GB+512GB 白色", "phone", "4299.00"),
                                               ("P-CASE", "小米 15 硅胶保护壳", "electronics", "49.00")],
               paid_days_ago=3, delivery="signed",
               events=[(30, "上海", "快件已到达【上海浦东新区营业部】"),
                       (24, "上海浦东新", "您的快件已签收，签收人：前台")])
        _order(s, ORDER_B, "C1", "paid", [("P-BOOK", "三体（全三册）", "book", "68.00")], paid_days_ago=0.5,
               delivery=None)
        _order(s, ORDER_C, "C2", "shipped", [("P-SHOE", "李宁 篮球鞋 43", "shoes", "899.00")], paid_days_ago=1,
               delivery="in_transit", events=[(5, "北京", "李四的包裹正在派送中，快递员电话 13700001111")])
        uow.commit()


def ask(db: Database, actor: Any, text: str, session: str = "s1", **over: Any) -> Any:
    return converse(db, actor, session, text, deps(**over))


# ── grounded answers ───────────────────────────────────────────────────────────────────────


def test_order_status_lists_only_own_orders_then_shows_the_latest_tracking_event(db: Database,
                                                                                people: DeskPeople) -> None:
    first = ask(db, people.c1, "我的订单到哪了")
    assert first.intent.value == "order_status"
    assert first.reply.data["orders"] == [ORDER_B, ORDER_A]           # newest first, C1's only
    assert ORDER_C not in str(first.as_dict())
    picked = ask(db, people.c1, f"订单{ORDER_A}")                      # the button sends this
    assert picked.intent.value == "order_status"
    assert "您的快件已签收，签收人：前台" in picked.reply.zh and "已签收" in picked.reply.zh
    assert picked.reply.data["latest_event"]["location"] == "上海浦东新"


def test_order_status_follows_the_database(db: Database, people: DeskPeople) -> None:
    before = ask(db, people.c1, f"{ORDER_B}到哪了")
    assert "已付款，待发货" in before.reply.zh and "delivery_status" in before.reply.data
    assert before.reply.data["delivery_status"] is None
    with db.uow() as uow:
        s = uow.session
        s.execute(update(Order).where(Order.id == ORDER_B).values(status="shipped"))
        d = Delivery(order_id=ORDER_B, carrier="platform", carrier_name="京东物流", tracking_no="JD777",
                     status="in_transit", shipped_at=NOW - timedelta(hours=2))
        s.add(d)
        s.flush()
        s.add(TrackingEvent(delivery_id=d.id, at=NOW - timedelta(hours=1), location="廊坊",
                            description="已发往上海转运中心"))
        uow.commit()
    after = ask(db, people.c1, f"{ORDER_B}到哪了", session="s2")
    assert "运输中" in after.reply.zh and "已发往上海转运中心" in after.reply.zh and "JD777" in after.reply.zh
    with db.uow() as uow:
        uow.session.execute(update(Delivery).where(Delivery.order_id == ORDER_B).values(status="lost"))
        uow.commit()
    assert "已丢失" in ask(db, people.c1, f"{ORDER_B}到哪了", session="s3").reply.zh


def test_another_shoppers_order_is_never_shown_even_by_its_number(db: Database, people: DeskPeople) -> None:
    for text in (f"我的订单{ORDER_C}到哪了", f"订单{ORDER_C}能退货吗", f"{ORDER_C}这个鞋多大码", f"取消订单{ORDER_C}"):
        answer = ask(db, people.c1, text, session="probe")
        body = str(answer.as_dict()) + answer.reply.en
        assert "没有在您的账号下找到订单" in answer.reply.zh, text
        for secret in ("李宁", "篮球鞋", "派送中", "13700001111", f"JD{ORDER_C}", "899"):
            assert secret not in body, (text, secret)
    # and the owner does see it
    assert "派送中" in ask(db, people.c2, f"我的订单{ORDER_C}到哪了").reply.zh


def test_return_policy_is_the_engines_decision_for_the_line_and_the_order_is_remembered(
        db: Database, people: DeskPeople) -> None:
    ask(db, people.c1, f"订单{ORDER_A}到哪了")
    which = ask(db, people.c1, "那退货呢")                              # no order named: the remembered one
    assert which.intent.value == "return_policy"
    assert which.reply.data["order_id"] == ORDER_A and "第1件" in str(which.as_dict()["buttons"])
    answer = ask(db, people.c1, f"订单{ORDER_A} 第1件")                  # the line button
    expected = preview_application(db, people.c1, ApplicationRequest(
        order_id=ORDER_A, line=0, type=RequestType.RETURN, reason=Reason.NO_REASON), BOOK, lambda: NOW)
    assert answer.intent.value == "return_policy"
    assert answer.reply.data["decision"] == expected.as_dict()
    assert all(rule in answer.reply.zh for rule in expected.rules)
    assert expected.hits[0].zh in answer.reply.zh


def test_return_policy_without_an_order_gives_the_general_rule_from_policy_data(db: Database,
                                                                              people: DeskPeople) -> None:
    answer = ask(db, people.c1, "七天无理由退货运费谁出")
    assert answer.intent.value == "return_policy"
    days = BOOK.resolve("self_operated", "other").no_reason_return_days
    assert f"{days} 天内支持无理由退货" in answer.reply.zh and answer.reply.source in ("policy", "faq")


def test_product_parameter_comes_from_the_catalog_and_changes_with_it(db: Database, people: DeskPeople) -> None:
    ask(db, people.c1, f"订单{ORDER_A}到哪了")
    ask(db, people.c1, f"订单{ORDER_A} 第1件能退吗")
    battery = ask(db, people.c1, "这个电池多大")
    assert battery.intent.value == "product_param" and "5400mAh" in battery.reply.zh
    with db.uow() as uow:
        uow.session.execute(update(Product).where(Product.sku == "P-PHONE").values(
            attributes={"battery": "5500mAh", "weight": "191g"}))
        uow.commit()
    assert "5500mAh" in ask(db, people.c1, f"订单{ORDER_A}第1件电池容量多少", session="again").reply.zh
    unknown = ask(db, people.c1, "这个是什么材质")
    assert "没有" in unknown.reply.zh and unknown.reply.data["value"] is None
    assert any(b.send == "转人工" for b in unknown.reply.buttons)


def test_refund_status_shows_state_amount_route_and_due_date(db: Database, people: DeskPeople) -> None:
    app = submit_application(db, people.c1, ApplicationRequest(
        order_id=ORDER_A, line=1, type=RequestType.RETURN, reason=Reason.NO_REASON), BOOK, lambda: NOW)
    answer = ask(db, people.c1, "我的退款到哪了")
    assert answer.intent.value == "refund_status"
    assert app.number in answer.reply.zh and "¥49.00" in answer.reply.zh and "银行卡" in answer.reply.zh
    assert answer.reply.data["status"] == app.status


def test_price_protection_lists_lines_whose_price_fell(db: Database, people: DeskPeople) -> None:
    answer = ask(db, people.c1, "买了就降价了能保价吗")
    assert answer.intent.value == "price_protection"
    assert "小米 15 16GB+512GB 白色" in answer.reply.zh     # paid 4299, now 3999
    assert answer.reply.data["drops"][0]["difference"] == "300.00"


def test_membership_and_contact_answers_use_the_customers_level(db: Database, people: DeskPeople) -> None:
    assert "还不是 PLUS 会员" in ask(db, people.c1, "plus会员有什么权益").reply.zh
    plus = ask(db, people.c2, "客服电话是多少")
    assert "950618" in plus.reply.zh and "950616" in plus.reply.zh


# ── conversation and handoff ───────────────────────────────────────────────────────────────


def test_handoff_opens_a_live_chat_ticket_with_the_transcript_intent_and_order(db: Database,
                                                                             people: DeskPeople) -> None:
    published = Published()
    ask(db, people.c1, f"订单{ORDER_A}到哪了", session="h", live=published)
    answer = ask(db, people.c1, "转人工", session="h", live=published)
    assert answer.handoff is not None and answer.handoff.value == "request" and answer.ticket
    assert answer.as_dict()["handoff"] is True and answer.agent_online is True
    with db.read() as uow:
        s = uow.session
        ticket = s.scalars(select(Ticket).where(Ticket.number == answer.ticket)).one()
        messages = s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                             .order_by(TicketMessage.id)).all()
        tags = set(s.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)))
        session = s.scalars(select(BotSession).where(BotSession.session_key == "h")).one()
    assert ticket.channel == "web_chat" and ticket.order_id == ORDER_A and ticket.category == "logistics"
    assert ticket.assignee_id is not None
    roles = [(m.author_role, m.visibility) for m in messages]
    assert roles[:3] == [("customer", "public"), ("bot", "public"), ("customer", "public")]
    assert messages[0].body == f"订单{ORDER_A}到哪了" and "签收" in messages[1].body and messages[2].body == "转人工"
    note = next(m for m in messages if m.visibility == "internal")
    assert "顾客要求转人工" in note.body and "订单物流" in note.body and ORDER_A in note.body
    assert messages[-1].author_role == "bot" and answer.ticket in messages[-1].body
    assert {"bot-handoff", "handoff-request"} <= tags
    assert session.ticket_id == ticket.id and session.handoff_reason == "request"
    assert any(c == "desk" and e["ticket"] == answer.ticket for c, e in published.events)   # the desk sees it live


def test_plus_shoppers_are_ranked_first(db: Database, people: DeskPeople) -> None:
    regular = ask(db, people.c1, "转人工", session="r")
    plus = ask(db, people.c2, "转人工", session="p")
    with db.read() as uow:
        rank = dict(uow.session.execute(select(Ticket.number, Ticket.priority)).all())
    assert rank[plus.ticket] < rank[regular.ticket]          # lower is served first (D5)


def test_off_hours_tells_when_a_person_answers_and_never_replies_twice(db: Database) -> None:
    people = seed_desk(db, online=False)
    _seed_orders(db)
    handed = ask(db, people.c1, "我要找人工客服", session="night")
    assert handed.ticket and handed.agent_online is False
    assert "不在线" in handed.reply.zh and "前回复您" in handed.reply.zh and handed.ticket in handed.reply.zh
    # waiting in the queue: the bot still answers what it can, on the ticket, once per message
    answered = ask(db, people.c1, "发票怎么开", session="night")
    assert answered.reply is not None and "发票" in answered.reply.zh and answered.ticket == handed.ticket
    silent = ask(db, people.c1, "转人工", session="night")
    assert silent.reply is None and silent.as_dict()["reply"] == ""
    with db.read() as uow:
        s = uow.session
        tid = s.scalar(select(Ticket.id).where(Ticket.number == handed.ticket))
        after = s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == tid,
                                                      TicketMessage.visibility == "public")
                          .order_by(TicketMessage.id)).all()
    tail = [(m.author_role, m.body) for m in after][-3:]
    assert tail[0] == ("customer", "发票怎么开") and tail[1][0] == "bot" and "发票" in tail[1][1]
    assert tail[2] == ("customer", "转人工")           # no automatic reply to the last one
    assert [m.author_role for m in after].count("bot") == 2        # the off-hours notice and one answer
    # once a person has answered, the bot stays silent
    with db.uow() as uow:
        uow.session.execute(update(Ticket).where(Ticket.id == tid).values(first_response_at=NOW))
        uow.commit()
    assert ask(db, people.c1, "发票怎么开", session="night").reply is None


@pytest.mark.parametrize(("text", "reason"), [
    ("我要投诉你们的快递员", "complaint"),
    ("你们这什么破平台，垃圾！", "angry"),
])
def test_complaints_and_anger_go_to_a_person(db: Database, people: DeskPeople, text: str, reason: str) -> None:
    answer = ask(db, people.c1, text, session=f"x-{reason}")
    assert answer.handoff is not None and answer.handoff.value == reason and answer.ticket


def test_a_repeated_question_goes_to_a_person(db: Database, people: DeskPeople) -> None:
    first = ask(db, people.c1, "发票怎么开具电子发票", session="rep")
    assert first.handoff is None
    again = ask(db, people.c1, "发票怎么开具电子发票啊", session="rep")
    assert again.handoff is not None and again.handoff.value == "repeated" and again.ticket


def test_two_low_confidence_turns_in_a_row_go_to_a_person(db: Database, people: DeskPeople) -> None:
    unsure = FixedScorer("invoice", 0.4)
    first = ask(db, people.c1, "那个东西怎么弄", session="low", scorer=unsure)
    assert first.handoff is None and first.reply.data["options"][0] == "invoice"   # asks which one
    assert any(b.send == "转人工" for b in first.reply.buttons)
    second = ask(db, people.c1, "就是那个嘛咋整", session="low", scorer=unsure)
    assert second.handoff is not None and second.handoff.value == "low_confidence" and second.ticket


def test_sessions_are_per_shopper_and_turns_are_recorded(db: Database, people: DeskPeople) -> None:
    ask(db, people.c1, f"订单{ORDER_A}到哪了", session="same")
    other = ask(db, people.c2, "那退货呢", session="same")       # C2's "same" is another conversation
    assert ORDER_A not in str(other.as_dict())
    with db.read() as uow:
        rows = uow.session.execute(select(BotSession.owner, BotSession.turns)
                                   .where(BotSession.session_key == "same").order_by(BotSession.owner)).all()
        turns = uow.session.scalars(select(BotTurn.intent).order_by(BotTurn.id)).all()
    assert [tuple(r) for r in rows] == [("customer:C1", 1), ("customer:C2", 1)]
    assert turns == ["order_status", "return_policy"]


def test_a_visitor_gets_general_answers_and_is_asked_to_log_in_for_orders(db: Database,
                                                                       people: DeskPeople) -> None:
    answer = ask(db, None, f"订单{ORDER_A}到哪了", session="anon")
    assert "请先登录" in answer.reply.zh and "签收" not in answer.reply.zh
    assert any(b.href and b.href.startswith("/login") for b in answer.reply.buttons)
    assert "发票" in ask(db, None, "怎么开发票", session="anon").reply.zh
    person = ask(db, None, "转人工", session="anon")
    assert person.ticket is None and "请先登录" in person.reply.zh


@pytest.mark.parametrize(("session", "text", "code"), [
    ("s1", "   ", "bot_text_missing"),
    ("s1", "啊" * 501, "bot_text_too_long"),
    ("", "你好", "bot_session_invalid"),
    ("bad id!", "你好", "bot_session_invalid"),
])
def test_bad_input_is_refused_and_nothing_is_written(db: Database, people: DeskPeople, session: str, text: str,
                                                     code: str) -> None:
    with pytest.raises(InputError) as caught:
        ask(db, people.c1, text, session=session)
    assert caught.value.code == code
    with db.read() as uow:
        assert uow.session.scalar(select(BotTurn.id)) is None


# ── cancel and change address: the agents' service functions, after a yes ──────────────────


def test_cancel_asks_first_then_cancels_through_the_order_service(db: Database, people: DeskPeople) -> None:
    asked = ask(db, people.c1, f"帮我把订单{ORDER_B}取消了", session="cx")
    assert asked.intent.value == "cancel_order" and "确认取消订单" in asked.reply.zh and "¥68.00" in asked.reply.zh
    with db.read() as uow:
        assert uow.session.scalar(select(Order.status).where(Order.id == ORDER_B)) == "paid"   # nothing yet
    done = ask(db, people.c1, "确认", session="cx")
    assert "已取消" in done.reply.zh and done.reply.data["done"] is True
    with db.read() as uow:
        assert uow.session.scalar(select(Order.status).where(Order.id == ORDER_B)) == "cancelled"
        change = uow.session.scalars(select(OrderChange).where(OrderChange.order_id == ORDER_B)).one()
    assert change.action == "cancel" and change.actor_role == "bot"


def test_a_no_keeps_the_order_and_a_shipped_order_cannot_be_cancelled(db: Database, people: DeskPeople) -> None:
    ask(db, people.c1, f"取消订单{ORDER_B}", session="keep")
    kept = ask(db, people.c1, "不取消", session="keep")
    assert "保持不变" in kept.reply.zh
    refused = ask(db, people.c1, f"取消订单{ORDER_A}", session="late")
    assert refused.reply.data["done"] is False and "确认" not in str(refused.as_dict()["buttons"])
    with db.read() as uow:
        assert uow.session.scalar(select(OrderChange.id)) is None
        assert dict(uow.session.execute(select(Order.id, Order.status)).all())[ORDER_A] == "delivered"


def test_change_address_asks_for_it_confirms_and_changes_it(db: Database, people: DeskPeople) -> None:
    asked = ask(db, people.c1, f"订单{ORDER_B}的收货地址填错了要改一下", session="addr")
    assert asked.intent.value == "change_address" and "请发送新的收货地址" in asked.reply.zh
    confirm = ask(db, people.c1, "北京市朝阳区建国路88号院3号楼1单元502 手机13812345678", session="addr")
    assert "确认把订单" in confirm.reply.zh and "13812345678" in confirm.reply.zh
    done = ask(db, people.c1, "确定", session="addr")
    assert done.reply.data["done"] is True
    with db.read() as uow:
        row = uow.session.execute(select(Order.address, Order.recipient_phone).where(Order.id == ORDER_B)).one()
    assert row.address == "北京市朝阳区建国路88号院3号楼1单元502" and row.recipient_phone == "13812345678"


# ── the FAQ knowledge base ─────────────────────────────────────────────────────────────────


def test_answers_cite_the_faq_and_the_faq_answers_what_no_intent_covers(db: Database, people: DeskPeople) -> None:
    import_articles(db, PROJECT_ROOT / "data" / "faq" / "articles.toml")
    faq = FaqKnowledge()
    invoice = ask(db, people.c1, "发票怎么开", session="faq", faq=faq)
    assert invoice.reply.cites and invoice.reply.cites[0][0].startswith("invoice")
    assert invoice.as_dict()["cites"][0]["slug"] == invoice.reply.cites[0][0]
    account = ask(db, people.c1, "账号被盗了怎么办", session="faq2", faq=faq)
    assert account.reply.source == "faq" and account.reply.cites[0][0] == "account-security"
    with db.read() as uow:
        body = uow.session.scalar(select(FaqArticle.body_zh).where(FaqArticle.slug == "account-security"))
    assert account.reply.zh == body
    weather = ask(db, people.c1, "今天天气怎么样", session="faq3", faq=faq)
    assert weather.reply.cites == () and weather.reply.source == "rules"


def test_first_messages_of_one_conversation_may_arrive_at_once(db: Database, people: DeskPeople) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # six different questions: one asked twice would hand the conversation to a person in
    # whichever order the racing messages happen to be written (then later ones have no reply)
    texts = ["你好", "发票怎么开", "退货政策是什么", "会员有什么权益", "运费险怎么赔", "价保怎么申请"]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda text: ask(db, people.c1, text, session="race"), texts))
    assert all(a.reply is not None and a.ticket is None for a in answers)
    with db.read() as uow:
        sessions = uow.session.execute(select(BotSession.id, BotSession.turns)
                                       .where(BotSession.session_key == "race")).all()
        turns = uow.session.scalar(select(func.count()).select_from(BotTurn))
    assert len(sessions) == 1 and turns == 6


def test_at_night_the_shopper_is_told_a_person_answers_when_the_desk_opens(db: Database) -> None:
    people = seed_desk(db, online=False)
    _seed_orders(db)
    night = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)          # 23:30 in Shanghai; the desk opens 09:00
    handed = ask(db, people.c1, "转人工", session="late", clock=lambda: night)
    assert handed.agent_online is False and "2026-03-11 09:00" in handed.reply.zh
