"""Service-desk pages: the customer's tickets, complaint form and chat, the agents' ticket
workspace and ticket page, and the live parts of both as HTML over Server-Sent Events.

Customer: ``/tickets`` (mine), ``/tickets/new`` (a consultation or a complaint, with evidence and
an optional compensation request), ``/tickets/{number}`` (status steps, transcript, reply, the
customer's steps and the satisfaction survey), ``/chat`` (the chat widget's conversation).

Desk (agents, supervisors, admins; sellers for tickets about their goods): ``/desk/tickets``
(presence, filters, keyset pages, refreshed live), ``/desk/tickets/{number}`` (transcript with
internal notes, reply with canned replies and the compliance block, steps, transfer, tags,
compensation, and the customer with their orders and after-sales applications), and
``/desk/tickets/{number}/apply/{order_id}/{line}`` (an after-sales application for the customer).

Live: ``/tickets/{number}/live`` sends ``event: message`` (one rendered message, read with the
viewer's permissions — a customer never receives an internal note) and ``event: status`` (the
re-rendered status block); ``/desk/live`` sends ``event: ticket`` when a ticket the viewer may
see changes. Pages work without JavaScript (forms and redirects); htmx adds the live parts.

Every read and write goes through a service; a :class:`KefuError` is shown on the page in the
reader's language (404s as the error page), never as a 500.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from kefu.adapters.db import catalog_repository as orders_repo
from kefu.adapters.db.tables.catalog import Order, TrackingEvent
from kefu.adapters.db.tables.service_desk import Ticket, TicketEvent
from kefu.domain.actors import AGENT_ROLES, Actor, Role
from kefu.domain.aftersales.lifecycle import STATUS_LABELS as APPLICATION_STATUS_LABELS
from kefu.domain.aftersales.lifecycle import Status as ApplicationStatus
from kefu.domain.compliance.model import KIND_LABELS as VIOLATION_LABELS
from kefu.domain.errors import InputError, KefuError, NotFound
from kefu.domain.service.sla import SURVEY_LABELS, SurveyScore
from kefu.domain.service.tickets import (
    ACTION_LABELS,
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    Action,
    Category,
    Channel,
    Kind,
    Status,
)
from kefu.services import aftersales as aftersales_svc
from kefu.services import canned as canned_svc
from kefu.services import compensation as comp_svc
from kefu.services import desk_admin as admin_svc
from kefu.services import satisfaction as survey_svc
from kefu.services import tickets as svc
from kefu.services.uow import Database
from kefu.web import deps
from kefu.web.deps import csrf_protect, db_dep, get_db, page_actor, require_roles
from kefu.web.i18n import current_locale, pick_lang
from kefu.web.pages.customer import (
    REASON_LABELS,
    TYPE_LABELS,
    ApplyForm,
    error_of,
    labels,
    store_upload,
    uploaded_files,
)
from kefu.web.runtime import get_runtime
from kefu.web.templating import lang_url, render, request_locale, templates

router = APIRouter(include_in_schema=False)
customer_only = require_roles(Role.CUSTOMER)
desk_only = require_roles(Role.AGENT, Role.SUPERVISOR, Role.SELLER, Role.ADMIN)
agents_only = require_roles(Role.AGENT, Role.SUPERVISOR, Role.ADMIN)

PING_S = 15
#: the steps a customer may take from their ticket page
CUSTOMER_ACTIONS = frozenset({Action.ACCEPT, Action.REOPEN, Action.RESUME})

# ── labels ─────────────────────────────────────────────────────────────────────────────────

AUTHOR_LABELS: dict[str, tuple[str, str]] = {
    "customer": ("顾客", "Customer"), "agent": ("客服", "Agent"), "supervisor": ("客服主管", "Supervisor"),
    "seller": ("商家", "Seller"), "admin": ("管理员", "Admin"), "system": ("系统", "System"),
    "bot": ("智能助手", "Assistant"),
}
COMP_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "pending": ("待审批", "Pending"), "approved": ("已批准", "Approved"), "rejected": ("未批准", "Rejected"),
}
APPROVER_LABELS: dict[str, tuple[str, str]] = {
    "agent": ("客服", "Agent"), "supervisor": ("客服主管", "Supervisor"), "manager": ("经理", "Manager"),
}
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "first_response": ("首次响应", "First response"), "confirm": ("问题确认", "Confirmation"),
    "first_result": ("首次处理反馈", "First result"), "resolution": ("解决", "Resolution"),
}
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "open": ("提交工单", "Opened"), "reply": ("回复", "Reply"), "note": ("内部备注", "Internal note"),
    "transfer": ("转接", "Transferred"), "assign": ("分配", "Assigned"), "tag": ("标签", "Tags"),
    "rate": ("评价", "Rated"), "merged_from": ("合并了工单", "Merged a ticket in"),
    "compensation_requested": ("申请补偿", "Compensation requested"),
    "compensation_approved": ("补偿已批准", "Compensation approved"),
    "compensation_rejected": ("补偿未批准", "Compensation rejected"),
    "sla_warning": ("时效预警", "SLA warning"), "sla_breach": ("时效超时", "SLA breached"),
    **{a.value: v for a, v in ACTION_LABELS.items()},
}
LEVEL_BADGES = frozenset({"plus", "enterprise"})


def _pair(table: dict[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return ""
    found = table.get(code)
    return pick_lang({"zh": found[0], "en": found[1]}) if found else code


def ticket_labels() -> dict[str, Any]:
    """Label helpers every service-desk template receives (besides :func:`customer.labels`)."""
    return {
        "t_status": lambda c: _pair({s.value: v for s, v in STATUS_LABELS.items()}, c),
        "t_kind": lambda c: _pair({k.value: v for k, v in KIND_LABELS.items()}, c),
        "t_category": lambda c: _pair({k.value: v for k, v in CATEGORY_LABELS.items()}, c),
        "t_channel": lambda c: _pair({k.value: v for k, v in CHANNEL_LABELS.items()}, c),
        "t_action": lambda c: _pair({a.value: v for a, v in ACTION_LABELS.items()}, c),
        "t_event": lambda c: _pair(EVENT_LABELS, c),
        "author_label": lambda c: _pair(AUTHOR_LABELS, c),
        "survey_label": lambda c: _pair({s.value: v for s, v in SURVEY_LABELS.items()}, c),
        "comp_kind": lambda c: _pair(comp_svc.KINDS, c),
        "comp_status": lambda c: _pair(COMP_STATUS_LABELS, c),
        "approver_label": lambda c: _pair(APPROVER_LABELS, c),
        "metric_label": lambda c: _pair(METRIC_LABELS, c),
        "violation_label": lambda c: _pair(VIOLATION_LABELS, c),
        "strategy_label": lambda c: _pair(admin_svc.STRATEGIES, c),
        "level_badges": LEVEL_BADGES,
    }


def tpage(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> Response:
    return render(request, name, {**labels(), **ticket_labels(), **context}, status_code=status_code)


def fragment(request: Request, name: str, context: dict[str, Any]) -> str:
    """A template rendered to a string with the same common context as a page (for SSE)."""
    locale = request_locale(request)
    full: dict[str, Any] = {
        "request": request, "actor": deps.resolved_actor(request), "locale": locale,
        "csrf_token": deps.csrf_token_for(request).token, "lang_url": lambda code: lang_url(request, code),
        **labels(), **ticket_labels(), **context,
    }
    token = current_locale.set(locale)
    try:
        return templates.get_template(name).render(full)
    finally:
        current_locale.reset(token)


def _text(form: FormData, name: str, limit: int = 10_000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _raw_text(form: FormData, name: str, limit: int = 10_000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise InputError("invalid_input", "请输入数字。", "Enter a number.") from None


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def is_staff(actor: Actor) -> bool:
    return actor.role in AGENT_ROLES


# ── what a ticket page shows ───────────────────────────────────────────────────────────────

COMPLAINT_STEPS = (Status.NEW, Status.CONFIRMED, Status.PROCESSING, Status.RESOLVED, Status.CLOSED)
CONSULTATION_STEPS = (Status.NEW, Status.PROCESSING, Status.RESOLVED, Status.CLOSED)


def progress(ticket: Ticket) -> list[tuple[str, str]]:
    """The step indicator: (status, done | current | todo) for each step of the ticket's kind."""
    steps = COMPLAINT_STEPS if ticket.kind == Kind.COMPLAINT.value else CONSULTATION_STEPS
    status = Status(ticket.status)
    at = {Status.WAITING_CUSTOMER: Status.PROCESSING, Status.MERGED: Status.CLOSED}.get(status, status)
    index = steps.index(at) if at in steps else 0
    return [(s.value, "done" if i < index else "current" if i == index else "todo") for i, s in enumerate(steps)]


