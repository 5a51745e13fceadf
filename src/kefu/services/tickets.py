"""Service-desk use cases: open a ticket, reply, step it through its states, assign, transfer,
tag, merge, and read it back — each one action in one transaction (DESIGN.md conventions 4–5).

Who sees a ticket (DESIGN.md §Security, issue 4 "cannot read one another's tickets"):
- a customer: their own tickets, public messages only;
- a seller: tickets about their own goods, public messages only;
- an agent: tickets of the queues they work and tickets assigned to them — never a complaint
  that names them (D9);
- a supervisor or an admin: every ticket.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, and_, bindparam, exists, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from kefu.adapters.db.prepared import CapturedInserts, Prepared, PreparedSet, insert_returning_id, v_params
from kefu.adapters.db.tables.aftersales import Application, EvidenceFile
from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.catalog import Customer, Order
from kefu.adapters.db.tables.service_desk import (
    OPEN_SQL,
    OPEN_STATUS_VALUES,
    AgentProfile,
    ComplianceViolation,
    Queue,
    QueueMember,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketMessage,
    TicketSla,
    TicketTag,
)
from kefu.adapters.search.ticket_index import (
    add_index_rows,
    flush_staged,
    has_staged,
    index_rows,
    index_text,
    matching_ticket_ids_sql,
)
from kefu.domain.actors import AGENT_ROLES, Actor, Role
from kefu.domain.clock import Clock, shanghai_date
from kefu.domain.compliance.model import KIND_LABELS
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.service.tickets import (
    OPEN_STATUSES,
    STATUS_LABELS,
    Action,
    Category,
    Channel,
    Kind,
    Status,
    available_actions,
    next_status,
)
from kefu.services.desk_clocks import (
    DeskRules,
    clock_rows,
    meet_clocks,
    resume_clocks,
    start_clocks,
)
from kefu.services.notifications import Notice, queue_customer_messages, queue_email
from kefu.services.ports import LiveEvents, Storage
from kefu.services.uow import Database

#: the queue a ticket goes to when no queue takes its category
DEFAULT_QUEUE = "general"
#: complaints have their own queue (D4 targets, supervisors watch it)
COMPLAINT_QUEUE = "complaints"
MAX_BODY = 10_000
MAX_TAGS = 20

#: "still open", rendered as literals in the partial indexes' own order: SQLite uses a partial
#: index (ix_tickets_queue_open, ix_tickets_assignee_open) only when the query repeats the index's
#: condition with the same literal values — with bound parameters it scans (measured by
#: bench/desk: the queue listing at 1M tickets)
_OPEN_VALUES: Any = bindparam("open_statuses", OPEN_STATUS_VALUES, expanding=True, literal_execute=True)
assert set(OPEN_STATUS_VALUES) == {s.value for s in OPEN_STATUSES}
#: the condition "this ticket is still open", for every query on tickets
IS_OPEN = Ticket.status.in_(_OPEN_VALUES)
#: the same condition as literal SQL, for prepared statements (:mod:`kefu.adapters.db.prepared`
#: takes no literal-execute parameters); the statements using it read ``tickets`` unaliased
IS_OPEN_SQL = text(f"tickets.{OPEN_SQL}")


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """What opens a ticket. A customer opens their own; staff open one for ``customer_id``; an
    inbound channel (the system actor) opens one for a ``contact`` (an address, an OpenID)."""

    subject: str
    body: str
    channel: Channel = Channel.WEB_CHAT
    category: Category = Category.OTHER
    kind: Kind = Kind.CONSULTATION
    customer_id: str | None = None
    contact: str | None = None
    contact_name: str = ""
    order_id: str | None = None
    application_number: str | None = None
    named_employee_no: str | None = None
    queue_code: str | None = None
    evidence_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """A message that happened before the ticket existed (the smart assistant's conversation),
    kept on the ticket with its own author and time: ``customer``, ``bot``, or an internal
    ``system`` note for the agents."""

    role: str
    text: str
    at: datetime
    internal: bool = False


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as one reader may see it: internal notes only for staff."""

    ticket: Ticket
    queue: Queue
    messages: list[TicketMessage]
    attachments: list[TicketAttachment]
    events: list[TicketEvent]
    tags: list[str]
    assignee_name: str | None
    actions: list[Action] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TicketHead:
    """What visibility rules and live events read of a ticket, without an ORM object."""

    number: str
    status: str
    customer_id: str | None
    seller_id: str | None
    queue_id: int
    assignee_id: int | None
    named_employee_no: str | None


# ── visibility ─────────────────────────────────────────────────────────────────────────────


def _agent_queues(conn: Connection, user_id: int) -> list[int]:
    return list(conn.scalars(select(QueueMember.queue_id).where(QueueMember.user_id == user_id)))


def _employee_no(conn: Connection, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return conn.scalar(select(User.employee_no).where(User.id == user_id))


def may_see_ticket(conn: Connection, actor: Actor, ticket: Ticket | TicketHead) -> bool:
    """The visibility rule of this module's docstring."""
    if actor.role is Role.CUSTOMER:
        return actor.customer_id is not None and ticket.customer_id == actor.customer_id
    if actor.role is Role.SELLER:
        return actor.seller_id is not None and ticket.seller_id == actor.seller_id
    if actor.role in (Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM):
        return True
    if actor.role is Role.AGENT and actor.user_id is not None:
        if ticket.named_employee_no and ticket.named_employee_no == _employee_no(conn, actor.user_id):
            return False                                               # D9: never the named agent
        return ticket.assignee_id == actor.user_id or ticket.queue_id in _agent_queues(conn, actor.user_id)
    return False


def _not_found(number: str) -> NotFound:
    return NotFound("ticket_not_found", "工单不存在。", "Ticket not found.", number=number)


def load_ticket(session: Session, actor: Actor, number: str, *, lock: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.number == number)
    if lock and session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    ticket = session.scalars(query).first()
    if ticket is None or not may_see_ticket(session.connection(), actor, ticket):
        raise _not_found(number)
    return ticket


# ── routing and assignment ─────────────────────────────────────────────────────────────────


_QUEUES = select(Queue.id, Queue.code, Queue.categories, Queue.skill, Queue.strategy).where(
    Queue.is_active.is_(True)).order_by(Queue.id)


def _queue_for(conn: Connection, req: TicketRequest) -> Any:
    """The queue a new ticket goes to: the one asked for (staff), the complaints queue for a
    complaint, else the first queue that takes its category, else ``general``."""
    queues = _OPEN_Q.of(conn)["queues"].all(conn)
    by_code = {q.code: q for q in queues}
    code = req.queue_code
    if code is None:
        if req.kind is Kind.COMPLAINT:
            code = COMPLAINT_QUEUE
        else:
            code = next((q.code for q in queues if req.category.value in (q.categories or [])), DEFAULT_QUEUE)
    queue = by_code.get(code) or by_code.get(DEFAULT_QUEUE)
    if queue is None:
        raise InputError("queue_not_found", "没有可接收此工单的队列，请联系管理员设置队列。",
                         "No queue takes this ticket; ask an admin to set up queues.", queue=code)
    return queue


#: the online members of a queue with their open load (``desk_agents.open_load``, kept by the
#: database — migration 0009); the SQL does not order them: :class:`_Candidate`'s keys do, in
#: Python, so a batch can keep the order current as it assigns
_CANDIDATES = PreparedSet(queue=select(
    AgentProfile.user_id, AgentProfile.skills, AgentProfile.capacity, AgentProfile.open_load.label("load"),
    User.display_name, AgentProfile.last_assigned_at)
    .join(QueueMember, QueueMember.user_id == AgentProfile.user_id)
    .join(User, User.id == AgentProfile.user_id)
    .where(QueueMember.queue_id == bindparam("queue_id"), AgentProfile.online.is_(True), User.is_active.is_(True)))


@dataclass(slots=True)
class _Candidate:
    user_id: int
    skills: list[str]
    capacity: int
    load: int
    name: str
    last_assigned_at: datetime | None

    def idle_key(self) -> tuple[Any, ...]:
        """Longest since the last assignment first, never assigned before anyone; then by id."""
        last = self.last_assigned_at
        return (last is not None, last.timestamp() if last is not None else 0.0, self.user_id)

    def load_key(self) -> tuple[Any, ...]:
        return (self.load, *self.idle_key())


def _queue_candidates(conn: Connection, queue: Any) -> list[_Candidate]:
    return [_Candidate(int(r.user_id), list(r.skills or []), int(r.capacity), int(r.load), r.display_name,
                       r.last_assigned_at) for r in _CANDIDATES.of(conn)["queue"].all(conn, queue_id=queue.id)]


def _choose(queue: Any, candidates: list[_Candidate], excluded: Iterable[int] = ()) -> _Candidate | None:
    """Issue 4 §3: least load first for ``least_load`` queues (the longest idle breaks a tie),
    longest since their last assignment for ``round_robin`` ones; only members with the queue's
    skill and room under their capacity."""
    key = _Candidate.idle_key if queue.strategy == "round_robin" else _Candidate.load_key
    skip = set(excluded)
    for c in sorted(candidates, key=key):
        if c.user_id in skip or (queue.skill and queue.skill not in c.skills):
            continue
        if c.load < c.capacity:
            return c
    return None


def pick_agent(conn: Connection, queue: Queue | Row[Any], *, exclude: Iterable[int] = ()) -> int | None:
    """Issue 4 §3: the online member of ``queue`` with room under their capacity (and the queue's
    skill) — least load first for ``least_load`` queues, longest since their last assignment for
    ``round_robin`` ones (and as the tie-break of least load). None when nobody is free."""
    found = _choose(queue, _queue_candidates(conn, queue), exclude)
    return None if found is None else found.user_id


class _Assigner:
    """:func:`pick_agent` for the tickets of one write transaction: each queue's candidates and
    their open loads are read once and kept current as the transaction assigns (load + 1, last
    assigned now; the database's own count follows by trigger), so every ticket gets the agent
    :func:`pick_agent` would give it, ticket after ticket."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._queues: dict[int, list[_Candidate]] = {}
        #: the agents given tickets in this transaction, and when the last one was
        self.last_assigned: dict[int, datetime] = {}

    def pick(self, queue: Any) -> tuple[int, str] | None:
        candidates = self._queues.get(queue.id)
        if candidates is None:
            candidates = self._queues[queue.id] = _queue_candidates(self._conn, queue)
        found = _choose(queue, candidates)
        return None if found is None else (found.user_id, found.name)

    def assigned(self, user_id: int, now: datetime) -> None:
        """A ticket of this transaction went to ``user_id`` (in whichever queues they work); their
        ``last_assigned_at`` is written once, at the end of the transaction (:attr:`last_assigned`)."""
        self.last_assigned[user_id] = now
        for candidates in self._queues.values():
            for c in candidates:
                if c.user_id == user_id:
                    c.load += 1
                    c.last_assigned_at = now


def _named_agent_supervisor(conn: Connection, employee_no: str | None) -> tuple[int | None, int | None] | None:
    """D9: (the named agent's user id, their supervisor's user id); None when no one is named."""
    if not employee_no or not employee_no.strip():
        return None
    q = _OPEN_Q.of(conn)
    agent_id = q["agent_by_employee_no"].scalar(conn, employee_no=employee_no.strip())
    if agent_id is None:
        return None, None
    return agent_id, q["supervisor"].scalar(conn, user_id=agent_id)


def _assign(session: Session, ticket: Ticket, user_id: int | None, now: datetime) -> None:
    ticket.assignee_id = user_id
    if user_id is not None:
        session.execute(update(AgentProfile).where(AgentProfile.user_id == user_id).values(last_assigned_at=now))


# ── history and notices ────────────────────────────────────────────────────────────────────

_INSERT_EVENT = insert(cast(Table, TicketEvent.__table__))


def record_event(conn: Connection, ticket: Ticket, actor: Actor, action: str, before: str | None, now: datetime,
            note: str = "", data: dict[str, Any] | None = None) -> None:
    """Append one history row (append-only: nothing updates or deletes it)."""
    conn.execute(_INSERT_EVENT, {
        "ticket_id": ticket.id, "at": now, "actor_user_id": actor.user_id, "actor_role": actor.role.value,
        "actor_name": actor.display_name, "action": action, "from_status": before, "to_status": ticket.status,
        "note": note, "data": data or {}})


def notify_customer(session: Session, ticket: Ticket, event: str, zh: str, en: str, now: datetime, *,
                    email: bool = True) -> None:
    """The customer's in-app message (and e-mail) about their ticket, in the outbox."""
    if ticket.customer_id is None:
        return
    customer = session.get(Customer, ticket.customer_id)
    if customer is None:
        return
    queue_customer_messages(session.connection(), customer,
                            Notice(event=event, zh=zh, en=en, link=f"/tickets/{ticket.number}", sms=False,
                                   email=email), now)


def _reply_by_email(session: Session, ticket: Ticket, text: str, now: datetime) -> bool:
    """Issue 4 §7: a reply on an e-mail ticket goes out by e-mail, in the customer's thread
    (In-Reply-To / References their last message; the subject carries the ticket number so an
    answer finds its way back). Returns whether it did."""
    if ticket.channel != Channel.EMAIL.value:
        return False
    address = ticket.contact
    if not address and ticket.customer_id:
        customer = session.get(Customer, ticket.customer_id)
        address = customer.email if customer else None
    if not address:
        return False
    earlier = [x for x in session.scalars(select(TicketMessage.external_id).where(
        TicketMessage.ticket_id == ticket.id, TicketMessage.external_id.is_not(None)).order_by(TicketMessage.id))
        if x]
    headers = {"In-Reply-To": earlier[-1], "References": " ".join(earlier[-10:])} if earlier else {}
    subject = ticket.subject if ticket.subject.lower().startswith("re:") else f"Re: {ticket.subject}"
    queue_email(session.connection(), recipient=address, subject=f"{subject} [#{ticket.number}]", body=text,
                event="ticket_reply", now=now, customer_id=ticket.customer_id, headers=headers)
    return True


def announce(live: LiveEvents | None, ticket: Ticket | TicketHead, message: TicketMessage | None = None) -> None:
    """After commit: tell live pages what changed — the ticket's own viewers (``ticket:<number>``)
    and the agents' workspace (``desk``). Events name what changed, never its content: each
    stream reads what its viewer may see."""
    if live is None:
        return
    head = {"ticket": ticket.number, "status": ticket.status, "queue_id": ticket.queue_id,
            "assignee_id": ticket.assignee_id, "named": ticket.named_employee_no, "seller_id": ticket.seller_id}
    if message is not None:
        live.publish(f"ticket:{ticket.number}", {"type": "message", "message_id": message.id,
                                                 "visibility": message.visibility, **head})
    else:
        live.publish(f"ticket:{ticket.number}", {"type": "status", **head})
    live.publish("desk", {"type": "ticket", **head})


# ── opening ────────────────────────────────────────────────────────────────────────────────


def _clean_text(value: str, what_zh: str, what_en: str, code: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise InputError(code, f"请填写{what_zh}。", f"The {what_en} is missing.")
    if len(text) > limit:
        raise InputError(code, f"{what_zh}过长（最多 {limit} 字）。",
                         f"The {what_en} is too long (at most {limit} characters).")
    return text


def _clean_tags(tags: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(t.strip()[:32] for t in tags if t and t.strip()))
    if len(out) > MAX_TAGS:
        raise InputError("too_many_tags", f"标签最多 {MAX_TAGS} 个。", f"At most {MAX_TAGS} tags.")
    return out


_CUSTOMER = select(Customer.id, Customer.name, Customer.level, Customer.phone, Customer.email).where(
    Customer.id == bindparam("customer_id"))
_ORDER = select(Order.customer_id, Order.seller_id).where(Order.id == bindparam("order_id"))


def _customer_for(conn: Connection, actor: Actor, req: TicketRequest) -> Any:
    """The customer the ticket is for: a customer's own; the one staff name; none for a contact."""
    if actor.role is Role.CUSTOMER:
        if req.customer_id not in (None, actor.customer_id):
            raise PermissionDenied("not_allowed", "只能为自己提交工单。", "You can only open tickets for yourself.")
        customer_id = actor.customer_id
    elif actor.role is Role.SELLER:
        raise PermissionDenied("not_allowed", "商家不能代顾客提交工单。", "Sellers cannot open tickets for customers.")
    else:
        customer_id = req.customer_id
    if customer_id is None:
        if not req.contact:
            raise InputError("customer_missing", "请指定顾客。", "Name the customer.")
        return None
    customer = _OPEN_Q.of(conn)["customer"].first(conn, customer_id=customer_id)
    if customer is None:
        raise NotFound("customer_not_found", "顾客不存在。", "Customer not found.", customer_id=customer_id)
    return customer


def _order_links(conn: Connection, req: TicketRequest, customer: Any) -> tuple[str | None, str | None, int | None]:
    """(order id, seller id, application id) of the order or application the ticket is about —
    only the customer's own."""
    order_id, seller_id, application_id = req.order_id or None, None, None
    q = _OPEN_Q.of(conn)
    if order_id is not None:
        order = q["order"].first(conn, order_id=order_id)
        if order is None or (customer is not None and order.customer_id != customer.id):
            raise NotFound("order_not_found", "订单不存在。", "Order not found.", order_id=order_id)
        seller_id = order.seller_id
    if req.application_number:
        app = q["application"].first(conn, number=req.application_number)
        if app is None or (customer is not None and app.customer_id != customer.id):
            raise NotFound("application_not_found", "售后申请不存在。", "After-sales application not found.")
        application_id, order_id, seller_id = app.id, app.order_id, app.seller_id
    return order_id, seller_id, application_id


_EVIDENCE = select(EvidenceFile.id, EvidenceFile.application_id, EvidenceFile.purpose, EvidenceFile.uploaded_by,
                   EvidenceFile.filename, EvidenceFile.content_type, EvidenceFile.size, EvidenceFile.sha256,
                   EvidenceFile.storage_key).where(EvidenceFile.id == bindparam("id"))
_ATTACHMENTS = cast(Table, TicketAttachment.__table__)
_ATTACHMENT_COLUMNS = ("ticket_id", "message_id", "uploaded_by", "filename", "content_type", "size", "sha256",
                       "storage_key", "created_at")


def _attach_files(conn: Connection, actor: Actor, ticket_id: int, message_id: int | None,
                  ids: Iterable[int], now: datetime) -> list[dict[str, Any]]:
    """Copy the uploader's own unused evidence files onto the ticket (they then belong to it);
    returns the attachments written (with ``evidence_id``, the file each one came from)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    q = _OPEN_Q.of(conn)
    rows = [row for row in (q["evidence"].first(conn, id=i) for i in wanted) if row is not None]
    if len(rows) != len(wanted):
        raise NotFound("evidence_not_found", "凭证文件不存在。", "Evidence file not found.")
    for row in rows:
        if row.application_id is not None or row.purpose != "claim" or row.uploaded_by != actor.user_id:
            raise PermissionDenied("evidence_not_yours", "只能使用自己上传的凭证。",
                                   "You can only attach files you uploaded.", evidence_id=row.id)
    written = []
    for r in rows:
        q["evidence_used"].run(conn, evidence_id=r.id)
        values = {"ticket_id": ticket_id, "message_id": message_id, "uploaded_by": actor.user_id,
                  "filename": r.filename, "content_type": r.content_type, "size": r.size, "sha256": r.sha256,
                  "storage_key": r.storage_key, "created_at": now}
        attachment_id = q["insert_attachment"].scalar(conn, **{f"v_{k}": v for k, v in values.items()})
        written.append({"id": attachment_id, "evidence_id": r.id, **values})
    return written


_TICKETS = cast(Table, Ticket.__table__)
_MESSAGES = cast(Table, TicketMessage.__table__)
_EVENTS = cast(Table, TicketEvent.__table__)
_CLOCKS = cast(Table, TicketSla.__table__)
#: a Core statement: the assistant's handoff writes its bot message with it (``after_write``)
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
_SEEN_MESSAGE = select(TicketMessage.ticket_id).where(
    TicketMessage.channel == bindparam("channel"), TicketMessage.external_id == bindparam("external_id")).limit(1)
_TICKET_COLUMNS = tuple(c.name for c in _TICKETS.columns if c.name != "id")
_MESSAGE_COLUMNS = ("ticket_id", "author_user_id", "author_role", "author_name", "visibility", "body", "channel",
                    "external_id", "created_at")


#: every statement of opening a ticket, prepared (:mod:`kefu.adapters.db.prepared`): a ticket
#: is about twenty statements, and the Core machinery around each cost more than SQLite's work
_OPEN_Q = PreparedSet(
    customer=_CUSTOMER, order=_ORDER, queues=_QUEUES,
    application=select(Application.id, Application.customer_id, Application.order_id, Application.seller_id)
    .where(Application.number == bindparam("number")),
    agent_by_employee_no=select(User.id).where(User.employee_no == bindparam("employee_no")),
    supervisor=select(AgentProfile.supervisor_id).where(AgentProfile.user_id == bindparam("user_id")),
    user_name=select(User.display_name).where(User.id == bindparam("user_id")),
    seen=_SEEN_MESSAGE, ticket=select(*_TICKETS.columns).where(_TICKETS.c.id == bindparam("id")),
    insert_ticket=insert_returning_id(_TICKETS, _TICKET_COLUMNS),
    numbered=update(_TICKETS).where(_TICKETS.c.id == bindparam("ticket")).values(number=bindparam("b_number")),
    assigned_at=update(AgentProfile).where(AgentProfile.user_id == bindparam("agent"))
    .values(last_assigned_at=bindparam("now")),
    insert_message=insert_returning_id(_MESSAGES, _MESSAGE_COLUMNS),
    insert_tag=insert(TicketTag).values(ticket_id=bindparam("v_ticket_id"), tag=bindparam("v_tag")),
    evidence=_EVIDENCE,
    evidence_used=update(EvidenceFile).where(EvidenceFile.id == bindparam("evidence_id")).values(purpose="ticket"),
    insert_attachment=insert_returning_id(_ATTACHMENTS, _ATTACHMENT_COLUMNS),
)


@dataclass(frozen=True, slots=True)
class _Written:
    """What opening a ticket wrote, as plain values (no ORM objects)."""

    values: dict[str, Any]                 # the tickets row, with its id and number
    queue_code: str
    assignee_name: str | None
    messages: list[dict[str, Any]]         # in id order: transcript before, first message, transcript after
    attachments: list[dict[str, Any]]
    event: dict[str, Any]                  # the ``open`` history row
    tags: list[str]

    def head(self) -> TicketHead:
        v = self.values
        return TicketHead(number=v["number"], status=v["status"], customer_id=v["customer_id"],
                          seller_id=v["seller_id"], queue_id=v["queue_id"], assignee_id=v["assignee_id"],
                          named_employee_no=v["named_employee_no"])


def open_ticket(db: Database, actor: Actor, req: TicketRequest, rules: DeskRules, clock: Clock, *,
                live: LiveEvents | None = None, history: Sequence[TranscriptEntry] = (),
                replies: Sequence[TranscriptEntry] = (),
                after_write: Callable[[Connection, Ticket], None] | None = None) -> Ticket:
    """Open a ticket (issue 4 §1–§4): route it to a queue by kind and category, rank it (D5),
    start its SLA clocks (D2–D4), assign it to a free online agent of the queue, and — for a
    complaint naming an agent (D9) — hand it to that agent's supervisor instead.

    Reference data (the customer, the order, the queues) is read, the search tokens cut (jieba)
    and the SLA due times computed before the write transaction (:func:`prepare_ticket`); the
    ticket, its first message, attachments, tags, search rows, clocks, history row and the
    customer's notice are then written with prepared INSERTs in one transaction, so the write
    lock is held for a handful of short statements. An e-mail or WeChat message delivered twice
    opens one ticket (``external_id``).

    A conversation handed over by the assistant (issue 5 §5) brings its transcript: ``history``
    is written before the first message, ``replies`` after it, each with its own author and
    time; ``after_write`` runs in the same transaction (the assistant links its session)."""
    draft = prepare_ticket(db, actor, req, rules, clock, live=live, history=history, replies=replies)
    # every statement is prepared, so the transaction skips Core's machinery too — unless
    # ``after_write`` brings Core statements of its own
    with db.write_connection() if after_write is not None else db.prepared_write() as conn:
        writer = _TransactionWriter()
        written = writer.write(conn, draft)
        writer.finish(conn)
        if after_write is not None and not isinstance(written, Ticket):
            after_write(conn, Ticket(**written.values))
    if isinstance(written, Ticket):
        return written
    announce(live, written.head())
    return Ticket(**written.values)


@dataclass(frozen=True, slots=True)
class OpenedTicket:
    """A ticket just opened, as its opener may see it — what :func:`get_ticket` would show —
    built from the values written (the API answers 201 without reading the ticket back)."""

    values: dict[str, Any]                 # the tickets row
    queue_code: str
    assignee_name: str | None
    messages: list[dict[str, Any]]         # ticket_messages rows (with ``id``) this reader may see
    attachments: list[dict[str, Any]]
    events: list[dict[str, Any]]           # ticket_events rows
    tags: list[str]
    actions: list[Action]


@dataclass(slots=True)
class TicketDraft:
    """A ticket ready to be written: what opening it reads and computes before the write lock
    (:func:`prepare_ticket`); :func:`open_ticket_drafts` writes it."""

    db: Database
    actor: Actor
    req: TicketRequest
    live: LiveEvents | None
    now: datetime
    subject: str
    tags: list[str]
    customer: Any                          # the customer row (id, name, level, phone, email), or None
    queue: Any                             # the queue row (id, code, categories, skill, strategy)
    #: D9: (named agent's id, their supervisor's id) and the supervisor's name
    named: tuple[int | None, int | None] | None
    supervisor_name: str | None
    contact_name: str
    values: dict[str, Any]                 # the tickets row, without its id and number yet
    first: dict[str, Any]                  # the first message
    history: Sequence[TranscriptEntry]
    replies: Sequence[TranscriptEntry]
    search_rows: list[str]
    clocks: list[dict[str, Any]]


def prepare_ticket(db: Database, actor: Actor, req: TicketRequest, rules: DeskRules, clock: Clock, *,
                   live: LiveEvents | None = None, history: Sequence[TranscriptEntry] = (),
                   replies: Sequence[TranscriptEntry] = ()) -> TicketDraft:
    """The part of :func:`open_ticket` before the write lock: input checks, permission, the
    customer, order, queue and named agent read, the search text cut (jieba), the SLA due times
    computed. Raises what :func:`open_ticket` raises for bad input; writes nothing."""
    subject = _clean_text(req.subject, "标题", "subject", "subject_missing", 200)
    body = _clean_text(req.body, "问题描述", "description", "body_missing", MAX_BODY)
    tags = _clean_tags(req.tags)
    now = clock()
    named_no = (req.named_employee_no or "").strip() or None
    supervisor_name = None
    with db.read_connection() as conn:
        customer = _customer_for(conn, actor, req)
        order_id, seller_id, application_id = _order_links(conn, req, customer)
        queue = _queue_for(conn, req)
        named = _named_agent_supervisor(conn, req.named_employee_no) if req.kind is Kind.COMPLAINT else None
        if named is not None and named_no and named[1] is not None:
            supervisor_name = _OPEN_Q.of(conn)["user_name"].scalar(conn, user_id=named[1])
    level = customer.level if customer is not None else "regular"
    contact_name = req.contact_name or (customer.name if customer else "")
    channel = req.channel.value
    values: dict[str, Any] = {
        # the number needs the id: a unique placeholder until the row exists
        "number": f"~{secrets.token_hex(10)}", "customer_id": customer.id if customer else None, "contact": req.contact,
        "contact_name": contact_name, "order_id": order_id, "application_id": application_id,
        "seller_id": seller_id, "channel": channel, "category": req.category.value,
        "kind": req.kind.value, "status": Status.NEW.value, "priority": rules.priority(req.kind, level),
        "customer_level": level, "subject": subject, "queue_id": queue.id, "assignee_id": None,
        "named_employee_no": named_no, "escalated": False,
        "merged_into_id": None, "reopen_count": 0, "created_at": now, "updated_at": now, "last_message_at": now,
        "first_response_at": None, "confirmed_at": None, "resolved_at": None, "closed_at": None,
        "paused_at": None, "version": 1}
    first: dict[str, Any] = {
        "author_user_id": actor.user_id,
        "author_role": Role.CUSTOMER.value if actor.role in (Role.CUSTOMER, Role.SYSTEM) else actor.role.value,
        "author_name": contact_name if actor.role is Role.SYSTEM else actor.display_name,
        "visibility": "public", "body": body, "channel": channel, "external_id": req.external_id, "created_at": now}
    return TicketDraft(
        db=db, actor=actor, req=req, live=live, now=now, subject=subject, tags=tags, customer=customer, queue=queue,
        named=named if named_no else None, supervisor_name=supervisor_name, contact_name=contact_name,
        values=values, first=first, history=history, replies=replies,
        search_rows=index_rows(subject, body, *(e.text for e in (*history, *replies) if not e.internal)),
        clocks=clock_rows(rules, channel, values["kind"], level, queue.code, now))


def open_ticket_view(db: Database, actor: Actor, req: TicketRequest, rules: DeskRules, clock: Clock, *,
                     live: LiveEvents | None = None) -> OpenedTicket | TicketView:
    """:func:`open_ticket`, answered with what the opener may see of the new ticket, from the
    values just written (:func:`open_ticket_drafts` with one draft)."""
    [opened] = open_ticket_drafts(db, [prepare_ticket(db, actor, req, rules, clock, live=live)])
    if isinstance(opened, Exception):
        raise opened
    return opened


def open_ticket_drafts(db: Database, drafts: Sequence[TicketDraft]) -> list[OpenedTicket | TicketView | Exception]:
    """Write several prepared tickets in one write transaction — group commit: the database's
    write lock, BEGIN/COMMIT, the agents' load count and the pages every ticket touches (the ends
    of the tickets' indexes, the search index, the history) are shared by the batch. When one of
    them fails (evidence that is not the opener's, …) the batch is rolled back and each ticket is
    written again in a transaction of its own, so only that one fails: its exception comes back
    in its place (a lone draft's error is raised). Each result is what its opener may see of the
    ticket, as :func:`get_ticket` would show it; a message delivered twice (``external_id``)
    gives the earlier ticket's view; an agent who opened a ticket they may not see (another
    queue, a complaint naming them — D9) gets ``ticket_not_found``, as a read would."""
    writer = _TransactionWriter()
    results = db.write_batch(drafts, writer.write, writer.finish)
    return [result if isinstance(result, Exception) else _view_of(draft, result)
            for draft, result in zip(drafts, results, strict=True)]


class _TransactionWriter:
    """Writes drafts with one :class:`_Assigner` per write transaction (its connection): the
    batch's tickets share the agents' loads as they are assigned; a transaction of its own
    starts afresh. The rows no later statement of a ticket needs — SLA clocks, the history row,
    the customer's notices — and each assigned agent's "last assigned" wait for :meth:`finish`,
    which writes them for the whole transaction: one INSERT per table, one UPDATE per agent."""

    def __init__(self) -> None:
        self._conn: Connection | None = None          # held, so a later connection is never taken for it
        self._assigner: _Assigner | None = None
        self._rows = CapturedInserts()

    def write(self, conn: Connection, draft: TicketDraft) -> _Written | Ticket:
        if self._assigner is None or conn is not self._conn:
            self._conn, self._assigner, self._rows = conn, _Assigner(conn), CapturedInserts()
        return _write(conn, draft, self._assigner, self._rows)

    def finish(self, conn: Connection) -> None:
        if conn is not self._conn or self._assigner is None:
            return
        self._rows.write(conn)
        assigned_at = _OPEN_Q.of(conn)["assigned_at"]
        for agent, at in self._assigner.last_assigned.items():
            assigned_at.run(conn, agent=agent, now=at)


def _view_of(draft: TicketDraft, written: _Written | Ticket) -> OpenedTicket | TicketView | Exception:
    """After commit: announce the ticket and show it as its opener may see it."""
    actor, db = draft.actor, draft.db
    try:
        if isinstance(written, Ticket):
            return get_ticket(db, actor, written.number)
        head = written.head()
        announce(draft.live, head)
        if actor.role is Role.AGENT:
            with db.read_connection() as conn:
                if not may_see_ticket(conn, actor, head):
                    raise _not_found(head.number)
    except Exception as exc:
        return exc
    staff = actor.role in (*AGENT_ROLES, Role.SYSTEM)
    messages = written.messages if staff else [m for m in written.messages if m["visibility"] == "public"]
    shown = {m["id"] for m in messages}
    attachments = [a for a in written.attachments if staff or a["message_id"] is None or a["message_id"] in shown]
    return OpenedTicket(values=written.values, queue_code=written.queue_code, assignee_name=written.assignee_name,
                        messages=messages, attachments=attachments, events=[written.event],
                        tags=sorted(written.tags), actions=available_actions(Status.NEW, draft.req.kind, actor.role))


def _write(conn: Connection, draft: TicketDraft, assigner: _Assigner, rows: CapturedInserts) -> _Written | Ticket:
    """The part of :func:`open_ticket` in the write transaction (prepared statements only); an
    already opened ticket (``external_id`` seen) comes back as it is. The rows that nothing
    after them needs (clocks, the history row, notices) go to ``rows``, written at the end of
    the transaction; the agent's "last assigned" too (``assigner``)."""
    q = _OPEN_Q.of(conn)
    req, actor, now, named = draft.req, draft.actor, draft.now, draft.named
    values, channel = dict(draft.values), draft.values["channel"]
    if req.external_id:
        seen = q["seen"].scalar(conn, channel=channel, external_id=req.external_id)
        if seen is not None:
            return Ticket(**q["ticket"].first(conn, id=seen)._asdict())
    data: dict[str, Any] = {"queue": draft.queue.code, "channel": channel, "priority": values["priority"]}
    if named is not None:
        values["assignee_id"], values["escalated"] = named[1], named[1] is not None
        assignee_name = draft.supervisor_name
        data["named_agent"] = named[0]
    else:
        picked = assigner.pick(draft.queue)
        values["assignee_id"], assignee_name = picked if picked is not None else (None, None)
    ticket_id = values["id"] = q["insert_ticket"].scalar(conn, **v_params(values))
    values["number"] = number = f"T{shanghai_date(now):%y%m%d}{ticket_id:07d}"
    q["numbered"].run(conn, ticket=ticket_id, b_number=number)
    if values["assignee_id"] is not None:
        assigner.assigned(values["assignee_id"], now)
    data["assignee"] = values["assignee_id"]
    messages = _write_transcript(conn, ticket_id, channel, draft.contact_name, draft.history)
    first = {**draft.first, "ticket_id": ticket_id}
    first["id"] = q["insert_message"].scalar(conn, **v_params(first))
    messages.append(first)
    attachments = _attach_files(conn, actor, ticket_id, first["id"], req.evidence_ids, now)
    if attachments:
        data["evidence"] = [a["evidence_id"] for a in attachments]
    messages += _write_transcript(conn, ticket_id, channel, draft.contact_name, draft.replies)
    add_index_rows(conn, ticket_id, draft.search_rows)
    for tag in draft.tags:
        q["insert_tag"].run(conn, v_ticket_id=ticket_id, v_tag=tag)
    rows.add(_CLOCKS, [{"ticket_id": ticket_id, **clock} for clock in draft.clocks])
    event: dict[str, Any] = {
        "ticket_id": ticket_id, "at": now, "actor_user_id": actor.user_id, "actor_role": actor.role.value,
        "actor_name": actor.display_name, "action": "open", "from_status": None, "to_status": values["status"],
        "note": draft.subject, "data": data}
    rows.add(_EVENTS, [event])
    if draft.customer is not None:
        kind_zh = "投诉" if req.kind is Kind.COMPLAINT else "咨询"
        kind_en = "complaint" if req.kind is Kind.COMPLAINT else "request"
        queue_customer_messages(cast(Connection, rows), draft.customer, Notice(
            event="ticket_opened", zh=f"您的{kind_zh}已受理，工单号 {number}。",
            en=f"We have your {kind_en}: ticket {number}.", link=f"/tickets/{number}", sms=False), now)
    return _Written(values=values, queue_code=draft.queue.code, assignee_name=assignee_name, messages=messages,
                    attachments=attachments, event=event, tags=draft.tags)


_AUTHOR_NAMES = {"bot": "智能助手", "system": "系统"}


def _write_transcript(conn: Connection, ticket_id: int, channel: str, customer_name: str,
                      entries: Sequence[TranscriptEntry]) -> list[dict[str, Any]]:
    written = []
    insert_message = _OPEN_Q.of(conn)["insert_message"]
    for entry in entries:
        row: dict[str, Any] = {
            "ticket_id": ticket_id, "author_user_id": None, "author_role": entry.role,
            "author_name": _AUTHOR_NAMES.get(entry.role, customer_name), "body": entry.text[:MAX_BODY],
            "visibility": "internal" if entry.internal else "public", "channel": channel, "external_id": None,
            "created_at": entry.at}
        row["id"] = insert_message.scalar(conn, **v_params(row))
        written.append(row)
    return written


def post_bot_message(db: Database, number: str, body: str, clock: Clock, *,
                     live: LiveEvents | None = None) -> TicketMessage:
    """The assistant's answer on a handed-over conversation while no person has answered yet
    (issue 5 §5). It is the platform's own text, so no compliance check; it does not meet the
    first-response clock (only a person does) and changes no status."""
    now = clock()
    with db.uow() as uow:
        s = uow.session
        ticket = s.scalars(select(Ticket).where(Ticket.number == number).with_for_update()).first()
        if ticket is None:
            raise _not_found(number)
        message = TicketMessage(ticket_id=ticket.id, author_user_id=None, author_role="bot",
                                author_name=_AUTHOR_NAMES["bot"], visibility="public", body=body[:MAX_BODY],
                                channel=ticket.channel, external_id=None, created_at=now)
        s.add(message)
        ticket.updated_at = now
        ticket.version += 1
        s.flush()
        uow.commit()
    announce(live, ticket, message)
    return message


# ── messages ───────────────────────────────────────────────────────────────────────────────


def post_message(db: Database, actor: Actor, number: str, body: str, rules: DeskRules, clock: Clock, *,
                 internal: bool = False, evidence_ids: tuple[int, ...] = (),
                 external_id: str | None = None, channel: str | None = None,
                 live: LiveEvents | None = None) -> TicketMessage:
    """Add a public reply or an internal note.

    A staff or seller reply is checked for compliance first (issue 4 §8): a violation is
    recorded for the author's record and the reply is refused (422 ``reply_blocked``, with the
    reasons), nothing else is written. The first public staff reply meets the first-response
    clock; on a complaint that is being worked on it also meets the first-result clock. A
    customer's reply to a ticket waiting for them resumes the SLA clocks.
    """
    text = _clean_text(body, "回复内容", "reply", "body_missing", MAX_BODY)
    now = clock()
    is_customer = actor.role is Role.CUSTOMER or (actor.role is Role.SYSTEM and channel is not None)
    if internal and actor.role not in (*AGENT_ROLES, Role.SYSTEM):
        raise PermissionDenied("not_allowed", "只有平台客服可以写内部备注。",
                               "Only platform staff can write internal notes.")
    if not is_customer and not internal:
        found = rules.check(text)
        if found:
            _record_violation(db, actor, number, text, found, now)
            raise reply_blocked(found)
    with db.uow() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number, lock=True)
        if external_id and s.scalar(select(TicketMessage.id).where(
                TicketMessage.channel == (channel or ticket.channel), TicketMessage.external_id == external_id)):
            existing = s.scalars(select(TicketMessage).where(TicketMessage.external_id == external_id)).first()
            assert existing is not None
            uow.commit()
            return existing
        status = Status(ticket.status)
        if status in (Status.CLOSED, Status.MERGED):
            raise Conflict("ticket_closed", "工单已关闭，如有新问题请重新提交。",
                           "This ticket is closed; please open a new one.", status=status.value)
        message = TicketMessage(ticket_id=ticket.id, author_user_id=actor.user_id,
                                author_role=Role.CUSTOMER.value if is_customer else actor.role.value,
                                author_name=ticket.contact_name if actor.role is Role.SYSTEM else actor.display_name,
                                visibility="internal" if internal else "public", body=text,
                                channel=channel or ticket.channel, external_id=external_id, created_at=now)
        s.add(message)
        s.flush()
        files = [a["evidence_id"] for a in _attach_files(s.connection(), actor, ticket.id, message.id,
                                                         evidence_ids, now)]
        index_text(s.connection(), ticket.id, text)
        before = ticket.status
        action = "note" if internal else "reply"
        if not internal:
            ticket.last_message_at = now
            if is_customer:
                if status is Status.WAITING_CUSTOMER:
                    ticket.status = Status.PROCESSING.value
                    resume_clocks(s.connection(), rules, ticket, now)
                    ticket.paused_at = None
            else:
                met = ["first_response"]
                if ticket.first_response_at is None:
                    ticket.first_response_at = now
                if status is Status.NEW and ticket.kind == Kind.CONSULTATION.value:
                    ticket.status = Status.PROCESSING.value
                if status is Status.CONFIRMED:
                    ticket.status = Status.PROCESSING.value                 # 处理反馈: the first result
                if Status(ticket.status) is Status.PROCESSING and ticket.kind == Kind.COMPLAINT.value:
                    met.append("first_result")
                meet_clocks(s.connection(), ticket, met, now)
                by_mail = _reply_by_email(s, ticket, text, now)
                notify_customer(s, ticket, "ticket_replied", f"您的工单 {ticket.number} 有新回复：{text[:60]}",
                                f"New reply on your ticket {ticket.number}: {text[:60]}", now, email=not by_mail)
        ticket.updated_at = now
        ticket.version += 1
        record_event(s.connection(), ticket, actor, action, before, now,
                data={"message_id": message.id, **({"evidence": files} if files else {})})
        uow.commit()
    announce(live, ticket, message)
    return message


def reply_blocked(found: list[tuple[str, str]]) -> InputError:
    """422 ``reply_blocked``: the reasons, in both languages, with what was found."""
    kinds = list(dict.fromkeys(kind for kind, _ in found))
    zh = "、".join(KIND_LABELS[k][0] if k in KIND_LABELS else k for k in kinds)
    en = ", ".join(KIND_LABELS[k][1] if k in KIND_LABELS else k for k in kinds)
    return InputError("reply_blocked", f"回复未发送：包含平台不允许的内容（{zh}）。请修改后再发。",
                      f"The reply was not sent: it contains what the platform does not allow ({en}). Edit it and "
                      "send again.", violations=[{"kind": k, "match": m} for k, m in found])


def _record_violation(db: Database, actor: Actor, number: str, text: str, found: list[tuple[str, str]],
                      now: datetime) -> None:
    """Issue 4 §8: a blocked reply is kept for the author's and the seller's record (its own
    transaction: the reply itself is not written)."""
    with db.uow() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number)
        s.add(ComplianceViolation(at=now, ticket_id=ticket.id, author_user_id=actor.user_id,
                                  author_role=actor.role.value,
                                  seller_id=actor.seller_id if actor.role is Role.SELLER else ticket.seller_id,
                                  text=text, kinds=list(dict.fromkeys(k for k, _ in found)),
                                  matches=[m for _, m in found]))
        uow.commit()


# ── transitions ────────────────────────────────────────────────────────────────────────────


def transition_ticket(db: Database, actor: Actor, number: str, action: Action, rules: DeskRules, clock: Clock, *,
                      note: str = "", merge_into: str | None = None, live: LiveEvents | None = None) -> Ticket:
    """Take one step of the ticket state machine (:mod:`kefu.domain.service.tickets`).

    - confirm (D4 问题确认) meets the confirm clock; resolve meets the resolution clock, sends
      the satisfaction survey (D7) and tells the customer;
    - wait_customer pauses every running clock, resume moves each due time later by the
      paused time (counted in that clock's calendar);
    - reopen is the customer's within D6's window; it escalates to a supervisor and restarts
      the resolution clock;
    - merge folds a duplicate into ``merge_into`` (its messages stay, a note links them).
    """
    now = clock()
    with db.uow() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number, lock=True)
        if actor.role is Role.SELLER and action in (Action.MERGE,):
            raise PermissionDenied("not_allowed", "您无权执行此操作。", "You may not take this step.")
        before = Status(ticket.status)
        target = next_status(action, before, Kind(ticket.kind), actor.role)
        data: dict[str, Any] = {}
        conn = s.connection()
        if action is Action.CONFIRM:
            ticket.confirmed_at = now
            meet_clocks(conn, ticket, ["confirm"], now)
        elif action is Action.WAIT_CUSTOMER:
            ticket.paused_at = now                       # the sweep skips paused tickets' clocks
        elif action is Action.RESUME:
            resume_clocks(conn, rules, ticket, now)
            ticket.paused_at = None
        elif action is Action.RESOLVE:
            if ticket.paused_at is not None:
                resume_clocks(conn, rules, ticket, now)
                ticket.paused_at = None
            ticket.resolved_at = now
            meet_clocks(conn, ticket, ["first_response", "confirm", "first_result", "resolution"], now)
            data["survey"] = rules.send_survey(s, ticket, now)
        elif action in (Action.ACCEPT, Action.CLOSE):
            ticket.closed_at = now
        elif action is Action.REOPEN:
            if actor.role is Role.CUSTOMER and not rules.reopen_allowed(ticket.resolved_at, now):
                raise Conflict("reopen_window_passed", "已超过可重新打开的期限（解决后 7 天内）。",
                               "The time to reopen has passed (7 days after resolution).")
            ticket.reopen_count += 1
            ticket.closed_at = None
            ticket.resolved_at = None
            ticket.escalated = True
            supervisor = _supervisor_of(s, ticket.assignee_id)
            if supervisor is not None:
                _assign(s, ticket, supervisor, now)
            start_clocks(conn, rules, ticket, now, metrics=("resolution",))
            data = {"reopen_count": ticket.reopen_count, "assignee": ticket.assignee_id}
        elif action is Action.MERGE:
            if not merge_into or merge_into == ticket.number:
                raise InputError("merge_target_missing", "请填写要合并到的工单号。", "Name the ticket to merge into.")
            into = load_ticket(s, actor, merge_into, lock=True)
            if Status(into.status) not in OPEN_STATUSES:
                raise Conflict("merge_target_closed", "目标工单已关闭，不能合并。", "The target ticket is closed.")
            if into.customer_id != ticket.customer_id:
                raise Conflict("merge_other_customer", "只能合并同一位顾客的工单。",
                               "Only tickets of the same customer can be merged.")
            ticket.merged_into_id = into.id
            ticket.closed_at = now
            meet_clocks(conn, ticket, ["first_response", "confirm", "first_result", "resolution"], now)
            s.add(TicketMessage(ticket_id=into.id, author_user_id=actor.user_id, author_role=actor.role.value,
                                author_name=actor.display_name, visibility="internal",
                                body=f"已合并工单 {ticket.number}：{ticket.subject}", channel=into.channel,
                                created_at=now))
            data = {"into": into.number}
            record_event(conn, into, actor, "merged_from", into.status, now, data={"from": ticket.number})
        ticket.status = target.value
        ticket.updated_at = now
        ticket.version += 1
        record_event(conn, ticket, actor, action.value, before.value, now, note=note, data=data)
        if action in (Action.CONFIRM, Action.RESOLVE, Action.WAIT_CUSTOMER, Action.REOPEN):
            zh, en = STATUS_LABELS[target]
            extra_zh = "请确认处理结果并为本次服务评价。" if action is Action.RESOLVE else ""
            extra_en = " Please confirm the result and rate our service." if action is Action.RESOLVE else ""
            notify_customer(s, ticket, f"ticket_{action.value}", f"您的工单 {ticket.number} {zh}。{extra_zh}",
                             f"Your ticket {ticket.number}: {en.lower()}.{extra_en}", now)
        uow.commit()
    announce(live, ticket)
    return ticket


def _supervisor_of(session: Session, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    profile = session.get(AgentProfile, user_id)
    if profile is not None and profile.supervisor_id is not None:
        return profile.supervisor_id
    user = session.get(User, user_id)
    return user_id if user is not None and user.role == Role.SUPERVISOR.value else None


# ── assignment, transfer, tags, presence ───────────────────────────────────────────────────


def transfer_ticket(db: Database, actor: Actor, number: str, clock: Clock, *, queue_code: str | None = None,
                    assignee_id: int | None = None, note: str = "", live: LiveEvents | None = None) -> Ticket:
    """Issue 4 §3: move a ticket to another queue and/or agent. Without an agent, it is assigned
    afresh within the new queue. A complaint is never given to the agent it names (D9)."""
    if actor.role not in AGENT_ROLES:
        raise PermissionDenied("not_allowed", "只有客服可以转接工单。", "Only agents can transfer tickets.")
    now = clock()
    with db.uow() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number, lock=True)
        if Status(ticket.status) not in OPEN_STATUSES:
            raise Conflict("ticket_closed", "工单已结束，不能转接。",
                           "The ticket is finished; it cannot be transferred.")
        before_queue, before_agent = ticket.queue_id, ticket.assignee_id
        if queue_code is not None:
            queue = s.scalars(select(Queue).where(Queue.code == queue_code)).first()
            if queue is None:
                raise NotFound("queue_not_found", "队列不存在。", "Queue not found.", queue=queue_code)
            ticket.queue_id = queue.id
        else:
            queue = s.get(Queue, ticket.queue_id)
            assert queue is not None
        named_id = None
        if ticket.named_employee_no:
            named_id = s.scalar(select(User.id).where(User.employee_no == ticket.named_employee_no))
        if assignee_id is not None:
            user = s.get(User, assignee_id)
            if user is None or user.role not in {r.value for r in AGENT_ROLES} or not user.is_active:
                raise NotFound("agent_not_found", "客服不存在。", "Agent not found.", agent=assignee_id)
            if assignee_id == named_id:
                raise Conflict("named_agent", "该投诉针对这位客服，不能分配给本人。",
                               "This complaint names that agent; it cannot go to them.")
            _assign(s, ticket, assignee_id, now)
        else:
            _assign(s, ticket, pick_agent(s.connection(), queue, exclude=[x for x in (named_id, before_agent)
                                                                           if x is not None]), now)
        ticket.updated_at = now
        ticket.version += 1
        record_event(s.connection(), ticket, actor, "transfer", ticket.status, now, note=note,
                data={"from_queue": before_queue, "to_queue": ticket.queue_id, "from_agent": before_agent,
                      "to_agent": ticket.assignee_id})
        uow.commit()
    announce(live, ticket)
    return ticket


def tag_ticket(db: Database, actor: Actor, number: str, clock: Clock, *, add: Iterable[str] = (),
               remove: Iterable[str] = ()) -> list[str]:
    """Add and remove tags (staff and sellers on tickets they see); returns the tags after."""
    if actor.role is Role.CUSTOMER:
        raise PermissionDenied("not_allowed", "您无权修改标签。", "You may not change tags.")
    adding, removing = _clean_tags(add), _clean_tags(remove)
    now = clock()
    with db.uow() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number, lock=True)
        current = set(s.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)))
        for tag in adding:
            if tag not in current:
                s.add(TicketTag(ticket_id=ticket.id, tag=tag))
                current.add(tag)
        gone = [t for t in removing if t in current]
        if gone:
            s.execute(TicketTag.__table__.delete().where(  # type: ignore[attr-defined]
                and_(TicketTag.ticket_id == ticket.id, TicketTag.tag.in_(gone))))
            current -= set(gone)
        if len(current) > MAX_TAGS:
            raise InputError("too_many_tags", f"标签最多 {MAX_TAGS} 个。", f"At most {MAX_TAGS} tags.")
        record_event(s.connection(), ticket, actor, "tag", ticket.status, now, data={"add": adding, "remove": gone})
        uow.commit()
        return sorted(current)


