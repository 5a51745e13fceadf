"""Changing an order after the sale: cancel it, or send it to another address (issue 5 §2).

The same rules serve the shopper's order page, the agent's desk and the smart assistant; the
services in :mod:`kefu.services.order_changes` ask them inside the transaction that makes the
change. Every rule is pure and a "no" is a value (DESIGN.md convention 2):

* **OC1 — cancel.** An order may be cancelled while it is ``paid`` and not yet shipped (OC3).
  A cancelled, shipped, delivered or completed order may not: once goods have left, the way back
  is an after-sales return (POLICY.md §2), not a cancellation.
* **OC2 — change of address.** The delivery address (and the recipient's phone) may be changed on
  the same condition as OC1: the order is ``paid`` and not yet shipped (OC3).
* **OC3 — not yet shipped.** There is no delivery record, or the delivery record has no
  ``shipped_at`` and no carrier status that says the parcel exists (``in_transit``, ``signed``).
  A parcel reported ``lost`` counts as shipped too: it was in a carrier's hands, and the way to
  get the money back is refund-only for "not received" (POLICY.md §7).
* **OC4 — a new address** is trimmed and then 5–200 characters long, with no control characters
  (Unicode category Cc, or a line / paragraph separator).
* **OC5 — a recipient phone** is optional; when given it is a mainland mobile number,
  ``1[3-9]`` and nine more digits, after spaces and dashes are removed and full-width digits
  (``１３８``) are folded to ASCII.
* **OC6 — the refund of a cancelled order** is the whole amount paid, back to the original payment
  methods: each payment row gets back what it paid (POLICY.md §7 refund route).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from typing import Protocol

from kefu.domain.aftersales.model import DeliveryStatus
from kefu.domain.money import CENT, ZERO, to_cents
from kefu.domain.orders import OrderStatus, Problem

ADDRESS_MIN = 5
ADDRESS_MAX = 200
_MOBILE = re.compile(r"1[3-9]\d{9}")
_FULL_WIDTH_DIGITS = {0xFF10 + d: ord("0") + d for d in range(10)}
#: dashes people type inside a phone number: ASCII, full-width and typographic hyphens and dashes
_DASHES = frozenset("-－‐‑‒–—―")
#: carrier statuses that say a parcel exists (OC3)
_CARRIER_HAS_IT = frozenset({DeliveryStatus.IN_TRANSIT, DeliveryStatus.SIGNED, DeliveryStatus.LOST})


class ChangeAction(StrEnum):
    CANCEL = "cancel"
    CHANGE_ADDRESS = "change_address"


@dataclass(frozen=True, slots=True)
class ShipmentState:
    """What OC1–OC3 look at: the order's status and its delivery record, if any."""

    status: str
    #: ``None`` when the order has no delivery record
    delivery_status: str | None = None
    shipped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChangeDecision:
    """Whether a change is allowed now, the rule that decided it, and why (zh / en).

    ``reason`` is a stable code: ``not_shipped`` when allowed; ``already_cancelled``,
    ``already_shipped``, ``already_delivered``, ``parcel_lost`` or ``not_paid`` when refused.
    """

    allowed: bool
    rule: str
    reason: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, object]:
        return {"allowed": self.allowed, "rule": self.rule, "reason": self.reason,
                "message": {"zh": self.zh, "en": self.en}}


@dataclass(frozen=True, slots=True)
class NewAddress:
    """A validated new address (OC4) and recipient phone (OC5; ``None``: not given)."""

    address: str
    phone: str | None = None


