"""Service-desk administration (issue 4 §3, §8): queues and the agents who work them, and the
small reads the desk pages need beside the tickets themselves.

Writes — one transaction each, supervisors and admins only (DESIGN.md conventions 4–5):
- :func:`save_queue` creates or edits a queue: code, names, the categories routed to it, the
  skill its agents need, how it assigns (``least_load`` or ``round_robin``), active or not;
- :func:`set_agent` sets an agent's queues, capacity, skills and supervisor (D9: complaints that
  name an agent go to this supervisor).

Reads: :func:`list_queues`, :func:`list_agents` (managers), :func:`visible_queues` (the queues an
actor may filter the workspace by), :func:`desk_directory` (transfer targets), :func:`my_presence`,
:func:`queue_extras` (open SLA clocks and assignee names of a page of tickets, in a fixed number of
queries) and :func:`list_violations` (the compliance record: a seller's own, all for managers).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.service_desk import (
    AgentProfile,
    ComplianceViolation,
    Queue,
    QueueMember,
    Ticket,
    TicketMessage,
    TicketSla,
)
from kefu.domain.actors import AGENT_ROLES, Actor, Role
from kefu.domain.clock import Clock, system_clock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.service.tickets import Category, Channel
from kefu.services.audit import record_audit
from kefu.services.tickets import IS_OPEN
from kefu.services.uow import Database

#: a queue code: lower-case letters, digits and underscores, starting with a letter
QUEUE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
#: a skill name ('' = none)
SKILL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
STRATEGIES: dict[str, tuple[str, str]] = {
    "least_load": ("最少负载优先", "Least load first"),
    "round_robin": ("轮流分配", "Round robin"),
}
MAX_CAPACITY = 50
MAX_SKILLS = 20
_MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def _managers_only(actor: Actor) -> None:
    if actor.role not in _MANAGERS:
        raise PermissionDenied("not_allowed", "只有客服主管和管理员可以设置服务台。",
                               "Only supervisors and admins change the desk settings.")


# ── queues ─────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class QueueInput:
    """A queue as a form gives it."""

    code: str
    name_zh: str
    name_en: str
    categories: tuple[str, ...] = ()
    skill: str = ""
    strategy: str = "least_load"
    is_active: bool = True


def _clean_queue(data: QueueInput) -> QueueInput:
    code = (data.code or "").strip().lower()
    if not QUEUE_CODE.match(code):
        raise InputError("invalid_queue_code", "队列代码须为 2–32 位小写字母、数字或下划线，以字母开头。",
                         "A queue code is 2–32 lower-case letters, digits or underscores, starting with a letter.",
                         queue=data.code)
    name_zh, name_en = (data.name_zh or "").strip(), (data.name_en or "").strip()
    if not name_zh or not name_en or len(name_zh) > 64 or len(name_en) > 64:
        raise InputError("invalid_queue_name", "请填写队列的中文名和英文名（各 64 字以内）。",
                         "Give the queue a Chinese and an English name (up to 64 characters each).")
    known = {c.value for c in Category}
    categories = tuple(dict.fromkeys(c.strip() for c in data.categories if c and c.strip()))
    unknown = [c for c in categories if c not in known]
    if unknown:
        raise InputError("invalid_category", "问题类型无效。", "Unknown problem type.", categories=unknown)
    skill = (data.skill or "").strip().lower()
    if skill and not SKILL.match(skill):
        raise InputError("invalid_skill", "技能名须为小写字母、数字或下划线。",
                         "A skill is lower-case letters, digits or underscores.", skill=data.skill)
    if data.strategy not in STRATEGIES:
        raise InputError("invalid_strategy", "分配方式无效。", "Unknown assignment strategy.",
                         strategy=data.strategy)
    return QueueInput(code=code, name_zh=name_zh, name_en=name_en, categories=categories, skill=skill,
                      strategy=data.strategy, is_active=data.is_active)


def list_queues(db: Database, actor: Actor) -> list[Queue]:
    """Every queue, active or not (for the settings page)."""
    _managers_only(actor)
    with db.read() as uow:
        return list(uow.session.scalars(select(Queue).order_by(Queue.id)))


def save_queue(db: Database, actor: Actor, data: QueueInput, *, queue_id: int | None = None,
               clock: Clock = system_clock) -> Queue:
    """Create a queue, or edit ``queue_id``. A code is unique (409 ``queue_code_taken``); the
    default queue ``general`` stays active (tickets no other queue takes land there)."""
    _managers_only(actor)
    clean = _clean_queue(data)
    with db.uow() as uow:
        s = uow.session
        taken = s.scalar(select(Queue.id).where(Queue.code == clean.code))
        if taken is not None and taken != queue_id:
            raise Conflict("queue_code_taken", "该队列代码已被使用。", "That queue code is taken.", queue=clean.code)
        if queue_id is None:
            queue = Queue(code=clean.code)
            s.add(queue)
        else:
            found = s.get(Queue, queue_id)
            if found is None:
                raise NotFound("queue_not_found", "队列不存在。", "Queue not found.", queue=queue_id)
            queue = found
            if queue.code == "general" and (clean.code != "general" or not clean.is_active):
                raise Conflict("default_queue", "默认队列 general 不能停用或改代码。",
                               "The default queue 'general' cannot be deactivated or renamed.")
        queue.code, queue.name_zh, queue.name_en = clean.code, clean.name_zh, clean.name_en
        queue.categories, queue.skill, queue.strategy = list(clean.categories), clean.skill, clean.strategy
        queue.is_active = clean.is_active
        s.flush()
        record_audit(s.connection(), actor, "queue.create" if queue_id is None else "queue.update", "queue",
                     queue.code, {"name_zh": queue.name_zh, "categories": queue.categories, "skill": queue.skill,
                                  "strategy": queue.strategy, "is_active": queue.is_active}, clock())
        uow.commit()
        return queue


def visible_queues(db: Database, actor: Actor) -> list[Queue]:
    """The queues an actor may filter the ticket workspace by: every queue for supervisors and
    admins, an agent's own queues, none for a seller (they see tickets about their goods)."""
    if actor.role is Role.SELLER:
        return []
    if actor.role not in AGENT_ROLES:
        raise PermissionDenied("not_allowed", "您无权查看工单队列。", "You may not see the ticket queues.")
    with db.read() as uow:
        query = select(Queue).order_by(Queue.id)
        if actor.role is Role.AGENT:
            query = query.join(QueueMember, QueueMember.queue_id == Queue.id).where(
                QueueMember.user_id == actor.user_id)
        return list(uow.session.scalars(query))