def rating_of(events: Sequence[TicketEvent]) -> TicketEvent | None:
    """The customer's latest survey answer, from the history (``rate``)."""
    return next((e for e in reversed(events) if e.action == "rate"), None)


def customer_context(request: Request, actor: Actor, number: str) -> dict[str, Any]:
    db = get_db(request)
    runtime = get_runtime(request)
    view = svc.get_ticket(db, actor, number)
    return {
        "view": view, "t": view.ticket, "steps": progress(view.ticket),
        "survey": survey_svc.open_survey(db, actor, number, runtime.clock()),
        "rating": rating_of(view.events), "scores": [s.value for s in SurveyScore],
        "comps": comp_svc.list_compensation(db, actor, number),
        "customer_actions": [a.value for a in view.actions if a in CUSTOMER_ACTIONS],
    }


def latest_tracking(db: Database, orders: Sequence[Order]) -> dict[int, TrackingEvent]:
    """The newest tracking event of each order's delivery (one query)."""
    ids = [o.delivery.id for o in orders if o.delivery is not None]
    if not ids:
        return {}
    latest: dict[int, TrackingEvent] = {}
    with db.read() as uow:
        for ev in uow.session.scalars(select(TrackingEvent).where(TrackingEvent.delivery_id.in_(ids))
                                      .order_by(TrackingEvent.at, TrackingEvent.id)):
            latest[ev.delivery_id] = ev
    return latest


