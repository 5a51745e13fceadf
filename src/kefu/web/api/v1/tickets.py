"""Service-desk API: tickets and complaints, messages, steps, transfer, tags, presence, queues,
the sweep.

Error codes (JSON ``{code, message: {zh, en}, detail}``):
``invalid_input`` / ``malformed_json`` (bad body), ``subject_missing``, ``body_missing``,
``customer_missing``, ``too_many_tags``, ``invalid_cursor``, ``merge_target_missing`` (422),
``reply_blocked`` (422, the reply broke the compliance rules; ``detail.violations``),
``ticket_not_found`` / ``order_not_found`` / ``queue_not_found`` / ``agent_not_found`` (404),
``illegal_transition`` / ``ticket_closed`` / ``reopen_window_passed`` / ``named_agent`` (409),
``not_allowed`` (403).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import partial
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from kefu.adapters.db.tables.service_desk import (
    CannedReply,
    CompensationRequest,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketMessage,
)
from kefu.domain.actors import AGENT_ROLES, Actor, Role
from kefu.domain.money import fmt
from kefu.domain.service.sla import SurveyScore
from kefu.domain.service.tickets import (
    CATEGORY_LABELS,
    STATUS_LABELS,
    Action,
    Category,
    Channel,
    Kind,
    Status,
)
from kefu.services import canned, compensation, satisfaction
from kefu.services import tickets as svc
from kefu.services.desk_sweep import sweep_desk
from kefu.services.uow import Database
from kefu.web.deps import current_actor, db_dep, get_db, require_roles
from kefu.web.errors import error_responses
from kefu.web.group_commit import GroupCommit, group_commit
from kefu.web.hot_route import HotRoute, openapi_body, openapi_query, parse_body, parse_query
from kefu.web.runtime import Runtime, runtime_dep, runtime_of

router = APIRouter(tags=["tickets"])

Tag = str


class TicketIn(BaseModel):
    """A new ticket. A customer opens their own (``customer_id`` is theirs); an agent names the
    customer. A complaint may name an agent by employee number (工号, D9)."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=svc.MAX_BODY)
    kind: Kind = Kind.CONSULTATION
    category: Category = Category.OTHER
    channel: Channel = Channel.WEB_CHAT
    customer_id: str | None = Field(None, max_length=32)
    order_id: str | None = Field(None, max_length=64)
    application_number: str | None = Field(None, max_length=32)
    named_employee_no: str | None = Field(None, max_length=32)
    queue: str | None = Field(None, max_length=32, description="staff: put it in this queue")
    evidence_ids: list[int] = Field(default_factory=list, max_length=20)
    tags: list[Tag] = Field(default_factory=list, max_length=svc.MAX_TAGS)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=svc.MAX_BODY)
    internal: bool = Field(False, description="staff: an internal note the customer never sees")
    evidence_ids: list[int] = Field(default_factory=list, max_length=20)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)
    merge_into: str | None = Field(None, max_length=24)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: str | None = Field(None, max_length=32)
    assignee_id: int | None = None
    note: str = Field("", max_length=2000)


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: list[Tag] = Field(default_factory=list, max_length=svc.MAX_TAGS)
    remove: list[Tag] = Field(default_factory=list, max_length=svc.MAX_TAGS)


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    online: bool


class MessageOut(BaseModel):
    id: int
    author_role: str
    author_name: str
    visibility: str
    body: str
    channel: str
    created_at: datetime


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    message_id: int | None


class EventOut(BaseModel):
    at: datetime
    actor_role: str
    actor_name: str
    action: str
    from_status: str | None
    to_status: str
    note: str


class TicketOut(BaseModel):
    number: str
    subject: str
    kind: str
    category: str
    category_label: str
    channel: str
    status: str
    status_label: str
    priority: int
    customer_id: str | None
    customer_level: str
    order_id: str | None
    queue_id: int
    assignee_id: int | None
    escalated: bool
    reopen_count: int
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    queue: str | None = None
    assignee_name: str | None = None
    tags: list[str] | None = None
    actions: list[str] | None = None
    messages: list[MessageOut] | None = None
    attachments: list[AttachmentOut] | None = None
    history: list[EventOut] | None = None


