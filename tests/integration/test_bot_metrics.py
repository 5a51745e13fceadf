"""The assistant's metrics (issue 5 §7) on SQLite and PostgreSQL, from ``bot_sessions`` and
``bot_turns`` rows written here with known values: every figure exactly, the period (Asia/Shanghai
dates, conversations by start and messages by send time), who may read them, the least sure
messages in order and as training-file JSONL, and a fixed number of queries however many rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select

from kefu.adapters.db.tables.bot import BotSession, BotTurn
from kefu.adapters.db.tables.service_desk import Queue, Ticket
from kefu.domain.actors import Actor, Role
from kefu.domain.bot.scoring import parse_labelled
from kefu.domain.errors import InputError, PermissionDenied
from kefu.services.bot_metrics import bot_report, least_sure_jsonl, local_period
from kefu.services.uow import Database

from .factories import agent_actor, customer_actor, seed_parties, seller_actor

SUPERVISOR = Actor(user_id=2, role=Role.SUPERVISOR, display_name="主管老周")
ADMIN = Actor(user_id=1, role=Role.ADMIN, display_name="管理员")

# Shanghai dates 2026-03-09 and 2026-03-10 = [2026-03-08 16:00 UTC, 2026-03-10 16:00 UTC)
SINCE, UNTIL = local_period(date(2026, 3, 9), date(2026, 3, 10))


def utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


# (key, customer, started, handoff reason, with a ticket, turns: (at, text, intent, confidence, slots))
SESSIONS: list[tuple[str, str | None, datetime, str | None, list[tuple[datetime, str, str, float, dict[str, str]]]]] = [
    # before the period (23:00 on 3/08 in Shanghai); its second message is sent at 00:00 on 3/09
    ("s0", None, utc(8, 15), None, [
        (utc(8, 15, 59, 59), "这个能用吗", "out_of_scope", 0.05, {}),
        (utc(8, 16), "七天能退吗", "return_policy", 0.30, {})]),
    # 09:00 on 3/09, answered by the assistant
    ("s1", None, utc(9, 1), None, [
        (utc(9, 1), "你好", "greeting", 0.96, {}),
        (utc(9, 1, 1), "我的订单到哪了", "order_status", 0.90, {})]),
    # 23:30 on 3/09, the shopper asks for a person
    ("s2", "C1", utc(9, 15, 30), "request", [
        (utc(9, 15, 30), "转人工", "human_agent", 0.99, {})]),
    # 00:30 on 3/10 (still 3/09 in UTC): a complaint
    ("s3", "C1", utc(9, 16, 30), "complaint", [
        (utc(9, 16, 30), "你们太差了我要投诉", "complaint", 0.80, {})]),
    # 09:00 on 3/10, answered by the assistant with three unsure readings
    ("s4", None, utc(10, 1), None, [
        (utc(10, 1), "那个东西怎么弄", "out_of_scope", 0.21, {}),
        (utc(10, 1, 1), "发票抬头", "invoice", 0.35, {}),
        (utc(10, 1, 2), "订单 123456789012 到哪了", "order_status", 0.55, {"order_id": "123456789012"})]),
    # 00:00 on 3/11: just after the period
    ("s5", None, utc(10, 16), None, [
        (utc(10, 16), "在吗", "greeting", 0.10, {})]),
]


def add_sessions(db: Database, sessions: list[Any]) -> None:
    with db.uow() as uow:
        s = uow.session
        queue_id = s.scalars(select(Queue.id).order_by(Queue.id).limit(1)).one()
        for key, customer, started, reason, turns in sessions:
            ticket_id = None
            if reason is not None:
                ticket = Ticket(number=f"T-{key}", customer_id=customer, channel="web_chat", category="other",
                                kind="consultation", status="new", priority=3, subject="智能客服转人工",
                                queue_id=queue_id, created_at=started, updated_at=started, last_message_at=started)
                s.add(ticket)
                s.flush()
                ticket_id = ticket.id
            session = BotSession(owner=f"customer:{customer}" if customer else "anon", session_key=key,
                                 customer_id=customer, channel="web_chat", state={}, turns=len(turns),
                                 ticket_id=ticket_id, handoff_reason=reason,
                                 handoff_at=turns[-1][0] if reason else None, started_at=started,
                                 updated_at=turns[-1][0])
            s.add(session)
            s.flush()
            for n, (at, text, intent, confidence, slots) in enumerate(turns):
                s.add(BotTurn(session_id=session.id, at=at, text=text, intent=intent, confidence=confidence,
                              slots=slots, reply="好的", source="rules",
                              handoff=reason if reason and n == len(turns) - 1 else None))
        uow.commit()


@pytest.fixture
def seeded(db: Database) -> Database:
    seed_parties(db)
    add_sessions(db, SESSIONS)
    return db


@pytest.fixture
def queries(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):   # not SQLite's BEGIN
            seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_every_figure_of_the_period(seeded: Database) -> None:
    report = bot_report(seeded, SUPERVISOR, since=SINCE, until=UNTIL)
    assert (report.since, report.until) == (utc(8, 16), utc(10, 16))
    assert report.conversations == 4                     # s1–s4: s0 started before, s5 after
    assert report.answered_without_person == 2
    assert report.answered_rate == Decimal("0.5000")
    assert report.handoffs == 2 and report.handoff_rate == Decimal("0.5000")
    assert {r.code: (r.count, r.share) for r in report.handoffs_by_reason} == {
        "request": (1, Decimal("0.5000")), "complaint": (1, Decimal("0.5000")), "angry": (0, Decimal("0")),
        "repeated": (0, Decimal("0")), "low_confidence": (0, Decimal("0"))}
    assert [r.code for r in report.handoffs_by_reason][:2] == ["request", "complaint"]
    # messages by send time: s0's second message (00:00 on 3/09) counts, its first does not
    assert report.messages == 8
    assert [(i.code, i.count, i.share, i.average_confidence) for i in report.intents] == [
        ("order_status", 2, Decimal("0.2500"), 0.725),
        ("complaint", 1, Decimal("0.1250"), 0.8),
        ("greeting", 1, Decimal("0.1250"), 0.96),
        ("human_agent", 1, Decimal("0.1250"), 0.99),
        ("invoice", 1, Decimal("0.1250"), 0.35),
        ("out_of_scope", 1, Decimal("0.1250"), 0.21),
        ("return_policy", 1, Decimal("0.1250"), 0.3),
    ]
    assert report.average_confidence == 0.6325           # (0.96+0.90+0.99+0.80+0.21+0.35+0.55+0.30) / 8
    # s3 started at 16:30 UTC on 3/09, which is 00:30 on 3/10 in Shanghai
    assert [(d.day, d.conversations, d.handoffs) for d in report.by_day] == [
        (date(2026, 3, 9), 2, 1), (date(2026, 3, 10), 2, 1)]


def test_the_least_sure_messages_lowest_confidence_first(seeded: Database) -> None:
    report = bot_report(seeded, ADMIN, since=SINCE, until=UNTIL)
    assert [(m.text, m.intent, m.confidence) for m in report.least_sure] == [
        ("那个东西怎么弄", "out_of_scope", 0.21), ("七天能退吗", "return_policy", 0.30),
        ("发票抬头", "invoice", 0.35), ("订单 123456789012 到哪了", "order_status", 0.55),
        ("你们太差了我要投诉", "complaint", 0.80), ("我的订单到哪了", "order_status", 0.90),
        ("你好", "greeting", 0.96), ("转人工", "human_agent", 0.99)]
    assert report.least_sure[0].at == utc(10, 1) and report.least_sure[0].at.tzinfo is not None
    assert report.least_sure[3].slots == {"order_id": "123456789012"}
    assert [m.text for m in bot_report(seeded, ADMIN, since=SINCE, until=UNTIL, limit=2).least_sure] == [
        "那个东西怎么弄", "七天能退吗"]


def test_the_least_sure_messages_as_training_lines(seeded: Database) -> None:
    text = least_sure_jsonl(seeded, SUPERVISOR, since=SINCE, until=UNTIL, limit=4)
    assert text.splitlines() == [
        '{"text": "那个东西怎么弄", "intent": "out_of_scope", "slots": {}}',
        '{"text": "七天能退吗", "intent": "return_policy", "slots": {}}',
        '{"text": "发票抬头", "intent": "invoice", "slots": {}}',
        '{"text": "订单 123456789012 到哪了", "intent": "order_status", "slots": {"order_id": "123456789012"}}',
    ]
    assert text.endswith("}\n")
    # the training file's own reader takes it as it is
    assert [(m.text, m.intent, m.slots) for m in parse_labelled(text)][3] == (
        "订单 123456789012 到哪了", "order_status", {"order_id": "123456789012"})
    assert least_sure_jsonl(seeded, SUPERVISOR, since=utc(1, 0), until=utc(2, 0)) == ""


def test_the_period_is_half_open_in_shanghai_dates(seeded: Database) -> None:
    one_day = bot_report(seeded, SUPERVISOR, since=local_period(date(2026, 3, 10), date(2026, 3, 10))[0],
                         until=local_period(date(2026, 3, 10), date(2026, 3, 10))[1])
    assert (one_day.conversations, one_day.handoffs, one_day.messages) == (2, 1, 4)    # s3, s4
    assert {r.code: r.count for r in one_day.handoffs_by_reason if r.count} == {"complaint": 1}
    assert [(d.day, d.conversations, d.handoffs) for d in one_day.by_day] == [(date(2026, 3, 10), 2, 1)]
    # a period ending exactly when s5 starts leaves it out; one second later takes it in
    assert bot_report(seeded, SUPERVISOR, since=SINCE, until=utc(10, 16)).conversations == 4
    later = bot_report(seeded, SUPERVISOR, since=SINCE, until=utc(10, 16, 0, 1))
    assert (later.conversations, later.messages, later.least_sure[0].text) == (5, 9, "在吗")
    assert [d.day for d in later.by_day] == [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)]


def test_an_empty_period_has_zeros_and_no_rates(seeded: Database) -> None:
    report = bot_report(seeded, SUPERVISOR, since=utc(1, 16), until=utc(3, 16))
    assert (report.conversations, report.answered_without_person, report.handoffs, report.messages) == (0, 0, 0, 0)
    assert (report.answered_rate, report.handoff_rate, report.average_confidence) == (None, None, None)
    assert report.intents == [] and report.least_sure == []
    assert all(r.count == 0 and r.share is None for r in report.handoffs_by_reason)
    assert [(d.day, d.conversations) for d in report.by_day] == [(date(2026, 3, 2), 0), (date(2026, 3, 3), 0)]


@pytest.mark.parametrize("actor", [agent_actor(), customer_actor(), seller_actor()],
                         ids=["agent", "customer", "seller"])
def test_only_supervisors_and_admins_see_the_metrics(seeded: Database, actor: Actor) -> None:
    with pytest.raises(PermissionDenied) as refused:
        bot_report(seeded, actor, since=SINCE, until=UNTIL)
    assert refused.value.code == "not_allowed"
    with pytest.raises(PermissionDenied):
        least_sure_jsonl(seeded, actor, since=SINCE, until=UNTIL)


def test_a_period_that_cannot_be_reported_is_refused(seeded: Database) -> None:
    for since, until, limit, code in ((UNTIL, SINCE, 20, "period_invalid"), (SINCE, SINCE, 20, "period_invalid"),
                                      (SINCE, SINCE + timedelta(days=367), 20, "period_too_long"),
                                      (SINCE, UNTIL, 0, "limit_invalid"), (SINCE, UNTIL, 1001, "limit_invalid")):
        with pytest.raises(InputError) as refused:
            bot_report(seeded, SUPERVISOR, since=since, until=until, limit=limit)
        assert refused.value.code == code


def test_the_report_takes_three_queries_however_many_rows(seeded: Database, queries: list[str]) -> None:
    bot_report(seeded, SUPERVISOR, since=SINCE, until=UNTIL)
    few = len(queries)
    more: list[Any] = [(f"m{n}", "C2" if n % 2 else None, utc(9, 2, n), "angry" if n % 3 == 0 else None,
                        [(utc(9, 2, n, k), f"问题{n}-{k}", "invoice", 0.5 + k / 100, {}) for k in range(5)])
                       for n in range(30)]
    add_sessions(seeded, more)
    del queries[:]
    report = bot_report(seeded, SUPERVISOR, since=SINCE, until=UNTIL)
    assert (report.conversations, report.messages) == (34, 158)
    assert {r.code: r.count for r in report.handoffs_by_reason if r.count} == {
        "angry": 10, "request": 1, "complaint": 1}
    # sessions by day and reason, turns by intent, the least sure messages
    assert few == len(queries) == 3, queries
    del queries[:]
    least_sure_jsonl(seeded, SUPERVISOR, since=SINCE, until=UNTIL)
    assert len(queries) == 1
