"""Compensation requests on complaints (issue 4 §2) and who may approve them (D10).

A complaint can carry a request — a shipping subsidy for a late delivery, goodwill for a service
failure — made by the customer with the complaint or by the agent handling it. D10 decides who
approves it: an agent up to ¥20, a supervisor up to ¥200, above that a manager (the admin role).
A request is decided once; the customer is told the outcome.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select, update

from kefu.adapters.db.tables.service_desk import CompensationRequest, Ticket
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import Clock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.money import fmt
from kefu.domain.service.sla import Approver, compensation_approver
from kefu.domain.service.tickets import Kind
from kefu.services.desk_clocks import DeskRules
from kefu.services.tickets import load_ticket, notify_customer, record_event
from kefu.services.uow import Database

KINDS: dict[str, tuple[str, str]] = {
    "shipping_subsidy": ("运费补贴", "Shipping subsidy"),
    "goodwill": ("服务补偿", "Goodwill"),
}
MAX_AMOUNT = Decimal("10000")

#: D10: the approver levels each role may decide
_MAY_APPROVE: dict[Role, frozenset[Approver]] = {
    Role.AGENT: frozenset({Approver.AGENT}),
    Role.SUPERVISOR: frozenset({Approver.AGENT, Approver.SUPERVISOR}),
    Role.ADMIN: frozenset(Approver),
}


def _amount(value: str | Decimal) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InputError("invalid_amount", "金额格式不正确。", "The amount is not a number.") from None
    if amount <= 0 or amount > MAX_AMOUNT:
        raise InputError("invalid_amount", f"金额须大于 0 且不超过 {MAX_AMOUNT} 元。",
                         f"The amount must be above 0 and at most ¥{MAX_AMOUNT}.")
    return amount


def request_compensation(db: Database, actor: Actor, number: str, kind: str, amount: str | Decimal, reason: str,
                         rules: DeskRules, clock: Clock) -> CompensationRequest:
    """Attach a compensation request to a complaint; D10 stamps who must approve it."""
    if kind not in KINDS:
        raise InputError("invalid_kind", "请选择补偿类型。", "Choose the kind of compensation.", kind=kind)
    if actor.role is Role.SELLER:
        raise PermissionDenied("not_allowed", "商家不能发起平台补偿。", "Sellers cannot request platform compensation.")
    value = _amount(amount)
    now = clock()
    with db.uow() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number, lock=True)
        if ticket.kind != Kind.COMPLAINT.value:
            raise Conflict("not_a_complaint", "只有投诉可以申请补偿。", "Only complaints carry compensation requests.")
        level = compensation_approver(value, rules.sla.compensation)
        row = CompensationRequest(ticket_id=ticket.id, kind=kind, amount=value, reason=(reason or "").strip()[:1000],
                                  approver_level=level.value, status="pending", requested_by=actor.user_id,
                                  created_at=now, decision_note="")
        s.add(row)
        s.flush()
        record_event(s.connection(), ticket, actor, "compensation_requested", ticket.status, now, note=row.reason,
                     data={"id": row.id, "kind": kind, "amount": fmt(value), "approver": level.value})
        uow.commit()
        return row


def decide_compensation(db: Database, actor: Actor, request_id: int, approve: bool, note: str,
                        clock: Clock, *, number: str | None = None) -> CompensationRequest:
    """D10: approve or refuse a pending request — only someone whose level covers the amount
    (``number``, when given, must be the request's ticket)."""
    now = clock()
    with db.uow() as uow:
        s = uow.session
        row = s.get(CompensationRequest, request_id)
        if row is None:
            raise NotFound("compensation_not_found", "补偿申请不存在。", "Compensation request not found.")
        ticket = s.get(Ticket, row.ticket_id)
        assert ticket is not None
        if number is not None and ticket.number != number:
            raise NotFound("compensation_not_found", "补偿申请不存在。", "Compensation request not found.")
        load_ticket(s, actor, ticket.number)                                        # visibility: 404 otherwise
        if Approver(row.approver_level) not in _MAY_APPROVE.get(actor.role, frozenset()):
            raise PermissionDenied("approval_limit", "该金额超出您的审批权限，请交由上级审批。",
                                   "This amount is above your approval limit; a higher level must decide.",
                                   approver=row.approver_level)
        status = "approved" if approve else "rejected"
        done = s.execute(update(CompensationRequest).where(
            CompensationRequest.id == row.id, CompensationRequest.status == "pending",
        ).values(status=status, decided_by=actor.user_id, decided_at=now, decision_note=(note or "").strip()[:1000]))
        if not int(getattr(done, "rowcount", 0) or 0):
            raise Conflict("already_decided", "该补偿申请已处理。", "This request has already been decided.")
        record_event(s.connection(), ticket, actor, f"compensation_{status}", ticket.status, now, note=note,
                     data={"id": row.id, "amount": fmt(row.amount)})
        zh_kind, en_kind = KINDS.get(row.kind, (row.kind, row.kind))
        if approve:
            notify_customer(s, ticket, "compensation_approved",
                             f"您的{zh_kind} ¥{fmt(row.amount)} 已批准（工单 {ticket.number}）。",
                             f"Your {en_kind.lower()} of ¥{fmt(row.amount)} is approved (ticket {ticket.number}).", now)
        else:
            notify_customer(s, ticket, "compensation_rejected",
                             f"您的{zh_kind}申请未获批准（工单 {ticket.number}）。{note}",
                             f"Your {en_kind.lower()} request was not approved (ticket {ticket.number}). {note}", now)
        uow.commit()
    with db.read() as reader:
        decided = reader.session.get(CompensationRequest, request_id)
        assert decided is not None
        return decided


def list_compensation(db: Database, actor: Actor, number: str) -> list[CompensationRequest]:
    with db.read() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number)
        return list(s.scalars(select(CompensationRequest).where(CompensationRequest.ticket_id == ticket.id)
                              .order_by(CompensationRequest.id)))
