"""The SLA clocks of a ticket (POLICY.md §10, D1–D5) as rows of ``ticket_sla``, and the desk rules
the ticket services need (priority, reopen window, survey, reply compliance) in one object.

A clock is started with its due and warning moments computed from the policy; met when the
ticket does what it measures; paused while the ticket waits for the customer and, on resume,
moved later by the paused time counted on its own calendar. The sweep (:mod:`kefu.services.desk_sweep`)
finds clocks to warn or breach through the partial indexes on ``ticket_sla``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from kefu.adapters.db.tables.service_desk import Queue, SatisfactionSurvey, Ticket, TicketSla
from kefu.domain.service.sla import (
    CalendarKind,
    Metric,
    SlaPolicy,
    compute_due,
    extend_for_pause,
    reopen_allowed,
    ticket_priority,
    warn_at,
    window_closes_at,
)
from kefu.domain.service.tickets import Kind

#: base priority by kind (lower is served first): complaints before consultations
BASE_PRIORITY = {Kind.COMPLAINT: 0, Kind.CONSULTATION: 1}

#: a reply checker: the text → the violations found as (kind, match) pairs; empty when allowed
ReplyCheck = Callable[[str], list[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class DeskRules:
    """What the ticket services need from policy data: the SLA policy and the reply check."""

    sla: SlaPolicy
    check: ReplyCheck

    def priority(self, kind: Kind, customer_level: str) -> int:
        """D5: complaints before consultations; PLUS and enterprise ahead within each."""
        return ticket_priority(customer_level, BASE_PRIORITY[kind], self.sla.ahead_levels)

    def reopen_allowed(self, resolved_at: datetime | None, now: datetime) -> bool:
        """D6: within ``reopen_days`` of the resolution."""
        return resolved_at is not None and reopen_allowed(resolved_at, now, self.sla.reopen_days)

    def send_survey(self, session: Session, ticket: Ticket, now: datetime) -> int:
        """D7: one survey per resolution, open for ``survey_days``; returns its id."""
        survey = SatisfactionSurvey(ticket_id=ticket.id, customer_id=ticket.customer_id, agent_id=ticket.assignee_id,
                                    queue_id=ticket.queue_id, seller_id=ticket.seller_id, sent_at=now,
                                    due_at=window_closes_at(now, self.sla.survey_days), comment="")
        session.add(survey)
        session.flush()
        return survey.id


_INSERT_CLOCK = insert(cast(Table, TicketSla.__table__))


def _queue_code(conn: Connection, queue_id: int) -> str | None:
    return conn.scalar(select(Queue.code).where(Queue.id == queue_id))


def start_clocks(conn: Connection, rules: DeskRules, ticket: Ticket, now: datetime,
                 metrics: Iterable[str] | None = None, *, queue_code: str | None = None) -> None:
    """D2–D5: start the ticket's clocks (all of them, or only ``metrics`` — a reopen restarts
    the resolution clock)."""
    queue = queue_code if queue_code is not None else _queue_code(conn, ticket.queue_id)
    rows = clock_rows(rules, ticket.channel, ticket.kind, ticket.customer_level, queue, now, metrics)
    if rows:
        conn.execute(_INSERT_CLOCK, [{"ticket_id": ticket.id, **row} for row in rows])


def clock_rows(rules: DeskRules, channel: str, kind: str, customer_level: str, queue_code: str | None,
               now: datetime, metrics: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """D2–D5: the clocks a ticket starts ``now`` (all, or only ``metrics``), as ``ticket_sla``
    rows without their ticket id: the calendar arithmetic is done before a write transaction."""
    targets = rules.sla.targets_for(channel, kind, customer_level, queue_code)
    wanted = None if metrics is None else {Metric(m) for m in metrics}
    calendars = rules.sla.calendars
    rows = []
    for metric, target in targets.items():
        if wanted is not None and metric not in wanted:
            continue
        due = compute_due(now, target, calendars)
        rows.append({"metric": metric.value, "calendar": target.calendar.value, "started_at": now, "due_at": due,
                     "warn_at": warn_at(now, due, rules.sla.warn_fraction, calendars[target.calendar])})
    return rows


def meet_clocks(conn: Connection, ticket: Ticket, metrics: Iterable[str], now: datetime) -> None:
    """Stamp the running clocks of ``metrics`` as met (a breached clock stays breached too: its
    ``met_at`` records when it was finally done)."""
    conn.execute(update(TicketSla).where(TicketSla.ticket_id == ticket.id, TicketSla.metric.in_(list(metrics)),
                                         TicketSla.met_at.is_(None)).values(met_at=now))


def resume_clocks(conn: Connection, rules: DeskRules, ticket: Ticket, now: datetime) -> None:
    """D1: every running clock's due and warning moments move later by the paused time, counted
    on that clock's own calendar (a pause overnight costs nothing on business hours)."""
    if ticket.paused_at is None:
        return
    calendars = rules.sla.calendars
    running = conn.execute(select(TicketSla.id, TicketSla.calendar, TicketSla.due_at, TicketSla.warn_at).where(
        TicketSla.ticket_id == ticket.id, TicketSla.met_at.is_(None), TicketSla.breached_at.is_(None))).all()
    for clock_id, calendar, due, warn in running:
        cal = calendars[CalendarKind(calendar)]
        conn.execute(update(TicketSla).where(TicketSla.id == clock_id).values(
            due_at=extend_for_pause(due, ticket.paused_at, now, cal),
            warn_at=extend_for_pause(warn, ticket.paused_at, now, cal)))
