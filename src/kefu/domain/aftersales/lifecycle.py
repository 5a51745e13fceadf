"""The after-sales application lifecycle: states, legal transitions, who may take them, due times.

    submit ─► decision: approved │ rejected │ needs_info │ manual_review │ seller_review
    needs_info ──add_evidence──► (decided again)
    manual_review / seller_review ──approve──► approved   ──reject──► rejected
    seller_review ──auto_approve (sweep: seller missed the deadline)──► approved
    approved ──schedule_pickup──► pickup_scheduled ──collect──► picked_up ─┐
    approved ──ship_back (waybill)──► shipped_back ─────────────────────────┴─receive─► received
    received ──inspect──► inspected (pass) │ inspection_failed (fail)
    inspected ──refund──► refunded          (return; PLUS customers are refunded at collect)
    inspected ──ship_replacement──► replacement_shipped   (exchange)
    inspected ──return_repaired──► repaired               (repair)
    approved ──refund──► refunded                          (refund only: nothing comes back)
    refunded │ replacement_shipped │ repaired │ inspection_failed │ inspected (already refunded)
        ──complete──► completed ──rate──► completed (once)
    needs_info │ manual_review │ seller_review │ approved │ pickup_scheduled ──cancel──► cancelled

Every transition is checked here, in the domain, whatever the entrypoint (DESIGN.md conv. 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from kefu.domain.actors import AGENT_ROLES, Role
from kefu.domain.aftersales.model import Outcome, Reason, RequestType
from kefu.domain.aftersales.params import RuleParams
from kefu.domain.clock import SHANGHAI
from kefu.domain.errors import Conflict, PermissionDenied


class Status(StrEnum):
    NEEDS_INFO = "needs_info"
    MANUAL_REVIEW = "manual_review"
    SELLER_REVIEW = "seller_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    PICKUP_SCHEDULED = "pickup_scheduled"
    PICKED_UP = "picked_up"
    SHIPPED_BACK = "shipped_back"
    RECEIVED = "received"
    INSPECTED = "inspected"
    INSPECTION_FAILED = "inspection_failed"
    REFUNDED = "refunded"
    REPLACEMENT_SHIPPED = "replacement_shipped"
    REPAIRED = "repaired"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.NEEDS_INFO: ("待补充凭证", "Needs information"),
    Status.MANUAL_REVIEW: ("人工审核中", "In manual review"),
    Status.SELLER_REVIEW: ("商家审核中", "In seller review"),
    Status.APPROVED: ("已同意", "Approved"),
    Status.REJECTED: ("已拒绝", "Rejected"),
    Status.PICKUP_SCHEDULED: ("已预约上门取件", "Pickup scheduled"),
    Status.PICKED_UP: ("快递已取件", "Picked up"),
    Status.SHIPPED_BACK: ("已寄回", "Shipped back"),
    Status.RECEIVED: ("已收货待验货", "Received, awaiting inspection"),
    Status.INSPECTED: ("验货通过", "Inspection passed"),
    Status.INSPECTION_FAILED: ("验货不通过", "Inspection failed"),
    Status.REFUNDED: ("已退款", "Refunded"),
    Status.REPLACEMENT_SHIPPED: ("换新商品已发出", "Replacement shipped"),
    Status.REPAIRED: ("已维修寄回", "Repaired and returned"),
    Status.COMPLETED: ("已完成", "Completed"),
    Status.CANCELLED: ("已取消", "Cancelled"),
}

#: states where nothing more can happen (apart from rating a completed one)
TERMINAL = frozenset({Status.REJECTED, Status.COMPLETED, Status.CANCELLED})


class Action(StrEnum):
    ADD_EVIDENCE = "add_evidence"
    APPROVE = "approve"
    REJECT = "reject"
    AUTO_APPROVE = "auto_approve"
    SCHEDULE_PICKUP = "schedule_pickup"
    SHIP_BACK = "ship_back"
    COLLECT = "collect"
    RECEIVE = "receive"
    INSPECT = "inspect"
    REFUND = "refund"
    SHIP_REPLACEMENT = "ship_replacement"
    RETURN_REPAIRED = "return_repaired"
    COMPLETE = "complete"
    RATE = "rate"
    CANCEL = "cancel"


ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.ADD_EVIDENCE: ("补充凭证", "Add evidence"),
    Action.APPROVE: ("同意", "Approve"),
    Action.REJECT: ("拒绝", "Reject"),
    Action.AUTO_APPROVE: ("超时自动同意", "Approved automatically"),
    Action.SCHEDULE_PICKUP: ("预约上门取件", "Schedule pickup"),
    Action.SHIP_BACK: ("填写寄回运单", "Ship back with waybill"),
    Action.COLLECT: ("快递取件", "Collected by courier"),
    Action.RECEIVE: ("确认收货", "Confirm receipt"),
    Action.INSPECT: ("验货", "Inspect"),
    Action.REFUND: ("退款", "Refund"),
    Action.SHIP_REPLACEMENT: ("发出换新商品", "Ship replacement"),
    Action.RETURN_REPAIRED: ("维修完成寄回", "Return repaired goods"),
    Action.COMPLETE: ("完成", "Complete"),
    Action.RATE: ("评价", "Rate"),
    Action.CANCEL: ("取消申请", "Cancel"),
}

#: the customer's side; the handler is the agent (self-operated) or the seller (third-party)
CUSTOMER, HANDLER, REVIEWER, SYSTEM = "customer", "handler", "reviewer", "system"

# (action, from status) → (to status, who may do it)
_EDGES: dict[tuple[Action, Status], tuple[Status | None, str]] = {
    (Action.ADD_EVIDENCE, Status.NEEDS_INFO): (None, CUSTOMER),          # None: decided again
    (Action.APPROVE, Status.MANUAL_REVIEW): (Status.APPROVED, REVIEWER),
    (Action.REJECT, Status.MANUAL_REVIEW): (Status.REJECTED, REVIEWER),
    (Action.APPROVE, Status.SELLER_REVIEW): (Status.APPROVED, HANDLER),
    (Action.REJECT, Status.SELLER_REVIEW): (Status.REJECTED, HANDLER),
    (Action.AUTO_APPROVE, Status.SELLER_REVIEW): (Status.APPROVED, SYSTEM),
    (Action.SCHEDULE_PICKUP, Status.APPROVED): (Status.PICKUP_SCHEDULED, CUSTOMER),
    (Action.SHIP_BACK, Status.APPROVED): (Status.SHIPPED_BACK, CUSTOMER),
    (Action.COLLECT, Status.PICKUP_SCHEDULED): (Status.PICKED_UP, HANDLER),
    (Action.RECEIVE, Status.PICKED_UP): (Status.RECEIVED, HANDLER),
    (Action.RECEIVE, Status.SHIPPED_BACK): (Status.RECEIVED, HANDLER),
    (Action.INSPECT, Status.RECEIVED): (Status.INSPECTED, HANDLER),     # or INSPECTION_FAILED
    (Action.REFUND, Status.INSPECTED): (Status.REFUNDED, HANDLER),
    (Action.REFUND, Status.APPROVED): (Status.REFUNDED, HANDLER),
    (Action.SHIP_REPLACEMENT, Status.INSPECTED): (Status.REPLACEMENT_SHIPPED, HANDLER),
    (Action.RETURN_REPAIRED, Status.INSPECTED): (Status.REPAIRED, HANDLER),
    (Action.COMPLETE, Status.REFUNDED): (Status.COMPLETED, HANDLER),
    (Action.COMPLETE, Status.REPLACEMENT_SHIPPED): (Status.COMPLETED, HANDLER),
    (Action.COMPLETE, Status.REPAIRED): (Status.COMPLETED, HANDLER),
    (Action.COMPLETE, Status.INSPECTION_FAILED): (Status.COMPLETED, HANDLER),
    (Action.COMPLETE, Status.INSPECTED): (Status.COMPLETED, HANDLER),
    (Action.RATE, Status.COMPLETED): (Status.COMPLETED, CUSTOMER),
    (Action.CANCEL, Status.NEEDS_INFO): (Status.CANCELLED, CUSTOMER),
    (Action.CANCEL, Status.MANUAL_REVIEW): (Status.CANCELLED, CUSTOMER),
    (Action.CANCEL, Status.SELLER_REVIEW): (Status.CANCELLED, CUSTOMER),
    (Action.CANCEL, Status.APPROVED): (Status.CANCELLED, CUSTOMER),
    (Action.CANCEL, Status.PICKUP_SCHEDULED): (Status.CANCELLED, CUSTOMER),
}

LEGAL_EDGES = dict(_EDGES)


@dataclass(frozen=True, slots=True)
class ApplicationState:
    """What the lifecycle needs to know about an application to judge a transition."""

    status: Status
    type: RequestType
    reason: Reason
    third_party: bool
    seller_id: str
    customer_id: str
    free_pickup: bool = False
    refunded: bool = False
    rated: bool = False


def status_for(outcome: Outcome) -> Status:
    """The status a fresh decision puts an application in."""
    return Status(outcome.value)


def _allowed(role: Role, side: str, state: ApplicationState, actor_customer: str | None,
             actor_seller: str | None) -> bool:
    if role is Role.SYSTEM:
        return True
    if side == SYSTEM:
        return False
    if side == CUSTOMER:
        if role is Role.CUSTOMER:
            return actor_customer == state.customer_id
        return role in AGENT_ROLES          # agents act on a customer's behalf
    if role is Role.SELLER:
        # a seller handles only their own third-party goods; manual review is the platform's
        return side == HANDLER and state.third_party and actor_seller == state.seller_id
    return role in AGENT_ROLES


def next_status(action: Action, state: ApplicationState, role: Role, *, actor_customer: str | None = None,
                actor_seller: str | None = None, passed: bool | None = None) -> Status | None:
    """The status ``action`` leads to from ``state``, or an error when it is illegal or not allowed.

    Raises :class:`Conflict` (409, ``illegal_transition``) when the state machine has no such
    edge, and :class:`PermissionDenied` (403, ``not_allowed``) when this actor may not take it.
    Returns ``None`` for ``add_evidence``: the application is decided again by the engine.
    """
    edge = _EDGES.get((action, state.status))
    if edge is None or not _edge_fits(action, state):
        zh_from, en_from = STATUS_LABELS[state.status]
        zh_act, en_act = ACTION_LABELS[action]
        raise Conflict("illegal_transition", f"当前状态「{zh_from}」不能执行「{zh_act}」。",
                       f"'{en_act}' is not possible while the application is '{en_from}'.",
                       status=state.status.value, action=action.value)
    target, side = edge
    if not _allowed(role, side, state, actor_customer, actor_seller):
        raise PermissionDenied("not_allowed", "您无权执行此操作。", "You may not do this.",
                               action=action.value)
    if action is Action.INSPECT:
        if passed is None:
            raise Conflict("inspection_result_missing", "请填写验货结果。", "The inspection result is missing.")
        return Status.INSPECTED if passed else Status.INSPECTION_FAILED
    return target


def _edge_fits(action: Action, state: ApplicationState) -> bool:
    """Edges that exist only for some request types or facts."""
    t = state.type
    if action is Action.SCHEDULE_PICKUP:
        return t is not RequestType.REFUND_ONLY and state.free_pickup
    if action is Action.SHIP_BACK:
        return t is not RequestType.REFUND_ONLY
    if action is Action.REFUND:
        if state.refunded:
            return False
        if state.status is Status.APPROVED:
            return t is RequestType.REFUND_ONLY
        return t is RequestType.RETURN
    if action is Action.SHIP_REPLACEMENT:
        return t is RequestType.EXCHANGE
    if action is Action.RETURN_REPAIRED:
        return t is RequestType.REPAIR
    if action is Action.COMPLETE and state.status is Status.INSPECTED:
        return t is RequestType.RETURN and state.refunded      # refunded at pickup (PLUS)
    if action is Action.RATE:
        return not state.rated
    return True


def available_actions(state: ApplicationState, role: Role, *, actor_customer: str | None = None,
                      actor_seller: str | None = None) -> list[Action]:
    """Every action this actor may take now (for the pages' buttons), in lifecycle order."""
    out = []
    for (action, status), (_, side) in _EDGES.items():
        if status is state.status and _edge_fits(action, state) and side != SYSTEM and \
                _allowed(role, side, state, actor_customer, actor_seller):
            out.append(action)
    return out


# ── due times (POLICY.md §7) ──────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Due:
    kind: str
    at: datetime


def _end_of_day(moment: datetime) -> datetime:
    local = moment.astimezone(SHANGHAI)
    return datetime.combine(local.date(), time(23, 59, 59), tzinfo=SHANGHAI)


def due_for(status: Status, state: ApplicationState, params: RuleParams, now: datetime) -> Due | None:
    """The service-level clock that starts when an application enters ``status`` (POLICY.md §7).

    seller review 48 h (24 h for no-reason); collect the goods 48 h after approval (fresh food
    the same day); decide within 48 h of receiving them; ship an exchange within 48 h; refund
    within 7 days of a passed inspection. Manual review by an agent uses the seller's clock.
    """
    hours = timedelta(hours=1)
    if status in (Status.SELLER_REVIEW, Status.MANUAL_REVIEW):
        n = params.seller_review_no_reason_hours if state.reason is Reason.NO_REASON else params.seller_review_hours
        return Due("review", now + n * hours)
    if status in (Status.APPROVED, Status.PICKUP_SCHEDULED):
        if state.type is RequestType.REFUND_ONLY:
            return Due("refund", now + timedelta(days=params.refund_days))
        if params.collect_same_day:
            return Due("collect", _end_of_day(now))
        return Due("collect", now + params.collect_hours * hours)
    if status is Status.RECEIVED:
        return Due("inspect", now + params.inspect_hours * hours)
    if status is Status.INSPECTED:
        if state.type is RequestType.RETURN and not state.refunded:
            return Due("refund", now + timedelta(days=params.refund_days))
        if state.type is RequestType.EXCHANGE:
            return Due("ship_replacement", now + params.exchange_ship_hours * hours)
        if state.type is RequestType.REPAIR:
            return Due("repair", now + params.exchange_ship_hours * hours)
    return None
