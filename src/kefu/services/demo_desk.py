"""The service desk's part of the demo data: agents in queues, canned replies, and tickets in
every interesting state — all made through the same services the app uses, with the clock
moved back, so what the demo shows is what kefu does.

- 王小明 (customer) has a logistics complaint being handled, with a shipping subsidy waiting for
  approval, and a complaint naming agent KF0002 that went to the supervisor (D9);
- 李娜 (plus) has a resolved question with the satisfaction survey open;
- an e-mail from a stranger waits in the queue;
- a month of answered surveys fills the satisfaction report, one seller below D8's threshold.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.catalog import Customer, Order
from kefu.adapters.db.tables.service_desk import AgentProfile, Queue, QueueMember
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import Clock, FixedClock, system_clock
from kefu.domain.service.channels import InboundMessage
from kefu.domain.service.tickets import Action, Category, Channel, Kind
from kefu.services.canned import save_canned
from kefu.services.compensation import request_compensation
from kefu.services.desk_clocks import DeskRules
from kefu.services.inbound import receive_message
from kefu.services.satisfaction import answer_survey
from kefu.services.tickets import TicketRequest, open_ticket, post_message, transition_ticket
from kefu.services.uow import Database

#: (username, queues, skills, capacity, online)
AGENTS = (
    ("agent", ("general", "logistics", "aftersales", "complaints", "vip"), ["aftersales", "complaints"], 8, True),
    ("agent2", ("general", "logistics", "payment", "vip"), ["aftersales"], 8, True),
    ("supervisor", ("complaints", "vip"), ["aftersales", "complaints"], 10, False),
)

CANNED: tuple[tuple[str, str, dict[str, object]], ...] = (
    ("问候", "{customer_name}您好，我是客服{agent_name}，很高兴为您服务，请问有什么可以帮您？", {}),
    ("物流催促", "{customer_name}您好，已为您联系快递加急处理订单 {order_id}，有新进展会第一时间通知您。",
     {"tags": ["物流催促"]}),
    ("请补充凭证", "{customer_name}您好，麻烦您补充一下商品问题的照片（整体和细节各一张），收到后马上为您处理。",
     {"step": "wait_customer"}),
    ("售后进度", "{customer_name}您好，您的售后申请 {application_number} 正在处理中，预计 1–2 个工作日内完成。", {}),
    ("结束语", "感谢您的耐心，如还有问题随时联系我们。本次工单 {ticket_number} 已处理完毕，请您为本次服务评价。",
     {"step": "resolve"}),
)


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), customer_id=user.customer_id, seller_id=user.seller_id,
                 display_name=user.display_name)


def load_desk_demo(db: Database, rules: DeskRules, *, clock: Clock = system_clock, seed: int = 20261123) -> int:
    """Add the service-desk demo to a database that holds the after-sales demo; returns the
    number of tickets made."""
    rng = random.Random(seed)
    now = clock()
    with db.uow() as uow:
        s = uow.session
        users = {u.username: u for u in s.scalars(select(User))}
        queues = {q.code: q.id for q in s.scalars(select(Queue))}
        supervisor = users["supervisor"]
        for username, codes, skills, capacity, online in AGENTS:
            user = users[username]
            s.add(AgentProfile(user_id=user.id, supervisor_id=None if user.id == supervisor.id else supervisor.id,
                               capacity=capacity, skills=skills, online=online, updated_at=now))
            for code in codes:
                s.add(QueueMember(queue_id=queues[code], user_id=user.id))
        uow.commit()
    actors = {name: _actor(u) for name, u in users.items()}
    sup, agent = actors["supervisor"], actors["agent"]
    for title, body, actions in CANNED:
        save_canned(db, sup, title, body, clock, actions=dict(actions))

    made = 0
    with db.read() as uow:
        s = uow.session
        in_transit = s.scalars(select(Order).where(Order.customer_id == actors["customer"].customer_id)
                               .order_by(Order.paid_at.desc())).first()
        customers = {c.id: c for c in s.scalars(select(Customer))}
        orders = list(s.scalars(select(Order).order_by(Order.paid_at.desc()).limit(400)))

    # 1. a logistics complaint being handled, with a subsidy to approve
    at = FixedClock(now - timedelta(hours=5))
    t = open_ticket(db, actors["customer"], TicketRequest(
        subject="快递三天没有更新", body="订单显示运输中已经三天了，物流一直没动，着急用。", kind=Kind.COMPLAINT,
        category=Category.LOGISTICS, order_id=in_transit.id if in_transit else None), rules, at)
    at.advance(minutes=40)
    transition_ticket(db, agent, t.number, Action.CONFIRM, rules, at, note="已核实物流停滞")
    at.advance(minutes=10)
    post_message(db, agent, t.number, "您好，已联系快递公司加急处理，预计明天送达，给您带来不便非常抱歉。", rules, at)
    request_compensation(db, actors["customer"], t.number, "shipping_subsidy", "10.00", "送货延误", rules, at)
    made += 1

    # 2. a complaint naming agent KF0002 goes to the supervisor, never to that agent (D9)
    at = FixedClock(now - timedelta(hours=2))
    open_ticket(db, actors["customer"], TicketRequest(
        subject="客服态度不好", body="工号 KF0002 的客服回复敷衍，问题没解决就结束了对话。", kind=Kind.COMPLAINT,
        category=Category.SERVICE_ATTITUDE, named_employee_no="KF0002"), rules, at)
    made += 1

    # 3. a PLUS member's question, resolved, the survey waiting for her
    at = FixedClock(now - timedelta(hours=26))
    t = open_ticket(db, actors["plus"], TicketRequest(subject="台灯能调光吗", body="想问下这款台灯支持无极调光吗？",
                                                      category=Category.PRODUCT), rules, at)
    at.advance(seconds=40)
    post_message(db, agent, t.number, "李女士您好，这款台灯支持三档调光和色温调节，长按开关即可切换。", rules, at)
    at.advance(minutes=5)
    transition_ticket(db, agent, t.number, Action.RESOLVE, rules, at)
    made += 1

    # 4. an e-mail from someone without an account, waiting in the queue
    receive_message(db, InboundMessage(
        channel=Channel.EMAIL.value, sender="zhao.min@example.com", sender_name="赵敏",
        external_id="<demo-invoice-1@example.com>", thread_keys=(), subject="发票抬头开错了",
        body="你好，我上周的订单发票抬头写错了，能重新开一张吗？抬头应为：杭州某某科技有限公司。",
        received_at=now - timedelta(hours=3)), rules, FixedClock(now - timedelta(hours=3)))
    made += 1

    # 5. a month of answered surveys for the satisfaction report (one seller below D8's 80 %)
    low_seller = "S1004"
    scores = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
    for order in orders[:40]:
        customer = customers.get(order.customer_id)
        if customer is None:
            continue
        who = Actor(user_id=None, role=Role.CUSTOMER, customer_id=customer.id, display_name=customer.name)
        at = FixedClock(now - timedelta(days=rng.randint(2, 28), hours=rng.randint(0, 8)))
        t = open_ticket(db, agent, TicketRequest(
            subject=rng.choice(("商品咨询", "物流查询", "退款进度", "发票问题", "会员权益")),
            body="电话来电，客服代为登记。", channel=Channel.PHONE, customer_id=customer.id, order_id=order.id,
            category=rng.choice((Category.PRODUCT, Category.LOGISTICS, Category.PAYMENT))), rules, at)
        at.advance(minutes=rng.randint(1, 30))
        handler = next((a for a in actors.values() if a.user_id == t.assignee_id), sup)
        post_message(db, handler, t.number, "您好，已为您处理好了，还有其他问题随时联系我们。", rules, at)
        transition_ticket(db, handler, t.number, Action.RESOLVE, rules, at)
        at.advance(hours=rng.randint(1, 20))
        weights = (1, 1, 2, 3, 2) if order.seller_id == low_seller else (6, 3, 1, 0.3, 0.2)
        score = rng.choices(scores, weights=weights)[0]
        answer_survey(db, who, t.number, score, "", rules, at)
        transition_ticket(db, who, t.number, Action.ACCEPT, rules, at)
        made += 1
    return made


def desk_demo_loaded(db: Database) -> bool:
    with db.read() as uow:
        return uow.session.scalar(select(AgentProfile.user_id).limit(1)) is not None