class PaymentLike(Protocol):
    @property
    def method(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class RefundLine:
    """Money back to one original payment (OC6)."""

    method: str
    amount: Decimal

    def as_dict(self) -> dict[str, str]:
        return {"method": self.method, "amount": str(self.amount)}


# ── OC1–OC3: may the order change? ───────────────────────────────────────────────────────────

_ALLOWED: dict[ChangeAction, tuple[str, str, str]] = {
    ChangeAction.CANCEL: ("OC1", "订单尚未发货，可以取消。", "The order has not shipped yet and can be cancelled."),
    ChangeAction.CHANGE_ADDRESS: ("OC2", "订单尚未发货，可以修改收货地址。",
                                  "The order has not shipped yet; its delivery address can be changed."),
}

_REFUSALS: dict[tuple[ChangeAction, str], tuple[str, str]] = {
    (ChangeAction.CANCEL, "already_cancelled"): ("订单已取消，无需再次取消。", "The order is already cancelled."),
    (ChangeAction.CANCEL, "already_shipped"): (
        "订单已发货，无法取消；可拒收包裹，或签收后申请退货。",
        "The order has already shipped and cannot be cancelled; refuse the parcel, or apply for a return "
        "once it arrives."),
    (ChangeAction.CANCEL, "already_delivered"): (
        "订单已签收，无法取消；如需退货请申请售后。",
        "The order has already been delivered and cannot be cancelled; apply for a return instead."),
    (ChangeAction.CANCEL, "parcel_lost"): (
        "包裹已报丢失，无法取消订单；请申请仅退款（未收到货）。",
        "The parcel was reported lost, so the order cannot be cancelled; apply for a refund (not received)."),
    (ChangeAction.CANCEL, "not_paid"): (
        "订单当前状态不能取消。", "The order cannot be cancelled in its current state."),
    (ChangeAction.CHANGE_ADDRESS, "already_cancelled"): (
        "订单已取消，无法修改收货地址。", "The order is cancelled; its address cannot be changed."),
    (ChangeAction.CHANGE_ADDRESS, "already_shipped"): (
        "订单已发货，无法修改收货地址；请联系快递改派或联系客服。",
        "The order has already shipped, so its address cannot be changed; ask the carrier to redirect it, "
        "or contact us."),
    (ChangeAction.CHANGE_ADDRESS, "already_delivered"): (
        "订单已签收，无法修改收货地址。", "The order has already been delivered; its address cannot be changed."),
    (ChangeAction.CHANGE_ADDRESS, "parcel_lost"): (
        "包裹已报丢失，无法修改收货地址；请申请仅退款（未收到货）。",
        "The parcel was reported lost, so the address cannot be changed; apply for a refund (not received)."),
    (ChangeAction.CHANGE_ADDRESS, "not_paid"): (
        "订单当前状态不能修改收货地址。", "The order's address cannot be changed in its current state."),
}


def shipment_reason(state: ShipmentState) -> str:
    """OC1–OC3: ``not_shipped`` when a paid order is still in the warehouse, else why not.

    The order's own status is read first (cancelled, then shipped / delivered / completed), then the
    delivery record: a ``shipped_at`` or an ``in_transit`` status means shipped, ``signed`` means
    delivered, ``lost`` means the parcel was lost (OC3).
    """
    status = state.status
    if status == OrderStatus.CANCELLED:
        return "already_cancelled"
    if status == OrderStatus.SHIPPED:
        return "already_shipped"
    if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return "already_delivered"
    if status != OrderStatus.PAID:
        return "not_paid"
    if state.delivery_status == DeliveryStatus.SIGNED:
        return "already_delivered"
    if state.delivery_status == DeliveryStatus.LOST:
        return "parcel_lost"
    if state.shipped_at is not None or state.delivery_status in _CARRIER_HAS_IT:
        return "already_shipped"
    return "not_shipped"


def _decide(action: ChangeAction, state: ShipmentState) -> ChangeDecision:
    rule, zh, en = _ALLOWED[action]
    reason = shipment_reason(state)
    if reason == "not_shipped":
        return ChangeDecision(True, rule, reason, zh, en)
    zh, en = _REFUSALS[(action, reason)]
    return ChangeDecision(False, rule, reason, zh, en)


def may_cancel(state: ShipmentState) -> ChangeDecision:
    """OC1 (with OC3): a ``paid`` order that has not shipped may be cancelled."""
    return _decide(ChangeAction.CANCEL, state)


def may_change_address(state: ShipmentState) -> ChangeDecision:
    """OC2 (with OC3): a ``paid`` order that has not shipped may get a new delivery address."""
    return _decide(ChangeAction.CHANGE_ADDRESS, state)


# ── OC4–OC5: the new address and phone ───────────────────────────────────────────────────────


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def clean_address(raw: object) -> str | Problem:
    """OC4: the address trimmed, or the problem with it (never raises)."""
    if not isinstance(raw, str):
        return Problem("address", "请填写收货地址。", "Enter the delivery address.")
    address = raw.strip()
    if any(_is_control(ch) for ch in address):
        return Problem("address", "收货地址不能包含换行或控制字符。",
                       "The address may not contain line breaks or control characters.")
    if len(address) < ADDRESS_MIN:
        return Problem("address", f"收货地址至少 {ADDRESS_MIN} 个字。",
                       f"The address must be at least {ADDRESS_MIN} characters long.")
    if len(address) > ADDRESS_MAX:
        return Problem("address", f"收货地址最多 {ADDRESS_MAX} 个字。",
                       f"The address may be at most {ADDRESS_MAX} characters long.")
    return address


def normalise_phone(raw: str) -> str:
    """Spaces and dashes removed and full-width digits folded: ``１３８-0013 8000`` → ``13800138000``."""
    folded = raw.translate(_FULL_WIDTH_DIGITS)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in _DASHES)