def set_presence(db: Database, actor: Actor, online: bool, clock: Clock) -> int:
    """An agent goes online or offline. Going online pulls waiting tickets of their queues, best
    priority first, up to their capacity; returns how many they got."""
    if actor.role not in AGENT_ROLES or actor.user_id is None:
        raise PermissionDenied("not_allowed", "只有客服可以上线接待。", "Only agents can go online.")
    now = clock()
    with db.uow() as uow:
        s = uow.session
        profile = s.get(AgentProfile, actor.user_id)
        if profile is None:
            profile = AgentProfile(user_id=actor.user_id, capacity=5, skills=[], online=online, updated_at=now)
            s.add(profile)
        profile.online = online
        profile.updated_at = now
        s.flush()
        taken = _pull_waiting(s, actor.user_id, now) if online else 0
        uow.commit()
        return taken


def _pull_waiting(session: Session, user_id: int, now: datetime) -> int:
    profile = session.get(AgentProfile, user_id)
    assert profile is not None
    employee_no = _employee_no(session.connection(), user_id)
    load = session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.assignee_id == user_id, IS_OPEN)) or 0
    room = profile.capacity - load
    if room <= 0:
        return 0
    queues = _agent_queues(session.connection(), user_id)
    if not queues:
        return 0
    query = (select(Ticket).where(Ticket.queue_id.in_(queues), IS_OPEN,
                                  Ticket.assignee_id.is_(None))
             .order_by(Ticket.priority, Ticket.id).limit(room))
    if employee_no:
        query = query.where(or_(Ticket.named_employee_no.is_(None), Ticket.named_employee_no != employee_no))
    taken = 0
    for ticket in session.scalars(query):
        queue = session.get(Queue, ticket.queue_id)
        if queue is not None and queue.skill and queue.skill not in (profile.skills or []):
            continue
        ticket.assignee_id = user_id
        ticket.updated_at = now
        taken += 1
        record_event(session.connection(), ticket, Actor(user_id, Role.SYSTEM, display_name="system"), "assign",
                ticket.status, now, data={"assignee": user_id})
    if taken:
        profile.last_assigned_at = now
    return taken