class QueuePageOut(BaseModel):
    tickets: list[TicketOut]
    next_cursor: str | None


def ticket_out(t: Ticket, locale: str = "zh") -> TicketOut:
    i = 0 if locale == "zh" else 1
    return TicketOut(
        number=t.number, subject=t.subject, kind=t.kind, category=t.category,
        category_label=CATEGORY_LABELS[Category(t.category)][i], channel=t.channel, status=t.status,
        status_label=STATUS_LABELS[Status(t.status)][i], priority=t.priority, customer_id=t.customer_id,
        customer_level=t.customer_level, order_id=t.order_id, queue_id=t.queue_id, assignee_id=t.assignee_id,
        escalated=t.escalated, reopen_count=t.reopen_count, created_at=t.created_at, updated_at=t.updated_at,
        first_response_at=t.first_response_at, resolved_at=t.resolved_at)


def _message_out(m: TicketMessage) -> MessageOut:
    return MessageOut(id=m.id, author_role=m.author_role, author_name=m.author_name, visibility=m.visibility,
                      body=m.body, channel=m.channel, created_at=m.created_at)


def _attachment_out(a: TicketAttachment) -> AttachmentOut:
    return AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size,
                         message_id=a.message_id)


def _event_out(e: TicketEvent) -> EventOut:
    return EventOut(at=e.at, actor_role=e.actor_role, actor_name=e.actor_name, action=e.action,
                    from_status=e.from_status, to_status=e.to_status, note=e.note)


def view_out(view: svc.TicketView) -> TicketOut:
    out = ticket_out(view.ticket)
    out.queue = view.queue.code
    out.assignee_name = view.assignee_name
    out.tags = view.tags
    out.actions = [a.value for a in view.actions]
    out.messages = [_message_out(m) for m in view.messages]
    out.attachments = [_attachment_out(a) for a in view.attachments]
    out.history = [_event_out(e) for e in view.events]
    return out


# The two hot routes (opening a ticket, the queue listing) answer with JSON written by orjson
# from plain rows: no ORM objects, no response-model re-validation (FastAPI skips it for a
# returned Response). The shape is exactly ``TicketOut`` / ``QueuePageOut`` (the OpenAPI document
# keeps them as response models; tests compare the two serialisations).


def _json(content: Any, status_code: int = 200) -> Response:
    # OPT_UTC_Z: UTC datetimes end in "Z", as pydantic writes them
    return Response(orjson.dumps(content, option=orjson.OPT_UTC_Z), status_code=status_code,
                    media_type="application/json")


#: ``ticket_out``'s labels (Chinese), by the stored value
_CATEGORY_ZH = {c.value: labels[0] for c, labels in CATEGORY_LABELS.items()}
_STATUS_ZH = {s.value: labels[0] for s, labels in STATUS_LABELS.items()}


def ticket_json(t: Any) -> dict[str, Any]:
    """:func:`ticket_out` as a dict ready for JSON, from anything with the ticket's attributes
    (a row of :data:`svc.QUEUE_PAGE_COLUMNS`, a ``Ticket``)."""
    return {
        "number": t.number, "subject": t.subject, "kind": t.kind, "category": t.category,
        "category_label": _CATEGORY_ZH[t.category], "channel": t.channel, "status": t.status,
        "status_label": _STATUS_ZH[t.status], "priority": t.priority, "customer_id": t.customer_id,
        "customer_level": t.customer_level, "order_id": t.order_id, "queue_id": t.queue_id,
        "assignee_id": t.assignee_id, "escalated": t.escalated, "reopen_count": t.reopen_count,
        "created_at": t.created_at, "updated_at": t.updated_at, "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at, "queue": None, "assignee_name": None, "tags": None, "actions": None,
        "messages": None, "attachments": None, "history": None}


