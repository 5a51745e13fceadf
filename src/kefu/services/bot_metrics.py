"""The smart assistant's metrics for supervisors and admins (issue 5 §7): quality in the open.

Read from the rows the assistant writes (:mod:`kefu.services.assistant`): a conversation is one
``bot_sessions`` row, a message one ``bot_turns`` row. For a period ``[since, until)``:

- **conversations** are the sessions *started* in the period; one is **answered without a
  person** when it was never handed over (no ``handoff_reason``, no ``ticket_id``). Handoffs by
  reason and the per-day figures count the same sessions, so the rate and the reasons add up. A
  visitor who asks for a person is asked to log in and is not handed over, so their conversation
  counts as answered without a person (the turn still records the reason);
- **messages**, the volume per detected intent (with its share), the average confidence and the
  **least sure** messages are the turns *sent* in the period. Only what a turn stores is shown:
  text, detected intent, confidence, slots, time (the classifier's alternatives are not stored).

:func:`least_sure_jsonl` writes the least sure messages in the training file's format
(``data/bot/train.jsonl``: ``{"text", "intent", "slots"}`` with the *predicted* intent), for a
person to correct and add to the training data.

Every figure is a ``GROUP BY`` in the database: the report costs the same three queries for ten
conversations or a million; days are Asia/Shanghai calendar dates.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, literal_column, select

from kefu.adapters.db.tables.bot import BotSession, BotTurn
from kefu.domain.actors import Actor, Role
from kefu.domain.bot.dialogue import HandoffReason
from kefu.domain.clock import SHANGHAI
from kefu.domain.errors import InputError, PermissionDenied
from kefu.services.uow import Database

#: how many least sure messages the report lists by default
LEAST_SURE = 20
#: the most a download may hold
LEAST_SURE_MAX = 1000
#: the longest period a report covers
MAX_DAYS = 366
_RATE = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Share:
    """One row of a breakdown: a code (intent or handoff reason), its count and its share of the
    whole (``None`` when the whole is zero); for intents, the average confidence."""

    code: str
    count: int
    share: Decimal | None
    average_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One Asia/Shanghai date: conversations started that day and how many were handed over."""

    day: date
    conversations: int
    handoffs: int


