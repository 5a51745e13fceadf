"""After-sales use cases: preview, submit, every lifecycle transition, the review sweep, queries.

Each public function is one action in one transaction: load through the session, ask the domain
(policy engine, lifecycle), write the application, its history row and the customer's messages
in the outbox, commit once. Permission and state guards live here and in the domain, never only
in a route (DESIGN.md conventions 4–5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, selectinload

from kefu.adapters.db.decision_facts import DecisionFacts, OrderParty, load_decision_facts
from kefu.adapters.db.prepared import CapturedInserts, PreparedSet, insert_returning_id, v_params
from kefu.adapters.db.tables.aftersales import Application, ApplicationEvent, EvidenceFile, Refund
from kefu.adapters.db.tables.catalog import Customer
from kefu.domain.actors import AGENT_ROLES, Actor, Role
from kefu.domain.aftersales.decision import Decision
from kefu.domain.aftersales.lifecycle import (
    STATUS_LABELS,
    TERMINAL,
    Action,
    ApplicationState,
    Status,
    available_actions,
    due_for,
    next_status,
    status_for,
)
from kefu.domain.aftersales.model import (
    CONDITION_FLAGS,
    AftersalesRequest,
    Case,
    CustomerLevel,
    Reason,
    RequestType,
)
from kefu.domain.aftersales.params import PolicyBook
from kefu.domain.aftersales.policy import evaluate
from kefu.domain.clock import Clock, shanghai_date
from kefu.domain.errors import Conflict, InputError, KefuError, NotFound, PermissionDenied
from kefu.domain.money import ZERO, fmt, split_proportionally
from kefu.services.notifications import Notice, queue_customer_messages
from kefu.services.uow import Database


@dataclass(frozen=True, slots=True)
class ApplicationRequest:
    """What a customer (or an agent on their behalf) asks for on one order line."""

    order_id: str
    line: int
    type: RequestType
    reason: Reason
    quantity: int = 1
    #: condition flags that are true (names from CONDITION_FLAGS; accessories_missing etc.)
    condition: frozenset[str] = frozenset()
    gifts_returned: bool = True
    description: str = ""
    evidence_ids: tuple[int, ...] = ()
    #: facts only staff may set (found at inspection or from the serial number check)
    damage: frozenset[str] = frozenset()
    proof_of_purchase: bool = True
    serial_matches: bool = True


@dataclass(frozen=True, slots=True)
class TransitionInput:
    """Optional details a transition carries."""

    note: str = ""
    waybill: str | None = None
    carrier: str | None = None
    pickup_at: datetime | None = None
    pickup_address: str | None = None
    passed: bool | None = None
    rating: int | None = None
    evidence_ids: tuple[int, ...] = field(default_factory=tuple)


# ── loading and permission ────────────────────────────────────────────────────────────────


def _order_for(conn: Connection, actor: Actor, order_id: str) -> DecisionFacts:
    found = load_decision_facts(conn, order_id)
    if found is None or not actor.may_see(found.customer_id, found.seller_id):
        raise NotFound("order_not_found", "订单不存在。", "Order not found.", order_id=order_id)
    return found


def may_see_application(actor: Actor, app: Application) -> bool:
    return actor.may_see(app.customer_id, app.seller_id)


def _load(session: Session, actor: Actor, number: str, *, lock: bool = False) -> Application:
    query = select(Application).where(Application.number == number)
    if lock:
        query = query.with_for_update()
    app = session.scalars(query).one_or_none()
    if app is None or not may_see_application(actor, app):
        raise NotFound("application_not_found", "售后申请不存在。", "After-sales application not found.",
                       number=number)
    return app


def _state(app: Application) -> ApplicationState:
    return ApplicationState(
        status=Status(app.status), type=RequestType(app.type), reason=Reason(app.reason),
        third_party=app.seller_type == "third_party", seller_id=app.seller_id,
        customer_id=app.customer_id, free_pickup=app.free_pickup,
        refunded=app.refunded_at is not None, rated=app.rating is not None)


# ── deciding ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class LineHistory:
    """What earlier applications on one order line mean for a new one."""

    #: units still held by applications that are neither refused nor given back
    held: int
    #: 三包 Q7: completed repairs of this very line, from our own records
    repairs: int


_LINE_APPLICATIONS = (select(Application.type, Application.status, Application.quantity)
                      .where(Application.order_id == bindparam("order_id"), Application.line_no == bindparam("line")))


def _line_history(conn: Connection, order_id: str, line_no: int) -> LineHistory:
    return _held_and_repairs(conn.execute(_LINE_APPLICATIONS, {"order_id": order_id, "line": line_no}))


def _held_and_repairs(rows: Iterable[Any]) -> LineHistory:
    """Count the line's earlier applications (type, status, quantity rows)."""
    held = repairs = 0
    for rtype, status, qty in rows:
        if status in (Status.REJECTED.value, Status.CANCELLED.value):
            continue
        if status == Status.COMPLETED.value and rtype in (RequestType.REPAIR.value, RequestType.EXCHANGE.value):
            repairs += rtype == RequestType.REPAIR.value
            continue          # the goods came back to the customer
        held += qty
    return LineHistory(held=held, repairs=repairs)


