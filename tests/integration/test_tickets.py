"""Tickets and complaints through the service layer, on SQLite and on PostgreSQL: routing,
priority, assignment, the complaint path, visibility by role, SLA clocks and the sweep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kefu.adapters.db.tables.service_desk import (
    ComplianceViolation,
    SatisfactionSurvey,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketSla,
)
from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.service.tickets import OPEN_STATUSES, Action, Category, Channel, Kind, Status
from kefu.services.desk_sweep import sweep_desk
from kefu.services.tickets import (
    TicketRequest,
    get_ticket,
    list_queue,
    open_ticket,
    post_message,
    set_presence,
    tag_ticket,
    transfer_ticket,
    transition_ticket,
)
from kefu.services.uow import Database

from .desk_factories import RULES, DeskPeople, seed_desk
from .factories import NOW, make_order


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def people(db: Database) -> DeskPeople:
    return seed_desk(db)


def ask(db, clock, actor, **kw) -> Ticket:
    req = TicketRequest(subject=kw.pop("subject", "商品咨询"), body=kw.pop("body", "这款有现货吗"), **kw)
    return open_ticket(db, actor, req, RULES, clock)


def complain(db, clock, actor, **kw) -> Ticket:
    return ask(db, clock, actor, kind=Kind.COMPLAINT, category=kw.pop("category", Category.SERVICE_ATTITUDE),
               subject=kw.pop("subject", "客服态度差"), body=kw.pop("body", "客服挂我电话"), **kw)


def clocks(db: Database, ticket: Ticket) -> dict[str, TicketSla]:
    with db.read() as uow:
        rows = uow.session.scalars(select(TicketSla).where(TicketSla.ticket_id == ticket.id))
        return {r.metric: r for r in rows}


def step(db, clock, actor, ticket, action, **kw) -> Ticket:
    return transition_ticket(db, actor, ticket.number, action, RULES, clock, **kw)


# ── opening: routing, priority, clocks, assignment ─────────────────────────────────────────


def test_a_consultation_is_routed_by_category_ranked_clocked_and_assigned(db, clock, people):
    t = ask(db, clock, people.c1, category=Category.LOGISTICS, subject="快递到哪了")
    assert t.number == f"T260310{t.id:07d}" and t.status == Status.NEW.value      # Shanghai date, id
    view = get_ticket(db, people.agent3, t.number)
    assert view.queue.code == "logistics" and t.assignee_id == 203            # the only logistics agent
    c = clocks(db, t)
    assert set(c) == {"first_response", "resolution"}                          # no complaint clocks
    assert c["first_response"].due_at == NOW + timedelta(seconds=60)            # D2: chat, 7×24
    assert c["first_response"].calendar == "always"


def test_plus_customers_rank_ahead_and_get_halved_targets(db, clock, people):
    regular = ask(db, clock, people.c1)
    plus = ask(db, clock, people.c2)
    assert plus.priority < regular.priority                                     # D5
    assert clocks(db, plus)["first_response"].due_at == NOW + timedelta(seconds=30)
    page = list_queue(db, people.sup, queue_code="general")
    assert [x.number for x in page.tickets][:2] == [plus.number, regular.number]


def test_complaints_rank_ahead_of_consultations_and_carry_d4_clocks(db, clock, people):
    consult = ask(db, clock, people.c2)
    comp = complain(db, clock, people.c1)
    assert comp.priority < consult.priority
    c = clocks(db, comp)
    assert set(c) == {"first_response", "confirm", "first_result", "resolution"}
    # D4: confirmed within 4 business hours — 10:00 + 4 h = 14:00 Shanghai
    assert c["confirm"].due_at == datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    assert c["confirm"].calendar == "business"


def test_least_load_assignment_within_capacity_and_only_to_online_agents(db, clock, people):
    got = [ask(db, clock, people.c1).assignee_id for _ in range(4)]
    assert sorted(got[:2]) == [201, 202]              # least load: one each before anyone gets two
    assert got.count(201) <= 3 and got.count(202) <= 3
    set_presence(db, people.agent1, False, clock)
    set_presence(db, people.agent2, False, clock)
    waiting = ask(db, clock, people.c1)
    assert waiting.assignee_id is None                # nobody online: it waits in the queue
    taken = set_presence(db, people.agent2, True, clock)
    assert taken >= 1
    assert get_ticket(db, people.sup, waiting.number).ticket.assignee_id == 202


def test_capacity_is_respected(db, clock, people):
    set_presence(db, people.agent1, False, clock)
    tickets = [ask(db, clock, people.c1) for _ in range(4)]
    assert [t.assignee_id for t in tickets] == [202, 202, 202, None]        # capacity 3


def test_round_robin_queue_takes_the_longest_idle_agent(db, clock, people):
    with db.uow() as uow:
        from kefu.adapters.db.tables.service_desk import Queue, QueueMember
        payment = uow.session.scalars(select(Queue).where(Queue.code == "payment")).one()
        uow.session.add_all([QueueMember(queue_id=payment.id, user_id=201), QueueMember(queue_id=payment.id,
                                                                                        user_id=202)])
        uow.commit()
    order = []
    for _ in range(4):
        clock.advance(seconds=1)
        order.append(ask(db, clock, people.c1, category=Category.PAYMENT).assignee_id)
    assert order[0] != order[1] and order[0] == order[2] and order[1] == order[3]


def test_a_message_delivered_twice_opens_one_ticket(db, clock, people):
    a = ask(db, clock, people.admin, customer_id="C1", channel=Channel.EMAIL, external_id="<m1@example.com>")
    b = ask(db, clock, people.admin, customer_id="C1", channel=Channel.EMAIL, external_id="<m1@example.com>")
    assert a.id == b.id


def test_bad_input_is_refused_and_nothing_is_written(db, clock, people):
    with pytest.raises(InputError) as err:
        ask(db, clock, people.c1, body="   ")
    assert err.value.code == "body_missing"
    with pytest.raises(NotFound):
        ask(db, clock, people.c1, order_id="NOPE")
    with pytest.raises(PermissionDenied):
        ask(db, clock, people.c1, customer_id="C2")
    with pytest.raises(PermissionDenied):
        ask(db, clock, people.seller_a, customer_id="C1")
    with db.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == 0


# ── the complaint path ─────────────────────────────────────────────────────────────────────


def test_complaint_path_end_to_end(db, clock, people):
    t = complain(db, clock, people.c1)
    assert t.assignee_id == 201                         # the complaints queue's free agent with the skill
    with pytest.raises(Conflict) as err:
        step(db, clock, people.agent1, t, Action.RESOLVE)     # D4: confirm first
    assert err.value.code == "illegal_transition"
    with pytest.raises(PermissionDenied):
        step(db, clock, people.c1, t, Action.CONFIRM)
    clock.advance(minutes=30)
    step(db, clock, people.agent1, t, Action.CONFIRM)
    clock.advance(minutes=30)
    post_message(db, people.agent1, t.number, "您好，已核实，给您补偿 10 元券。", RULES, clock)
    view = get_ticket(db, people.c1, t.number)
    assert view.ticket.status == Status.PROCESSING.value
    c = clocks(db, t)
    assert c["confirm"].met_at == NOW + timedelta(minutes=30)
    assert c["first_result"].met_at == NOW + timedelta(hours=1)
    assert c["first_response"].met_at is not None
    step(db, clock, people.agent1, t, Action.RESOLVE)
    with db.read() as uow:
        survey = uow.session.scalars(select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == t.id)).one()
        assert survey.agent_id == 201 and survey.answered_at is None
    step(db, clock, people.c1, t, Action.ACCEPT)
    assert get_ticket(db, people.c1, t.number).ticket.status == Status.CLOSED.value


def test_reopen_within_seven_days_escalates_and_after_is_refused(db, clock, people):
    t = complain(db, clock, people.c1)
    step(db, clock, people.agent1, t, Action.CONFIRM)
    step(db, clock, people.agent1, t, Action.RESOLVE)
    clock.advance(days=6)
    t2 = step(db, clock, people.c1, t, Action.REOPEN, note="问题没解决")
    assert t2.status == Status.PROCESSING.value and t2.reopen_count == 1 and t2.escalated
    assert t2.assignee_id == 250                                               # D6: to the supervisor
    reopened_clock = [c for c in clocks_all(db, t) if c.metric == "resolution" and c.started_at == clock.now]
    assert len(reopened_clock) == 1
    step(db, clock, people.sup, t, Action.RESOLVE)
    clock.advance(days=8)
    with pytest.raises(Conflict) as err:
        step(db, clock, people.c1, t, Action.REOPEN)
    assert err.value.code == "reopen_window_passed"


def clocks_all(db, ticket) -> list[TicketSla]:
    with db.read() as uow:
        return list(uow.session.scalars(select(TicketSla).where(TicketSla.ticket_id == ticket.id)))


def test_a_complaint_naming_an_agent_goes_to_their_supervisor_never_to_them(db, clock, people):
    t = complain(db, clock, people.c1, named_employee_no="KF0001")
    assert t.assignee_id == 250 and t.escalated                                # D9
    with pytest.raises(NotFound):
        get_ticket(db, people.agent1, t.number)
    assert t.number not in [x.number for x in list_queue(db, people.agent1, queue_code="complaints").tickets]
    with pytest.raises(Conflict) as err:
        transfer_ticket(db, people.sup, t.number, clock, assignee_id=201)
    assert err.value.code == "named_agent"


# ── visibility by role ─────────────────────────────────────────────────────────────────────


def test_customers_sellers_and_agents_cannot_read_one_anothers_tickets(db, clock, people):
    make_order(db, "O-A", customer="C1", seller="S3P")
    t = ask(db, clock, people.c1, order_id="O-A", category=Category.LOGISTICS)
    post_message(db, people.agent3, t.number, "内部：这单物流异常", RULES, clock, internal=True)
    assert get_ticket(db, people.c1, t.number).ticket.id == t.id
    for outsider in (people.c2, people.seller_b, people.agent1, people.agent2):   # agents of other queues
        with pytest.raises(NotFound):
            get_ticket(db, outsider, t.number)
    seller_view = get_ticket(db, people.seller_a, t.number)
    customer_view = get_ticket(db, people.c1, t.number)
    staff_view = get_ticket(db, people.agent3, t.number)
    assert all(m.visibility == "public" for m in seller_view.messages + customer_view.messages)
    assert any(m.visibility == "internal" for m in staff_view.messages)
    assert get_ticket(db, people.sup, t.number).ticket.id == t.id
    with pytest.raises(PermissionDenied):
        list_queue(db, people.c1)
    assert [x.number for x in list_queue(db, people.seller_a).tickets] == [t.number]
    assert list_queue(db, people.seller_b).tickets == []


def test_customers_cannot_write_internal_notes_or_reply_to_others(db, clock, people):
    t = ask(db, clock, people.c1)
    with pytest.raises(PermissionDenied):
        post_message(db, people.c1, t.number, "note", RULES, clock, internal=True)
    with pytest.raises(NotFound):
        post_message(db, people.c2, t.number, "hi", RULES, clock)


# ── replies: compliance, first response, pause ─────────────────────────────────────────────


def test_a_blocked_reply_is_recorded_and_not_sent(db, clock, people):
    make_order(db, "O-B", customer="C1", seller="S3P")
    t = ask(db, clock, people.c1, order_id="O-B")
    with pytest.raises(InputError) as err:
        post_message(db, people.seller_a, t.number, "亲加微信 abc123 私下退", RULES, clock)
    assert err.value.code == "reply_blocked"
    assert err.value.detail["violations"] == [{"kind": "im_account", "match": "加微信"}]
    with db.read() as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(TicketMessage).where(TicketMessage.ticket_id == t.id)) == 1
        v = s.scalars(select(ComplianceViolation)).one()
        assert v.seller_id == "S3P" and v.kinds == ["im_account"] and v.author_user_id == 301
    assert get_ticket(db, people.sup, t.number).ticket.first_response_at is None


def test_waiting_for_the_customer_pauses_the_clocks(db, clock, people):
    t = ask(db, clock, people.admin, customer_id="C1", channel=Channel.EMAIL)
    before = clocks(db, t)["resolution"].due_at
    step(db, clock, people.agent1, t, Action.WAIT_CUSTOMER)
    clock.advance(hours=2)                                   # 10:00 → 12:00, inside business hours
    post_message(db, people.c1, t.number, "补充：订单号 O-1", RULES, clock)
    assert get_ticket(db, people.c1, t.number).ticket.status == Status.PROCESSING.value
    assert clocks(db, t)["resolution"].due_at == before + timedelta(hours=2)


def test_a_pause_overnight_costs_no_business_time(db, clock, people):
    clock.now = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)    # 20:30 Shanghai
    t = ask(db, clock, people.admin, customer_id="C1", channel=Channel.EMAIL)
    due = clocks(db, t)["first_response"].due_at
    # D3: 8 business hours from 20:30 = 0.5 h today + 7.5 h tomorrow → 16:30 next day
    assert due == datetime(2026, 3, 11, 8, 30, tzinfo=UTC)
    step(db, clock, people.agent1, t, Action.WAIT_CUSTOMER)
    clock.now = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)     # 08:30 next morning, before opening
    step(db, clock, people.agent1, t, Action.RESUME)
    # 20:30 → 21:00 was business time (30 min), the night was not
    assert clocks(db, t)["first_response"].due_at == due + timedelta(minutes=30)


def test_email_ticket_before_the_national_day_holiday_is_due_after_it(db, clock, people):
    clock.now = datetime(2026, 9, 30, 12, 30, tzinfo=UTC)    # 20:30 on 30 September
    t = ask(db, clock, people.admin, customer_id="C1", channel=Channel.EMAIL)
    # 0.5 h on 30 Sep, 1–7 Oct closed, then 7.5 h from 09:00 on 8 Oct → 16:30
    assert clocks(db, t)["first_response"].due_at == datetime(2026, 10, 8, 8, 30, tzinfo=UTC)


# ── the sweep ──────────────────────────────────────────────────────────────────────────────


def test_the_sweep_warns_breaches_escalates_and_runs_twice_without_double_effect(db, clock, people):
    t = ask(db, clock, people.c1)                            # chat: first response due in 60 s
    paused = ask(db, clock, people.c1)
    step(db, clock, people.agent1 if paused.assignee_id == 201 else people.agent2, paused, Action.WAIT_CUSTOMER)
    clock.advance(seconds=50)                                # past 80 % of 60 s
    first = sweep_desk(db, RULES, clock)
    assert first.warned == 1 and first.breached == 0
    clock.advance(seconds=20)
    second = sweep_desk(db, RULES, clock)
    assert second.breached == 1 and second.warned == 0
    again = sweep_desk(db, RULES, clock)
    assert (again.warned, again.breached) == (0, 0)
    view = get_ticket(db, people.sup, t.number)
    assert view.ticket.escalated
    assert [e.action for e in view.events].count("sla_breach") == 1
    assert not get_ticket(db, people.sup, paused.number).ticket.escalated     # paused clocks do not run


def test_resolved_tickets_close_by_themselves_after_the_window(db, clock, people):
    t = ask(db, clock, people.c1)
    actor = people.agent1 if t.assignee_id == 201 else people.agent2
    step(db, clock, actor, t, Action.RESOLVE)
    clock.advance(days=3)
    assert sweep_desk(db, RULES, clock).closed == 0
    clock.advance(days=6)
    assert sweep_desk(db, RULES, clock).closed == 1
    assert sweep_desk(db, RULES, clock).closed == 0
    assert get_ticket(db, people.c1, t.number).ticket.status == Status.CLOSED.value


# ── transfer, tags, merge ──────────────────────────────────────────────────────────────────


def test_transfer_tags_and_merge(db, clock, people):
    t = ask(db, clock, people.c1)
    moved = transfer_ticket(db, people.sup, t.number, clock, queue_code="logistics")
    assert moved.assignee_id == 203
    assert tag_ticket(db, people.agent3, t.number, clock, add=["物流延误", "催单"]) == ["催单", "物流延误"]
    assert tag_ticket(db, people.agent3, t.number, clock, remove=["催单"]) == ["物流延误"]
    with pytest.raises(PermissionDenied):
        tag_ticket(db, people.c1, t.number, clock, add=["x"])
    dup = ask(db, clock, people.c1)
    step(db, clock, people.sup, dup, Action.MERGE, merge_into=t.number)
    assert get_ticket(db, people.sup, dup.number).ticket.status == Status.MERGED.value
    target = get_ticket(db, people.sup, t.number)
    assert any(dup.number in m.body for m in target.messages if m.visibility == "internal")
    other = ask(db, clock, people.c2)
    with pytest.raises(Conflict):
        step(db, clock, people.sup, other, Action.MERGE, merge_into=t.number)


def open_loads(db: Database) -> tuple[dict[int, int], dict[int, int]]:
    """(each agent's ``open_load`` as the database keeps it, their open tickets counted)."""
    from kefu.adapters.db.tables.service_desk import AgentProfile

    with db.read() as uow:
        s = uow.session
        kept = {uid: n for uid, n in s.execute(select(AgentProfile.user_id, AgentProfile.open_load))}
        counted = {uid: n for uid, n in s.execute(
            select(Ticket.assignee_id, func.count()).where(Ticket.status.in_([x.value for x in OPEN_STATUSES]),
                                                            Ticket.assignee_id.in_(list(kept)))
            .group_by(Ticket.assignee_id))}
    return kept, {uid: counted.get(uid, 0) for uid in kept}


def test_each_agents_open_load_is_kept_by_the_database_through_every_step(db, clock, people):
    """Migration 0009: ``desk_agents.open_load`` follows every open, assignment, transfer,
    resolve, reopen, close, merge, bulk update and delete — and a new agent row starts from
    the tickets already assigned to that user."""
    from sqlalchemy import delete, update

    from kefu.adapters.db.tables.service_desk import AgentProfile

    a = ask(db, clock, people.c1)
    b = ask(db, clock, people.c1)
    c = complain(db, clock, people.c1)
    d = complain(db, clock, people.c2, named_employee_no="KF0002")           # to the supervisor (D9)
    kept, counted = open_loads(db)
    assert kept == counted and sum(kept.values()) == 4 and kept[250] >= 1
    transfer_ticket(db, people.sup, a.number, clock, queue_code="logistics")  # to agent3
    step(db, clock, people.sup, b, Action.MERGE, merge_into=a.number)
    step(db, clock, people.sup, c, Action.CONFIRM)
    step(db, clock, people.sup, c, Action.RESOLVE)
    assert open_loads(db)[0] == open_loads(db)[1]
    step(db, clock, people.c1, c, Action.REOPEN, note="没解决")               # D6: escalated
    step(db, clock, people.sup, d, Action.CONFIRM)
    kept, counted = open_loads(db)
    assert kept == counted and kept[203] == 1
    with db.uow() as uow:                                                       # bulk, outside the services
        uow.session.execute(update(Ticket).where(Ticket.id == d.id).values(status=Status.CLOSED.value))
        uow.session.execute(update(Ticket).where(Ticket.id == a.id).values(assignee_id=202))
        uow.commit()
    kept, counted = open_loads(db)
    assert kept == counted and kept[202] >= 1 and kept[203] == 0
    with db.uow() as uow:                                                       # a bare row, in and out
        row = {k: v for k, v in uow.session.execute(select(Ticket.__table__).where(Ticket.id == c.id)).one()
               ._asdict().items() if k != "id"}
        bare = uow.session.execute(Ticket.__table__.insert().values(
            {**row, "number": "TBARE", "assignee_id": 201, "status": Status.NEW.value})
            .returning(Ticket.__table__.c.id)).scalar_one()
        uow.commit()
    kept, counted = open_loads(db)
    assert kept == counted and kept[201] >= 1
    with db.uow() as uow:
        uow.session.execute(delete(Ticket).where(Ticket.id == bare))
        uow.commit()
    assert open_loads(db)[0] == open_loads(db)[1] == kept | {201: kept[201] - 1}
    with db.uow() as uow:                                                       # a user who becomes an agent
        uow.session.execute(update(Ticket).where(Ticket.id == a.id).values(assignee_id=people.admin.user_id))
        uow.session.execute(delete(AgentProfile).where(AgentProfile.user_id == people.admin.user_id))
        uow.session.add(AgentProfile(user_id=people.admin.user_id, capacity=5, skills=[], online=False))
        uow.commit()
    kept, counted = open_loads(db)
    assert kept == counted and kept[people.admin.user_id] == 1


def test_history_is_written_for_every_step(db, clock, people):
    t = complain(db, clock, people.c1)
    step(db, clock, people.agent1, t, Action.CONFIRM, note="已核实")
    with db.read() as uow:
        events = list(uow.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                          .order_by(TicketEvent.id)))
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("open", None, "new"), ("confirm", "new", "confirmed")]
    assert events[1].actor_user_id == 201 and events[1].note == "已核实"


