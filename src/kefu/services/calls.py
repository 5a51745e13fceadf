"""Phone calls through the IVR (issue 4 §6), driven by the PBX over HTTP.

The PBX reports a new call (:func:`start_call`), each key the caller presses (:func:`press_key`),
the agent who answers (:func:`answer_call`) and the hang-up with its recording (:func:`end_call`).
The menu is policy data (``policies/ivr.toml``, :mod:`kefu.domain.service.ivr`); where the caller
is in it is kept on the call record, so any app process can take the next request. When the
menu routes the call to a queue, the call opens a phone ticket — or joins the caller's open one —
and the call record points at it. Every call is recorded: caller, number dialled, menu path,
queue, agent, times, duration, recording, notes. Replaying a PBX request changes nothing twice.
The smart assistant may answer the caller's speech instead of the menu
(:mod:`kefu.services.assistant_channels`): the conversation is kept in the call's notes
(:func:`note_call`) and its handover queues the call like a route (:func:`transfer_call`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.catalog import Customer
from kefu.adapters.db.tables.service_desk import CallRecord, Ticket
from kefu.domain.actors import SYSTEM
from kefu.domain.clock import Clock
from kefu.domain.errors import Conflict, InputError, NotFound
from kefu.domain.service.channels import InboundMessage
from kefu.domain.service.ivr import IvrMenu, IvrStep, StepKind
from kefu.domain.service.tickets import Category, Kind
from kefu.services.desk_clocks import DeskRules
from kefu.services.inbound import receive_message
from kefu.services.ports import LiveEvents
from kefu.services.tickets import post_message
from kefu.services.uow import Database

_ROUTED = frozenset({StepKind.ROUTE, StepKind.TRANSFER})
#: the call record's notes, at most (the assistant's conversation and the agent's notes)
MAX_NOTES = 4000


@dataclass(frozen=True, slots=True)
class CallStep:
    """What the PBX does next: play ``step.prompt``; collect a key unless the call was queued."""

    call_id: str
    step: IvrStep
    ticket_number: str | None = None


def _record_of(session: Session, call_id: str) -> CallRecord:
    record = session.scalars(select(CallRecord).where(CallRecord.call_id == _clean_id(call_id))).first()
    if record is None:
        raise NotFound("call_not_found", "通话不存在。", "Call not found.", call_id=call_id)
    return record


def _call(db: Database, call_id: str) -> CallRecord:
    with db.read() as uow:
        return _record_of(uow.session, call_id)


def _clean_id(call_id: str) -> str:
    call_id = (call_id or "").strip()
    if not call_id or len(call_id) > 64:
        raise InputError("invalid_call_id", "通话编号无效。", "The call id is not valid.")
    return call_id


def _route(db: Database, record: CallRecord, step: IvrStep, rules: DeskRules, clock: Clock,
           live: LiveEvents | None) -> str:
    """Open (or join) the caller's phone ticket in the queue the menu chose."""
    msg = InboundMessage(
        channel="phone", sender=record.caller, sender_name="", external_id=f"call:{record.call_id}",
        thread_keys=(), subject=f"来电 {record.caller}",
        body=f"来电 {record.caller}（拨打 {record.dialled}），语音导航按键：{record.menu_path or '—'}。"
             + (f"\n{record.notes}" if record.notes else ""),     # what the caller told the assistant
        received_at=clock())
    received = receive_message(db, msg, rules, clock, live=live, category=step.category or Category.OTHER,
                               kind=step.ticket_kind or Kind.CONSULTATION, queue_code=step.queue)
    return received.ticket_number


def start_call(db: Database, call_id: str, caller: str, dialled: str, menu: IvrMenu, rules: DeskRules, clock: Clock,
               *, live: LiveEvents | None = None) -> CallStep:
    """A call arrives: record it and answer with the hotline's first step (PLUS and enterprise
    hotlines route their members straight to their queue)."""
    call_id = _clean_id(call_id)
    caller = "".join(ch for ch in (caller or "") if ch.isdigit() or ch == "+")[:32]
    if not caller:
        raise InputError("invalid_caller", "主叫号码无效。", "The caller's number is not valid.")
    now = clock()
    with db.uow() as uow:
        s = uow.session
        existing = s.scalars(select(CallRecord).where(CallRecord.call_id == call_id)).first()
        if existing is not None:                               # the PBX retried: answer the same
            uow.commit()
            return CallStep(call_id, menu.menu_step(existing.menu_path), ticket_number(db, existing.ticket_id))
        customer = s.scalars(select(Customer).where(Customer.phone == caller).limit(1)).first()
        step = menu.menu_for_hotline(dialled or "", customer.level if customer else "regular")
        record = CallRecord(call_id=call_id, caller=caller, dialled=(dialled or "")[:32],
                            customer_id=customer.id if customer else None, menu_path=step.path, failures=0,
                            status="ivr", started_at=now, notes="")
        s.add(record)
        uow.commit()
    return _after_step(db, record.call_id, step, rules, clock, live)


