"""The after-sales policy engine: POLICY.md as one pure function, :func:`evaluate`.

Checking order (POLICY.md §9.16, cases README):

1. exclusions X1 (every type), then for returns and exchanges X3 and X2;
2. T1 — receipt time unknown → manual review (not for refund only); then C1 — a return,
   exchange or repair on a parcel still in transit or lost is conflicting → manual review;
3. refund only (F1–F3) and the size-exchange service (S1);
4. the window that admits or refuses the request (N1, N4, Q1–Q4, Q7, R1–R3 with E1/E2; W1);
5. no-reason: category (N2), then condition (N3);
6. fault reasons: evidence (Q5), then the value limit (Q6, returns only);
7. third-party routing (P1): what would be approved goes to the seller.

Checking stops at the first rule that rejects or sends the request to review. A "no" is a
value (an outcome with its rules), never an exception.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from kefu.domain.aftersales.decision import Decision, RuleHit, hit
from kefu.domain.aftersales.model import (
    Case,
    DeliveryStatus,
    Outcome,
    Reason,
    RepairCharge,
    RequestType,
    SellerType,
    ShippingPayer,
)
from kefu.domain.aftersales.params import PolicyBook, RuleParams
from kefu.domain.clock import shanghai_date
from kefu.domain.money import ZERO, fmt, to_cents

_FLAG_NAMES = {
    "packaging_opened": ("包装已拆封", "packaging opened"),
    "seal_broken": ("封条已破损", "seal broken"),
    "activated": ("已激活/已开机", "activated"),
    "used": ("已使用", "used"),
    "tags_removed": ("吊牌已拆", "tags removed"),
    "accessories_missing": ("配件不全", "accessories missing"),
}
_DAMAGE_NAMES = {
    "misuse": "使用不当", "liquid": "进液", "unauthorized_repair": "私自拆修",
    "labels_tampered": "标签/序列号被篡改", "collision": "磕碰摔损", "accident": "意外损坏",
    "modification": "私自改装", "wrong_installation": "安装不当",
}
_STATUS_NAMES = {DeliveryStatus.IN_TRANSIT: ("运输中", "in transit"),
                 DeliveryStatus.LOST: ("已丢失", "lost"),
                 DeliveryStatus.SIGNED: ("已签收", "signed for")}


def evaluate(case: Case, book: PolicyBook) -> Decision:
    """Decide one after-sales request under the policy in ``book`` (POLICY.md §4–§9)."""
    order, req = case.order, case.request
    line = case.line
    params = book.resolve(order.seller.value, line.category.value, line.sku)

    if not req.serial_matches:                                        # X1: every type
        return _reject(hit("X1"))
    if req.type is RequestType.REFUND_ONLY:
        return _refund_only(case, params)

    if req.type is not RequestType.REPAIR:                            # X3, X2 (§4)
        if not req.proof_of_purchase:
            return _reject(hit("X3"))
        if req.damage:
            return _reject(_x2_hit(case, "退换货不予办理，可申请付费维修。",
                                   "no return or exchange; a paid repair is possible."))

    receipt = order.delivery.receipt_time()
    if receipt is None:                                               # T1 (§9.1, §9.13)
        return _review_before_window(case, params, hit("T1"))
    if order.delivery.status is not DeliveryStatus.SIGNED:           # C1 (§9.15)
        zh, en = _STATUS_NAMES[order.delivery.status]
        return _review_before_window(case, params, hit("C1", status=zh, status_en=en))

    received = shanghai_date(receipt)
    today = shanghai_date(case.now)
    if req.reason is Reason.SIZE_EXCHANGE:
        return _size_exchange(case, params, received, today)
    if req.type is RequestType.REPAIR:
        return _repair(case, params, received, today)
    if req.reason is Reason.NO_REASON:
        return _no_reason(case, params, received, today)
    return _fault(case, params, received, today)


# ── shared pieces ─────────────────────────────────────────────────────────────────────────


def refund_for(case: Case, deduct_gifts: bool = True) -> Decimal:
    """§7 / §9.11: paid × returned / bought, to the cent, minus unreturned gifts once; never < 0."""
    line, req = case.line, case.request
    amount = to_cents(line.paid_amount * req.quantity / line.quantity)
    if deduct_gifts and not req.gifts_returned:
        amount -= line.gifts_value
    return max(amount, ZERO)


def _fault_payer(case: Case) -> ShippingPayer:
    """§7: fault shipping is the platform's for self-operated goods, the seller's otherwise."""
    if case.order.seller is SellerType.SELF_OPERATED:
        return ShippingPayer.PLATFORM
    return ShippingPayer.SELLER


def _reject(*hits: RuleHit) -> Decision:
    """§9.10: a rejection fills no money, no shipping, no pickup and no repair charge."""
    return Decision(Outcome.REJECTED, hits)


def _end(received: date, days: int) -> date:
    """§1: a window of N days ends on receipt date + N (Asia/Shanghai, inclusive)."""
    return received + timedelta(days=days)


def _x2_hit(case: Case, effect: str, effect_en: str) -> RuleHit:
    damage = sorted(case.request.damage)
    return hit("X2", damage="、".join(_DAMAGE_NAMES.get(d, d) for d in damage),
               effect=effect, effect_en=effect_en)


def _warranty_days(case: Case, params: RuleParams) -> int:
    stated = case.line.warranty_days
    return params.warranty_days if stated is None else stated


def _repair_suggestion(case: Case, params: RuleParams, received: date, today: date) -> tuple[str, str]:
    """W1 suggests a repair when the goods are still under (possibly extended) warranty."""
    days = _warranty_days(case, params) + params.extension_days(case.line.services)
    end = _end(received, days)
    if today <= end:
        return (f"商品仍在保修期内（至 {end}），可申请维修。",
                f"The goods are under warranty until {end}: you can apply for a repair.")
    return ("商品已过保修期，可申请付费维修。",
            "The goods are out of warranty: a paid repair is possible.")


def _window_refusal(case: Case, params: RuleParams, received: date, today: date,
                    rule: RuleHit, end: date) -> Decision:
    zh, en = _repair_suggestion(case, params, received, today)
    return _reject(rule, hit("W1", end=end, suggestion=zh, suggestion_en=en))


def _route(case: Case, params: RuleParams) -> RuleHit:
    hours = (params.seller_review_no_reason_hours if case.request.reason is Reason.NO_REASON
             else params.seller_review_hours)
    return hit("P1", hours=hours)


def _review_before_window(case: Case, params: RuleParams, why: RuleHit) -> Decision:
    """T1 / C1 manual review, filled as an approval would be (§9.10, §9.13)."""
    req = case.request
    refund = refund_for(case) if req.type is RequestType.RETURN else None
    payer: ShippingPayer | None
    if req.type is RequestType.REPAIR:
        payer = ShippingPayer.CUSTOMER if (req.damage or not req.proof_of_purchase) else None
    elif req.reason is Reason.SIZE_EXCHANGE:
        payer = _fault_payer(case) if req.type is RequestType.EXCHANGE else None
    elif req.reason is Reason.NO_REASON:
        payer = ShippingPayer.CUSTOMER
    else:
        payer = _fault_payer(case)
    return Decision(Outcome.MANUAL_REVIEW, (why,), refund_amount=refund, return_shipping_paid_by=payer)


# ── refund only (§7, §9.4) ────────────────────────────────────────────────────────────────


def _refund_only(case: Case, params: RuleParams) -> Decision:
    """F1 lost → approved; F2 signed → manual review; F3 in transit → rejected. Never routed."""
    status = case.order.delivery.status
    amount = refund_for(case, deduct_gifts=False)
    if status is DeliveryStatus.LOST:
        return Decision(Outcome.APPROVED, (hit("F1", amount=fmt(amount)),), refund_amount=amount)
    if status is DeliveryStatus.SIGNED:
        return Decision(Outcome.MANUAL_REVIEW, (hit("F2"),), refund_amount=amount)
    start = case.order.paid_at or case.now
    expected = shanghai_date(start) + timedelta(days=params.expected_transit_days)
    return _reject(hit("F3", expected=max(expected, shanghai_date(case.now))))


# ── size exchange (§8, §9.5, §9.14) ───────────────────────────────────────────────────────


def _size_exchange(case: Case, params: RuleParams, received: date, today: date) -> Decision:
    req, line = case.request, case.line
    end = _end(received, params.size_exchange_days)
    past = today > end
    problems: list[tuple[str, str]] = []
    if req.type is not RequestType.EXCHANGE:
        problems.append(("尺码随心换只适用于换货", "size exchange applies to exchanges only"))
    if params.size_exchange_service not in line.services:
        problems.append(("该商品未开通此服务", "this item does not carry the service"))
    if past:
        problems.append((f"已超过签收后 {params.size_exchange_days} 天（至 {end}）",
                         f"more than {params.size_exchange_days} days since receipt (until {end})"))
    if "packaging_opened" in req.condition:
        problems.append(("商品已拆封", "the package has been opened"))
    if problems:
        s1 = hit("S1", detail="；".join(p[0] for p in problems) + "，不予换货。",
                 detail_en="; ".join(p[1] for p in problems) + ": no exchange.")
        if past:
            return _reject(s1, hit("W1", end=end, suggestion="", suggestion_en=""))
        return _reject(s1)
    s1 = hit("S1", detail=f"签收后 {params.size_exchange_days} 天内（至 {end}）未拆封可免费换码。",
             detail_en=f"unopened goods can be exchanged for another size free of charge within "
                       f"{params.size_exchange_days} days of receipt (until {end}).")
    payer = _fault_payer(case)
    if case.order.seller is SellerType.THIRD_PARTY:
        return Decision(Outcome.SELLER_REVIEW, (s1, _route(case, params)), return_shipping_paid_by=payer)
    return Decision(Outcome.APPROVED, (s1,), return_shipping_paid_by=payer, free_pickup=True)


# ── no-reason returns and exchanges (§5 N1–N4) ────────────────────────────────────────────


def _no_reason(case: Case, params: RuleParams, received: date, today: date) -> Decision:
    req, line = case.request, case.line
    is_return = req.type is RequestType.RETURN
    days = params.no_reason_return_days if is_return else params.no_reason_exchange_days
    end = _end(received, days)
    window = hit("N1" if is_return else "N4", days=days, end=end)
    if today > end:
        return _window_refusal(case, params, received, today, window, end)
    if not params.no_reason_allowed or line.non_returnable_confirmed:
        return _reject(window, hit("N2", category=line.category.value))
    spoiled = sorted(req.condition & params.intact_checks)
    if spoiled:
        return _reject(window, hit("N3", flags="、".join(_FLAG_NAMES[f][0] for f in spoiled),
                                   flags_en=", ".join(_FLAG_NAMES[f][1] for f in spoiled)))
    refund = refund_for(case) if is_return else None
    if case.order.seller is SellerType.THIRD_PARTY:
        return Decision(Outcome.SELLER_REVIEW, (window, _route(case, params)), refund_amount=refund,
                        return_shipping_paid_by=ShippingPayer.CUSTOMER)
    return Decision(Outcome.APPROVED, (window,), refund_amount=refund,
                    return_shipping_paid_by=ShippingPayer.CUSTOMER)


# ── fault returns and exchanges (§5 Q1–Q7, W1) ────────────────────────────────────────────


def _fault(case: Case, params: RuleParams, received: date, today: date) -> Decision:
    req = case.request
    self_operated = case.order.seller is SellerType.SELF_OPERATED
    is_return = req.type is RequestType.RETURN
    if is_return:
        rule_id, days = ("Q1" if self_operated else "Q3"), params.fault_return_days
    else:
        rule_id, days = ("Q2" if self_operated else "Q4"), params.fault_exchange_days
    end = _end(received, days)
    base = hit(rule_id, days=days, end=end)
    if today <= end:
        window = base
    elif (req.previous_repairs >= params.repeated_repair_threshold
          and today <= _end(received, _warranty_days(case, params))):
        window = hit("Q7", repairs=req.previous_repairs)            # 三包 replaces the window only
    else:
        return _window_refusal(case, params, received, today, base, end)

    refund = refund_for(case) if is_return else None
    payer = _fault_payer(case)
    if not req.evidence:
        return Decision(Outcome.NEEDS_INFO, (window, hit("Q5")), refund_amount=refund,
                        return_shipping_paid_by=payer)
    if refund is not None and refund > params.auto_approve_limit:
        return Decision(Outcome.MANUAL_REVIEW,
                        (window, hit("Q6", amount=fmt(refund), limit=fmt(params.auto_approve_limit))),
                        refund_amount=refund, return_shipping_paid_by=payer)
    if not self_operated:
        return Decision(Outcome.SELLER_REVIEW, (window, _route(case, params)), refund_amount=refund,
                        return_shipping_paid_by=payer)
    return Decision(Outcome.APPROVED, (window,), refund_amount=refund, return_shipping_paid_by=payer,
                    free_pickup=True)


# ── repairs (§6, §8 E1/E2, §9.6) ──────────────────────────────────────────────────────────


def _repair(case: Case, params: RuleParams, received: date, today: date) -> Decision:
    req, line = case.request, case.line
    base_end = _end(received, _warranty_days(case, params))
    extended_end = base_end + timedelta(days=params.extension_days(line.services))
    in_warranty = today <= extended_end
    if not req.proof_of_purchase and in_warranty:                   # X3 + within warranty → R3
        return _reject(hit("X3"), hit("R3"))

    accident_end = _end(received, params.accident_protection_days)
    accident_covered = (params.accident_protection_service in line.services and bool(req.damage)
                        and req.damage <= params.accident_damage and today <= accident_end
                        and req.proof_of_purchase)
    hits: tuple[RuleHit, ...]
    if accident_covered:
        charge = RepairCharge.FREE
        hits = (hit("R1", end=max(extended_end, accident_end)),
                hit("E2", days=params.accident_protection_days, end=accident_end))
    elif req.damage:
        charge = RepairCharge.PAID
        if in_warranty:      # X2 changed the outcome: a free repair became a paid one
            hits = (_x2_hit(case, "转为付费维修。", "the repair is paid."),
                    hit("R2", why="人为损坏不在保修范围", why_en="Damage not covered by warranty"))
        else:
            hits = (hit("R2", why=f"已过保修期（至 {extended_end}）",
                        why_en=f"Out of warranty (it ended {extended_end})"),)
    elif in_warranty:
        charge = RepairCharge.FREE
        if today <= base_end:
            hits = (hit("R1", end=base_end),)
        else:
            hits = (hit("R1", end=extended_end), hit("E1", end=extended_end))
    else:
        charge = RepairCharge.PAID
        hits = (hit("R2", why=f"已过保修期（至 {extended_end}）",
                    why_en=f"Out of warranty (it ended {extended_end})"),)

    payer = _fault_payer(case) if charge is RepairCharge.FREE else ShippingPayer.CUSTOMER
    if req.reason.is_fault and not req.evidence:
        return Decision(Outcome.NEEDS_INFO, (*hits, hit("Q5")), return_shipping_paid_by=payer)
    if case.order.seller is SellerType.THIRD_PARTY:
        return Decision(Outcome.SELLER_REVIEW, (*hits, _route(case, params)),
                        return_shipping_paid_by=payer, repair_charge=charge)
    return Decision(Outcome.APPROVED, hits, return_shipping_paid_by=payer, repair_charge=charge)