# ── agents ─────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """What a supervisor sets for an agent."""

    queue_codes: tuple[str, ...] = ()
    capacity: int = 5
    skills: tuple[str, ...] = ()
    supervisor_id: int | None = None


@dataclass(frozen=True, slots=True)
class AgentRow:
    user_id: int
    username: str
    display_name: str
    role: str
    employee_no: str | None
    is_active: bool
    queues: list[str] = field(default_factory=list)
    capacity: int = 0
    skills: list[str] = field(default_factory=list)
    supervisor_id: int | None = None
    supervisor_name: str | None = None
    online: bool = False
    #: open tickets assigned to them now
    load: int = 0
    has_profile: bool = False


_DESK_USER_ROLES = (Role.AGENT.value, Role.SUPERVISOR.value)


def list_agents(db: Database, actor: Actor) -> list[AgentRow]:
    """Agents and supervisors (and any admin with a desk profile) with their desk settings and
    current load — four queries whatever the number of agents."""
    _managers_only(actor)
    with db.read() as uow:
        s = uow.session
        profiles = {p.user_id: p for p in s.scalars(select(AgentProfile))}
        users = list(s.scalars(select(User).where(
            (User.role.in_(_DESK_USER_ROLES)) | (User.id.in_(list(profiles) or [-1]))).order_by(User.id)))
        names = {u.id: u.display_name for u in users}
        queues: dict[int, list[str]] = defaultdict(list)
        for user_id, code in s.execute(select(QueueMember.user_id, Queue.code)
                                       .join(Queue, Queue.id == QueueMember.queue_id).order_by(Queue.id)):
            queues[user_id].append(code)
        loads = {uid: int(n) for uid, n in s.execute(select(Ticket.assignee_id, func.count()).where(
            Ticket.assignee_id.is_not(None), IS_OPEN).group_by(Ticket.assignee_id))}
        missing = {p.supervisor_id for p in profiles.values() if p.supervisor_id and p.supervisor_id not in names}
        if missing:
            names.update({uid: name for uid, name in s.execute(
                select(User.id, User.display_name).where(User.id.in_(missing)))})
    rows = []
    for user in users:
        profile = profiles.get(user.id)
        rows.append(AgentRow(
            user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
            employee_no=user.employee_no, is_active=user.is_active, queues=queues.get(user.id, []),
            capacity=profile.capacity if profile else 0, skills=list(profile.skills or []) if profile else [],
            supervisor_id=profile.supervisor_id if profile else None,
            supervisor_name=names.get(profile.supervisor_id) if profile and profile.supervisor_id else None,
            online=bool(profile.online) if profile else False, load=int(loads.get(user.id, 0)),
            has_profile=profile is not None))
    return rows