def press_key(db: Database, call_id: str, key: str, menu: IvrMenu, rules: DeskRules, clock: Clock, *,
              live: LiveEvents | None = None) -> CallStep:
    """The caller pressed ``key`` (``""``: no key before the timeout); the next step."""
    record = _call(db, _clean_id(call_id))
    if record.status != "ivr":
        raise Conflict("call_not_in_menu", "该通话已转入队列。", "The call has already left the menu.",
                       status=record.status)
    if len(key or "") > 1:
        raise InputError("invalid_key", "一次只能按一个键。", "One key at a time.")
    step = menu.step(record.menu_path, key or "", record.failures)
    with db.uow() as uow:
        row = uow.session.get(CallRecord, record.id)
        assert row is not None
        row.menu_path = step.path if step.kind not in _ROUTED else (record.menu_path + (key or ""))[:64]
        row.failures = step.failures
        uow.commit()
    return _after_step(db, record.call_id, step, rules, clock, live)


def _after_step(db: Database, call_id: str, step: IvrStep, rules: DeskRules, clock: Clock,
                live: LiveEvents | None) -> CallStep:
    if step.kind not in _ROUTED:
        return CallStep(call_id, step)
    record = _call(db, call_id)
    number = _route(db, record, step, rules, clock, live)
    with db.uow() as uow:
        s = uow.session
        row = s.get(CallRecord, record.id)
        assert row is not None
        row.status = "queued"
        row.queue_code = step.queue
        row.ticket_id = s.scalar(select(Ticket.id).where(Ticket.number == number))
        uow.commit()
    return CallStep(call_id, step, number)


def ticket_number(db: Database, ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    with db.read_connection() as conn:
        return conn.scalar(select(Ticket.number).where(Ticket.id == ticket_id))


def call_in_menu(db: Database, call_id: str) -> CallRecord:
    """The call, while it is still with the IVR (409 ``call_not_in_menu`` once it is queued)."""
    record = _call(db, _clean_id(call_id))
    if record.status != "ivr":
        raise Conflict("call_not_in_menu", "该通话已转入队列。", "The call has already left the menu.",
                       status=record.status)
    return record


def note_call(db: Database, call_id: str, text: str) -> None:
    """Add ``text`` to the call's notes (issue 5 §6: what the caller said to the smart assistant
    and what it answered); the oldest lines give way when the notes are full."""
    with db.uow() as uow:
        record = _record_of(uow.session, call_id)
        notes = "\n".join(n for n in (record.notes, text.strip()) if n)
        record.notes = notes[-MAX_NOTES:]
        uow.commit()


def transfer_call(db: Database, call_id: str, queue: str, category: Category, kind: Kind, prompt: str,
                  rules: DeskRules, clock: Clock, *, live: LiveEvents | None = None) -> CallStep:
    """The smart assistant hands the caller to a person (issue 5 §6): the call is queued at
    ``queue`` and opens (or joins) the caller's phone ticket, as a menu route does; the ticket
    carries the call's notes (the conversation so far)."""
    record = call_in_menu(db, call_id)
    step = IvrStep(StepKind.TRANSFER, record.menu_path, prompt, queue=queue, category=category, ticket_kind=kind)
    return _after_step(db, record.call_id, step, rules, clock, live)


def answer_call(db: Database, call_id: str, employee_no: str, clock: Clock) -> CallRecord:
    """An agent picked the call up (by employee number)."""
    now = clock()
    with db.uow() as uow:
        s = uow.session
        record = _record_of(s, call_id)
        agent = s.scalars(select(User).where(User.employee_no == (employee_no or "").strip())).first()
        if agent is None:
            raise NotFound("agent_not_found", "客服不存在。", "Agent not found.", employee_no=employee_no)
        if record.answered_at is None:
            record.answered_at = now
            record.agent_id = agent.id
            record.status = "answered"
        uow.commit()
        return record


def end_call(db: Database, call_id: str, clock: Clock, *, recording: str | None = None, notes: str = "",
             duration_s: int | None = None, rules: DeskRules | None = None) -> CallRecord:
    """The call ended: duration, recording and the agent's notes; the ticket gets a note with them."""
    now = clock()
    with db.uow() as uow:
        s = uow.session
        record = _record_of(s, call_id)
        if record.ended_at is not None:                        # the PBX retried
            uow.commit()
            return record
        record.ended_at = now
        record.status = "ended"
        talk_from: datetime = record.answered_at or record.started_at
        record.duration_s = duration_s if duration_s is not None else max(0, int((now - talk_from).total_seconds()))
        record.recording_key = (recording or "")[:255] or None
        agent_notes = (notes or "").strip()[:MAX_NOTES]
        # the assistant's conversation with the caller (note_call) stays ahead of the agent's notes
        earlier = record.notes[:max(0, MAX_NOTES - len(agent_notes) - 1)]
        record.notes = "\n".join(n for n in (earlier, agent_notes) if n)
        ticket_id = record.ticket_id
        uow.commit()
    number = ticket_number(db, ticket_id)
    if number is not None and rules is not None:
        summary = f"通话结束：时长 {record.duration_s} 秒"
        if record.recording_key:
            summary += f"，录音 {record.recording_key}"
        if agent_notes:
            summary += f"。备注：{agent_notes}"
        post_message(db, SYSTEM, number, summary, rules, clock, internal=True)
    return record