def clean_phone(raw: object) -> str | Problem | None:
    """OC5: ``None`` when no phone was given (``None`` or blank), the normalised mainland mobile
    number, or the problem with it (never raises)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        return Problem("phone", "请填写手机号码。", "Enter a mobile number.")
    phone = normalise_phone(raw)
    if not _MOBILE.fullmatch(phone):
        return Problem("phone", "请填写 11 位中国大陆手机号码（1 开头）。",
                       "Enter an 11-digit mainland China mobile number starting with 1.")
    return phone


def validate_new_address(address: object, phone: object = None) -> NewAddress | list[Problem]:
    """OC4 and OC5 together: the clean :class:`NewAddress`, or every problem found."""
    clean = clean_address(address)
    tel = clean_phone(phone)
    problems = [p for p in (clean, tel) if isinstance(p, Problem)]
    if problems:
        return problems
    assert isinstance(clean, str) and not isinstance(tel, Problem)
    return NewAddress(clean, tel)


# ── OC6: the refund of a cancelled order ─────────────────────────────────────────────────────


def _split(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``total`` over ``weights`` to the cent by largest remainder: every share ≥ 0, exact sum.

    (:func:`kefu.domain.money.split_proportionally` lets its last share absorb the rounding, which
    can drive a tiny last share below zero; a refund line must never be negative.)
    """
    weight_sum = sum(weights, ZERO)
    exact = [total * w / weight_sum for w in weights]
    shares = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    left = int((total - sum(shares, ZERO)) / CENT)
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[:left]:
        shares[i] += CENT
    return shares


def cancel_refund(total_paid: Decimal, payments: Sequence[PaymentLike]) -> tuple[RefundLine, ...]:
    """OC6: the whole amount paid, back to each original payment, one line per payment row.

    Each row gets back exactly what it paid; rows that paid nothing get no line. The payments add
    up to ``total_paid`` (the import checks it); should they not, ``total_paid`` is what goes back,
    split over the rows in proportion to what each paid, so no money is kept or invented. An order
    that paid something but has no payment row breaks an invariant and raises ``ValueError``.
    """
    total = to_cents(total_paid)
    if total < 0:
        raise ValueError(f"an order cannot have paid {total}")
    amounts = [to_cents(p.amount) for p in payments]
    if sum(amounts, ZERO) == total:
        shares = amounts
    elif total > 0 and sum(amounts, ZERO) > 0:
        shares = _split(total, amounts)
    elif total == 0:
        shares = [ZERO] * len(amounts)
    else:
        raise ValueError(f"the order paid {total} but has no payment to refund it to")
    return tuple(RefundLine(p.method, share) for p, share in zip(payments, shares, strict=True) if share > 0)
