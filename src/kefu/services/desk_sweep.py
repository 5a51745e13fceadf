"""The service desk's time-based work, as one idempotent sweep (DESIGN.md: a query on indexed due
columns, safe to run again and on several machines at once).

- warn: a running clock whose ``warn_at`` has passed gets ``warned_at`` and a history row;
- breach (D2–D4): a running clock whose ``due_at`` has passed gets ``breached_at``, and its
  ticket is escalated to a supervisor;
- auto-close (D6): a resolved ticket the customer neither accepted nor reopened within the
  reopen window is closed;
- search: rows still waiting in the search index's staging table go into the index (SQLite).

Clocks of a ticket waiting for the customer are paused and skipped. Each stamp is a guarded
UPDATE (``… WHERE breached_at IS NULL``), so two sweeps racing on the same clock stamp it once and
only the one that stamped it writes the history row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from kefu.adapters.db.tables.service_desk import AgentProfile, Ticket, TicketSla
from kefu.domain.actors import SYSTEM
from kefu.domain.clock import Clock
from kefu.domain.service.sla import window_closes_at
from kefu.domain.service.tickets import Status
from kefu.services.desk_clocks import DeskRules
from kefu.services.tickets import flush_search_index, record_event
from kefu.services.uow import Database

METRIC_LABELS = {
    "first_response": ("首次响应", "first response"),
    "confirm": ("问题确认", "confirmation"),
    "first_result": ("首次处理反馈", "first result"),
    "resolution": ("解决", "resolution"),
}


@dataclass(frozen=True, slots=True)
class SweepResult:
    warned: int = 0
    breached: int = 0
    closed: int = 0
    indexed: int = 0


def _changed(result: object) -> int:
    """Rows a guarded UPDATE changed (0 when another sweep got there first)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _due_clocks(db: Database, column: str, now: datetime, batch: int) -> list[tuple[int, int, str]]:
    col = TicketSla.warn_at if column == "warn" else TicketSla.due_at
    pending = [TicketSla.met_at.is_(None), TicketSla.breached_at.is_(None)]
    if column == "warn":
        pending.append(TicketSla.warned_at.is_(None))
    query = (select(TicketSla.id, TicketSla.ticket_id, TicketSla.metric)
             .join(Ticket, Ticket.id == TicketSla.ticket_id)
             .where(*pending, col <= now, Ticket.paused_at.is_(None))
             .order_by(col).limit(batch))
    with db.read_connection() as conn:
        return [(int(a), int(b), str(c)) for a, b, c in conn.execute(query)]


def sweep_desk(db: Database, rules: DeskRules, clock: Clock, batch: int = 500) -> SweepResult:
    """Run the warnings, breaches and auto-closes that are due; returns how many of each."""
    now = clock()
    warned = breached = closed = 0
    for clock_id, ticket_id, metric in _due_clocks(db, "warn", now, batch):
        with db.uow() as uow:
            s = uow.session
            done = _changed(s.execute(update(TicketSla).where(
                TicketSla.id == clock_id, TicketSla.warned_at.is_(None), TicketSla.met_at.is_(None),
                TicketSla.breached_at.is_(None)).values(warned_at=now)))
            if done:
                ticket = s.get(Ticket, ticket_id)
                assert ticket is not None
                zh, en = METRIC_LABELS.get(metric, (metric, metric))
                record_event(s.connection(), ticket, SYSTEM, "sla_warning", ticket.status, now,
                             note=f"{zh}时限即将到期 / {en} due soon", data={"metric": metric})
                warned += 1
            uow.commit()
    for clock_id, ticket_id, metric in _due_clocks(db, "due", now, batch):
        with db.uow() as uow:
            s = uow.session
            done = _changed(s.execute(update(TicketSla).where(
                TicketSla.id == clock_id, TicketSla.met_at.is_(None), TicketSla.breached_at.is_(None),
            ).values(breached_at=now)))
            if done:
                ticket = s.get(Ticket, ticket_id)
                assert ticket is not None
                escalate_to = None
                if ticket.assignee_id is not None:
                    profile = s.get(AgentProfile, ticket.assignee_id)
                    escalate_to = profile.supervisor_id if profile is not None else None
                ticket.escalated = True
                ticket.updated_at = now
                zh, en = METRIC_LABELS.get(metric, (metric, metric))
                record_event(s.connection(), ticket, SYSTEM, "sla_breach", ticket.status, now,
                             note=f"{zh}超时，已升级至主管 / {en} overdue, escalated to a supervisor",
                             data={"metric": metric, "supervisor": escalate_to})
                breached += 1
            uow.commit()
    closes_before = now
    with db.read_connection() as conn:
        candidates = list(conn.execute(select(Ticket.id, Ticket.resolved_at).where(
            Ticket.status == Status.RESOLVED.value).order_by(Ticket.resolved_at).limit(batch)))
    for ticket_id, resolved_at in candidates:
        if resolved_at is None or window_closes_at(resolved_at, rules.sla.reopen_days) > closes_before:
            continue
        with db.uow() as uow:
            s = uow.session
            done = _changed(s.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.status == Status.RESOLVED.value)
                .values(status=Status.CLOSED.value, closed_at=now, updated_at=now)))
            if done:
                ticket = s.get(Ticket, ticket_id)
                assert ticket is not None
                record_event(s.connection(), ticket, SYSTEM, "auto_close", Status.RESOLVED.value, now,
                             note="顾客未在期限内确认，系统自动关闭 / closed: the customer did not answer in time")
                closed += 1
            uow.commit()
    return SweepResult(warned=warned, breached=breached, closed=closed, indexed=flush_search_index(db))