def opened_json(o: svc.OpenedTicket) -> dict[str, Any]:
    """:func:`view_out` of a ticket just opened, from the values written."""
    out = ticket_json(SimpleNamespace(**o.values))
    out.update(
        queue=o.queue_code, assignee_name=o.assignee_name, tags=o.tags, actions=[a.value for a in o.actions],
        messages=[{"id": m["id"], "author_role": m["author_role"], "author_name": m["author_name"],
                   "visibility": m["visibility"], "body": m["body"], "channel": m["channel"],
                   "created_at": m["created_at"]} for m in o.messages],
        attachments=[{"id": a["id"], "filename": a["filename"], "content_type": a["content_type"],
                      "size": a["size"], "message_id": a["message_id"]} for a in o.attachments],
        history=[{"at": e["at"], "actor_role": e["actor_role"], "actor_name": e["actor_name"], "action": e["action"],
                  "from_status": e["from_status"], "to_status": e["to_status"], "note": e["note"]}
                 for e in o.events])
    return out


def _page_json(tickets: Iterable[Any], next_cursor: str | None) -> Response:
    return _json({"tickets": [ticket_json(t) for t in tickets], "next_cursor": next_cursor})


async def open_ticket(request: Request) -> Response:
    """Open a consultation or a complaint; it is routed, ranked, clocked and assigned at once.

    Body: ``TicketIn``. The desk's busiest write: a direct route (:mod:`kefu.web.hot_route`)."""
    actor = await current_actor(request)                  # 401 before anything about the body
    body = parse_body(await request.body(), TicketIn)
    db, runtime = get_db(request), runtime_of(request.app)
    req = svc.TicketRequest(
        subject=body.subject, body=body.body, channel=body.channel, category=body.category, kind=body.kind,
        customer_id=body.customer_id, order_id=body.order_id, application_number=body.application_number,
        named_employee_no=body.named_employee_no, queue_code=body.queue if actor.role in AGENT_ROLES else None,
        evidence_ids=tuple(body.evidence_ids), tags=tuple(body.tags))
    # group commit (kefu.web.group_commit): the tickets this process opens at once share a transaction
    openings: GroupCommit[svc.TicketDraft, svc.OpenedTicket | svc.TicketView] = group_commit(
        db, "tickets", partial(svc.open_ticket_drafts, db))
    opened = await openings.run(
        partial(svc.prepare_ticket, db, actor, req, runtime.desk, runtime.clock, live=runtime.live))
    if isinstance(opened, svc.TicketView):
        return _json(view_out(opened).model_dump(mode="json"), 201)
    return _json(opened_json(opened), 201)


#: registered on the app ahead of every router (kefu.web.hot_route)
class QueueQuery(BaseModel):
    """``GET /api/v1/tickets``'s query: which open tickets, from where on, how many."""

    queue: str | None = Field(None, max_length=32, description="a queue's code (staff)")
    mine: bool = Field(False, description="only the tickets assigned to me")
    unassigned: bool = Field(False, description="only the tickets nobody has yet")
    cursor: str | None = Field(None, max_length=40, description="the previous page's next_cursor")
    limit: int = Field(50, ge=1, le=200)


