"""Tickets (工单) and complaints (投诉): vocabularies, states, legal steps and who may take them.

A consultation (咨询) and a complaint (投诉) share one state machine; a complaint must be
confirmed (问题确认) before it is worked on:

    new ──confirm (complaint)──► confirmed ──reply / process──► processing
    new ──reply / process (consultation)─────────────────────► processing
    confirmed │ processing ──wait_customer──► waiting_customer   (SLA clock paused, D-rules)
    waiting_customer ──customer replies / resume──► processing
    new │ confirmed │ processing │ waiting_customer ──resolve──► resolved   (结果确认: survey sent)
    resolved ──accept (customer)│ close (staff, or the sweep after the confirmation window)──► closed
    resolved │ closed ──reopen (customer, within D6's 7 days)──► processing (escalated)
    any open state ──merge──► merged (a duplicate folded into another ticket)

Every step is checked here, whatever the entrypoint (DESIGN.md conv. 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kefu.domain.actors import Role
from kefu.domain.errors import Conflict, PermissionDenied


class Channel(StrEnum):
    WEB_CHAT = "web_chat"
    APP = "app"
    PHONE = "phone"
    EMAIL = "email"
    WEIBO = "weibo"
    WECHAT = "wechat"


class Category(StrEnum):
    PRODUCT = "product"
    LOGISTICS = "logistics"
    AFTERSALES = "aftersales"
    PAYMENT = "payment"
    MEMBERSHIP = "membership"
    SERVICE_ATTITUDE = "service_attitude"
    OTHER = "other"


class Kind(StrEnum):
    CONSULTATION = "consultation"
    COMPLAINT = "complaint"


class Status(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    MERGED = "merged"


class Action(StrEnum):
    CONFIRM = "confirm"
    PROCESS = "process"
    WAIT_CUSTOMER = "wait_customer"
    RESUME = "resume"
    RESOLVE = "resolve"
    ACCEPT = "accept"
    CLOSE = "close"
    REOPEN = "reopen"
    MERGE = "merge"


CHANNEL_LABELS: dict[Channel, tuple[str, str]] = {
    Channel.WEB_CHAT: ("在线客服", "Web chat"),
    Channel.APP: ("App", "App"),
    Channel.PHONE: ("电话", "Phone"),
    Channel.EMAIL: ("邮件", "Email"),
    Channel.WEIBO: ("微博", "Weibo"),
    Channel.WECHAT: ("微信公众号", "WeChat"),
}

CATEGORY_LABELS: dict[Category, tuple[str, str]] = {
    Category.PRODUCT: ("商品", "Product"),
    Category.LOGISTICS: ("物流", "Logistics"),
    Category.AFTERSALES: ("售后", "After-sales"),
    Category.PAYMENT: ("支付", "Payment"),
    Category.MEMBERSHIP: ("会员", "Membership"),
    Category.SERVICE_ATTITUDE: ("服务态度", "Service attitude"),
    Category.OTHER: ("其他", "Other"),
}

KIND_LABELS: dict[Kind, tuple[str, str]] = {
    Kind.CONSULTATION: ("咨询", "Consultation"),
    Kind.COMPLAINT: ("投诉", "Complaint"),
}

STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.NEW: ("待处理", "New"),
    Status.CONFIRMED: ("问题已确认", "Confirmed"),
    Status.PROCESSING: ("处理中", "Processing"),
    Status.WAITING_CUSTOMER: ("等待顾客回复", "Waiting for the customer"),
    Status.RESOLVED: ("已处理，待顾客确认", "Resolved, awaiting confirmation"),
    Status.CLOSED: ("已关闭", "Closed"),
    Status.MERGED: ("已合并", "Merged"),
}

ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.CONFIRM: ("确认问题", "Confirm the problem"),
    Action.PROCESS: ("开始处理", "Start work"),
    Action.WAIT_CUSTOMER: ("等待顾客", "Wait for the customer"),
    Action.RESUME: ("继续处理", "Resume"),
    Action.RESOLVE: ("标记已解决", "Resolve"),
    Action.ACCEPT: ("确认已解决", "Accept the result"),
    Action.CLOSE: ("关闭", "Close"),
    Action.REOPEN: ("未解决，重新打开", "Not solved: reopen"),
    Action.MERGE: ("合并到其他工单", "Merge into another ticket"),
}

#: states in which the ticket is still being worked on (counts toward an agent's load)
OPEN_STATUSES = frozenset({Status.NEW, Status.CONFIRMED, Status.PROCESSING, Status.WAITING_CUSTOMER})
#: states that end a ticket
FINAL_STATUSES = frozenset({Status.CLOSED, Status.MERGED})

#: the people who work tickets; a seller works only tickets about their own goods
DESK_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SELLER, Role.SYSTEM})

_STAFF = DESK_ROLES
_CUSTOMER = frozenset({Role.CUSTOMER})
_SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM})


@dataclass(frozen=True, slots=True)
class Edge:
    action: Action
    sources: frozenset[Status]
    target: Status
    roles: frozenset[Role]
    kinds: frozenset[Kind] = frozenset(Kind)


LEGAL_EDGES: tuple[Edge, ...] = (
    Edge(Action.CONFIRM, frozenset({Status.NEW}), Status.CONFIRMED, _STAFF, frozenset({Kind.COMPLAINT})),
    Edge(Action.PROCESS, frozenset({Status.CONFIRMED}), Status.PROCESSING, _STAFF, frozenset({Kind.COMPLAINT})),
    Edge(Action.PROCESS, frozenset({Status.NEW}), Status.PROCESSING, _STAFF, frozenset({Kind.CONSULTATION})),
    Edge(Action.WAIT_CUSTOMER, frozenset({Status.NEW, Status.CONFIRMED, Status.PROCESSING}),
         Status.WAITING_CUSTOMER, _STAFF),
    Edge(Action.RESUME, frozenset({Status.WAITING_CUSTOMER}), Status.PROCESSING, _STAFF | _CUSTOMER),
    Edge(Action.RESOLVE, frozenset({Status.NEW, Status.PROCESSING, Status.WAITING_CUSTOMER}), Status.RESOLVED,
         _STAFF, frozenset({Kind.CONSULTATION})),
    # D4: a complaint is confirmed before it is resolved
    Edge(Action.RESOLVE, frozenset({Status.CONFIRMED, Status.PROCESSING, Status.WAITING_CUSTOMER}),
         Status.RESOLVED, _STAFF, frozenset({Kind.COMPLAINT})),
    Edge(Action.ACCEPT, frozenset({Status.RESOLVED}), Status.CLOSED, _CUSTOMER),
    Edge(Action.CLOSE, frozenset({Status.RESOLVED}), Status.CLOSED, _STAFF),
    Edge(Action.REOPEN, frozenset({Status.RESOLVED, Status.CLOSED}), Status.PROCESSING, _CUSTOMER | _SUPERVISORS),
    Edge(Action.MERGE, frozenset(OPEN_STATUSES), Status.MERGED, _STAFF - {Role.SELLER}),
)


def next_status(action: Action, status: Status, kind: Kind, role: Role) -> Status:
    """The state after ``action``; 409 ``illegal_transition`` when the ticket's state does not allow it,
    403 ``not_allowed`` when this role may not take it."""
    allowed_somewhere = False
    for edge in LEGAL_EDGES:
        if edge.action is action and status in edge.sources and kind in edge.kinds:
            if role in edge.roles:
                return edge.target
            allowed_somewhere = True
    if allowed_somewhere:
        raise PermissionDenied("not_allowed", "您无权执行此操作。", "You may not take this step.",
                               action=action.value)
    zh_action, en_action = ACTION_LABELS[action]
    zh_state, en_state = STATUS_LABELS[status]
    raise Conflict("illegal_transition", f"工单当前为“{zh_state}”，不能{zh_action}。",
                   f"A ticket that is {en_state.lower()} cannot take the step “{en_action}”.",
                   action=action.value, status=status.value)


def available_actions(status: Status, kind: Kind, role: Role) -> list[Action]:
    """The steps this role can take on a ticket in this state (for buttons)."""
    seen: list[Action] = []
    for edge in LEGAL_EDGES:
        if status in edge.sources and kind in edge.kinds and role in edge.roles and edge.action not in seen:
            seen.append(edge.action)
    return seen