@dataclass(frozen=True)
class CustomerPanel:
    customer: Any
    orders: Sequence[Order]
    latest: dict[int, TrackingEvent]
    applications: list[Any]


def customer_panel(db: Database, actor: Actor, ticket: Ticket) -> CustomerPanel | None:
    """The customer beside the ticket: their recent orders (a seller: only orders of their shop)
    with delivery and latest tracking, and their after-sales applications."""
    if ticket.customer_id is None:
        return None
    seller_id = actor.seller_id if actor.role is Role.SELLER else None
    with db.read() as uow:
        customer = orders_repo.get_customer(uow.session, ticket.customer_id)
        orders = orders_repo.list_orders(uow.session, customer_id=ticket.customer_id, seller_id=seller_id, limit=5)
    if customer is None:
        return None
    apps = aftersales_svc.list_customer_applications(db, actor, customer_id=ticket.customer_id, limit=10)
    if seller_id is not None:
        apps = [a for a in apps if a.seller_id == seller_id]
    return CustomerPanel(customer=customer, orders=orders, latest=latest_tracking(db, orders), applications=apps)


def desk_context(request: Request, actor: Actor, number: str, *, canned_id: int | None = None) -> dict[str, Any]:
    db = get_db(request)
    view = svc.get_ticket(db, actor, number)
    ticket = view.ticket
    filled = None
    if canned_id is not None:
        try:
            filled = canned_svc.fill_canned(db, actor, number, canned_id)
        except NotFound:
            filled = None
    return {
        "view": view, "t": ticket, "steps": progress(ticket),
        "comps": comp_svc.list_compensation(db, actor, number),
        "canned": canned_svc.list_canned(db, actor, category=ticket.category),
        "filled": filled, "draft": filled.body if filled else "", "canned_id": canned_id if filled else None,
        "internal": False,
        "directory": admin_svc.desk_directory(db, actor) if is_staff(actor) else None,
        "extras": admin_svc.queue_extras(db, actor, [ticket]),
        "panel": customer_panel(db, actor, ticket),
        "staff": is_staff(actor), "rating": rating_of(view.events),
        "comp_kinds": list(comp_svc.KINDS),
    }


# ── the customer's tickets ─────────────────────────────────────────────────────────────────


@router.get("/tickets")
def my_tickets(request: Request, actor: Actor = Depends(customer_only), db: Database = Depends(db_dep)) -> Response:
    return tpage(request, "tickets/list.html", {"tickets": svc.list_customer_tickets(db, actor)})


@dataclass
class NewTicketForm:
    kind: str = Kind.CONSULTATION.value
    category: str = Category.OTHER.value
    order_id: str = ""
    employee_no: str = ""
    subject: str = ""
    body: str = ""
    comp_kind: str = ""
    comp_amount: str = ""
    comp_reason: str = ""

    @classmethod
    def parse(cls, form: FormData) -> NewTicketForm:
        return cls(kind=_text(form, "kind", 32) or Kind.CONSULTATION.value,
                   category=_text(form, "category", 32) or Category.OTHER.value,
                   order_id=_text(form, "order_id", 64), employee_no=_text(form, "employee_no", 32),
                   subject=_text(form, "subject", 200), body=_text(form, "body", svc.MAX_BODY),
                   comp_kind=_text(form, "comp_kind", 32), comp_amount=_text(form, "comp_amount", 20),
                   comp_reason=_text(form, "comp_reason", 1000))

    @property
    def wants_compensation(self) -> bool:
        return self.kind == Kind.COMPLAINT.value and bool(self.comp_kind)

    def request(self) -> svc.TicketRequest:
        """The service request; bad choices (and a compensation that could not be requested) are
        refused here, before anything is written."""
        try:
            kind, category = Kind(self.kind), Category(self.category)
        except ValueError:
            raise InputError("invalid_input", "请选择工单类型和问题类型。", "Choose the kind and the problem type.") \
                from None
        if self.wants_compensation:
            if self.comp_kind not in comp_svc.KINDS:
                raise InputError("invalid_kind", "请选择补偿类型。", "Choose the kind of compensation.")
            try:
                amount = Decimal(self.comp_amount)
            except (InvalidOperation, ValueError):
                raise InputError("invalid_amount", "金额格式不正确。", "The amount is not a number.") from None
            if not Decimal(0) < amount <= comp_svc.MAX_AMOUNT:
                raise InputError("invalid_amount", f"金额须大于 0 且不超过 {comp_svc.MAX_AMOUNT} 元。",
                                 f"The amount must be above 0 and at most ¥{comp_svc.MAX_AMOUNT}.")
        return svc.TicketRequest(
            subject=self.subject, body=self.body, channel=Channel.WEB_CHAT, category=category, kind=kind,
            order_id=self.order_id or None,
            named_employee_no=(self.employee_no or None) if kind is Kind.COMPLAINT else None)


