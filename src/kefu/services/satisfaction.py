"""Satisfaction surveys (D7) and the reports built on them (D8).

A survey is sent when a ticket is resolved (:meth:`DeskRules.send_survey`), answerable once by
the ticket's customer before it closes. Satisfaction = (very satisfied + satisfied) / responses,
reported per agent, queue, seller and month (Asia/Shanghai months); a seller whose monthly rate
falls below D8's threshold is flagged with its band.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update

from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.catalog import Seller
from kefu.adapters.db.tables.service_desk import Queue, SatisfactionSurvey, Ticket
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import SHANGHAI, Clock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.service.sla import SellerBand, SurveyScore, satisfaction_rate, seller_satisfaction_band
from kefu.services.desk_clocks import DeskRules
from kefu.services.tickets import record_event
from kefu.services.uow import Database


def open_survey(db: Database, actor: Actor, number: str, now: datetime) -> SatisfactionSurvey | None:
    """The ticket's unanswered survey the customer can still answer, if any."""
    if actor.role is not Role.CUSTOMER:
        return None
    with db.read() as uow:
        s = uow.session
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None or ticket.customer_id != actor.customer_id:
            return None
        return s.scalars(select(SatisfactionSurvey).where(
            SatisfactionSurvey.ticket_id == ticket.id, SatisfactionSurvey.answered_at.is_(None),
            SatisfactionSurvey.due_at > now).order_by(SatisfactionSurvey.id.desc())).first()


def answer_survey(db: Database, actor: Actor, number: str, score: str, comment: str, rules: DeskRules,
                  clock: Clock) -> SatisfactionSurvey:
    """D7: the customer answers the ticket's latest survey — once, before it closes (409
    ``survey_answered`` / ``survey_closed`` otherwise)."""
    try:
        value = SurveyScore(score)
    except ValueError:
        raise InputError("invalid_score", "请选择满意度。", "Choose how satisfied you are.", score=score) from None
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise InputError("comment_too_long", "评价最多 1000 字。", "The comment is too long (1000 characters).")
    now = clock()
    with db.uow() as uow:
        s = uow.session
        ticket = s.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None or actor.role is not Role.CUSTOMER or ticket.customer_id != actor.customer_id:
            raise NotFound("ticket_not_found", "工单不存在。", "Ticket not found.", number=number)
        survey = s.scalars(select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id)
                           .order_by(SatisfactionSurvey.id.desc())).first()
        if survey is None:
            raise Conflict("no_survey", "该工单还没有满意度调查。", "This ticket has no survey yet.")
        if survey.answered_at is not None:
            raise Conflict("survey_answered", "您已经评价过了。", "You have already answered this survey.")
        if now >= survey.due_at:
            raise Conflict("survey_closed", "评价已过期（结案后 7 天内有效）。", "The survey has closed.")
        done = s.execute(update(SatisfactionSurvey).where(
            SatisfactionSurvey.id == survey.id, SatisfactionSurvey.answered_at.is_(None),
        ).values(score=value.value, comment=comment, answered_at=now))
        if not int(getattr(done, "rowcount", 0) or 0):
            raise Conflict("survey_answered", "您已经评价过了。", "You have already answered this survey.")
        record_event(s.connection(), ticket, actor, "rate", ticket.status, now, note=comment,
                     data={"score": value.value})
        uow.commit()
        survey_id = survey.id
    with db.read() as reader:
        answered = reader.session.get(SatisfactionSurvey, survey_id)
        assert answered is not None
        return answered


@dataclass(frozen=True, slots=True)
class SatisfactionRow:
    """One group of a report: who (agent, queue or seller), which month, the counts and the rate."""

    group: str
    key: str
    name: str
    month: str
    responses: int
    satisfied: int
    rate: Decimal | None
    band: SellerBand | None = None


def _month(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m")


def satisfaction_report(db: Database, actor: Actor, rules: DeskRules, *, since: date | None = None,
                        until: date | None = None) -> list[SatisfactionRow]:
    """D7/D8 per agent, queue and seller and month. Supervisors and admins see all; a seller only
    their own rows."""
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN, Role.SELLER):
        raise PermissionDenied("not_allowed", "您无权查看满意度报表。", "You may not see satisfaction reports.")
    with db.read() as uow:
        s = uow.session
        query = select(SatisfactionSurvey.agent_id, SatisfactionSurvey.queue_id, SatisfactionSurvey.seller_id,
                       SatisfactionSurvey.score, SatisfactionSurvey.answered_at).where(
            SatisfactionSurvey.answered_at.is_not(None))
        if actor.role is Role.SELLER:
            query = query.where(SatisfactionSurvey.seller_id == actor.seller_id)
        counts: dict[tuple[str, str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for agent_id, queue_id, seller_id, score, answered_at in s.execute(query):
            day = answered_at.astimezone(SHANGHAI).date()
            if (since and day < since) or (until and day > until):
                continue
            month = _month(answered_at)
            for group, key in (("agent", agent_id), ("queue", queue_id), ("seller", seller_id)):
                if key is None or (actor.role is Role.SELLER and group != "seller"):
                    continue
                counts[(group, str(key), month)][score] += 1
        names = {
            "agent": {str(u.id): u.display_name for u in s.scalars(select(User).where(User.role.in_(
                [Role.AGENT.value, Role.SUPERVISOR.value, Role.ADMIN.value])))},
            "queue": {str(q.id): q.name_zh for q in s.scalars(select(Queue))},
            "seller": {x.id: x.name for x in s.scalars(select(Seller))},
        }
    rows = []
    for (group, key, month), by_score in sorted(counts.items()):
        rate = satisfaction_rate(by_score)
        responses = sum(by_score.values())
        satisfied = by_score.get(SurveyScore.VERY_SATISFIED.value, 0) + by_score.get(SurveyScore.SATISFIED.value, 0)
        band = seller_satisfaction_band(rate, rules.sla.satisfaction_bands) if group == "seller" else None
        rows.append(SatisfactionRow(group=group, key=key, name=names[group].get(key, key), month=month,
                                    responses=responses, satisfied=satisfied, rate=rate, band=band))
    return rows