# ── search ─────────────────────────────────────────────────────────────────────────────────


def test_full_text_search_finds_chinese_words_and_numbers_within_what_each_agent_sees(db, clock, people):
    from kefu.services.tickets import search_tickets

    a = ask(db, clock, people.c1, subject="耳机左边没有声音", body="买的蓝牙耳机左耳没声音，想退货")
    b = ask(db, clock, people.c2, category=Category.LOGISTICS, subject="快递延误",
            body="顺丰单号 SF1234567890 三天没更新")
    handler = people.agent1 if a.assignee_id == 201 else people.agent2
    post_message(db, handler, a.number, "内部：疑似批次质量问题", RULES, clock, internal=True)
    assert [t.number for t in search_tickets(db, people.sup, "退货")] == [a.number]
    assert [t.number for t in search_tickets(db, people.sup, "耳机 声音")] == [a.number]
    assert [t.number for t in search_tickets(db, people.sup, "sf1234567890")] == [b.number]
    assert [t.number for t in search_tickets(db, people.sup, "批次质量")] == [a.number]      # notes, for staff
    assert search_tickets(db, people.sup, "洗衣机") == []
    assert search_tickets(db, people.sup, "，。") == []
    assert [t.number for t in search_tickets(db, people.agent3, "单号")] == [b.number]
    assert search_tickets(db, people.agent3, "耳机") == []                       # not this agent's queue
    with pytest.raises(PermissionDenied):
        search_tickets(db, people.c1, "耳机")