# ── queries ────────────────────────────────────────────────────────────────────────────────


def get_ticket(db: Database, actor: Actor, number: str) -> TicketView:
    """A ticket with what this reader may see of it (customers and sellers: public messages)."""
    with db.read() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number)
        staff = actor.role in (*AGENT_ROLES, Role.SYSTEM)
        messages_q = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id).order_by(TicketMessage.id)
        if not staff:
            messages_q = messages_q.where(TicketMessage.visibility == "public")
        messages = list(s.scalars(messages_q))
        visible_ids = {m.id for m in messages}
        attachments = [a for a in s.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id)
                                            .order_by(TicketAttachment.id))
                       if staff or a.message_id is None or a.message_id in visible_ids]
        events = list(s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)))
        if not staff:
            events = [e for e in events if e.action not in ("note", "transfer", "assign", "tag")]
        tags = sorted(s.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)))
        queue = s.get(Queue, ticket.queue_id)
        assert queue is not None
        assignee = s.get(User, ticket.assignee_id) if ticket.assignee_id is not None else None
        actions = available_actions(Status(ticket.status), Kind(ticket.kind), actor.role)
        return TicketView(ticket=ticket, queue=queue, messages=messages, attachments=attachments, events=events,
                          tags=tags, assignee_name=assignee.display_name if assignee else None, actions=actions)