def _new_page(request: Request, actor: Actor, form: NewTicketForm, error: dict[str, Any] | None = None,
              status_code: int = 200) -> Response:
    db = get_db(request)
    with db.read() as uow:
        orders = orders_repo.list_orders(uow.session, customer_id=actor.customer_id, limit=50)
    return tpage(request, "tickets/new.html", {
        "form": form, "orders": orders, "error": error, "kinds": [k.value for k in Kind],
        "categories": [c.value for c in Category], "comp_kinds": list(comp_svc.KINDS),
    }, status_code=status_code)


@router.get("/tickets/new")
def new_ticket(request: Request, actor: Actor = Depends(customer_only), kind: str = "", order_id: str = "",
               category: str = "") -> Response:
    form = NewTicketForm(kind=kind if kind in {k.value for k in Kind} else Kind.CONSULTATION.value,
                         category=category if category in {c.value for c in Category} else Category.OTHER.value,
                         order_id=order_id[:64])
    return _new_page(request, actor, form)


@router.post("/tickets/new", dependencies=[Depends(csrf_protect)])
async def new_ticket_submit(request: Request, actor: Actor = Depends(customer_only)) -> Response:
    raw = await request.form()
    form = NewTicketForm.parse(raw)
    db, runtime = get_db(request), get_runtime(request)
    try:
        req = form.request()
        ids = tuple([(await store_upload(request, actor, f)).id for f in uploaded_files(raw)])
        ticket = await run_in_threadpool(svc.open_ticket, db, actor, replace(req, evidence_ids=ids), runtime.desk,
                                         runtime.clock, live=runtime.live)
    except KefuError as exc:
        return await run_in_threadpool(_new_page, request, actor, form, error_of(exc), exc.status)
    target = f"/tickets/{ticket.number}"
    if form.wants_compensation:
        try:
            await run_in_threadpool(comp_svc.request_compensation, db, actor, ticket.number, form.comp_kind,
                                    form.comp_amount, form.comp_reason, runtime.desk, runtime.clock)
        except KefuError as exc:       # the ticket stands; say the request did not go through
            target += f"?comp_error={quote(exc.code)}"
    return RedirectResponse(target, status_code=303)


def _customer_page(request: Request, actor: Actor, number: str, extra: dict[str, Any] | None = None,
                   status_code: int = 200) -> Response:
    context = customer_context(request, actor, number)
    return tpage(request, "tickets/detail.html", {**context, **(extra or {})}, status_code=status_code)


@router.get("/tickets/{number}")
def ticket_page(request: Request, number: str, actor: Actor = Depends(page_actor),
                comp_error: str = "") -> Response:
    """The customer's ticket; staff following a link here land on the desk's page of it."""
    if actor.role is not Role.CUSTOMER:
        if actor.role in (*AGENT_ROLES, Role.SELLER):
            return RedirectResponse(f"/desk/tickets/{quote(number)}", status_code=303)
        raise NotFound("ticket_not_found", "工单不存在。", "Ticket not found.", number=number)
    return _customer_page(request, actor, number, {"comp_error": bool(comp_error)})


async def _customer_error(request: Request, actor: Actor, number: str, exc: KefuError,
                          extra: dict[str, Any] | None = None) -> Response:
    if exc.status == 404:
        raise exc
    return await run_in_threadpool(_customer_page, request, actor, number, {"error": error_of(exc), **(extra or {})},
                                   exc.status)


@router.post("/tickets/{number}/reply", dependencies=[Depends(csrf_protect)])
async def customer_reply(request: Request, number: str, actor: Actor = Depends(customer_only)) -> Response:
    """The customer's reply from the ticket page (the chat page sends through the assistant,
    ``/chat/send``, which joins the ticket the same way). With htmx the message arrives
    through the live stream, so the answer is empty (or the error)."""
    raw = await request.form()
    body = _raw_text(raw, "body", svc.MAX_BODY)
    db, runtime = get_db(request), get_runtime(request)
    try:
        ids = tuple([(await store_upload(request, actor, f)).id for f in uploaded_files(raw)])
        await run_in_threadpool(svc.post_message, db, actor, number, body, runtime.desk, runtime.clock,
                                evidence_ids=ids, live=runtime.live)
    except KefuError as exc:
        if is_htmx(request) and exc.status != 404:
            return tpage(request, "tickets/_form_error.html", {"error": error_of(exc)})
        return await _customer_error(request, actor, number, exc, {"draft": body})
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Trigger": "kefu-sent"})
    target = "/chat" if _text(raw, "back") == "chat" else f"/tickets/{number}"
    return RedirectResponse(target, status_code=303)


