"""Satisfaction surveys (D7, D8), compensation within limits (D10) and canned replies, through the
service layer on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.service.tickets import Action, Category, Kind
from kefu.services.canned import fill, fill_canned, list_canned, save_canned
from kefu.services.compensation import decide_compensation, request_compensation
from kefu.services.satisfaction import answer_survey, open_survey, satisfaction_report
from kefu.services.tickets import TicketRequest, open_ticket, transition_ticket
from kefu.services.uow import Database

from .desk_factories import RULES, DeskPeople, seed_desk
from .factories import NOW, make_order


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def people(db: Database) -> DeskPeople:
    return seed_desk(db)


def resolved_ticket(db, clock, people, *, customer=None, order_id=None, kind=Kind.CONSULTATION):
    customer = customer or people.c1
    t = open_ticket(db, customer, TicketRequest(subject="问题", body="请帮忙", kind=kind, order_id=order_id,
                                                category=Category.PRODUCT), RULES, clock)
    if kind is Kind.COMPLAINT:
        transition_ticket(db, people.sup, t.number, Action.CONFIRM, RULES, clock)
    transition_ticket(db, people.sup, t.number, Action.RESOLVE, RULES, clock)
    return t


def test_a_survey_is_answered_once_within_seven_days(db, clock, people):
    t = resolved_ticket(db, clock, people)
    assert open_survey(db, people.c1, t.number, clock()) is not None
    with pytest.raises(InputError):
        answer_survey(db, people.c1, t.number, "great", "", RULES, clock)
    with pytest.raises(NotFound):
        answer_survey(db, people.c2, t.number, "satisfied", "", RULES, clock)
    survey = answer_survey(db, people.c1, t.number, "very_satisfied", "很快", RULES, clock)
    assert survey.score == "very_satisfied" and survey.comment == "很快"
    with pytest.raises(Conflict) as err:
        answer_survey(db, people.c1, t.number, "dissatisfied", "", RULES, clock)
    assert err.value.code == "survey_answered"
    late = resolved_ticket(db, clock, people)
    clock.advance(days=8)
    assert open_survey(db, people.c1, late.number, clock()) is None
    with pytest.raises(Conflict) as err:
        answer_survey(db, people.c1, late.number, "satisfied", "", RULES, clock)
    assert err.value.code == "survey_closed"


def test_satisfaction_per_agent_queue_seller_and_month_flags_low_sellers(db, clock, people):
    make_order(db, "O-S1", customer="C1", seller="S3P")
    scores = ["very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied"]   # 2/5 = 40 %
    for score in scores:
        t = resolved_ticket(db, clock, people, order_id="O-S1")
        answer_survey(db, people.c1, t.number, score, "", RULES, clock)
    rows = satisfaction_report(db, people.sup, RULES)
    seller = next(r for r in rows if r.group == "seller" and r.key == "S3P")
    assert (seller.responses, seller.satisfied, seller.rate) == (5, 2, Decimal("0.4"))
    assert seller.band is not None and seller.band.value == "restricted"          # D8: below 60 %
    assert seller.month == "2026-03"
    assert any(r.group == "queue" and r.responses == 5 for r in rows)
    own = satisfaction_report(db, people.seller_a, RULES)
    assert {r.group for r in own} == {"seller"} and {r.key for r in own} == {"S3P"}
    assert satisfaction_report(db, people.seller_b, RULES) == []
    with pytest.raises(PermissionDenied):
        satisfaction_report(db, people.agent1, RULES)


def test_compensation_is_approved_within_each_levels_limit(db, clock, people):
    t = resolved_ticket(db, clock, people, kind=Kind.COMPLAINT)
    small = request_compensation(db, people.c1, t.number, "shipping_subsidy", "20.00", "送晚了", RULES, clock)
    middle = request_compensation(db, people.agent1, t.number, "goodwill", "150", "态度问题", RULES, clock)
    large = request_compensation(db, people.sup, t.number, "goodwill", "500", "严重失误", RULES, clock)
    assert [r.approver_level for r in (small, middle, large)] == ["agent", "supervisor", "manager"]   # D10
    assert decide_compensation(db, people.agent1, small.id, True, "", clock).status == "approved"
    with pytest.raises(PermissionDenied) as err:
        decide_compensation(db, people.agent1, middle.id, True, "", clock)
    assert err.value.code == "approval_limit"
    assert decide_compensation(db, people.sup, middle.id, False, "不符合条件", clock).status == "rejected"
    with pytest.raises(PermissionDenied):
        decide_compensation(db, people.sup, large.id, True, "", clock)
    assert decide_compensation(db, people.admin, large.id, True, "", clock).status == "approved"
    with pytest.raises(Conflict):
        decide_compensation(db, people.admin, large.id, False, "", clock)
    consult = resolved_ticket(db, clock, people)
    with pytest.raises(Conflict):
        request_compensation(db, people.c1, consult.number, "goodwill", "5", "", RULES, clock)
    with pytest.raises(InputError):
        request_compensation(db, people.c1, t.number, "goodwill", "-1", "", RULES, clock)


def test_canned_replies_fill_their_variables(db, clock, people):
    make_order(db, "O-C1", customer="C1")
    t = open_ticket(db, people.c1, TicketRequest(subject="物流", body="到哪了", order_id="O-C1",
                                                 category=Category.LOGISTICS), RULES, clock)
    reply = save_canned(db, people.sup, "物流安抚",
                        "{customer_name}您好，订单 {order_id} 已加急，{agent_name} 为您跟进。{oops}",
                        clock, actions={"tags": ["催单"], "step": "wait_customer"})
    filled = fill_canned(db, people.agent3, t.number, reply.id)
    assert filled.body == "张三您好，订单 O-C1 已加急，客服小赵 为您跟进。{oops}"
    assert filled.tags == ["催单"] and filled.step is Action.WAIT_CUSTOMER
    assert [r.title for r in list_canned(db, people.agent1)] == ["物流安抚"]
    with pytest.raises(PermissionDenied):
        save_canned(db, people.agent1, "x", "y", clock)
    with pytest.raises(InputError):
        save_canned(db, people.sup, "x", "y", clock, actions={"delete": True})
    with pytest.raises(PermissionDenied):
        list_canned(db, people.c1)
    assert fill("{a}{b}", {"a": "1"}) == "1{b}"


def test_a_decision_must_name_the_requests_own_ticket(db, clock, people):
    t = resolved_ticket(db, clock, people, kind=Kind.COMPLAINT)
    other = resolved_ticket(db, clock, people, kind=Kind.COMPLAINT)
    row = request_compensation(db, people.c1, t.number, "shipping_subsidy", "5", "", RULES, clock)
    with pytest.raises(NotFound):
        decide_compensation(db, people.sup, row.id, True, "", clock, number=other.number)
    assert decide_compensation(db, people.sup, row.id, True, "", clock, number=t.number).status == "approved"
