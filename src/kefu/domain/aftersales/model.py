"""The facts an after-sales decision is made on (POLICY.md §1–§2), as plain immutable values.

These mirror the conformance case format (shared/cases/aftersales/README.md) but carry parsed
types: aware datetimes, ``Decimal`` money, enums, and the set of damage kinds that are true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class SellerType(StrEnum):
    SELF_OPERATED = "self_operated"
    THIRD_PARTY = "third_party"


class CustomerLevel(StrEnum):
    REGULAR = "regular"
    PLUS = "plus"
    ENTERPRISE = "enterprise"


class Carrier(StrEnum):
    PLATFORM = "platform"
    SELF_PICKUP = "self_pickup"
    THIRD_PARTY = "third_party"


class DeliveryStatus(StrEnum):
    SIGNED = "signed"
    IN_TRANSIT = "in_transit"
    LOST = "lost"


class RequestType(StrEnum):
    RETURN = "return"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    REFUND_ONLY = "refund_only"


class Reason(StrEnum):
    NO_REASON = "no_reason"
    QUALITY = "quality"
    WRONG_ITEM = "wrong_item"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    NOT_AS_DESCRIBED = "not_as_described"
    MISSING_PARTS = "missing_parts"
    NOT_RECEIVED = "not_received"
    SIZE_EXCHANGE = "size_exchange"

    @property
    def is_fault(self) -> bool:
        """POLICY.md §2: every reason but no_reason, not_received and size_exchange is a fault reason."""
        return self not in _NON_FAULT


_NON_FAULT = frozenset({Reason.NO_REASON, Reason.NOT_RECEIVED, Reason.SIZE_EXCHANGE})


class Category(StrEnum):
    PHONE = "phone"
    CAMERA = "camera"
    LAPTOP = "laptop"
    TABLET = "tablet"
    ELECTRONICS = "electronics"
    APPLIANCE = "appliance"
    CLOTHING = "clothing"
    SHOES = "shoes"
    BAGS = "bags"
    DIAPER = "diaper"
    BABY = "baby"
    TOY = "toy"
    HOME = "home"
    FURNITURE = "furniture"
    BOOK = "book"
    PERIODICAL = "periodical"
    FOOD = "food"
    FRESH_FOOD = "fresh_food"
    HEALTH_SUPPLEMENT = "health_supplement"
    PERSONAL_CARE = "personal_care"
    INTIMATE_APPAREL = "intimate_apparel"
    COSMETICS = "cosmetics"
    JEWELRY = "jewelry"
    GOLD = "gold"
    WATCH = "watch"
    VIRTUAL = "virtual"
    SOFTWARE = "software"
    CUSTOM_MADE = "custom_made"
    OTHER = "other"


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_INFO = "needs_info"
    MANUAL_REVIEW = "manual_review"
    SELLER_REVIEW = "seller_review"


class ShippingPayer(StrEnum):
    CUSTOMER = "customer"
    PLATFORM = "platform"
    SELLER = "seller"


class RepairCharge(StrEnum):
    FREE = "free"
    PAID = "paid"


#: Members of ``condition`` a request may report (POLICY.md §5 N3). ``accessories_missing`` is
#: the negation of ``accessories_complete`` so that every check reads "true means not intact".
CONDITION_FLAGS = ("packaging_opened", "seal_broken", "activated", "used", "tags_removed",
                   "accessories_missing")

#: Damage kinds named in POLICY.md §9.3; any other member that is true also fires X2.
KNOWN_DAMAGE = ("misuse", "liquid", "unauthorized_repair", "labels_tampered", "collision",
                "accident", "modification", "wrong_installation")


@dataclass(frozen=True, slots=True)
class Gift:
    name: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class Payment:
    method: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Delivery:
    carrier: Carrier
    status: DeliveryStatus
    signed_at: datetime | None = None
    arrived_at: datetime | None = None

    def receipt_time(self) -> datetime | None:
        """POLICY.md §9.1: the carrier's own timestamp, else the other one, else unknown (T1).

        ``signed_at`` belongs to platform logistics and self-pickup, ``arrived_at`` to a
        third-party carrier's tracking.
        """
        if self.carrier is Carrier.THIRD_PARTY:
            return self.arrived_at or self.signed_at
        return self.signed_at or self.arrived_at


@dataclass(frozen=True, slots=True)
class Line:
    category: Category
    quantity: int
    paid_amount: Decimal
    sku: str = ""
    name: str = ""
    unit_price: Decimal | None = None
    warranty_days: int | None = None
    services: frozenset[str] = frozenset()
    price_protection_days: int = 0
    non_returnable_confirmed: bool = False
    gifts: tuple[Gift, ...] = ()

    @property
    def gifts_value(self) -> Decimal:
        return sum((g.value for g in self.gifts), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class OrderFacts:
    seller: SellerType
    delivery: Delivery
    lines: tuple[Line, ...]
    id: str = ""
    paid_at: datetime | None = None
    payments: tuple[Payment, ...] = ()
    shipping_insurance: bool = False


@dataclass(frozen=True, slots=True)
class AftersalesRequest:
    type: RequestType
    reason: Reason
    line: int
    quantity: int
    #: condition flags that are true (names from CONDITION_FLAGS)
    condition: frozenset[str] = frozenset()
    gifts_returned: bool = True
    #: damage kinds that are true
    damage: frozenset[str] = frozenset()
    proof_of_purchase: bool = True
    serial_matches: bool = True
    evidence: tuple[str, ...] = ()
    previous_repairs: int = 0


@dataclass(frozen=True, slots=True)
class Case:
    """One decision to make: the facts of an order, one request, and the moment it is asked."""

    now: datetime
    order: OrderFacts
    request: AftersalesRequest
    customer_level: CustomerLevel = CustomerLevel.REGULAR
    id: str = ""
    title: str = ""
    extra: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def line(self) -> Line:
        return self.order.lines[self.request.line]