def read_attachment(db: Database, storage: Storage, actor: Actor, number: str,
                    attachment_id: int) -> tuple[TicketAttachment, bytes]:
    """A file on a ticket, for whoever may read the ticket (a file on an internal note: staff only)."""
    with db.read() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number)
        row = s.get(TicketAttachment, attachment_id)
        missing = NotFound("attachment_not_found", "附件不存在。", "Attachment not found.")
        if row is None or row.ticket_id != ticket.id:
            raise missing
        if row.message_id is not None and actor.role not in (*AGENT_ROLES, Role.SYSTEM):
            message = s.get(TicketMessage, row.message_id)
            if message is None or message.visibility != "public":
                raise missing
    return row, storage.load(row.storage_key)


def get_message(db: Database, actor: Actor, number: str, message_id: int) -> TicketMessage | None:
    """One message of a ticket, if this reader may see it (internal notes: staff only)."""
    with db.read() as uow:
        s = uow.session
        ticket = load_ticket(s, actor, number)
        message = s.get(TicketMessage, message_id)
        if message is None or message.ticket_id != ticket.id:
            return None
        if message.visibility != "public" and actor.role not in (*AGENT_ROLES, Role.SYSTEM):
            return None
        return message


@dataclass(frozen=True, slots=True)
class DeskScope:
    """Which live desk events an actor may receive (the rule of :func:`may_see_ticket`)."""

    sees_all: bool
    queues: frozenset[int]
    user_id: int | None
    employee_no: str | None
    seller_id: str | None = None

    def admits(self, event: dict[str, Any]) -> bool:
        if self.sees_all:
            return True
        if self.seller_id is not None:
            return event.get("seller_id") == self.seller_id
        if self.employee_no and event.get("named") == self.employee_no:
            return False                                               # D9
        return event.get("queue_id") in self.queues or event.get("assignee_id") == self.user_id