@router.post("/tickets/{number}/do/{action}", dependencies=[Depends(csrf_protect)])
async def customer_step(request: Request, number: str, action: str,
                        actor: Actor = Depends(customer_only)) -> Response:
    raw = await request.form()
    db, runtime = get_db(request), get_runtime(request)
    try:
        try:
            step = Action(action)
        except ValueError:
            step = None
        if step is None or step not in CUSTOMER_ACTIONS:
            raise NotFound("not_found", "没有这个操作。", "No such action.", action=action)
        await run_in_threadpool(svc.transition_ticket, db, actor, number, step, runtime.desk, runtime.clock,
                                note=_text(raw, "note", 2000), live=runtime.live)
    except KefuError as exc:
        return await _customer_error(request, actor, number, exc)
    return RedirectResponse(f"/tickets/{number}", status_code=303)


@router.post("/tickets/{number}/survey", dependencies=[Depends(csrf_protect)])
async def customer_survey(request: Request, number: str, actor: Actor = Depends(customer_only)) -> Response:
    raw = await request.form()
    db, runtime = get_db(request), get_runtime(request)
    try:
        await run_in_threadpool(survey_svc.answer_survey, db, actor, number, _text(raw, "score", 32),
                                _text(raw, "comment", 2000), runtime.desk, runtime.clock)
    except KefuError as exc:
        return await _customer_error(request, actor, number, exc)
    return RedirectResponse(f"/tickets/{number}", status_code=303)


@router.get("/tickets/{number}/attachments/{attachment_id}")
def ticket_attachment(request: Request, number: str, attachment_id: int, actor: Actor = Depends(page_actor),
                      db: Database = Depends(db_dep)) -> Response:
    """A file on a ticket, for whoever may see it (a customer: not files of internal notes)."""
    view = svc.get_ticket(db, actor, number)
    found = next((a for a in view.attachments if a.id == attachment_id), None)
    if found is None:
        raise NotFound("attachment_not_found", "附件不存在。", "Attachment not found.")
    data = get_runtime(request).storage.load(found.storage_key)
    return Response(content=data, media_type=found.content_type, headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(found.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})


# ── live: a ticket's stream (customers and staff) ──────────────────────────────────────────


def _status_fragment(request: Request, actor: Actor, number: str) -> str:
    if actor.role is Role.CUSTOMER:
        return fragment(request, "tickets/_status.html", customer_context(request, actor, number))
    view = svc.get_ticket(get_db(request), actor, number)
    return fragment(request, "desk/_ticket_status.html", {
        "view": view, "t": view.ticket, "steps": progress(view.ticket), "staff": is_staff(actor)})


@router.get("/tickets/{number}/live")
async def ticket_live(request: Request, number: str, actor: Actor = Depends(page_actor)) -> EventSourceResponse:
    """HTML fragments for a ticket's page: ``message`` (rendered for this viewer) and ``status``."""
    db, runtime = get_db(request), get_runtime(request)
    view = await anyio.to_thread.run_sync(svc.get_ticket, db, actor, number)        # 404 unless visible

    async def stream() -> AsyncIterator[dict[str, str]]:
        last_status = view.ticket.status
        async with runtime.live.subscribe([f"ticket:{number}"]) as events:
            yield {"event": "ready", "data": fragment(request, "tickets/_live_on.html", {})}
            async for event in events:
                if event.get("type") == "overflow":
                    return
                try:
                    if event.get("type") == "message":
                        message = await anyio.to_thread.run_sync(svc.get_message, db, actor, number,
                                                                  int(event["message_id"]))
                        if message is not None:
                            yield {"event": "message", "data": fragment(request, "tickets/_message.html", {
                                "m": message})}
                        if event.get("status") == last_status:
                            continue
                    last_status = str(event.get("status"))
                    html = await anyio.to_thread.run_sync(_status_fragment, request, actor, number)
                except KefuError:           # no longer visible to this viewer (transferred away): stop
                    return
                yield {"event": "status", "data": html}

    return EventSourceResponse(stream(), ping=PING_S)


# ── the desk: workspace ────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class DeskFilters:
    queue: str | None = None
    mine: bool = False
    unassigned: bool = False
    cursor: str | None = None

    def query(self, *, cursor: str | None = None, keep_cursor: bool = True) -> str:
        params: list[tuple[str, str]] = []
        if self.queue:
            params.append(("queue", self.queue))
        if self.mine:
            params.append(("mine", "1"))
        if self.unassigned:
            params.append(("unassigned", "1"))
        chosen = cursor if cursor is not None else (self.cursor if keep_cursor else None)
        if chosen:
            params.append(("cursor", chosen))
        return urlencode(params)


def _filters(queue: str = "", mine: str = "", unassigned: str = "", cursor: str = "") -> DeskFilters:
    return DeskFilters(queue=queue[:32] or None, mine=mine in ("1", "on", "true"),
                       unassigned=unassigned in ("1", "on", "true"), cursor=cursor[:40] or None)


PAGE_SIZE = 50


