"""The decision an after-sales evaluation returns: outcome, money, shipping and the rules that fired.

Every rule id of POLICY.md has a reason template in Chinese and English here; the engine fills
in the facts (window end, days, amounts) so a person can see exactly why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kefu.domain.aftersales.model import Outcome, RepairCharge, ShippingPayer
from kefu.domain.money import fmt

#: rule id → (Chinese template, English template); ``{name}`` fields are filled per decision.
REASON_TEMPLATES: dict[str, tuple[str, str]] = {
    "X1": ("申请的商品与本订单售出的商品不符（序列号/编号不一致），不予办理。",
           "The goods are not the ones sold in this order (serial number does not match); "
           "the request cannot be handled."),
    "X2": ("商品存在人为损坏（{damage}），不在三包范围：{effect}",
           "The goods show damage not covered by the warranty ({damage}): {effect_en}"),
    "X3": ("无法提供有效购买凭证，或凭证与商品不符，不予办理退换货及免费维修。",
           "No valid proof of purchase, or it does not match the goods: no return, exchange or "
           "free repair."),
    "T1": ("签收时间未知，无法计算售后时效，转人工核实签收日期。",
           "The receipt time is unknown, so the window cannot be computed; an agent will "
           "confirm the receipt date."),
    "C1": ("物流状态为「{status}」，与退换货/维修申请相矛盾，转人工核实。",
           "The parcel is reported as {status_en}, which conflicts with a return, exchange or "
           "repair; an agent will check."),
    "N1": ("签收后 {days} 天内（至 {end}）支持七天无理由退货。",
           "No-reason return within {days} days of receipt (until {end})."),
    "N4": ("签收后 {days} 天内（至 {end}）支持无理由换货，来回运费由顾客承担。",
           "No-reason exchange within {days} days of receipt (until {end}); the customer pays "
           "shipping both ways."),
    "N2": ("该商品（{category}）不支持七天无理由退换货。",
           "This item ({category}) does not take no-reason returns or exchanges."),
    "N3": ("商品已不完好（{flags}），影响二次销售，不支持无理由退换货。",
           "The goods are no longer intact ({flags_en}) and cannot be resold: no no-reason "
           "return or exchange."),
    "Q1": ("自营商品质量问题，签收后 {days} 天内（至 {end}）可退货，免费上门取件，运费由平台承担。",
           "Self-operated goods with a fault: return within {days} days of receipt (until "
           "{end}), free pickup, the platform pays shipping."),
    "Q2": ("自营商品质量问题，签收后 {days} 天内（至 {end}）可换货，免费上门取件，运费由平台承担。",
           "Self-operated goods with a fault: exchange within {days} days of receipt (until "
           "{end}), free pickup, the platform pays shipping."),
    "Q3": ("第三方商品质量问题，签收后 {days} 天内（至 {end}）可退货，运费由商家承担。",
           "Third-party goods with a fault: return within {days} days of receipt (until "
           "{end}); the seller pays shipping."),
    "Q4": ("第三方商品质量问题，签收后 {days} 天内（至 {end}）可换货，运费由商家承担。",
           "Third-party goods with a fault: exchange within {days} days of receipt (until "
           "{end}); the seller pays shipping."),
    "Q5": ("故障类申请需要凭证（照片或描述），请补充后重新提交。",
           "A fault claim needs evidence (photos or a description); please add it."),
    "Q6": ("退款金额 ¥{amount} 超过自动审批上限 ¥{limit}，转人工审核。",
           "The refund of ¥{amount} is above the automatic approval limit of ¥{limit}; a "
           "person will review it."),
    "Q7": ("三包期内已维修 {repairs} 次仍有故障，可退换货，不受 7/15 天时限限制。",
           "Still faulty after {repairs} repairs within warranty: return or exchange allowed "
           "beyond the 7/15-day windows."),
    "W1": ("已超过售后时限（截至 {end}）。{suggestion}",
           "The window has passed (it ended {end}). {suggestion_en}"),
    "R1": ("在保修期内（至 {end}），免费维修。",
           "Within warranty (until {end}): free repair."),
    "R2": ("{why}，付费维修，检测后先报价。",
           "{why_en}: paid repair; a quote follows the inspection."),
    "R3": ("保修期内的维修需要有效购买凭证，不予办理。",
           "A repair within warranty needs a valid proof of purchase; it cannot be handled."),
    "E1": ("已购延保服务，保修期延长至 {end}，免费维修。",
           "Extended warranty bought: covered until {end}, free repair."),
    "E2": ("已购意外保障（碎屏险），签收后 {days} 天内（至 {end}）的意外损坏免费维修。",
           "Accident protection bought: accidental damage within {days} days of receipt "
           "(until {end}) is repaired free."),
    "S1": ("「尺码随心换」：{detail}", "Size exchange service: {detail_en}"),
    "F1": ("承运商已报告包裹丢失，全额退款 ¥{amount}。",
           "The carrier reports the parcel lost: full refund of ¥{amount}."),
    "F2": ("物流显示包裹已签收，但您反馈未收到，转人工核实。",
           "Tracking shows the parcel as signed for, but you did not receive it; a person "
           "will check."),
    "F3": ("包裹仍在运输途中，预计 {expected} 前送达，暂不能仅退款。",
           "The parcel is still in transit and expected by {expected}; a refund without "
           "return is not possible yet."),
    "P1": ("第三方商家商品，由商家在 {hours} 小时内审核，超时未处理平台将自动同意。",
           "Third-party goods: the seller reviews within {hours} hours; if the seller does "
           "not answer in time the platform approves."),
}


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "zh": self.zh, "en": self.en}


def hit(rule: str, **facts: Any) -> RuleHit:
    """A fired rule with its reason filled in from ``facts``."""
    zh, en = REASON_TEMPLATES[rule]
    return RuleHit(rule, zh.format(**facts), en.format(**facts))


@dataclass(frozen=True, slots=True)
class Decision:
    """What the engine decided, in the shape of the conformance format."""

    outcome: Outcome
    hits: tuple[RuleHit, ...]
    refund_amount: Decimal | None = None
    return_shipping_paid_by: ShippingPayer | None = None
    free_pickup: bool = False
    repair_charge: RepairCharge | None = None

    @property
    def rules(self) -> list[str]:
        return [h.rule for h in self.hits]

    def as_dict(self, case_id: str = "") -> dict[str, Any]:
        return {
            "id": case_id,
            "outcome": self.outcome.value,
            "refund_amount": None if self.refund_amount is None else fmt(self.refund_amount),
            "return_shipping_paid_by": (None if self.return_shipping_paid_by is None
                                        else self.return_shipping_paid_by.value),
            "free_pickup": self.free_pickup,
            "repair_charge": None if self.repair_charge is None else self.repair_charge.value,
            "rules": self.rules,
            "reasons": [h.as_dict() for h in self.hits],
        }