def test_the_search_index_merges_eight_segments_at_a_time_and_loses_no_row(db, clock, people):
    """Migration 0008: SQLite's FTS5 index merges a level's segments eight at a time (each
    ticket opened alone writes a segment); after many merges every ticket is still found."""
    from sqlalchemy import text

    from kefu.services.tickets import search_tickets

    if db.is_sqlite:
        with db.read_connection() as conn:
            assert conn.execute(text("SELECT v FROM ticket_fts_config WHERE k = 'automerge'")).scalar() == 8
    opened = [ask(db, clock, people.c1, subject=f"编号{n:02d}号耳机没声音", body=f"第{n:02d}单").number
              for n in range(40)]
    for n in (0, 17, 39):
        assert [t.number for t in search_tickets(db, people.sup, f"编号{n:02d}号")] == [opened[n]]
    assert len(search_tickets(db, people.sup, "耳机 声音", limit=100)) == 40


def test_new_search_rows_are_staged_and_moved_into_the_index_in_batches_losing_none(db, clock, people):
    """Migration 0010 (SQLite): writers stage their index rows; the writer that brings the
    staging table to FLUSH_AT rows moves them all into FTS5, the sweep moves what is left, and
    a search moves them first — so it finds every ticket at once. PostgreSQL indexes directly."""
    from sqlalchemy import text

    from kefu.adapters.search.ticket_index import FLUSH_AT
    from kefu.services.tickets import search_tickets

    def counts() -> tuple[int, int]:
        with db.read_connection() as conn:
            if not db.is_sqlite:
                return 0, conn.execute(text("SELECT count(*) FROM ticket_search_docs")).scalar_one()
            return (conn.execute(text("SELECT count(*) FROM ticket_search_staged")).scalar_one(),
                    conn.execute(text("SELECT count(*) FROM ticket_fts")).scalar_one())

    first = ask(db, clock, people.c1, subject="退款进度查询", body="退款申请三天了")
    assert counts() == ((2, 0) if db.is_sqlite else (0, 2))
    assert [t.number for t in search_tickets(db, people.sup, "退款")] == [first.number]      # moved first
    assert counts() == (0, 2)
    n = FLUSH_AT // 2 + 3                                    # two rows a ticket: crosses FLUSH_AT once
    numbers = [ask(db, clock, people.c2, subject=f"第{i:03d}号包裹丢失", body="快递显示已签收但没收到").number
               for i in range(n)]
    staged, indexed = counts()
    if db.is_sqlite:
        assert 0 < staged < FLUSH_AT and indexed == 2 + 2 * n - staged           # one batch moved by a writer
    assert sweep_desk(db, RULES, clock).indexed == staged
    assert counts() == (0, 2 + 2 * n)
    assert sweep_desk(db, RULES, clock).indexed == 0
    assert [t.number for t in search_tickets(db, people.sup, "第037号")] == [numbers[37]]
    assert len(search_tickets(db, people.sup, "包裹 丢失", limit=100)) == n


