"""Desk administration through the service layer, on SQLite and on PostgreSQL: queues, agents'
settings and who may change them, the reads the desk pages use, and the compliance record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kefu.adapters.db.tables.service_desk import AgentProfile, QueueMember
from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.service.tickets import Category, Kind
from kefu.services import desk_admin as admin
from kefu.services.tickets import TicketRequest, list_queue, open_ticket, pick_agent, post_message
from kefu.services.uow import Database

from .desk_factories import RULES, DeskPeople, seed_desk
from .factories import NOW, make_order


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def people(db: Database) -> DeskPeople:
    return seed_desk(db)


def vip(**kw) -> admin.QueueInput:
    base = {"code": "bigbuy", "name_zh": "企业采购", "name_en": "Bulk orders", "categories": ("payment",),
            "skill": "bulk", "strategy": "round_robin"}
    return admin.QueueInput(**{**base, **kw})


def test_only_supervisors_and_admins_change_the_desk(db, clock, people):
    for actor in (people.agent1, people.c1, people.seller_a):
        with pytest.raises(PermissionDenied):
            admin.save_queue(db, actor, vip())
        with pytest.raises(PermissionDenied):
            admin.set_agent(db, actor, 202, admin.AgentSettings(capacity=3), clock)
        with pytest.raises(PermissionDenied):
            admin.list_agents(db, actor)
        with pytest.raises(PermissionDenied):
            admin.list_queues(db, actor)
    assert admin.save_queue(db, people.sup, vip()).code == "bigbuy"
    assert admin.save_queue(db, people.admin, vip(code="bigbuy2")).code == "bigbuy2"


def test_a_queue_is_created_edited_and_routes_its_categories(db, clock, people):
    queue = admin.save_queue(db, people.sup, vip(code="  BigBuy ", categories=("payment", "payment")))
    assert (queue.code, queue.categories, queue.skill, queue.strategy) == ("bigbuy", ["payment"], "bulk",
                                                                           "round_robin")
    edited = admin.save_queue(db, people.sup, vip(name_zh="大客户采购", skill="", is_active=False),
                              queue_id=queue.id)
    assert edited.id == queue.id and edited.name_zh == "大客户采购" and not edited.is_active
    codes = [q.code for q in admin.list_queues(db, people.sup)]
    assert "bigbuy" in codes and codes[0] == "general"


@pytest.mark.parametrize(("change", "code"), [
    ({"code": "x"}, "invalid_queue_code"),
    ({"code": "9lives"}, "invalid_queue_code"),
    ({"code": "has space"}, "invalid_queue_code"),
    ({"name_zh": ""}, "invalid_queue_name"),
    ({"name_en": "x" * 65}, "invalid_queue_name"),
    ({"categories": ("snacks",)}, "invalid_category"),
    ({"skill": "Big Buy!"}, "invalid_skill"),
    ({"strategy": "random"}, "invalid_strategy"),
])
def test_a_bad_queue_is_refused_with_its_reason(db, people, change, code):
    with pytest.raises(InputError) as caught:
        admin.save_queue(db, people.sup, vip(**change))
    assert caught.value.code == code and caught.value.zh and caught.value.en


def test_queue_codes_are_unique_and_the_default_queue_stays(db, people):
    first = admin.save_queue(db, people.sup, vip())
    with pytest.raises(Conflict) as taken:
        admin.save_queue(db, people.sup, vip(name_zh="另一个"))
    assert taken.value.code == "queue_code_taken"
    with pytest.raises(Conflict):
        admin.save_queue(db, people.sup, vip(code="logistics"), queue_id=first.id)
    general = next(q for q in admin.list_queues(db, people.sup) if q.code == "general")
    with pytest.raises(Conflict) as default:
        admin.save_queue(db, people.sup, admin.QueueInput(code="general", name_zh="综合", name_en="General",
                                                          is_active=False), queue_id=general.id)
    assert default.value.code == "default_queue"
    with pytest.raises(NotFound):
        admin.save_queue(db, people.sup, vip(code="nowhere"), queue_id=9999)


def test_an_agents_queues_capacity_skills_and_supervisor_are_set_together(db, clock, people):
    admin.save_queue(db, people.sup, vip())
    admin.set_agent(db, people.sup, 202, admin.AgentSettings(
        queue_codes=("bigbuy", "logistics", "bigbuy"), capacity=8, skills=("Bulk", " complaints "),
        supervisor_id=250), clock)
    rows = {r.user_id: r for r in admin.list_agents(db, people.sup)}
    agent2 = rows[202]
    assert agent2.queues == ["logistics", "bigbuy"] and agent2.capacity == 8
    assert agent2.skills == ["bulk", "complaints"] and agent2.supervisor_name == "主管老周"
    assert agent2.online is True and agent2.has_profile                  # presence is the agent's own
    assert {r.role for r in rows.values()} <= {"agent", "supervisor"}
    with db.read() as uow:
        assert set(uow.session.scalars(select(QueueMember.queue_id).where(QueueMember.user_id == 202))) == \
            {q.id for q in admin.list_queues(db, people.sup) if q.code in ("bigbuy", "logistics")}

    # the new settings decide assignment: the bulk queue wants the "bulk" skill
    bigbuy = next(q for q in admin.visible_queues(db, people.sup) if q.code == "bigbuy")
    with db.read_connection() as conn:
        assert pick_agent(conn, bigbuy) == 202

    admin.set_agent(db, people.admin, 202, admin.AgentSettings(capacity=0), clock)
    with db.read() as uow:
        profile = uow.session.get(AgentProfile, 202)
        assert profile is not None and profile.capacity == 0 and profile.supervisor_id is None
        assert not list(uow.session.scalars(select(QueueMember).where(QueueMember.user_id == 202)))


def test_a_first_setting_creates_the_agents_profile(db, clock, people):
    from kefu.services import accounts

    info = accounts.create_user(db, username="newbie", password="pw-newbie-1", role="agent", display_name="新人")
    before = {r.user_id: r for r in admin.list_agents(db, people.sup)}[info.id]
    assert not before.has_profile and before.queues == []
    admin.set_agent(db, people.sup, info.id, admin.AgentSettings(queue_codes=("general",), capacity=2), clock)
    after = {r.user_id: r for r in admin.list_agents(db, people.sup)}[info.id]
    assert after.has_profile and after.queues == ["general"] and after.capacity == 2 and not after.online


@pytest.mark.parametrize(("user_id", "settings", "error"), [
    (202, admin.AgentSettings(capacity=51), InputError),
    (202, admin.AgentSettings(capacity=-1), InputError),
    (202, admin.AgentSettings(skills=("no spaces allowed",)), InputError),
    (202, admin.AgentSettings(supervisor_id=203), InputError),          # an agent is no supervisor
    (250, admin.AgentSettings(supervisor_id=250), InputError),          # nor their own
    (202, admin.AgentSettings(queue_codes=("nowhere",)), NotFound),
    (101, admin.AgentSettings(), NotFound),                             # a customer is no agent
    (9999, admin.AgentSettings(), NotFound),
])
def test_bad_agent_settings_are_refused_and_change_nothing(db, clock, people, user_id, settings, error):
    before = admin.list_agents(db, people.sup)
    with pytest.raises(error):
        admin.set_agent(db, people.sup, user_id, settings, clock)
    assert admin.list_agents(db, people.sup) == before


def test_what_each_role_may_filter_the_workspace_by(db, people):
    assert {q.code for q in admin.visible_queues(db, people.agent1)} == {"general", "complaints", "aftersales"}
    assert {q.code for q in admin.visible_queues(db, people.agent3)} == {"logistics"}
    assert len(admin.visible_queues(db, people.sup)) == len(admin.list_queues(db, people.sup))
    assert admin.visible_queues(db, people.seller_a) == []
    with pytest.raises(PermissionDenied):
        admin.visible_queues(db, people.c1)
    assert admin.my_presence(db, people.agent1) is True
    assert admin.my_presence(db, people.admin) is None and admin.my_presence(db, people.c1) is None
    directory = admin.desk_directory(db, people.agent2)
    assert {name for _, name, _ in directory.agents} >= {"客服小王", "主管老周"}
    with pytest.raises(PermissionDenied):
        admin.desk_directory(db, people.seller_a)


def test_queue_extras_bring_clocks_names_and_queues_for_a_page(db, clock, people):
    ticket = open_ticket(db, people.c1, TicketRequest(subject="到哪了", body="快递没动", category=Category.LOGISTICS),
                         RULES, clock)
    page = list_queue(db, people.agent3)
    extras = admin.queue_extras(db, people.agent3, page.tickets)
    clocks = extras.clocks[ticket.id]
    assert clocks[0].metric == "first_response" and not clocks[0].breached
    assert extras.names[203] == "客服小赵" and extras.queues[ticket.queue_id] == ("物流", "Logistics")
    assert admin.queue_extras(db, people.agent3, []).clocks == {}
    with pytest.raises(PermissionDenied):
        admin.queue_extras(db, people.c1, page.tickets)


def test_the_compliance_record_a_seller_sees_their_own(db, clock, people):
    make_order(db, "O-A", customer="C1", seller="S3P")
    make_order(db, "O-B", customer="C2", seller="S3Q")
    a = open_ticket(db, people.c1, TicketRequest(subject="发票", body="开发票", order_id="O-A"), RULES, clock)
    b = open_ticket(db, people.c2, TicketRequest(subject="发票", body="开发票", order_id="O-B",
                                                 kind=Kind.COMPLAINT), RULES, clock)
    for actor, ticket in ((people.seller_a, a), (people.seller_b, b), (people.agent1, a)):
        with pytest.raises(InputError):
            post_message(db, actor, ticket.number, f"加微信 {actor.display_name}", RULES, clock)
    mine = admin.list_violations(db, people.seller_a)
    assert {v.text for v in mine} == {"加微信 好物小店", "加微信 客服小王"}        # the agent's on S3P's ticket too
    assert all(v.ticket_number == a.number and v.kinds == ["im_account"] for v in mine)
    assert {v.author_name for v in mine} == {"好物小店", "客服小王"}
    assert {v.text for v in admin.list_violations(db, people.seller_b)} == {"加微信 另一家店"}
    assert len(admin.list_violations(db, people.sup)) == 3
    assert len(admin.list_violations(db, people.admin, limit=1)) == 1
    for actor in (people.agent1, people.c1):
        with pytest.raises(PermissionDenied):
            admin.list_violations(db, actor)


def test_configuration_changes_are_written_to_the_audit_log(db, clock, people):
    from kefu.services.audit import list_audit
    from kefu.services.canned import save_canned

    admin.save_queue(db, people.sup, vip(code="returns"), clock=clock)
    admin.set_agent(db, people.admin, 202, admin.AgentSettings(queue_codes=("returns",), capacity=4,
                                                               supervisor_id=250), clock)
    save_canned(db, people.sup, "问候", "您好", clock)
    rows = list_audit(db, people.admin)
    assert [(r.action, r.entity, r.actor_user_id) for r in rows] == [
        ("canned.create", "canned", 250), ("agent.update", "agent", 400), ("queue.create", "queue", 250)]
    assert rows[1].data["queues"] == ["returns"] and rows[0].at == NOW
    with pytest.raises(PermissionDenied):
        list_audit(db, people.agent1)
