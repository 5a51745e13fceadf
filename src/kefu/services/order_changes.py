"""Cancel an order, or change its delivery address, before it ships (issue 5 §2).

The shopper's order page, the agent's desk, the API and the smart assistant all call these
functions; the rules are :mod:`kefu.domain.order_changes` (OC1–OC6). Each change is one
transaction (DESIGN.md convention 5):

1. the order row is read with ``FOR UPDATE`` (on SQLite the writing unit of work already holds the
   write lock), so two concurrent changes queue and the second one re-checks the state the first
   one left — two cancels: one wins, the other is ``409 order_not_cancellable``;
2. an order the actor may not see is ``404 order_not_found`` (a shopper typing another's order
   id learns nothing); sellers may see their orders but not change them (``403 not_allowed``);
3. the domain rule decides; a "no" becomes ``409 order_not_cancellable`` /
   ``409 address_not_changeable`` with the reason in both languages and nothing written;
4. the order is updated (``updated_at`` too; ``content_hash`` stays the import's), an append-only
   :class:`~kefu.adapters.db.tables.bot.OrderChange` row records who did what (``bot`` when the
   assistant acted for the shopper) with the before and after values, and the customer's in-app
   message and SMS go into the outbox — all in the same commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.adapters.db.tables.bot import OrderChange
from kefu.adapters.db.tables.catalog import Customer, Delivery, Order, OrderPayment
from kefu.domain.actors import AGENT_ROLES, Actor, Role
from kefu.domain.clock import Clock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.domain.money import ZERO, fmt
from kefu.domain.order_changes import (
    ChangeAction,
    ChangeDecision,
    RefundLine,
    ShipmentState,
    cancel_refund,
    may_cancel,
    may_change_address,
    validate_new_address,
)
from kefu.domain.orders import OrderStatus, masked_address
from kefu.services.notifications import Notice, queue_customer_messages
from kefu.services.orders import may_see
from kefu.services.uow import Database

#: the longest cancellation reason kept
REASON_MAX = 500
#: ``actor_role`` of a change the assistant made for the signed-in shopper
BOT_ROLE = "bot"


@dataclass(frozen=True, slots=True)
class OrderChangeResult:
    """What a change left: the order's new status, address and phone, and the refund lines."""

    order_id: str
    action: str
    status: str
    address: str
    recipient_phone: str | None
    refund: tuple[RefundLine, ...]
    change_id: int
    at: datetime

    @property
    def refund_total(self) -> Decimal:
        return sum((line.amount for line in self.refund), ZERO)

    def as_dict(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "action": self.action, "status": self.status,
                "address": self.address, "recipient_phone": self.recipient_phone,
                "refund": [line.as_dict() for line in self.refund], "refund_total": fmt(self.refund_total),
                "change_id": self.change_id, "at": self.at.isoformat()}


@dataclass(frozen=True, slots=True)
class OrderChangeEntry:
    """One row of an order's change history, as the reader may see it (masked for sellers)."""

    id: int
    at: datetime
    action: str
    actor_role: str
    actor_name: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str


def shipment_state(order: Order) -> ShipmentState:
    """The facts OC1–OC3 look at, from an order whose ``delivery`` is loaded (the repository's
    ``get_order`` loads it)."""
    return _state(order, order.delivery)


def _state(order: Order, delivery: Delivery | None) -> ShipmentState:
    if delivery is None:
        return ShipmentState(order.status)
    return ShipmentState(order.status, delivery.status, delivery.shipped_at)


def change_options(order: Order) -> tuple[ChangeDecision, ChangeDecision]:
    """OC1 and OC2 for a loaded order: (may it be cancelled, may its address change) — for pages
    and the assistant to offer only what is allowed. The services decide again when asked."""
    state = shipment_state(order)
    return may_cancel(state), may_change_address(state)


# ── the two changes ──────────────────────────────────────────────────────────────────────────