def _rows_context(request: Request, actor: Actor, filters: DeskFilters) -> dict[str, Any]:
    db = get_db(request)
    result = svc.list_queue(db, actor, queue_code=filters.queue, mine=filters.mine, unassigned=filters.unassigned,
                            cursor=filters.cursor, limit=PAGE_SIZE)
    return {"tickets": result.tickets, "next_cursor": result.next_cursor, "filters": filters,
            "extras": admin_svc.queue_extras(db, actor, result.tickets), "now": get_runtime(request).clock()}


@router.get("/desk/tickets")
def desk_tickets(request: Request, actor: Actor = Depends(desk_only), queue: str = "", mine: str = "",
                 unassigned: str = "", cursor: str = "", taken: str = "") -> Response:
    db = get_db(request)
    filters = _filters(queue, mine, unassigned, cursor)
    error, status_code = None, 200
    try:
        rows = _rows_context(request, actor, filters)
    except KefuError as exc:            # a queue one does not work, a broken cursor: say so, show the rest
        if exc.status not in (403, 404, 422):
            raise
        error, status_code = error_of(exc), exc.status
        filters = DeskFilters()
        rows = _rows_context(request, actor, filters)
    return tpage(request, "desk/tickets.html", {
        **rows, "error": error, "queues": admin_svc.visible_queues(db, actor),
        "presence": admin_svc.my_presence(db, actor) if is_staff(actor) else None,
        "live": True, "taken": taken,
    }, status_code=status_code)


@router.get("/desk/search")
def desk_search(request: Request, actor: Actor = Depends(agents_only), q: str = "") -> Response:
    """Full-text search over the tickets this agent may see (subjects, replies and notes)."""
    db = get_db(request)
    query = q.strip()[:200]
    tickets = svc.search_tickets(db, actor, query, limit=PAGE_SIZE) if query else []
    return tpage(request, "desk/search.html", {
        "q": query, "tickets": tickets, "next_cursor": None, "filters": DeskFilters(),
        "extras": admin_svc.queue_extras(db, actor, tickets), "now": get_runtime(request).clock()})


@router.get("/desk/tickets/rows")
def desk_ticket_rows(request: Request, actor: Actor = Depends(desk_only), queue: str = "", mine: str = "",
                     unassigned: str = "", cursor: str = "") -> Response:
    """The rows of the workspace (htmx refreshes them when a desk event arrives)."""
    return tpage(request, "desk/_ticket_rows.html", _rows_context(request, actor,
                                                                   _filters(queue, mine, unassigned, cursor)))


@router.post("/desk/presence", dependencies=[Depends(csrf_protect)])
async def desk_presence(request: Request, actor: Actor = Depends(agents_only)) -> Response:
    raw = await request.form()
    online = _text(raw, "online") == "1"
    runtime = get_runtime(request)
    taken = await run_in_threadpool(svc.set_presence, get_db(request), actor, online, runtime.clock)
    return RedirectResponse("/desk/tickets" + (f"?taken={taken}" if online else ""), status_code=303)


@router.get("/desk/live")
async def desk_live(request: Request, actor: Actor = Depends(desk_only)) -> EventSourceResponse:
    """``event: ticket`` whenever a ticket this agent (or seller) may see changes (a tiny payload:
    the number)."""
    db, runtime = get_db(request), get_runtime(request)
    scope = await anyio.to_thread.run_sync(svc.desk_scope, db, actor)

    async def stream() -> AsyncIterator[dict[str, str]]:
        async with runtime.live.subscribe(["desk"]) as events:
            yield {"event": "ready", "data": fragment(request, "tickets/_live_on.html", {})}
            async for event in events:
                if event.get("type") == "overflow":
                    return
                if scope.admits(event):
                    yield {"event": "ticket", "data": str(event.get("ticket", ""))}

    return EventSourceResponse(stream(), ping=PING_S)


# ── the desk: one ticket ───────────────────────────────────────────────────────────────────


def _desk_page(request: Request, actor: Actor, number: str, extra: dict[str, Any] | None = None,
               status_code: int = 200, canned_id: int | None = None) -> Response:
    context = desk_context(request, actor, number, canned_id=canned_id)
    return tpage(request, "desk/ticket.html", {**context, **(extra or {})}, status_code=status_code)


async def _desk_error(request: Request, actor: Actor, number: str, exc: KefuError,
                      extra: dict[str, Any] | None = None) -> Response:
    if exc.code == "ticket_not_found" and exc.detail.get("number") in (None, number):
        raise exc                       # this ticket itself is not visible (a merge target may be missing)
    return await run_in_threadpool(_desk_page, request, actor, number, {"error": error_of(exc), **(extra or {})},
                                   exc.status)


@router.get("/desk/tickets/{number}")
def desk_ticket(request: Request, number: str, actor: Actor = Depends(desk_only), canned: str = "") -> Response:
    try:
        canned_id = _optional_int(canned)
    except InputError:
        canned_id = None
    return _desk_page(request, actor, number, canned_id=canned_id)