def _case_for(order: DecisionFacts, req: ApplicationRequest, evidence: tuple[str, ...], now: datetime,
              previous_repairs: int) -> Case:
    facts = order.order
    if not 0 <= req.line < len(facts.lines):
        raise InputError("line_out_of_range", f"订单没有第 {req.line} 行商品。",
                         f"The order has no line {req.line}.", line=req.line, lines=len(facts.lines))
    bought = facts.lines[req.line].quantity
    if not 1 <= req.quantity <= bought:
        raise InputError("invalid_quantity", f"申请数量须在 1 到 {bought} 之间。",
                         f"The quantity must be between 1 and {bought}.", quantity=req.quantity)
    if (req.reason is Reason.NOT_RECEIVED) != (req.type is RequestType.REFUND_ONLY):
        raise InputError("reason_does_not_fit_type", "申请原因与类型不符（未收到货只用于仅退款）。",
                         "The reason does not fit the type (not_received goes only with refund_only).")
    unknown = req.condition - set(CONDITION_FLAGS)
    if unknown:
        raise InputError("invalid_input", f"未知的商品状况：{', '.join(sorted(unknown))}",
                         f"Unknown condition flags: {', '.join(sorted(unknown))}")
    return Case(
        now=now, order=facts, customer_level=CustomerLevel(order.customer.level), id=facts.id,
        request=AftersalesRequest(
            type=req.type, reason=req.reason, line=req.line, quantity=req.quantity,
            condition=req.condition, gifts_returned=req.gifts_returned, damage=req.damage,
            proof_of_purchase=req.proof_of_purchase, serial_matches=req.serial_matches,
            evidence=evidence, previous_repairs=previous_repairs))


def _staff_only_facts(actor: Actor, req: ApplicationRequest) -> None:
    if actor.role is Role.CUSTOMER and (req.damage or not req.proof_of_purchase or not req.serial_matches):
        raise PermissionDenied("staff_only_facts", "损坏、凭证和序列号核验由客服填写。",
                               "Damage, proof and serial checks are set by staff.")


def preview_application(db: Database, actor: Actor, req: ApplicationRequest, book: PolicyBook,
                        clock: Clock) -> Decision:
    """A dry run of :func:`submit_application`: the decision the customer would get now."""
    _staff_only_facts(actor, req)
    with db.read() as uow:
        order = _order_for(uow.session.connection(), actor, req.order_id)
        history = _line_history(uow.session.connection(), req.order_id, req.line)
        evidence = tuple(f"evidence:{i}" for i in req.evidence_ids)
        return evaluate(_case_for(order, req, evidence, clock(), history.repairs), book)


_EVIDENCE_OWNERS = (select(EvidenceFile.id, EvidenceFile.application_id, EvidenceFile.uploaded_by)
                    .where(EvidenceFile.id.in_(bindparam("ids", expanding=True))))
_ATTACH_EVIDENCE = (update(cast(Table, EvidenceFile.__table__))
                    .where(EvidenceFile.__table__.c.id.in_(bindparam("ids", expanding=True)))
                    .values(application_id=bindparam("app_id"), purpose=bindparam("purpose")))