def cancel_order(db: Database, actor: Actor, order_id: str, clock: Clock, *, reason: str = "",
                 via_assistant: bool = False) -> OrderChangeResult:
    """Cancel a paid order that has not shipped (OC1, OC3) and refund it in full (OC6).

    ``409 order_not_cancellable`` (detail ``reason``: ``already_cancelled``, ``already_shipped``,
    ``already_delivered``, ``parcel_lost``) when the state does not allow it; the refund goes back
    to each original payment and is recorded on the change row and told to the customer.
    """
    note = _clean_reason(reason)
    with db.uow() as uow:
        s = uow.session
        now = clock()
        order, delivery = _load_for_change(s, actor, order_id, via_assistant)
        decision = may_cancel(_state(order, delivery))
        if not decision.allowed:
            raise _refusal("order_not_cancellable", order_id, decision)
        payments = list(s.scalars(select(OrderPayment).where(OrderPayment.order_id == order.id)
                                  .order_by(OrderPayment.id)))
        refund = cancel_refund(order.total_paid, payments)
        before = {"status": order.status}
        order.status = OrderStatus.CANCELLED.value
        order.updated_at = now
        total = sum((line.amount for line in refund), ZERO)
        change = _record(s, order, actor, via_assistant, ChangeAction.CANCEL, now, before,
                         {"status": order.status, "refund": [line.as_dict() for line in refund],
                          "refund_total": fmt(total)}, note)
        if total > 0:
            money_zh = f"¥{fmt(total)} 将原路退回您的支付账户。"
            money_en = f" ¥{fmt(total)} goes back to your original payment methods."
        else:
            money_zh = money_en = ""
        _notify(s, order, Notice(
            event="order.cancelled", zh=f"您的订单 {order.id} 已取消。{money_zh}",
            en=f"Your order {order.id} has been cancelled.{money_en}", link=f"/orders/{order.id}",
            sms=True, email=False), now)
        uow.commit()
        return _result(order, ChangeAction.CANCEL, refund, change, now)


def change_address(db: Database, actor: Actor, order_id: str, address: str, clock: Clock, *,
                   phone: str | None = None, via_assistant: bool = False) -> OrderChangeResult:
    """Send a paid order that has not shipped to another address (OC2, OC3).

    The address must pass OC4 and the phone, when given, OC5 (``422 invalid_address`` /
    ``invalid_phone``); a phone that is ``None`` or blank leaves the recipient's phone as it was.
    A change to what is already there is ``422 address_unchanged``. ``409 address_not_changeable``
    when the order has shipped, been delivered or been cancelled.
    """
    clean = validate_new_address(address, phone)
    if isinstance(clean, list):
        first = clean[0]
        raise InputError(f"invalid_{first.field}", first.zh, first.en,
                         problems=[{"field": p.field, "zh": p.zh, "en": p.en} for p in clean])
    with db.uow() as uow:
        s = uow.session
        now = clock()
        order, delivery = _load_for_change(s, actor, order_id, via_assistant)
        decision = may_change_address(_state(order, delivery))
        if not decision.allowed:
            raise _refusal("address_not_changeable", order_id, decision)
        new_phone = clean.phone if clean.phone is not None else order.recipient_phone
        if clean.address == order.address and new_phone == order.recipient_phone:
            raise InputError("address_unchanged", "新地址与当前收货地址相同。",
                             "The new address is the same as the current one.")
        before = {"address": order.address, "recipient_phone": order.recipient_phone}
        order.address = clean.address
        order.recipient_phone = new_phone
        order.updated_at = now
        change = _record(s, order, actor, via_assistant, ChangeAction.CHANGE_ADDRESS, now, before,
                         {"address": order.address, "recipient_phone": order.recipient_phone}, "")
        # the SMS shows the address masked, like every other view of it (DESIGN.md §Security)
        shown = masked_address(order.address)
        _notify(s, order, Notice(
            event="order.address_changed",
            zh=f"您的订单 {order.id} 收货地址已改为 {shown}。如非本人操作，请立即联系客服。",
            en=f"The delivery address of your order {order.id} is now {shown}. "
               "If you did not ask for this, contact us at once.",
            link=f"/orders/{order.id}", sms=True, email=False), now)
        uow.commit()
        return _result(order, ChangeAction.CHANGE_ADDRESS, (), change, now)


