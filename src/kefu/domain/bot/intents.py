"""The smart assistant's intents (shared/eval/bot/README.md) and what understanding a message yields.

Sixteen intents, each with a Chinese and an English label for the supervisor's pages and the
quick-reply buttons. :class:`Understanding` is the result of reading one message: the intent,
how sure the reader is (a probability in [0, 1]), the slots the message states (``order_id``,
``phone``, ``tracking_no``, normalised) and the runner-up intents with their probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Intent(StrEnum):
    """What a customer wants; the values are the README's intent names."""

    GREETING = "greeting"
    ORDER_STATUS = "order_status"
    RETURN_POLICY = "return_policy"
    APPLY_AFTERSALES = "apply_aftersales"
    REFUND_STATUS = "refund_status"
    PRODUCT_PARAM = "product_param"
    PRICE_PROTECTION = "price_protection"
    PAYMENT_ISSUE = "payment_issue"
    INVOICE = "invoice"
    COMPLAINT = "complaint"
    HUMAN_AGENT = "human_agent"
    MEMBERSHIP = "membership"
    CONTACT_CHANNELS = "contact_channels"
    CANCEL_ORDER = "cancel_order"
    CHANGE_ADDRESS = "change_address"
    OUT_OF_SCOPE = "out_of_scope"


#: every intent name, in the README's order
INTENTS: tuple[str, ...] = tuple(i.value for i in Intent)

#: (Chinese, English) label of each intent
INTENT_LABELS: Mapping[Intent, tuple[str, str]] = MappingProxyType({
    Intent.GREETING: ("问候", "Greeting"),
    Intent.ORDER_STATUS: ("订单物流", "Order and delivery status"),
    Intent.RETURN_POLICY: ("退换规则", "Return policy"),
    Intent.APPLY_AFTERSALES: ("申请售后", "Apply for after-sales"),
    Intent.REFUND_STATUS: ("退款进度", "Refund status"),
    Intent.PRODUCT_PARAM: ("商品参数", "Product parameters"),
    Intent.PRICE_PROTECTION: ("价格保护", "Price protection"),
    Intent.PAYMENT_ISSUE: ("支付问题", "Payment issue"),
    Intent.INVOICE: ("发票", "Invoice"),
    Intent.COMPLAINT: ("投诉", "Complaint"),
    Intent.HUMAN_AGENT: ("转人工", "Human agent"),
    Intent.MEMBERSHIP: ("PLUS会员", "PLUS membership"),
    Intent.CONTACT_CHANNELS: ("联系方式", "Contact channels"),
    Intent.CANCEL_ORDER: ("取消订单", "Cancel order"),
    Intent.CHANGE_ADDRESS: ("修改地址", "Change address"),
    Intent.OUT_OF_SCOPE: ("其他", "Out of scope"),
})

#: the slot names a message can state
SLOT_NAMES: tuple[str, ...] = ("order_id", "phone", "tracking_no")


def _frozen(slots: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(slots))


@dataclass(frozen=True, slots=True)
class Understanding:
    """What one message says: its intent with a probability, its slots, and the next likeliest
    intents (best first, the chosen one left out)."""

    intent: Intent
    confidence: float
    slots: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    alternatives: tuple[tuple[Intent, float], ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within [0, 1], not {self.confidence}")
        object.__setattr__(self, "slots", _frozen(self.slots))

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``POST /api/v1/bot/messages``'s understanding fields."""
        return {"intent": self.intent.value, "confidence": round(self.confidence, 4),
                "slots": dict(self.slots),
                "alternatives": [{"intent": i.value, "confidence": round(p, 4)} for i, p in self.alternatives]}