def desk_scope(db: Database, actor: Actor) -> DeskScope:
    """For live desk events: what this actor may receive."""
    if actor.role in (Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM):
        return DeskScope(True, frozenset(), actor.user_id, None)
    if actor.role is Role.SELLER and actor.seller_id is not None:
        return DeskScope(False, frozenset(), actor.user_id, None, seller_id=actor.seller_id)
    if actor.role is not Role.AGENT or actor.user_id is None:
        raise PermissionDenied("not_allowed", "您无权查看工单队列。", "You may not see the ticket queues.")
    with db.read_connection() as conn:
        return DeskScope(False, frozenset(_agent_queues(conn, actor.user_id)), actor.user_id,
                         _employee_no(conn, actor.user_id))


@dataclass(frozen=True, slots=True)
class QueuePage:
    tickets: list[Ticket]
    #: the keyset cursor of the next page ("priority.id"), None on the last page
    next_cursor: str | None


def parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    try:
        priority, last_id = cursor.split(".", 1)
        return int(priority), int(last_id)
    except ValueError:
        raise InputError("invalid_cursor", "分页参数无效。", "The page cursor is not valid.") from None


#: the columns of a queue page as the API shows it (``TicketOut``), with the keyset (priority, id)
QUEUE_PAGE_COLUMNS = (
    Ticket.id, Ticket.number, Ticket.subject, Ticket.kind, Ticket.category, Ticket.channel, Ticket.status,
    Ticket.priority, Ticket.customer_id, Ticket.customer_level, Ticket.order_id, Ticket.queue_id,
    Ticket.assignee_id, Ticket.escalated, Ticket.reopen_count, Ticket.created_at, Ticket.updated_at,
    Ticket.first_response_at, Ticket.resolved_at)