async def list_tickets(request: Request) -> Response:
    """A customer's own tickets; for staff and sellers the open-ticket queue in working order
    (priority, then age), one keyset page at a time (``next_cursor``).

    The agents' hottest read: a direct route (:mod:`kefu.web.hot_route`)."""
    actor = await current_actor(request)                  # 401 before anything about the query
    q = parse_query(request, QueueQuery)
    db = get_db(request)
    if actor.role is Role.CUSTOMER:
        return _page_json(await run_in_threadpool(svc.list_customer_tickets, db, actor, q.limit), None)
    if db.is_sqlite:
        # On the embedded database the listing is three short reads of SQLite's page cache, done
        # in the event loop — cheaper than the hop to the thread pool and back (measured:
        # bench/README.md, service desk). A server database is a network round trip: that waits
        # in the pool.
        page = svc.list_queue_rows(db, actor, queue_code=q.queue, mine=q.mine, unassigned=q.unassigned,
                                   cursor=q.cursor, limit=q.limit)
    else:
        page = await run_in_threadpool(svc.list_queue_rows, db, actor, queue_code=q.queue, mine=q.mine,
                                       unassigned=q.unassigned, cursor=q.cursor, limit=q.limit)
    return _page_json(page.rows, page.next_cursor)


#: registered on the app ahead of every router (kefu.web.hot_route)
HOT_ROUTES = [
    HotRoute("/tickets", open_ticket, {
        "methods": ["POST"], "status_code": 201, "response_model": TicketOut, "tags": ["tickets"],
        "responses": error_responses(401, 403, 404), "openapi_extra": openapi_body(TicketIn)}),
    HotRoute("/tickets", list_tickets, {
        "methods": ["GET"], "response_model": QueuePageOut, "tags": ["tickets"],
        "responses": error_responses(401, 403, 404), "openapi_extra": openapi_query(QueueQuery)}),
]


@router.get("/tickets/search", response_model=list[TicketOut], responses=error_responses(401, 403))
def search(q: str = Query(min_length=1, max_length=200), limit: int = Query(20, ge=1, le=100),
           actor: Actor = Depends(current_actor), db: Database = Depends(db_dep)) -> list[TicketOut]:
    """Full-text search over subjects and messages (Chinese words, order and waybill numbers)."""
    return [ticket_out(t) for t in svc.search_tickets(db, actor, q, limit)]


@router.get("/tickets/{number}", response_model=TicketOut, responses=error_responses(401, 404))
def get_ticket(number: str, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep)) -> TicketOut:
    """One ticket with its messages (internal notes for staff only), attachments and history."""
    return view_out(svc.get_ticket(db, actor, number))


#: content types a browser may show inline; anything else (an e-mail's .html, .docx) downloads
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"})


@router.get("/tickets/{number}/attachments/{attachment_id}", response_class=Response,
            responses=error_responses(401, 404))