@router.get("/desk/tickets/{number}/canned")
def desk_canned_fill(request: Request, number: str, actor: Actor = Depends(desk_only), canned: str = "") -> Response:
    """The reply box filled with a canned reply (htmx); without JavaScript the ticket page itself."""
    try:
        canned_id = _optional_int(canned)
    except InputError:
        canned_id = None
    if not is_htmx(request):
        suffix = f"?canned={canned_id}" if canned_id is not None else ""
        return RedirectResponse(f"/desk/tickets/{quote(number)}{suffix}", status_code=303)
    db = get_db(request)
    filled = canned_svc.fill_canned(db, actor, number, canned_id) if canned_id is not None else None
    return tpage(request, "desk/_reply_box.html", {
        "filled": filled, "draft": filled.body if filled else "", "canned_id": canned_id if filled else None,
        "internal": False, "staff": is_staff(actor)})


@router.post("/desk/tickets/{number}/reply", dependencies=[Depends(csrf_protect)])
async def desk_reply(request: Request, number: str, actor: Actor = Depends(desk_only)) -> Response:
    """A public reply or an internal note. A reply the compliance check blocks comes back with
    each violation and the typed text kept; a canned reply's tags and step follow a sent reply."""
    raw = await request.form()
    body = _raw_text(raw, "body", svc.MAX_BODY)
    internal = _text(raw, "internal") in ("1", "on", "true")
    db, runtime = get_db(request), get_runtime(request)
    try:
        canned_id = _optional_int(_text(raw, "canned_id", 12))
    except InputError:
        canned_id = None
    kept = {"draft": body, "internal": internal, "canned_id": canned_id}
    try:
        ids = tuple([(await store_upload(request, actor, f)).id for f in uploaded_files(raw)])
        await run_in_threadpool(svc.post_message, db, actor, number, body, runtime.desk, runtime.clock,
                                internal=internal, evidence_ids=ids, live=runtime.live)
    except KefuError as exc:
        violations = exc.detail.get("violations", []) if exc.code == "reply_blocked" else []
        return await _desk_error(request, actor, number, exc, {**kept, "violations": violations})
    if canned_id is not None:
        try:
            filled = await run_in_threadpool(canned_svc.fill_canned, db, actor, number, canned_id)
            if filled.tags:
                await run_in_threadpool(svc.tag_ticket, db, actor, number, runtime.clock, add=filled.tags)
            if filled.step is not None:
                await run_in_threadpool(svc.transition_ticket, db, actor, number, filled.step, runtime.desk,
                                        runtime.clock, live=runtime.live)
        except KefuError as exc:
            return await _desk_error(request, actor, number, exc, {"macro_failed": True})
    return RedirectResponse(f"/desk/tickets/{number}", status_code=303)


@router.post("/desk/tickets/{number}/do/{action}", dependencies=[Depends(csrf_protect)])
async def desk_step(request: Request, number: str, action: str, actor: Actor = Depends(desk_only)) -> Response:
    raw = await request.form()
    db, runtime = get_db(request), get_runtime(request)
    try:
        try:
            step = Action(action)
        except ValueError:
            raise NotFound("not_found", "没有这个操作。", "No such action.", action=action) from None
        await run_in_threadpool(svc.transition_ticket, db, actor, number, step, runtime.desk, runtime.clock,
                                note=_text(raw, "note", 2000), merge_into=_text(raw, "merge_into", 24) or None,
                                live=runtime.live)
    except KefuError as exc:
        return await _desk_error(request, actor, number, exc, {"failed_action": action})
    if step is Action.MERGE:
        return RedirectResponse(f"/desk/tickets/{quote(_text(raw, 'merge_into', 24))}", status_code=303)
    return RedirectResponse(f"/desk/tickets/{number}", status_code=303)


@router.post("/desk/tickets/{number}/transfer", dependencies=[Depends(csrf_protect)])
async def desk_transfer(request: Request, number: str, actor: Actor = Depends(agents_only)) -> Response:
    raw = await request.form()
    db, runtime = get_db(request), get_runtime(request)
    try:
        assignee = _optional_int(_text(raw, "assignee", 12))
        queue = _text(raw, "queue", 32) or None
        if queue is None and assignee is None:
            raise InputError("transfer_target_missing", "请选择要转接的队列或客服。",
                             "Choose a queue or an agent to transfer to.")
        await run_in_threadpool(lambda: svc.transfer_ticket(db, actor, number, runtime.clock, queue_code=queue,
                                                            assignee_id=assignee, note=_text(raw, "note", 2000),
                                                            live=runtime.live))
    except KefuError as exc:
        return await _desk_error(request, actor, number, exc)
    return RedirectResponse(f"/desk/tickets/{number}", status_code=303)


def _split_tags(value: str) -> list[str]:
    return [t for t in value.replace("，", ",").replace(" ", ",").split(",") if t.strip()]