def list_order_changes(db: Database, actor: Actor, order_id: str) -> list[OrderChangeEntry]:
    """The order's changes, oldest first, for whoever may see the order (``404 order_not_found``
    otherwise). Sellers see addresses and phones masked, as on the order itself."""
    with db.read() as uow:
        s = uow.session
        order = s.get(Order, order_id)
        if order is None or not may_see(actor, order):
            raise _not_found(order_id)
        rows = list(s.scalars(select(OrderChange).where(OrderChange.order_id == order_id)
                              .order_by(OrderChange.id)))
    mask = actor.role is Role.SELLER
    return [OrderChangeEntry(r.id, r.at, r.action, r.actor_role, r.actor_name,
                             _masked(r.before) if mask else dict(r.before),
                             _masked(r.after) if mask else dict(r.after), r.note) for r in rows]


# ── helpers ──────────────────────────────────────────────────────────────────────────────────


def _not_found(order_id: str) -> NotFound:
    return NotFound("order_not_found", "订单不存在。", "Order not found.", order_id=order_id)


def _refusal(code: str, order_id: str, decision: ChangeDecision) -> Conflict:
    return Conflict(code, decision.zh, decision.en, order_id=order_id, reason=decision.reason,
                    rule=decision.rule)


def _clean_reason(reason: str) -> str:
    note = (reason or "").strip()
    if len(note) > REASON_MAX:
        raise InputError("reason_too_long", f"取消原因最多 {REASON_MAX} 个字。",
                         f"The reason may be at most {REASON_MAX} characters long.")
    return note


def _check_actor(actor: Actor, via_assistant: bool) -> None:
    """Who may change an order: its customer (a visible order is theirs) and agents, supervisors
    and admins; the assistant only ever acts for the signed-in shopper."""
    if via_assistant and actor.role is not Role.CUSTOMER:
        raise PermissionDenied("not_allowed", "智能助手只能代顾客本人操作。",
                               "The assistant acts only for the signed-in shopper.")
    if actor.role is not Role.CUSTOMER and actor.role not in AGENT_ROLES:
        raise PermissionDenied("not_allowed", "您无权取消订单或修改收货地址。",
                               "You may not cancel orders or change their address.")


def _load_for_change(s: Session, actor: Actor, order_id: str, via_assistant: bool) -> tuple[Order, Delivery | None]:
    """The order row, locked for this transaction, and its delivery; visibility before role."""
    order = s.scalars(select(Order).where(Order.id == order_id).with_for_update()).one_or_none()
    if order is None or not may_see(actor, order):
        raise _not_found(order_id)
    _check_actor(actor, via_assistant)
    delivery = s.scalars(select(Delivery).where(Delivery.order_id == order.id)).one_or_none()
    return order, delivery


def _record(s: Session, order: Order, actor: Actor, via_assistant: bool, action: ChangeAction, now: datetime,
            before: dict[str, Any], after: dict[str, Any], note: str) -> OrderChange:
    change = OrderChange(order_id=order.id, at=now, actor_user_id=actor.user_id,
                         actor_role=BOT_ROLE if via_assistant else actor.role.value,
                         actor_name=actor.display_name[:100], action=action.value, before=before, after=after,
                         note=note)
    s.add(change)
    s.flush()
    return change


def _notify(s: Session, order: Order, notice: Notice, now: datetime) -> None:
    customer = s.get(Customer, order.customer_id)
    assert customer is not None            # a foreign key guarantees it
    queue_customer_messages(s.connection(), customer, notice, now)


def _result(order: Order, action: ChangeAction, refund: tuple[RefundLine, ...], change: OrderChange,
            now: datetime) -> OrderChangeResult:
    return OrderChangeResult(order.id, action.value, order.status, order.address, order.recipient_phone, refund,
                             change.id, now)


def _mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def _masked(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if isinstance(out.get("address"), str):
        out["address"] = masked_address(out["address"])
    if isinstance(out.get("recipient_phone"), str):
        out["recipient_phone"] = _mask_phone(out["recipient_phone"])
    return out