@dataclass(frozen=True, slots=True)
class QueueRows:
    """A page of the queue as rows: named tuples with the names of :data:`QUEUE_PAGE_COLUMNS`."""

    rows: list[Any]
    #: the keyset cursor of the next page ("priority.id"), None on the last page
    next_cursor: str | None


#: who is asking, in one statement each: the queue's id; an agent's employee number and
#: whether they work that queue
_SCOPE_Q = PreparedSet(
    queue_id=select(Queue.id).where(Queue.code == bindparam("code")),
    agent=select(User.employee_no, exists().where(QueueMember.user_id == User.id,
                                                  QueueMember.queue_id == bindparam("queue_id")).label("member"))
    .where(User.id == bindparam("user_id")),
)
#: one prepared statement per dialect and shape of the listing (which filters it has), made on
#: first use: at most 2 × 2^7 of them
_PAGES: dict[tuple[str, bool, tuple[bool, ...]], Prepared] = {}


def _page_query(full: bool, seller: bool, mine: bool, queue: bool, agent_queues: bool, unassigned: bool,
                named: bool, after: bool) -> Any:
    """A keyset page of open tickets in working order. Filters are parameters, so one statement
    per shape serves every agent, queue and page; the open condition is the partial indexes' own
    literal text (``ix_tickets_queue_open`` / ``ix_tickets_assignee_open``)."""
    query = select(*(_TICKETS.columns if full else QUEUE_PAGE_COLUMNS)).where(IS_OPEN_SQL)
    if seller:
        query = query.where(Ticket.seller_id == bindparam("seller_id"))
    if mine:
        query = query.where(Ticket.assignee_id == bindparam("user_id"))
    if queue:
        query = query.where(Ticket.queue_id == bindparam("queue_id"))
    if agent_queues:
        query = query.where(or_(
            Ticket.queue_id.in_(select(QueueMember.queue_id).where(QueueMember.user_id == bindparam("user_id"))),
            Ticket.assignee_id == bindparam("user_id")))
    if unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    if named:
        query = query.where(or_(Ticket.named_employee_no.is_(None),
                                Ticket.named_employee_no != bindparam("employee_no")))
    if after:
        query = query.where(or_(Ticket.priority > bindparam("after_priority"),
                                and_(Ticket.priority == bindparam("after_priority"),
                                     Ticket.id > bindparam("after_id"))))
    return query.order_by(Ticket.priority, Ticket.id).limit(bindparam("limit"))