def test_live_desk_events_reach_only_those_who_may_see_the_ticket(db, clock, people):
    from kefu.services.tickets import desk_scope

    event = {"ticket": "T1", "queue_id": 2, "assignee_id": 203, "named": "KF0001", "seller_id": "S3P"}
    assert desk_scope(db, people.sup).admits(event)
    assert desk_scope(db, people.seller_a).admits(event)
    assert not desk_scope(db, people.seller_b).admits(event)
    assert desk_scope(db, people.agent3).admits(event)                     # assignee (and logistics)
    assert not desk_scope(db, people.agent2).admits(event)                 # another queue
    assert not desk_scope(db, people.agent1).admits({**event, "queue_id": 5})   # D9: names KF0001
    with pytest.raises(PermissionDenied):
        desk_scope(db, people.c1)


# ── the queue listing: every reader, every filter, against the visibility rule ──────────────


def test_the_queue_listing_follows_the_visibility_rule_for_every_reader_and_filter(db, clock, people):
    from kefu.adapters.db.tables.auth import User
    from kefu.adapters.db.tables.service_desk import Queue, QueueMember
    from kefu.services.tickets import list_queue_rows

    make_order(db, "O-Q1", customer="C1", seller="S3P")
    set_presence(db, people.agent2, False, clock)
    made = [ask(db, clock, people.c1, category=Category.LOGISTICS), ask(db, clock, people.c2),
            complain(db, clock, people.c1, named_employee_no="KF0001"), complain(db, clock, people.c2),
            ask(db, clock, people.c1, order_id="O-Q1"), ask(db, clock, people.c2, category=Category.PAYMENT)]
    made += [ask(db, clock, people.c1) for _ in range(4)]                   # agent1 fills up: some wait
    transfer_ticket(db, people.sup, made[1].number, clock, queue_code="logistics")
    step(db, clock, people.sup, made[4], Action.RESOLVE)                     # no longer open
    with db.read() as uow:
        tickets = list(uow.session.scalars(select(Ticket)))
        queues = {q.code: q.id for q in uow.session.scalars(select(Queue))}
        members: dict[int, set[int]] = {}
        for m in uow.session.scalars(select(QueueMember)):
            members.setdefault(m.user_id, set()).add(m.queue_id)
        employee_no = {u.id: u.employee_no for u in uow.session.scalars(select(User))}
    assert any(t.assignee_id is None for t in tickets) and any(t.assignee_id == 201 for t in tickets)

    def expected(actor, queue, mine, unassigned):
        if queue is not None and queue not in queues:
            return "queue_not_found"
        if (actor.role.value == "agent" and queue is not None and not mine
                and queues[queue] not in members.get(actor.user_id, set())):
            return "not_allowed"
        found = []
        for t in tickets:
            if t.status not in {s.value for s in OPEN_STATUSES}:
                continue
            if actor.role.value == "seller" and t.seller_id != actor.seller_id:
                continue
            if mine and t.assignee_id != actor.user_id:
                continue
            if queue is not None and t.queue_id != queues[queue]:
                continue
            if actor.role.value == "agent" and not mine and queue is None and not (
                    t.queue_id in members.get(actor.user_id, set()) or t.assignee_id == actor.user_id):
                continue
            if unassigned and t.assignee_id is not None:
                continue
            if actor.role.value == "agent" and t.named_employee_no and t.named_employee_no == employee_no[
                    actor.user_id]:
                continue                                                     # D9
            found.append(t)
        return [t.number for t in sorted(found, key=lambda t: (t.priority, t.id))]

    for actor in (people.agent1, people.agent2, people.agent3, people.sup, people.admin, people.seller_a,
                  people.seller_b):
        for queue in (None, "general", "complaints", "logistics", "nope"):
            for mine in (False, True):
                for unassigned in (False, True):
                    want = expected(actor, queue, mine, unassigned)
                    got: list[str] | str = []
                    cursor = None
                    try:
                        while True:                                          # pages of two, by the cursor
                            page = list_queue_rows(db, actor, queue_code=queue, mine=mine, unassigned=unassigned,
                                                   cursor=cursor, limit=2)
                            assert isinstance(got, list)
                            got += [r.number for r in page.rows]
                            cursor = page.next_cursor
                            if cursor is None:
                                break
                    except (NotFound, PermissionDenied) as exc:
                        got = exc.code
                    assert got == want, (actor.display_name, queue, mine, unassigned)
                    if isinstance(want, list):
                        orm = list_queue(db, actor, queue_code=queue, mine=mine, unassigned=unassigned, limit=200)
                        assert [t.number for t in orm.tickets] == want


