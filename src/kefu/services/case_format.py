"""The after-sales conformance case format (shared/cases/aftersales/README.md), parsed and checked.

The same models serve ``kefu policy check`` and ``POST /api/v1/aftersales/evaluate``: one
Pydantic schema (documented in OpenAPI), then :func:`to_case` turns it into the engine's
immutable facts after the cross-member checks of POLICY.md §9.12. Every input error names the
member it is about, e.g. ``order.lines[0].category``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from kefu.domain.aftersales.model import (
    AftersalesRequest,
    Carrier,
    Case,
    Category,
    CustomerLevel,
    Delivery,
    DeliveryStatus,
    Gift,
    Line,
    OrderFacts,
    Payment,
    Reason,
    RequestType,
    SellerType,
)
from kefu.domain.errors import BadRequest, InputError

Amount = Annotated[Decimal, Field(ge=0, decimal_places=2, max_digits=14,
                                  description="CNY, at most two decimals, not negative",
                                  examples=["3999.00"])]
Count = Annotated[int, Field(ge=1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class GiftIn(_In):
    name: str = ""
    value: Amount


class PaymentIn(_In):
    method: str
    amount: Amount


class DeliveryIn(_In):
    carrier: Carrier
    status: DeliveryStatus
    signed_at: AwareDatetime | None = None
    arrived_at: AwareDatetime | None = None


class LineIn(_In):
    sku: str = ""
    name: str = ""
    category: Category
    quantity: Count
    unit_price: Amount | None = None
    paid_amount: Amount
    warranty_days: Annotated[int, Field(ge=0)] | None = None
    services: list[str] = Field(default_factory=list)
    price_protection_days: Annotated[int, Field(ge=0)] = 0
    non_returnable_confirmed: bool = False
    gifts: list[GiftIn] = Field(default_factory=list)


class OrderIn(_In):
    id: str = ""
    seller: SellerType
    paid_at: AwareDatetime | None = None
    payments: list[PaymentIn] = Field(default_factory=list)
    shipping_insurance: bool = False
    delivery: DeliveryIn
    lines: Annotated[list[LineIn], Field(min_length=1)]


class ConditionIn(_In):
    packaging_opened: bool = False
    seal_broken: bool = False
    activated: bool = False
    used: bool = False
    tags_removed: bool = False
    accessories_complete: bool = True
    gifts_returned: bool = True


class RequestIn(_In):
    type: RequestType
    reason: Reason
    line: Annotated[int, Field(ge=0, description="index into order.lines")]
    quantity: Count
    condition: ConditionIn = ConditionIn()
    damage: dict[str, bool | None] = Field(
        default_factory=dict,
        description="any member that is true fires X2 (misuse, liquid, unauthorized_repair, "
                    "labels_tampered, collision, accident, modification, wrong_installation)")
    proof_of_purchase: bool | None = None
    serial_matches: bool | None = None
    evidence: list[str] | None = None
    previous_repairs: Annotated[int, Field(ge=0)] | None = None


class CustomerIn(_In):
    level: CustomerLevel = CustomerLevel.REGULAR


class CaseIn(_In):
    """One after-sales case: the facts of an order and one request (``expect`` is ignored)."""

    id: str = ""
    title: str = ""
    now: AwareDatetime
    customer: CustomerIn = CustomerIn()
    order: OrderIn
    request: RequestIn


class ReasonOut(BaseModel):
    rule: str
    zh: str
    en: str


class DecisionOut(BaseModel):
    """The decision, exactly as the conformance format prints it."""

    id: str
    outcome: str = Field(examples=["approved"])
    refund_amount: str | None = Field(examples=["3999.00"])
    return_shipping_paid_by: str | None
    free_pickup: bool
    repair_charge: str | None
    rules: list[str]
    reasons: list[ReasonOut]


def member_path(loc: tuple[Any, ...]) -> str:
    """``("order", "lines", 0, "category")`` → ``order.lines[0].category``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def validation_error(exc: ValidationError) -> InputError:
    """Turn Pydantic's errors into one :class:`InputError` naming every member at fault."""
    problems = [{"member": member_path(tuple(e["loc"])), "problem": e["msg"]} for e in exc.errors()]
    members = ", ".join(p["member"] for p in problems)
    return InputError("invalid_input", f"输入有误：{members}", f"Invalid input: {members}",
                      errors=problems)


def _bad(member: str, zh: str, en: str) -> InputError:
    return InputError("invalid_input", f"输入有误：{member} {zh}", f"Invalid input: {member} {en}",
                      errors=[{"member": member, "problem": en}])


def check_case(case: CaseIn) -> None:
    """POLICY.md §9.12 cross-member checks: line in range, quantity fits, reason fits the type."""
    req = case.request
    if req.line >= len(case.order.lines):
        raise _bad("request.line", f"超出范围（订单共 {len(case.order.lines)} 行）",
                   f"is out of range (the order has {len(case.order.lines)} lines)")
    bought = case.order.lines[req.line].quantity
    if req.quantity > bought:
        raise _bad("request.quantity", f"不能大于购买数量 {bought}",
                   f"must not exceed the {bought} units bought")
    if (req.reason is Reason.NOT_RECEIVED) != (req.type is RequestType.REFUND_ONLY):
        raise _bad("request.reason", "与申请类型不符（未收到货只用于仅退款）",
                   "does not fit the request type (not_received goes only with refund_only)")


def to_case(case: CaseIn) -> Case:
    """Checked schema → the engine's immutable facts."""
    check_case(case)
    o, r = case.order, case.request
    c = r.condition
    flags = {name for name in ("packaging_opened", "seal_broken", "activated", "used", "tags_removed")
             if getattr(c, name)}
    if not c.accessories_complete:
        flags.add("accessories_missing")
    return Case(
        id=case.id,
        title=case.title,
        now=case.now,
        customer_level=case.customer.level,
        order=OrderFacts(
            id=o.id,
            seller=o.seller,
            paid_at=o.paid_at,
            payments=tuple(Payment(p.method, p.amount) for p in o.payments),
            shipping_insurance=o.shipping_insurance,
            delivery=Delivery(o.delivery.carrier, o.delivery.status, o.delivery.signed_at,
                              o.delivery.arrived_at),
            lines=tuple(
                Line(category=ln.category, quantity=ln.quantity, paid_amount=ln.paid_amount, sku=ln.sku,
                     name=ln.name, unit_price=ln.unit_price, warranty_days=ln.warranty_days,
                     services=frozenset(ln.services), price_protection_days=ln.price_protection_days,
                     non_returnable_confirmed=ln.non_returnable_confirmed,
                     gifts=tuple(Gift(g.name, g.value) for g in ln.gifts))
                for ln in o.lines),
        ),
        request=AftersalesRequest(
            type=r.type, reason=r.reason, line=r.line, quantity=r.quantity,
            condition=frozenset(flags), gifts_returned=c.gifts_returned,
            damage=frozenset(k for k, v in r.damage.items() if v),
            proof_of_purchase=r.proof_of_purchase is not False,
            serial_matches=r.serial_matches is not False,
            evidence=tuple(r.evidence or ()),
            previous_repairs=r.previous_repairs or 0,
        ),
    )


def parse_case(raw: bytes | str) -> Case:
    """Parse and check one case from JSON text; raises :class:`InputError` naming the member."""
    try:
        model = CaseIn.model_validate_json(raw)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise BadRequest("malformed_json", "请求体不是合法的 JSON。", "The body is not valid JSON.") from None
        raise validation_error(exc) from None
    return to_case(model)