def _page_statement(conn: Connection, full: bool, shape: tuple[bool, ...]) -> Prepared:
    key = (conn.dialect.name, full, shape)
    found = _PAGES.get(key)
    if found is None:
        found = _PAGES.setdefault(key, Prepared(_page_query(full, *shape), conn.dialect))
    return found


def list_queue_rows(db: Database, actor: Actor, *, queue_code: str | None = None, mine: bool = False,
                    unassigned: bool = False, cursor: str | None = None, limit: int = 50,
                    _full: bool = False) -> QueueRows:
    """Open tickets in the order agents work them — priority, then age — one keyset page at a time
    (``ix_tickets_queue_open`` / ``ix_tickets_assignee_open``: the cost does not grow with the
    number of tickets). Agents see their queues and their own tickets — never a complaint naming
    them (D9); supervisors and admins every queue; sellers the open tickets about their goods.

    The hot read of the desk: two or three prepared statements (the queue's id; the agent's
    employee number and membership, read fresh on every call; the page), rows as named tuples."""
    limit = max(1, min(limit, 200))
    after = parse_cursor(cursor)
    user_id = actor.user_id
    if actor.role is Role.CUSTOMER or user_id is None:
        raise PermissionDenied("not_allowed", "您无权查看工单队列。", "You may not see the ticket queues.")
    seller, agent = actor.role is Role.SELLER, actor.role is Role.AGENT
    params: dict[str, Any] = {"user_id": user_id, "limit": limit + 1, "seller_id": actor.seller_id,
                              "queue_id": None, "employee_no": None}
    with db.read_connection() as conn:
        q = _SCOPE_Q.of(conn)
        if queue_code is not None:
            params["queue_id"] = q["queue_id"].scalar(conn, code=queue_code)
            if params["queue_id"] is None:
                raise NotFound("queue_not_found", "队列不存在。", "Queue not found.", queue=queue_code)
        if agent:
            me = q["agent"].first(conn, user_id=user_id, queue_id=params["queue_id"])
            if queue_code is not None and not mine and not (me is not None and me.member):
                raise PermissionDenied("not_allowed", "您不在该队列。", "You do not work this queue.")
            params["employee_no"] = me.employee_no if me is not None else None
        if after is not None:
            params["after_priority"], params["after_id"] = after
        shape = (seller, mine, queue_code is not None, agent and not mine and queue_code is None, unassigned,
                 bool(params["employee_no"]), after is not None)
        rows = _page_statement(conn, _full, shape).all(conn, **params)
    if len(rows) > limit:
        last = rows[limit - 1]
        return QueueRows(rows=rows[:limit], next_cursor=f"{last.priority}.{last.id}")
    return QueueRows(rows=rows, next_cursor=None)