def download_attachment(number: str, attachment_id: int, actor: Actor = Depends(current_actor),
                        db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> Response:
    """A ticket's file (evidence, a screenshot, an e-mail attachment)."""
    row, data = svc.read_attachment(db, runtime.storage, actor, number, attachment_id)
    inline = row.content_type in INLINE_TYPES
    name = quote(row.filename)
    return Response(data, media_type=row.content_type if inline else "application/octet-stream", headers={
        "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{name}"})


@router.post("/tickets/{number}/messages", status_code=201, response_model=MessageOut,
             responses=error_responses(401, 403, 404, 409))
def post_message(number: str, body: MessageIn, actor: Actor = Depends(current_actor),
                 db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> MessageOut:
    """Reply (staff and seller replies pass the compliance check first) or add an internal note."""
    message = svc.post_message(db, actor, number, body.body, runtime.desk, runtime.clock, internal=body.internal,
                               evidence_ids=tuple(body.evidence_ids), live=runtime.live)
    return _message_out(message)


@router.post("/tickets/{number}/actions/{action}", response_model=TicketOut,
             responses=error_responses(401, 403, 404, 409))
def step(number: str, action: Action, body: StepIn | None = None, actor: Actor = Depends(current_actor),
         db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> TicketOut:
    """Take one step: confirm, process, wait_customer, resume, resolve, accept, close, reopen, merge."""
    b = body or StepIn()
    svc.transition_ticket(db, actor, number, action, runtime.desk, runtime.clock, note=b.note,
                          merge_into=b.merge_into, live=runtime.live)
    return view_out(svc.get_ticket(db, actor, number))


@router.post("/tickets/{number}/transfer", response_model=TicketOut, responses=error_responses(401, 403, 404, 409))
def transfer(number: str, body: TransferIn, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
             runtime: Runtime = Depends(runtime_dep)) -> TicketOut:
    """Move the ticket to another queue and/or agent."""
    svc.transfer_ticket(db, actor, number, runtime.clock, queue_code=body.queue, assignee_id=body.assignee_id,
                        note=body.note, live=runtime.live)
    return view_out(svc.get_ticket(db, actor, number))


@router.post("/tickets/{number}/tags", response_model=list[str], responses=error_responses(401, 403, 404))
def tags(number: str, body: TagsIn, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
         runtime: Runtime = Depends(runtime_dep)) -> list[str]:
    return svc.tag_ticket(db, actor, number, runtime.clock, add=body.add, remove=body.remove)


@router.post("/desk/presence", responses=error_responses(401, 403))
def presence(body: PresenceIn, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
             runtime: Runtime = Depends(runtime_dep)) -> dict[str, object]:
    """Go online (and take waiting tickets up to capacity) or offline."""
    taken = svc.set_presence(db, actor, body.online, runtime.clock)
    return {"online": body.online, "assigned": taken}


@router.post("/desk/sweep", responses=error_responses(401, 403))
def sweep(actor: Actor = Depends(require_roles(Role.ADMIN, Role.SUPERVISOR)), db: Database = Depends(db_dep),
          runtime: Runtime = Depends(runtime_dep)) -> dict[str, int]:
    """Run the SLA sweep now (warnings, breaches and escalations, auto-close); it also runs by itself."""
    result = sweep_desk(db, runtime.desk, runtime.clock)
    return {"warned": result.warned, "breached": result.breached, "closed": result.closed, "indexed": result.indexed}


# ── satisfaction (D7) ──────────────────────────────────────────────────────────────────────


class SurveyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: SurveyScore
    comment: str = Field("", max_length=1000)


class SurveyOut(BaseModel):
    ticket: str
    score: str | None
    comment: str
    answered_at: datetime | None


@router.post("/tickets/{number}/survey", response_model=SurveyOut, responses=error_responses(401, 404, 409))
def answer_survey(number: str, body: SurveyIn, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
                  runtime: Runtime = Depends(runtime_dep)) -> SurveyOut:
    """The customer rates the resolution once: very_satisfied … very_dissatisfied, and a comment."""
    survey = satisfaction.answer_survey(db, actor, number, body.score.value, body.comment, runtime.desk,
                                        runtime.clock)
    return SurveyOut(ticket=number, score=survey.score, comment=survey.comment, answered_at=survey.answered_at)


class SatisfactionRowOut(BaseModel):
    group: str
    key: str
    name: str
    month: str
    responses: int
    satisfied: int
    rate: float | None
    band: str | None


@router.get("/desk/satisfaction", response_model=list[SatisfactionRowOut], responses=error_responses(401, 403))
def satisfaction_report(actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
                        runtime: Runtime = Depends(runtime_dep)) -> list[SatisfactionRowOut]:
    """Satisfaction per agent, queue, seller and month (D7); sellers flagged by D8's bands."""
    return [SatisfactionRowOut(group=r.group, key=r.key, name=r.name, month=r.month, responses=r.responses,
                               satisfied=r.satisfied, rate=float(r.rate) if r.rate is not None else None,
                               band=r.band.value if r.band else None)
            for r in satisfaction.satisfaction_report(db, actor, runtime.desk)]


# ── compensation (D10) ─────────────────────────────────────────────────────────────────────


class CompensationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(pattern="^(shipping_subsidy|goodwill)$")
    amount: Decimal = Field(gt=0, max_digits=8, decimal_places=2)
    reason: str = Field("", max_length=1000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str = Field("", max_length=1000)


class CompensationOut(BaseModel):
    id: int
    kind: str
    amount: str
    reason: str
    approver_level: str
    status: str
    decision_note: str


def _compensation_out(row: CompensationRequest) -> CompensationOut:
    return CompensationOut(id=row.id, kind=row.kind, amount=fmt(row.amount), reason=row.reason,
                           approver_level=row.approver_level, status=row.status, decision_note=row.decision_note)


@router.post("/tickets/{number}/compensation", status_code=201, response_model=CompensationOut,
             responses=error_responses(401, 403, 404, 409))
def request_compensation(number: str, body: CompensationIn, actor: Actor = Depends(current_actor),
                         db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> CompensationOut:
    """Ask for a shipping subsidy or goodwill on a complaint; D10 says who must approve it."""
    return _compensation_out(compensation.request_compensation(db, actor, number, body.kind, body.amount, body.reason,
                                                               runtime.desk, runtime.clock))


@router.get("/tickets/{number}/compensation", response_model=list[CompensationOut],
            responses=error_responses(401, 404))
def list_compensation(number: str, actor: Actor = Depends(current_actor),
                      db: Database = Depends(db_dep)) -> list[CompensationOut]:
    return [_compensation_out(r) for r in compensation.list_compensation(db, actor, number)]


@router.post("/compensation/{request_id}/decision", response_model=CompensationOut,
             responses=error_responses(401, 403, 404, 409))
def decide_compensation(request_id: int, body: DecisionIn, actor: Actor = Depends(current_actor),
                        db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> CompensationOut:
    """Approve or refuse: agents up to ¥20, supervisors up to ¥200, above that a manager (D10)."""
    return _compensation_out(compensation.decide_compensation(db, actor, request_id, body.approve, body.note,
                                                              runtime.clock))


# ── canned replies and macros ──────────────────────────────────────────────────────────────


class CannedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100)
    body: str = Field(min_length=1, max_length=5000)
    category: Category | None = None
    tags: list[str] = Field(default_factory=list, max_length=10)
    step: Action | None = None


class CannedOut(BaseModel):
    id: int
    title: str
    body: str
    category: str | None
    tags: list[str]
    step: str | None


class FilledOut(BaseModel):
    id: int
    body: str
    tags: list[str]
    step: str | None


def _canned_out(row: CannedReply) -> CannedOut:
    actions = row.actions or {}
    return CannedOut(id=row.id, title=row.title, body=row.body, category=row.category,
                     tags=list(actions.get("tags", [])), step=actions.get("step"))


@router.get("/desk/canned", response_model=list[CannedOut], responses=error_responses(401, 403))
def list_canned(category: Category | None = None, actor: Actor = Depends(current_actor),
                db: Database = Depends(db_dep)) -> list[CannedOut]:
    return [_canned_out(r) for r in canned.list_canned(db, actor, category.value if category else None)]


@router.post("/desk/canned", status_code=201, response_model=CannedOut, responses=error_responses(401, 403))
def create_canned(body: CannedIn, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
                  runtime: Runtime = Depends(runtime_dep)) -> CannedOut:
    """A canned reply or macro; variables: {customer_name} {order_id} {ticket_number} {agent_name}
    {application_number}."""
    actions: dict[str, object] = {"tags": body.tags, **({"step": body.step.value} if body.step else {})}
    return _canned_out(canned.save_canned(db, actor, body.title, body.body, runtime.clock,
                                          category=body.category.value if body.category else None, actions=actions))


@router.get("/tickets/{number}/canned/{reply_id}", response_model=FilledOut, responses=error_responses(401, 403, 404))
def fill_canned(number: str, reply_id: int, actor: Actor = Depends(current_actor),
                db: Database = Depends(db_dep)) -> FilledOut:
    """The canned reply with this ticket's variables filled in."""
    filled = canned.fill_canned(db, actor, number, reply_id)
    return FilledOut(id=reply_id, body=filled.body, tags=filled.tags, step=filled.step.value if filled.step else None)
