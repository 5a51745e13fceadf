"""People and desk settings for service-desk tests: users with roles, agents in queues."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.service_desk import AgentProfile, Queue, QueueMember
from kefu.adapters.service_desk_files import load_sla_policy
from kefu.config import PROJECT_ROOT
from kefu.domain.actors import Actor, Role
from kefu.services.desk_clocks import DeskRules
from kefu.services.uow import Database

from .factories import NOW, seed_parties

SLA = load_sla_policy(PROJECT_ROOT / "policies")

#: a stand-in reply check for service tests (the real checker has its own tests): blocks "加微信"
def fake_check(text: str) -> list[tuple[str, str]]:
    return [("im_account", "加微信")] if "加微信" in text else []


RULES = DeskRules(sla=SLA, check=fake_check)


@dataclass(frozen=True)
class DeskPeople:
    c1: Actor
    c2: Actor
    agent1: Actor          # KF0001, general + complaints, supervisor = sup
    agent2: Actor          # KF0002, general
    agent3: Actor          # KF0003, logistics only
    sup: Actor
    seller_a: Actor        # S3P
    seller_b: Actor        # S3Q
    admin: Actor


def _user(s, uid: int, username: str, role: str, name: str, **kw) -> None:
    s.add(User(id=uid, username=username, display_name=name, role=role, password_hash="x", locale="zh",
               is_active=True, created_at=NOW, **kw))


def seed_desk(db: Database, *, online: bool = True) -> DeskPeople:
    """Parties of :func:`seed_parties` plus users and the default queues' members."""
    seed_parties(db)
    with db.uow() as uow:
        s = uow.session
        _user(s, 101, "c1", "customer", "张三", customer_id="C1")
        _user(s, 102, "c2", "customer", "李四", customer_id="C2")
        _user(s, 250, "sup", "supervisor", "主管老周", employee_no="KF0100")
        _user(s, 201, "agent1", "agent", "客服小王", employee_no="KF0001")
        _user(s, 202, "agent2", "agent", "客服小李", employee_no="KF0002")
        _user(s, 203, "agent3", "agent", "客服小赵", employee_no="KF0003")
        _user(s, 301, "seller_a", "seller", "好物小店", seller_id="S3P")
        _user(s, 302, "seller_b", "seller", "另一家店", seller_id="S3Q")
        _user(s, 400, "admin", "admin", "管理员")
        s.flush()
        queues = {q.code: q.id for q in s.scalars(select(Queue))}
        for uid, skills, codes in ((201, ["complaints", "aftersales"], ["general", "complaints", "aftersales"]),
                                   (202, [], ["general"]), (203, [], ["logistics"]),
                                   (250, ["complaints", "aftersales"], ["complaints"])):
            s.add(AgentProfile(user_id=uid, supervisor_id=250 if uid != 250 else None, capacity=3, skills=skills,
                               online=online))
            for code in codes:
                s.add(QueueMember(queue_id=queues[code], user_id=uid))
        uow.commit()
    return DeskPeople(
        c1=Actor(101, Role.CUSTOMER, customer_id="C1", display_name="张三"),
        c2=Actor(102, Role.CUSTOMER, customer_id="C2", display_name="李四"),
        agent1=Actor(201, Role.AGENT, display_name="客服小王"),
        agent2=Actor(202, Role.AGENT, display_name="客服小李"),
        agent3=Actor(203, Role.AGENT, display_name="客服小赵"),
        sup=Actor(250, Role.SUPERVISOR, display_name="主管老周"),
        seller_a=Actor(301, Role.SELLER, seller_id="S3P", display_name="好物小店"),
        seller_b=Actor(302, Role.SELLER, seller_id="S3Q", display_name="另一家店"),
        admin=Actor(400, Role.ADMIN, display_name="管理员"),
    )