# ── group commit: a batch of openings in one transaction ─────────────────────────────────


def test_a_batch_of_openings_gives_what_opening_them_one_by_one_gives(db, sqlite_template, tmp_path, clock, people):
    """Tickets written together (one transaction) get the agents that opening
    them one after another gives — least load, round robin, capacity, D9 — and one that fails
    fails alone."""
    import shutil

    from kefu.adapters.db.tables.service_desk import Queue, QueueMember
    from kefu.services.tickets import OpenedTicket, open_ticket_drafts, prepare_ticket

    shutil.copy(sqlite_template, tmp_path / "one_by_one.db")
    sqlite_db = Database.from_url(f"sqlite:///{tmp_path / 'one_by_one.db'}")
    seed_desk(sqlite_db)
    for database in (db, sqlite_db):                          # a round-robin queue with two agents
        with database.uow() as uow:
            payment = uow.session.scalars(select(Queue).where(Queue.code == "payment")).one()
            assert payment.strategy == "round_robin"
            uow.session.add_all([QueueMember(queue_id=payment.id, user_id=201),
                                 QueueMember(queue_id=payment.id, user_id=202)])
            uow.commit()
    complaint = {"kind": Kind.COMPLAINT, "category": Category.SERVICE_ATTITUDE}
    asks = [(people.c1, {}), (people.c2, {}), (people.c1, complaint),
            (people.c1, {**complaint, "named_employee_no": "KF0001"}),     # D9: the supervisor
            (people.c2, {"evidence_ids": (999,)}),                          # fails alone
            (people.c1, {"category": Category.PAYMENT}), (people.c2, {"category": Category.PAYMENT}),
            *[(people.c1, {}) for _ in range(5)]]                           # past both agents' capacity

    def request(kw: dict) -> TicketRequest:
        return TicketRequest(subject="商品咨询", body="这款有现货吗", **kw)

    start, drafts = clock.now, []
    for actor, kw in asks:
        clock.advance(seconds=1)                                            # round robin: who waited longest
        drafts.append(prepare_ticket(db, actor, request(kw), RULES, clock))
    results = open_ticket_drafts(db, drafts)
    clock.now = start
    one_by_one: list[int | str | None] = []
    for actor, kw in asks:
        clock.advance(seconds=1)
        try:
            one_by_one.append(open_ticket(sqlite_db, actor, request(kw), RULES, clock).assignee_id)
        except NotFound as exc:
            one_by_one.append(exc.code)
    batch = [r.code if isinstance(r, NotFound) else r.values["assignee_id"] if isinstance(r, OpenedTicket) else r
             for r in results]
    assert batch == one_by_one
    assert batch[3] == 250 and batch[4] == "evidence_not_found" and batch[-1] is None
    assert len(set(batch[5:7])) == 2                                                    # round robin
    opened = [r for r in results if isinstance(r, OpenedTicket)]
    with db.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Ticket)) == len(asks) - 1
    for r in opened:
        assert get_ticket(db, people.sup, r.values["number"]).ticket.assignee_id == r.values["assignee_id"]
    # the rows a batch writes at the end of its transaction (clocks, history, notices, each
    # agent's last assignment) are those the tickets opened one by one wrote
    tickets, notices, _ = written = _rows_written(db)
    assert written == _rows_written(sqlite_db)
    assert len(tickets) == len(asks) - 1
    for _customer, kind, _assignee, sla, history in tickets:
        assert len(sla) == (4 if kind == Kind.COMPLAINT.value else 2) and history[0][0] == "open"
    assert len([n for n in notices if n[1] == "inapp"]) == len(tickets)
    sqlite_db.dispose()


def _rows_written(database: Database) -> tuple[list[tuple], list[tuple], dict[int, datetime | None]]:
    from kefu.adapters.db.tables.outbox import OutboxMessage
    from kefu.adapters.db.tables.service_desk import AgentProfile

    with database.read() as uow:
        s = uow.session
        tickets = []
        for t in s.scalars(select(Ticket).order_by(Ticket.id)):
            sla = sorted((c.metric, c.due_at, c.warn_at) for c in s.scalars(select(TicketSla).where(
                TicketSla.ticket_id == t.id)))
            history = [(e.action, e.to_status, e.actor_user_id, e.data) for e in s.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))]
            tickets.append((t.customer_id, t.kind, t.assignee_id, tuple(sla), tuple(history)))
        notices = [(m.customer_id, m.channel, m.body.replace(m.link.rsplit("/", 1)[-1], "#")) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.event == "ticket_opened").order_by(OutboxMessage.id))]
        last = {uid: at for uid, at in s.execute(select(AgentProfile.user_id, AgentProfile.last_assigned_at))}
    return tickets, notices, last