@router.post("/desk/tickets/{number}/tags", dependencies=[Depends(csrf_protect)])
async def desk_tags(request: Request, number: str, actor: Actor = Depends(desk_only)) -> Response:
    raw = await request.form()
    db, runtime = get_db(request), get_runtime(request)
    remove = [v for v in raw.getlist("remove") if isinstance(v, str)]
    try:
        await run_in_threadpool(lambda: svc.tag_ticket(db, actor, number, runtime.clock,
                                                       add=_split_tags(_text(raw, "add", 500)), remove=remove))
    except KefuError as exc:
        return await _desk_error(request, actor, number, exc)
    return RedirectResponse(f"/desk/tickets/{number}", status_code=303)


@router.post("/desk/tickets/{number}/compensation", dependencies=[Depends(csrf_protect)])
async def desk_compensation(request: Request, number: str, actor: Actor = Depends(agents_only)) -> Response:
    raw = await request.form()
    db, runtime = get_db(request), get_runtime(request)
    try:
        await run_in_threadpool(comp_svc.request_compensation, db, actor, number, _text(raw, "kind", 32),
                                _text(raw, "amount", 20), _text(raw, "reason", 1000), runtime.desk, runtime.clock)
    except KefuError as exc:
        return await _desk_error(request, actor, number, exc)
    return RedirectResponse(f"/desk/tickets/{number}", status_code=303)


@router.post("/desk/tickets/{number}/compensation/{request_id}", dependencies=[Depends(csrf_protect)])
async def desk_compensation_decide(request: Request, number: str, request_id: int,
                                   actor: Actor = Depends(agents_only)) -> Response:
    raw = await request.form()
    db, runtime = get_db(request), get_runtime(request)
    approve = _text(raw, "decision") == "approve"
    try:
        await run_in_threadpool(lambda: comp_svc.decide_compensation(
            db, actor, request_id, approve, _text(raw, "note", 1000), runtime.clock, number=number))
    except KefuError as exc:
        return await _desk_error(request, actor, number, exc, {"failed_compensation": request_id})
    return RedirectResponse(f"/desk/tickets/{number}", status_code=303)


# ── the desk: an after-sales application for the ticket's customer ─────────────────────────


def _apply_context(request: Request, actor: Actor, number: str, order_id: str, line: int) -> dict[str, Any]:
    db = get_db(request)
    view = svc.get_ticket(db, actor, number)
    with db.read() as uow:
        order = orders_repo.get_order(uow.session, order_id)
    if order is None or order.customer_id != view.ticket.customer_id:
        raise NotFound("order_not_found", "订单不存在。", "Order not found.", order_id=order_id)
    the_line = next((ln for ln in order.lines if ln.line_no == line), None)
    if the_line is None:
        raise NotFound("line_out_of_range", f"订单没有第 {line} 行商品。", f"The order has no line {line}.")
    return {"t": view.ticket, "order": order, "line": the_line, "types": list(TYPE_LABELS),
            "reasons": list(REASON_LABELS)}


def _apply_page(request: Request, actor: Actor, number: str, order_id: str, line: int, form: ApplyForm,
                error: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    context = _apply_context(request, actor, number, order_id, line)
    return tpage(request, "desk/ticket_apply.html", {**context, "form": form, "error": error},
                 status_code=status_code)


@router.get("/desk/tickets/{number}/apply/{order_id}/{line}")
def desk_apply(request: Request, number: str, order_id: str, line: int,
               actor: Actor = Depends(agents_only)) -> Response:
    return _apply_page(request, actor, number, order_id, line, ApplyForm())


def _submit_for_customer(request: Request, actor: Actor, number: str, order_id: str, line: int,
                         form: ApplyForm) -> str:
    """Submit the application as the agent, then link it in the ticket with an internal note."""
    db, runtime = get_db(request), get_runtime(request)
    _apply_context(request, actor, number, order_id, line)        # the order must be this customer's
    app = aftersales_svc.submit_application(db, actor, form.request(order_id, line), runtime.book, runtime.clock)
    status = APPLICATION_STATUS_LABELS[ApplicationStatus(app.status)]
    kind = TYPE_LABELS.get(app.type, (app.type, app.type))
    note = (f"已为顾客提交售后申请 {app.number}（订单 {order_id} 第 {line + 1} 件，{kind[0]}），"
            f"审核结果：{status[0]}。/desk/aftersales/{app.number}")
    svc.post_message(db, actor, number, note, runtime.desk, runtime.clock, internal=True, live=runtime.live)
    return app.number


@router.post("/desk/tickets/{number}/apply/{order_id}/{line}", dependencies=[Depends(csrf_protect)])
async def desk_apply_submit(request: Request, number: str, order_id: str, line: int,
                            actor: Actor = Depends(agents_only)) -> Response:
    raw = await request.form()
    form = ApplyForm.parse(raw)
    try:
        await run_in_threadpool(_submit_for_customer, request, actor, number, order_id, line, form)
    except KefuError as exc:
        if exc.status == 404:
            raise
        return await run_in_threadpool(_apply_page, request, actor, number, order_id, line, form, error_of(exc),
                                       exc.status)
    return RedirectResponse(f"/desk/tickets/{number}", status_code=303)