def _attach_evidence(conn: Connection, actor: Actor, app_id: int, ids: tuple[int, ...],
                     purpose: str = "claim") -> list[int]:
    """Attach the uploader's own, still unattached files (or files already on this application)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    rows = conn.execute(_EVIDENCE_OWNERS, {"ids": wanted}).all()
    if len(rows) != len(wanted):
        raise NotFound("evidence_not_found", "凭证文件不存在。", "Evidence file not found.")
    for row in rows:
        _check_evidence_owner(row, actor, app_id)
    conn.execute(_ATTACH_EVIDENCE, {"ids": wanted, "app_id": app_id, "purpose": purpose})
    return wanted


def _check_evidence_owner(row: Any, actor: Actor, app_id: int | None) -> None:
    """An evidence file (``id, application_id, uploaded_by``) may be attached by the actor who
    uploaded it, while it is on no application (or already on ``app_id``)."""
    if row.application_id not in (None, app_id) or (actor.user_id is not None and row.uploaded_by != actor.user_id):
        raise PermissionDenied("evidence_not_yours", "只能使用自己上传的凭证。",
                               "You can only attach files you uploaded.", evidence_id=row.id)


def _evidence_refs(app: Application, extra: list[int]) -> tuple[str, ...]:
    refs = [f"evidence:{i}" for i in extra]
    refs += [str(x) for x in (app.facts or {}).get("evidence", [])]
    return tuple(dict.fromkeys(refs))


_INSERT_EVENT = insert(cast(Table, ApplicationEvent.__table__))


def _record(conn: Connection, app: Application, actor: Actor, action: str, before: str | None, now: datetime,
            note: str = "", data: dict[str, Any] | None = None) -> None:
    """Append one history row (the table is append-only: nothing updates or deletes it)."""
    conn.execute(_INSERT_EVENT, _event_row(app, actor, action, before, now, note, data))


def _event_row(app: Application, actor: Actor, action: str, before: str | None, now: datetime,
               note: str = "", data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"application_id": app.id, "at": now, "actor_user_id": actor.user_id, "actor_role": actor.role.value,
            "actor_name": actor.display_name, "action": action, "from_status": before, "to_status": app.status,
            "note": note, "data": data or {}}


def _apply_decision(app: Application, decision: Decision) -> None:
    app.outcome = decision.outcome.value
    app.status = status_for(decision.outcome).value
    app.decision = decision.as_dict()
    app.refund_amount = decision.refund_amount
    app.return_shipping_paid_by = (decision.return_shipping_paid_by.value
                                   if decision.return_shipping_paid_by else None)
    app.free_pickup = decision.free_pickup
    app.repair_charge = decision.repair_charge.value if decision.repair_charge else None


def _stamp_due(app: Application, book: PolicyBook, now: datetime) -> None:
    params = book.resolve(app.seller_type, app.category, app.facts.get("sku", ""))
    due = due_for(Status(app.status), _state(app), params, now)
    app.due_kind = due.kind if due else None
    app.due_at = due.at if due else None


def _notify(conn: Connection, app: Application, customer: OrderParty, event: str, now: datetime,
            extra_zh: str = "", extra_en: str = "") -> None:
    zh_label, en_label = STATUS_LABELS[Status(app.status)]
    reasons = app.decision.get("reasons", []) if event == "decided" else []
    why_zh = "".join(r["zh"] for r in reasons[:2])
    why_en = " ".join(r["en"] for r in reasons[:2])
    notice = Notice(
        event=f"aftersales.{event}",
        zh=f"您的售后申请 {app.number} {zh_label}。{why_zh}{extra_zh}",
        en=f"Your after-sales application {app.number}: {en_label}. {why_en}{extra_en}".strip(),
        link=f"/aftersales/{app.number}")
    queue_customer_messages(conn, customer, notice, now)


_APPLICATIONS = cast(Table, Application.__table__)
_EVENTS = cast(Table, ApplicationEvent.__table__)
_EVIDENCE = cast(Table, EvidenceFile.__table__)
_APPLICATION_COLUMNS = tuple(c.key for c in _APPLICATIONS.columns if c.key != "id")
#: every statement of writing a submission, prepared (:mod:`kefu.adapters.db.prepared`)
_SUBMIT_Q = PreparedSet(
    line_applications=_LINE_APPLICATIONS,
    evidence_owner=select(_EVIDENCE.c.id, _EVIDENCE.c.application_id, _EVIDENCE.c.uploaded_by)
    .where(_EVIDENCE.c.id == bindparam("evidence_id")),
    attach_evidence=update(_EVIDENCE).where(_EVIDENCE.c.id == bindparam("evidence_id"))
    .values(application_id=bindparam("app_id"), purpose="claim"),
    insert_application=insert_returning_id(_APPLICATIONS, _APPLICATION_COLUMNS),
    set_number=update(_APPLICATIONS).where(_APPLICATIONS.c.id == bindparam("app_id"))
    .values(number=bindparam("b_number")),
    insert_event=insert(_EVENTS).values({c.key: bindparam(f"v_{c.key}") for c in _EVENTS.columns if c.key != "id"}),
)


@dataclass(frozen=True, slots=True)
class SubmissionDraft:
    """An application ready to be written: what submitting reads and checks before the write
    lock (:func:`prepare_submission`); :func:`write_submissions` writes it."""

    actor: Actor
    req: ApplicationRequest
    order: DecisionFacts
    refs: tuple[str, ...]
    now: datetime
    case: Case
    book: PolicyBook


def prepare_submission(db: Database, actor: Actor, req: ApplicationRequest, book: PolicyBook,
                       clock: Clock) -> SubmissionDraft:
    """The part of :func:`submit_application` before the write lock: who may apply, the order's
    facts (reference data) and the request's checks against them (line, quantity, reason, flags).
    Raises what :func:`submit_application` raises for bad input; writes nothing."""
    _staff_only_facts(actor, req)
    if actor.role is Role.SELLER:
        raise PermissionDenied("not_allowed", "商家不能代顾客提交售后申请。",
                               "Sellers cannot apply on a customer's behalf.")
    now = clock()
    refs = tuple(f"evidence:{i}" for i in dict.fromkeys(req.evidence_ids))
    with db.read_connection() as conn:
        order = _order_for(conn, actor, req.order_id)
    case = _case_for(order, req, refs, now, 0)          # validates line, quantity and reason first
    return SubmissionDraft(actor=actor, req=req, order=order, refs=refs, now=now, case=case, book=book)


def submit_application(db: Database, actor: Actor, req: ApplicationRequest, book: PolicyBook,
                       clock: Clock) -> Application:
    """Submit an application and decide it at once (POLICY.md §3–§9), stamping its §7 clock.

    The order is reference data, so its facts are read before the write transaction
    (:func:`prepare_submission`). The write transaction reads this line's earlier applications
    (claimed units, 三包 repairs), decides, and inserts the application, its history row and the
    customer's messages with prepared statements, so the write lock is held for a handful of
    statements (:func:`write_submissions`).
    """
    [written] = write_submissions(db, [prepare_submission(db, actor, req, book, clock)])
    if isinstance(written, Exception):
        raise written
    return written


def write_submissions(db: Database, drafts: Sequence[SubmissionDraft]) -> list[Application | Exception]:
    """Write several prepared submissions in one write transaction — group commit: the write
    lock and BEGIN/COMMIT are shared by the batch. Each draft is checked against what the
    transaction sees (earlier drafts of the batch included: two claims on the same units cannot
    both pass) before anything of it is written, so a draft that is refused (units already
    claimed, evidence that is not the applicant's) fails alone and the batch goes on. If a write
    itself fails, the batch is rolled back and each draft written again in a transaction of its
    own (a lone draft's error is raised). One result per draft, in order: the application as
    written, or the error of that draft."""
    return [r.refusal if isinstance(r, _Refused) else r
            for r in db.write_batch(drafts, _write_submission_or_refusal)]


@dataclass(frozen=True, slots=True)
class _Refused:
    """A draft refused by the checks before any of it was written (the batch goes on)."""

    refusal: KefuError


def _write_submission_or_refusal(conn: Connection, draft: SubmissionDraft) -> Application | _Refused:
    try:
        checked = _check_submission(conn, draft)
    except KefuError as refused:                # nothing of this draft is written yet
        return _Refused(refused)
    return _write_submission(conn, draft, *checked)


def _check_submission(conn: Connection, draft: SubmissionDraft) -> tuple[Decision, list[int]]:
    """In the write transaction, before writing: the units still free on the line, the 三包
    repairs so far (then the decision), and the evidence files being the applicant's own."""
    q = _SUBMIT_Q.of(conn)
    req, case = draft.req, draft.case
    history = _held_and_repairs(q["line_applications"].all(conn, order_id=req.order_id, line=req.line))
    line = case.line
    if history.held + req.quantity > line.quantity:
        raise Conflict("quantity_already_claimed", "该商品的可申请数量已用完（已有进行中的售后）。",
                       "Those units are already under another after-sales application.",
                       held=history.held, bought=line.quantity)
    if history.repairs:
        case = _case_for(draft.order, req, draft.refs, draft.now, history.repairs)
    evidence = list(dict.fromkeys(req.evidence_ids))
    for evidence_id in evidence:
        row = q["evidence_owner"].first(conn, evidence_id=evidence_id)
        if row is None:
            raise NotFound("evidence_not_found", "凭证文件不存在。", "Evidence file not found.")
        _check_evidence_owner(row, draft.actor, None)
    return evaluate(case, draft.book), evidence


def _write_submission(conn: Connection, draft: SubmissionDraft, decision: Decision,
                      evidence: list[int]) -> Application:
    q = _SUBMIT_Q.of(conn)
    actor, req, order, now = draft.actor, draft.req, draft.order, draft.now
    line = draft.case.line
    app = Application(
        number="", order_id=req.order_id, line_no=req.line, customer_id=order.customer_id,
        seller_id=order.seller_id, seller_type=order.seller_type, category=line.category.value,
        type=req.type.value, reason=req.reason.value, quantity=req.quantity, description=req.description,
        created_by=actor.user_id, created_at=now, updated_at=now, version=1,
        refunded_at=None, rating=None,
        facts={"condition": sorted(req.condition), "gifts_returned": req.gifts_returned,
               "damage": sorted(req.damage), "proof_of_purchase": req.proof_of_purchase,
               "serial_matches": req.serial_matches, "sku": line.sku, "evidence": list(draft.refs)})
    _apply_decision(app, decision)
    _stamp_due(app, draft.book, now)
    app.id = q["insert_application"].scalar(conn, **{f"v_{c}": getattr(app, c) for c in _APPLICATION_COLUMNS})
    app.number = f"AS{shanghai_date(now):%y%m%d}{app.id:07d}"
    q["set_number"].run(conn, app_id=app.id, b_number=app.number)
    for evidence_id in evidence:
        q["attach_evidence"].run(conn, evidence_id=evidence_id, app_id=app.id)
    q["insert_event"].run(conn, **v_params(_event_row(
        app, actor, "submit", None, now, req.description,
        {"rules": decision.rules, "outcome": decision.outcome.value})))
    notices = CapturedInserts()
    _notify(cast(Connection, notices), app, order.customer, "decided", now)
    notices.write(conn)
    return app


# ── transitions ───────────────────────────────────────────────────────────────────────────


def _refund(session: Session, app: Application, order: DecisionFacts, now: datetime) -> list[Refund]:
    """§7: refund to the original payment methods, split in proportion to what each paid."""
    amount = app.refund_amount or ZERO
    payments = order.order.payments
    shares = split_proportionally(amount, [p.amount for p in payments]) if payments else []
    refunds = [Refund(application_id=app.id, order_id=app.order_id, method=p.method, amount=share,
                      status="succeeded", created_at=now)
               for p, share in zip(payments, shares, strict=True) if share > 0]
    for r in refunds:
        session.add(r)
    app.refunded_at = now
    return refunds


def _require(value: object, code: str, zh: str, en: str) -> None:
    if value is None or value == "":
        raise InputError(code, zh, en)


def transition_application(db: Database, actor: Actor, number: str, action: Action, details: TransitionInput,
                           book: PolicyBook, clock: Clock) -> Application:
    """Take one lifecycle step (see :mod:`kefu.domain.aftersales.lifecycle`).

    Illegal steps answer 409 ``illegal_transition``; steps this actor may not take 403. Two
    concurrent attempts at the same step serialise on the row lock and the second one finds the
    state already moved (409), so money moves at most once.
    """
    with db.uow() as uow:
        s = uow.session
        now = clock()
        app = _load(s, actor, number, lock=True)
        state = _state(app)
        target = next_status(action, state, actor.role, actor_customer=actor.customer_id,
                             actor_seller=actor.seller_id, passed=details.passed)
        before = app.status
        order = _order_for(s.connection(), Actor(None, Role.SYSTEM), app.order_id)
        data: dict[str, Any] = {}
        note = details.note
        extra_zh = extra_en = ""

        if action is Action.ADD_EVIDENCE:
            files = _attach_evidence(s.connection(), actor, app.id, details.evidence_ids)
            if not files:
                raise InputError("evidence_missing", "请上传凭证（照片或 PDF）。", "Upload a photo or a PDF.")
            if note:
                app.description = (app.description + "\n" + note).strip()
            refs = _evidence_refs(app, files)
            app.facts = {**app.facts, "evidence": list(refs)}
            req = ApplicationRequest(
                order_id=app.order_id, line=app.line_no, type=RequestType(app.type), reason=Reason(app.reason),
                quantity=app.quantity, condition=frozenset(app.facts.get("condition", [])),
                gifts_returned=bool(app.facts.get("gifts_returned", True)),
                damage=frozenset(app.facts.get("damage", [])),
                proof_of_purchase=bool(app.facts.get("proof_of_purchase", True)),
                serial_matches=bool(app.facts.get("serial_matches", True)))
            history = _line_history(s.connection(), app.order_id, app.line_no)
            decision = evaluate(_case_for(order, req, refs, now, history.repairs), book)
            _apply_decision(app, decision)
            data = {"rules": decision.rules, "outcome": decision.outcome.value, "evidence": files}
            event = "decided"
        else:
            if action is Action.REJECT:
                _require(note.strip(), "note_required", "拒绝时请填写原因。", "Give a reason for the rejection.")
            if action is Action.SHIP_BACK:
                _require(details.waybill, "waybill_required", "请填写寄回运单号。", "The waybill number is missing.")
                app.return_waybill = details.waybill
                app.return_carrier = details.carrier
                data = {"waybill": details.waybill, "carrier": details.carrier}
            if action is Action.SCHEDULE_PICKUP:
                app.pickup_at = details.pickup_at
                app.pickup_address = details.pickup_address or order.address
                data = {"pickup_at": details.pickup_at.isoformat() if details.pickup_at else None}
            if action is Action.INSPECT:
                app.inspection_passed = details.passed
                app.inspection_notes = note
                files = _attach_evidence(s.connection(), actor, app.id, details.evidence_ids, purpose="inspection")
                data = {"passed": details.passed, "photos": files}
            if action is Action.SHIP_REPLACEMENT:
                _require(details.waybill, "waybill_required", "请填写发货运单号。", "The waybill number is missing.")
                app.replacement_waybill = details.waybill
                data = {"waybill": details.waybill}
            if action is Action.RATE:
                if details.rating is None or not 1 <= details.rating <= 5:
                    raise InputError("invalid_rating", "评分须为 1 到 5。", "The rating must be 1 to 5.")
                app.rating = details.rating
                app.rating_comment = note
                data = {"rating": details.rating}
            assert target is not None
            app.status = target.value
            if action is Action.REFUND:
                refunds = _refund(s, app, order, now)
                data = {"refunds": [{"method": r.method, "amount": fmt(r.amount)} for r in refunds]}
                extra_zh = f"退款 ¥{fmt(app.refund_amount or ZERO)} 将原路退回。"
                extra_en = f" ¥{fmt(app.refund_amount or ZERO)} goes back to your original payment methods."
            if action is Action.COLLECT and app.type == RequestType.RETURN.value and app.refunded_at is None:
                params = book.resolve(app.seller_type, app.category, app.facts.get("sku", ""))
                if order.customer.level in params.refund_at_pickup_levels:     # §7: PLUS refund at pickup
                    refunds = _refund(s, app, order, now)
                    data = {"refunds": [{"method": r.method, "amount": fmt(r.amount)} for r in refunds],
                            "refund_at_pickup": True}
                    extra_zh = f"PLUS 会员取件即退款 ¥{fmt(app.refund_amount or ZERO)}。"
                    extra_en = f" As a PLUS member you are refunded ¥{fmt(app.refund_amount or ZERO)} at pickup."
            event = action.value

        app.updated_at = now
        app.version += 1
        _stamp_due(app, book, now)
        _record(s.connection(), app, actor, action.value, before, now, note=note, data=data)
        if action is not Action.RATE:
            _notify(s.connection(), app, order.customer, event, now, extra_zh, extra_en)
        uow.commit()
        return app


def sweep_seller_reviews(db: Database, book: PolicyBook, clock: Clock, batch: int = 500) -> int:
    """§7: approve third-party applications whose seller missed the review deadline.

    Idempotent: it only touches rows still in ``seller_review`` with ``due_at`` passed, so a
    second run (or a second machine) finds nothing left to do. Returns how many it approved.
    A round with nothing due only reads: every app process runs one every few seconds, and a
    write transaction would take the database's write lock from the requests for nothing.
    """
    from kefu.domain.actors import SYSTEM

    now = clock()
    overdue = (Application.status == Status.SELLER_REVIEW.value, Application.due_at <= now)
    with db.read() as ro:
        if ro.session.scalar(select(Application.id).where(*overdue).limit(1)) is None:
            return 0
    done = 0
    with db.uow() as uow:
        s = uow.session
        query = select(Application).where(*overdue).order_by(Application.due_at).limit(batch)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        for app in s.scalars(query):
            before = app.status
            next_status(Action.AUTO_APPROVE, _state(app), Role.SYSTEM)
            app.status = Status.APPROVED.value
            app.updated_at = now
            app.version += 1
            _stamp_due(app, book, now)
            _record(s.connection(), app, SYSTEM, Action.AUTO_APPROVE.value, before, now,
                    note="商家超时未审核，平台自动同意 / seller missed the review deadline")
            row = s.get(Customer, app.customer_id)
            assert row is not None
            customer = OrderParty(row.id, row.level, row.phone, row.email)
            _notify(s.connection(), app, customer, "auto_approved", now, "商家超时未处理，平台已代为同意。",
                    " The seller did not answer in time, so the platform approved it.")
            done += 1
        uow.commit()
    return done


# ── queries ───────────────────────────────────────────────────────────────────────────────


def get_application(db: Database, actor: Actor, number: str) -> Application:
    """One application with its history, evidence and refunds, if this actor may see it."""
    with db.read() as uow:
        app = uow.session.scalars(
            select(Application).where(Application.number == number)
            .options(selectinload(Application.events), selectinload(Application.evidence),
                     selectinload(Application.refunds))).one_or_none()
        if app is None or not may_see_application(actor, app):
            raise NotFound("application_not_found", "售后申请不存在。", "After-sales application not found.",
                           number=number)
        return app


def actions_for(actor: Actor, app: Application) -> list[Action]:
    """The buttons this actor gets on this application."""
    return available_actions(_state(app), actor.role, actor_customer=actor.customer_id,
                             actor_seller=actor.seller_id)


#: statuses a handler (agent or seller) has something to do in
WORK_STATUSES = (Status.MANUAL_REVIEW, Status.SELLER_REVIEW, Status.APPROVED, Status.PICKUP_SCHEDULED,
                 Status.PICKED_UP, Status.SHIPPED_BACK, Status.RECEIVED, Status.INSPECTED, Status.REFUNDED,
                 Status.REPLACEMENT_SHIPPED, Status.REPAIRED, Status.INSPECTION_FAILED)


def list_review_queue(db: Database, actor: Actor, *, statuses: tuple[Status, ...] | None = None,
                      limit: int = 50, offset: int = 0) -> list[Application]:
    """The handler's queue, most urgent first: ordered by SLA due time, undated last.

    Agents and admins see everything; a seller sees only applications on their own goods.
    """
    if actor.role not in (*AGENT_ROLES, Role.SELLER):
        raise PermissionDenied("not_allowed", "您无权查看审核队列。", "You may not see the review queue.")
    wanted = [st.value for st in (statuses or WORK_STATUSES)]
    query = select(Application).where(Application.status.in_(wanted))
    if actor.role is Role.SELLER:
        query = query.where(Application.seller_id == actor.seller_id)
    query = query.order_by(Application.due_at.is_(None), Application.due_at, Application.id).limit(limit).offset(offset)
    with db.read() as uow:
        return list(uow.session.scalars(query))


def list_customer_applications(db: Database, actor: Actor, customer_id: str | None = None,
                               limit: int = 50) -> list[Application]:
    """A customer's applications, newest first: customers see only their own, sellers only
    those on their own goods, staff all."""
    cid = actor.customer_id if actor.role is Role.CUSTOMER else customer_id
    if cid is None:
        raise InputError("customer_required", "请指定顾客。", "Name the customer.")
    query = select(Application).where(Application.customer_id == cid)
    if actor.role is Role.SELLER:
        query = query.where(Application.seller_id == actor.seller_id)
    elif actor.role is not Role.CUSTOMER and not actor.is_staff:
        raise PermissionDenied("not_allowed", "您无权查看该顾客的售后。",
                               "You may not see this customer's applications.")
    with db.read() as uow:
        return list(uow.session.scalars(
            query.order_by(Application.created_at.desc(), Application.id.desc()).limit(limit)))


def is_open(app: Application) -> bool:
    return Status(app.status) not in TERMINAL