def list_queue(db: Database, actor: Actor, *, queue_code: str | None = None, mine: bool = False,
               unassigned: bool = False, cursor: str | None = None, limit: int = 50) -> QueuePage:
    """:func:`list_queue_rows` with every column, as ``Ticket`` objects (the workspace pages)."""
    found = list_queue_rows(db, actor, queue_code=queue_code, mine=mine, unassigned=unassigned, cursor=cursor,
                            limit=limit, _full=True)
    return QueuePage(tickets=[Ticket(**row._asdict()) for row in found.rows], next_cursor=found.next_cursor)


def search_tickets(db: Database, actor: Actor, query: str, limit: int = 20) -> list[Ticket]:
    """Issue 4 §10: tickets whose subject or messages hold every word of ``query`` (Chinese cut
    with jieba's dictionary by rjieba; order and waybill numbers whole), newest first, among the
    tickets this agent may see.

    Staff only: the index holds internal notes too, so a customer or seller searching could
    learn that a note contains a word."""
    if actor.role not in (*AGENT_ROLES, Role.SYSTEM):
        raise PermissionDenied("not_allowed", "只有客服可以搜索工单。", "Only agents can search tickets.")
    limit = max(1, min(limit, 100))
    flush_search_index(db)
    with db.read_connection() as conn:
        found = matching_ticket_ids_sql(conn, query)
        if found is None:
            return []
        sql, params = found
        stmt = select(Ticket).where(Ticket.id.in_(select(text("ticket_id")).select_from(
            text(f"({sql}) AS matches")).params(**params)))
        if actor.role is Role.AGENT and actor.user_id is not None:
            employee_no = _employee_no(conn, actor.user_id)
            stmt = stmt.where(or_(Ticket.queue_id.in_(_agent_queues(conn, actor.user_id)),
                                  Ticket.assignee_id == actor.user_id))
            if employee_no:
                stmt = stmt.where(or_(Ticket.named_employee_no.is_(None), Ticket.named_employee_no != employee_no))
        rows = conn.execute(stmt.order_by(Ticket.id.desc()).limit(limit)).all()
        return [Ticket(**row._mapping) for row in rows]


def flush_search_index(db: Database) -> int:
    """Move the rows waiting in the search index's staging table into the index (SQLite; see
    :mod:`kefu.adapters.search.ticket_index`) — before a search reads it, and by the desk sweep
    for what writers left; returns how many. A cheap read when nothing waits."""
    with db.read_connection() as conn:
        if not has_staged(conn):
            return 0
    with db.write_connection() as conn:
        return flush_staged(conn)


def list_customer_tickets(db: Database, actor: Actor, limit: int = 50) -> list[Ticket]:
    """A customer's own tickets, newest first."""
    if actor.role is not Role.CUSTOMER or actor.customer_id is None:
        raise PermissionDenied("not_allowed", "仅顾客可查看自己的工单。", "Only customers have their own tickets.")
    with db.read() as uow:
        return list(uow.session.scalars(select(Ticket).where(Ticket.customer_id == actor.customer_id)
                                        .order_by(Ticket.id.desc()).limit(limit)))


def find_open_ticket_for_contact(conn: Connection, channel: str, contact: str) -> str | None:
    """The number of the open ticket this contact already has on this channel (to join its thread)."""
    return conn.scalar(select(Ticket.number).where(
        Ticket.channel == channel, Ticket.contact == contact, IS_OPEN,
    ).order_by(Ticket.id.desc()).limit(1))


__all__ = [
    "OpenedTicket", "QueuePage", "QueueRows", "TicketDraft", "TicketHead", "TicketRequest", "TicketView",
    "find_open_ticket_for_contact", "flush_search_index", "get_ticket", "list_customer_tickets", "list_queue",
    "list_queue_rows", "may_see_ticket", "open_ticket", "open_ticket_drafts", "open_ticket_view", "pick_agent",
    "post_message", "prepare_ticket", "set_presence", "tag_ticket", "transfer_ticket", "transition_ticket",
]