def _clean_skills(skills: Iterable[str]) -> list[str]:
    out = list(dict.fromkeys(s.strip().lower() for s in skills if s and s.strip()))
    bad = [s for s in out if not SKILL.match(s)]
    if bad:
        raise InputError("invalid_skill", "技能名须为小写字母、数字或下划线。",
                         "A skill is lower-case letters, digits or underscores.", skills=bad)
    if len(out) > MAX_SKILLS:
        raise InputError("invalid_skill", f"技能最多 {MAX_SKILLS} 个。", f"At most {MAX_SKILLS} skills.")
    return out


def set_agent(db: Database, actor: Actor, user_id: int, settings: AgentSettings, clock: Clock) -> AgentProfile:
    """Set an agent's queues (replacing the old ones), capacity (0–50 open tickets), skills and
    supervisor (a supervisor or admin other than the agent). Their online state is theirs to set."""
    _managers_only(actor)
    if not 0 <= settings.capacity <= MAX_CAPACITY:
        raise InputError("invalid_capacity", f"接待上限须在 0 到 {MAX_CAPACITY} 之间。",
                         f"The capacity must be between 0 and {MAX_CAPACITY}.", capacity=settings.capacity)
    skills = _clean_skills(settings.skills)
    codes = list(dict.fromkeys(c.strip() for c in settings.queue_codes if c and c.strip()))
    now = clock()
    with db.uow() as uow:
        s = uow.session
        user = s.get(User, user_id)
        if user is None or user.role not in {r.value for r in AGENT_ROLES}:
            raise NotFound("agent_not_found", "客服不存在。", "Agent not found.", agent=user_id)
        if settings.supervisor_id is not None:
            boss = s.get(User, settings.supervisor_id)
            if boss is None or boss.role not in (Role.SUPERVISOR.value, Role.ADMIN.value):
                raise InputError("invalid_supervisor", "主管须为客服主管或管理员账号。",
                                 "The supervisor must be a supervisor or admin account.",
                                 supervisor=settings.supervisor_id)
            if boss.id == user_id:
                raise InputError("invalid_supervisor", "不能把自己设为自己的主管。",
                                 "An agent cannot be their own supervisor.")
        queue_ids = {code: qid for code, qid in s.execute(select(Queue.code, Queue.id).where(Queue.code.in_(codes)))}
        unknown = [c for c in codes if c not in queue_ids]
        if unknown:
            raise NotFound("queue_not_found", "队列不存在。", "Queue not found.", queue=unknown)
        profile = s.get(AgentProfile, user_id)
        if profile is None:
            profile = AgentProfile(user_id=user_id, online=False)
            s.add(profile)
        profile.capacity = settings.capacity
        profile.skills = skills
        profile.supervisor_id = settings.supervisor_id
        profile.updated_at = now
        s.execute(delete(QueueMember).where(QueueMember.user_id == user_id))
        for code in codes:
            s.add(QueueMember(queue_id=queue_ids[code], user_id=user_id))
        record_audit(s.connection(), actor, "agent.update", "agent", user_id,
                     {"queues": codes, "capacity": settings.capacity, "skills": skills,
                      "supervisor_id": settings.supervisor_id}, now)
        uow.commit()
        return profile


def my_presence(db: Database, actor: Actor) -> bool | None:
    """Whether this agent is online (None: not an agent, or never set up)."""
    if actor.role not in AGENT_ROLES or actor.user_id is None:
        return None
    with db.read_connection() as conn:
        online = conn.scalar(select(AgentProfile.online).where(AgentProfile.user_id == actor.user_id))
        return None if online is None else bool(online)


@dataclass(frozen=True, slots=True)
class DeskDirectory:
    """Where a ticket may be transferred: active queues, and agents with their online state."""

    queues: list[Queue]
    agents: list[tuple[int, str, bool]]


def desk_directory(db: Database, actor: Actor) -> DeskDirectory:
    if actor.role not in AGENT_ROLES:
        raise PermissionDenied("not_allowed", "只有客服可以转接工单。", "Only agents can transfer tickets.")
    with db.read() as uow:
        s = uow.session
        queues = list(s.scalars(select(Queue).where(Queue.is_active.is_(True)).order_by(Queue.id)))
        agents = [(int(uid), name, bool(online)) for uid, name, online in s.execute(
            select(User.id, User.display_name, func.coalesce(AgentProfile.online, False))
            .outerjoin(AgentProfile, AgentProfile.user_id == User.id)
            .where(User.role.in_(_DESK_USER_ROLES), User.is_active.is_(True)).order_by(User.id))]
        return DeskDirectory(queues=queues, agents=agents)


# ── reads for the ticket list ──────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ClockView:
    metric: str
    due_at: datetime
    warned: bool
    breached: bool