@dataclass(frozen=True, slots=True)
class UnsureMessage:
    """A customer message and what the assistant read in it."""

    turn_id: int
    at: datetime
    text: str
    intent: str
    confidence: float
    slots: dict[str, str]

    def training_line(self) -> str:
        """This message as a line of the training file, labelled with the predicted intent."""
        return json.dumps({"text": self.text, "intent": self.intent, "slots": self.slots}, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class BotReport:
    """The assistant's figures for ``[since, until)`` (module docstring)."""

    since: datetime
    until: datetime
    conversations: int
    answered_without_person: int
    answered_rate: Decimal | None
    handoffs: int
    handoffs_by_reason: list[Share]
    messages: int
    intents: list[Share]
    average_confidence: float | None
    by_day: list[DayFigures]
    least_sure: list[UnsureMessage]

    @property
    def handoff_rate(self) -> Decimal | None:
        return _rate(self.handoffs, self.conversations)


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(_RATE, rounding=ROUND_HALF_UP)


def _average(total: float | None, count: int) -> float | None:
    return round(float(total or 0.0) / count, 4) if count else None


def _check(actor: Actor, since: datetime, until: datetime, limit: int) -> None:
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied("not_allowed", "您无权查看智能客服指标。", "You may not see the assistant's metrics.")
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("the period needs aware datetimes")
    if until <= since:
        raise InputError("period_invalid", "结束日期不能早于开始日期。", "The period ends before it starts.")
    if until - since > timedelta(days=MAX_DAYS):
        raise InputError("period_too_long", f"统计区间最长 {MAX_DAYS} 天。",
                         f"The period may be at most {MAX_DAYS} days.", limit=MAX_DAYS)
    if not 1 <= limit <= LEAST_SURE_MAX:
        raise InputError("limit_invalid", f"条数须在 1 到 {LEAST_SURE_MAX} 之间。",
                         f"The number of messages must be between 1 and {LEAST_SURE_MAX}.")


def local_day(column: Any, dialect: str) -> ColumnElement[str]:
    """The Asia/Shanghai date of a UTC column as ``YYYY-MM-DD``, computed by the database.

    Constants are literal SQL, not bound parameters, so PostgreSQL sees the same expression in
    the select list and the ``GROUP BY``. Shanghai has kept UTC+8 all year since 1991.
    """
    if dialect == "postgresql":
        return func.to_char(func.timezone(literal_column("'Asia/Shanghai'"), column),
                            literal_column("'YYYY-MM-DD'"))
    return func.date(column, literal_column("'+8 hours'"))


def _least_sure(conn: Connection, since: datetime, until: datetime, limit: int) -> list[UnsureMessage]:
    rows = conn.execute(
        select(BotTurn.id, BotTurn.at, BotTurn.text, BotTurn.intent, BotTurn.confidence, BotTurn.slots)
        .where(BotTurn.at >= since, BotTurn.at < until)
        .order_by(BotTurn.confidence.asc(), BotTurn.at.asc(), BotTurn.id.asc()).limit(limit))
    return [UnsureMessage(turn_id=r.id, at=r.at, text=r.text, intent=r.intent, confidence=float(r.confidence),
                          slots={str(k): v for k, v in (r.slots or {}).items() if isinstance(v, str)})
            for r in rows]


def _days(since: datetime, until: datetime) -> list[date]:
    first = since.astimezone(SHANGHAI).date()
    last = (until - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def bot_report(db: Database, actor: Actor, *, since: datetime, until: datetime,
               limit: int = LEAST_SURE) -> BotReport:
    """Issue 5 §7: the assistant's conversations, answered without a person, handoffs by reason,
    message volume per intent, average confidence, per-day figures and the ``limit`` least sure
    messages in ``[since, until)``. Supervisors and admins only (403 ``not_allowed``)."""
    _check(actor, since, until, limit)
    with db.read_connection() as conn:
        day = local_day(BotSession.started_at, conn.dialect.name).label("day")
        no_ticket = BotSession.ticket_id.is_(None)
        sessions = conn.execute(
            select(day, BotSession.handoff_reason, no_ticket.label("no_ticket"), func.count().label("n"))
            .where(BotSession.started_at >= since, BotSession.started_at < until)
            .group_by(day, BotSession.handoff_reason, no_ticket)).all()
        intents = conn.execute(
            select(BotTurn.intent, func.count().label("n"), func.sum(BotTurn.confidence).label("total"))
            .where(BotTurn.at >= since, BotTurn.at < until).group_by(BotTurn.intent)).all()
        unsure = _least_sure(conn, since, until, limit)

    conversations = handoffs = 0
    by_reason: dict[str, int] = {r.value: 0 for r in HandoffReason}
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in sessions:
        n = int(row.n)
        conversations += n
        per_day[str(row.day)][0] += n
        if row.handoff_reason is None and row.no_ticket:
            continue
        handoffs += n
        per_day[str(row.day)][1] += n
        reason = row.handoff_reason or "unknown"
        by_reason[reason] = by_reason.get(reason, 0) + n
    messages = sum(int(r.n) for r in intents)
    confidence_total = sum(float(r.total or 0.0) for r in intents)
    return BotReport(
        since=since, until=until, conversations=conversations,
        answered_without_person=conversations - handoffs, answered_rate=_rate(conversations - handoffs, conversations),
        handoffs=handoffs,
        handoffs_by_reason=[Share(code, n, _rate(n, handoffs))
                            for code, n in sorted(by_reason.items(), key=lambda item: -item[1])],
        messages=messages,
        intents=[Share(r.intent, int(r.n), _rate(int(r.n), messages), _average(r.total, int(r.n)))
                 for r in sorted(intents, key=lambda r: (-int(r.n), r.intent))],
        average_confidence=_average(confidence_total, messages),
        by_day=[DayFigures(d, *per_day.get(d.isoformat(), (0, 0))) for d in _days(since, until)],
        least_sure=unsure)


def least_sure_jsonl(db: Database, actor: Actor, *, since: datetime, until: datetime,
                     limit: int = LEAST_SURE) -> str:
    """The ``limit`` least sure messages of ``[since, until)`` as JSONL in the training file's
    format, labelled with the intent the assistant predicted, for a person to correct."""
    _check(actor, since, until, limit)
    with db.read_connection() as conn:
        unsure = _least_sure(conn, since, until, limit)
    return "".join(m.training_line() + "\n" for m in unsure)


def local_period(first: date, last: date) -> tuple[datetime, datetime]:
    """The moments ``[since, until)`` covering Asia/Shanghai dates ``first`` to ``last`` inclusive."""
    return (datetime.combine(first, time.min, SHANGHAI),
            datetime.combine(last + timedelta(days=1), time.min, SHANGHAI))