@dataclass(frozen=True, slots=True)
class QueueExtras:
    """What a page of tickets shows beside each row."""

    #: ticket id → its clocks still running (soonest due first)
    clocks: dict[int, list[ClockView]]
    #: user id → display name, for the assignees on the page
    names: dict[int, str]
    #: queue id → (Chinese name, English name)
    queues: dict[int, tuple[str, str]]
    #: live-chat ticket id → its last public messages (role, body), oldest first: the agent reads
    #: the conversation (the assistant's transcript too) from the queue
    chats: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


def queue_extras(db: Database, actor: Actor, tickets: Iterable[Ticket]) -> QueueExtras:
    """Open SLA clocks, assignee names and queue names for tickets the caller already may see
    (three queries whatever the number of tickets)."""
    if actor.role is Role.CUSTOMER:
        raise PermissionDenied("not_allowed", "您无权查看工单队列。", "You may not see the ticket queues.")
    rows = list(tickets)
    ids = [t.id for t in rows]
    users = list({t.assignee_id for t in rows if t.assignee_id is not None})
    clocks: dict[int, list[ClockView]] = defaultdict(list)
    with db.read_connection() as conn:
        if ids:
            for ticket_id, metric, due_at, warned_at, breached_at in conn.execute(
                    select(TicketSla.ticket_id, TicketSla.metric, TicketSla.due_at, TicketSla.warned_at,
                           TicketSla.breached_at)
                    .where(TicketSla.ticket_id.in_(ids), TicketSla.met_at.is_(None)).order_by(TicketSla.due_at)):
                clocks[ticket_id].append(ClockView(metric=metric, due_at=due_at, warned=warned_at is not None,
                                                   breached=breached_at is not None))
        names = {uid: name for uid, name in conn.execute(
            select(User.id, User.display_name).where(User.id.in_(users or [-1])))}
        queues = {qid: (zh, en) for qid, zh, en in conn.execute(select(Queue.id, Queue.name_zh, Queue.name_en))}
        chats = _chat_previews(conn, [t.id for t in rows if t.channel == Channel.WEB_CHAT.value])
    return QueueExtras(clocks=dict(clocks), names=names, queues=queues, chats=chats)


CHAT_PREVIEW = 6


def _chat_previews(conn: Connection, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The last :data:`CHAT_PREVIEW` public messages of each live-chat ticket (one query)."""
    if not ids:
        return {}
    ranked = (select(TicketMessage.ticket_id, TicketMessage.author_role, TicketMessage.body, TicketMessage.id,
                     func.row_number().over(partition_by=TicketMessage.ticket_id,
                                            order_by=TicketMessage.id.desc()).label("n"))
              .where(TicketMessage.ticket_id.in_(ids), TicketMessage.visibility == "public").subquery())
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for ticket_id, role, body, _id, _n in conn.execute(
            select(ranked).where(ranked.c.n <= CHAT_PREVIEW).order_by(ranked.c.ticket_id, ranked.c.id)):
        found[ticket_id].append((role, body))
    return dict(found)


# ── the compliance record ──────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class ViolationRow:
    at: datetime
    ticket_number: str | None
    author_name: str
    author_role: str
    seller_id: str | None
    kinds: list[str]
    matches: list[str]
    text: str


def list_violations(db: Database, actor: Actor, *, limit: int = 100) -> list[ViolationRow]:
    """Blocked replies (issue 4 §8), newest first: a seller sees the record of their own shop,
    supervisors and admins everyone's."""
    if actor.role is Role.SELLER:
        if actor.seller_id is None:
            return []
    elif actor.role not in _MANAGERS:
        raise PermissionDenied("not_allowed", "您无权查看合规记录。", "You may not see the compliance record.")
    limit = max(1, min(limit, 500))
    with db.read_connection() as conn:
        query = select(ComplianceViolation.at, ComplianceViolation.author_role, ComplianceViolation.seller_id,
                       ComplianceViolation.kinds, ComplianceViolation.matches, ComplianceViolation.text,
                       Ticket.number, User.display_name).select_from(ComplianceViolation) \
            .outerjoin(Ticket, Ticket.id == ComplianceViolation.ticket_id) \
            .outerjoin(User, User.id == ComplianceViolation.author_user_id) \
            .order_by(ComplianceViolation.at.desc(), ComplianceViolation.id.desc()).limit(limit)
        if actor.role is Role.SELLER:
            query = query.where(ComplianceViolation.seller_id == actor.seller_id)
        return [ViolationRow(at=at, ticket_number=number, author_name=name or "", author_role=role,
                             seller_id=seller_id, kinds=list(kinds or []), matches=list(matches or []), text=text)
                for at, role, seller_id, kinds, matches, text, number, name in conn.execute(query)]
