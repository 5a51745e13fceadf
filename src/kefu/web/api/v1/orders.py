"""Orders API: import (JSON), list and detail; cancel, change of address and their history.

Error codes (JSON ``{code, message: {zh, en}, detail}``): ``not_authenticated`` (401),
``forbidden`` / ``not_allowed`` (403), ``order_not_found`` (404), ``invalid_input`` /
``malformed_json`` (422); cancel and change of address: ``order_not_cancellable`` /
``address_not_changeable`` (409, ``detail.reason`` says why), ``invalid_address`` /
``invalid_phone`` / ``address_unchanged`` / ``reason_too_long`` (422). A record that fails
validation is not an error of the request: the import answers 200 with the record's row (its
1-based index in ``orders``) and reasons in ``errors``, and the good records land.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kefu.adapters.db.tables.catalog import Order
from kefu.domain.actors import Actor, Role
from kefu.domain.money import fmt
from kefu.domain.orders import SourceRecord, masked_address
from kefu.services import order_changes as changes_svc
from kefu.services import orders as svc
from kefu.services.orders_import import ImportReport, import_orders
from kefu.services.uow import Database
from kefu.web.deps import current_actor, db_dep, require_roles
from kefu.web.errors import error_responses
from kefu.web.runtime import Runtime, get_runtime, runtime_dep

router = APIRouter(prefix="/orders", tags=["orders"])

#: orders accepted in one request; larger loads go through ``kefu import orders`` or several calls
MAX_ORDERS_PER_REQUEST = 2000

_EXAMPLE_ORDER: dict[str, Any] = {
    "id": "O202405010001",
    "customer": {"id": "C00001", "name": "张三", "phone": "13800001234", "level": "plus"},
    "seller": {"id": "S0001", "name": "京东自营", "type": "self_operated"},
    "status": "delivered", "paid_at": "2024-05-01T10:00:00+08:00", "shipping_insurance": True,
    "address": "北京市朝阳区建国路88号",
    "lines": [{"sku": "100012043978", "name": "华为 Mate 60 Pro", "category": "phone", "quantity": 1,
               "unit_price": "6999.00", "paid_amount": "6799.00", "warranty_days": 365,
               "services": ["extended_warranty_1y"], "price_protection_days": 30,
               "gifts": [{"name": "快充充电头", "value": "99.00"}]}],
    "payments": [{"method": "card", "amount": "6000.00"}, {"method": "balance", "amount": "799.00"}],
    "delivery": {"carrier": "platform", "carrier_name": "京东物流", "tracking_no": "JD0012345678",
                 "status": "signed", "signed_at": "2024-05-03T15:30:00+08:00",
                 "events": [{"at": "2024-05-03T15:30:00+08:00", "location": "北京", "description": "已签收"}]},
}


class OrdersImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[dict[str, Any]] = Field(
        max_length=MAX_ORDERS_PER_REQUEST,
        description="Order records in the import format (docs/import.md). Each is validated on its "
                    "own; amounts are decimal strings (or numbers) with at most two decimals, times "
                    "ISO 8601 with a UTC offset.",
        examples=[[_EXAMPLE_ORDER]])


class Message(BaseModel):
    zh: str
    en: str


class ImportErrorOut(BaseModel):
    row: int = Field(description="1-based index of the record in `orders`")
    order_id: str | None
    field: str = Field(description="the field at fault, e.g. `lines[1].quantity`; empty for the record")
    message: Message


class ImportReportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[ImportErrorOut]

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportOut:
        return cls(created=report.created, updated=report.updated, unchanged=report.unchanged,
                   failed=report.failed,
                   errors=[ImportErrorOut(row=e.row, order_id=e.order_id, field=e.field,
                                          message=Message(zh=e.zh, en=e.en)) for e in report.errors])


class SellerOut(BaseModel):
    id: str
    name: str
    type: str


class LineBriefOut(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int


class OrderSummaryOut(BaseModel):
    id: str
    customer_id: str
    seller: SellerOut
    status: str
    paid_at: datetime
    total_paid: str = Field(examples=["6799.00"])
    delivery_status: str | None
    lines: list[LineBriefOut]


class OrderPageOut(BaseModel):
    items: list[OrderSummaryOut]
    total: int
    limit: int
    offset: int


class GiftOut(BaseModel):
    name: str
    value: str


class LineOut(BaseModel):
    line_no: int = Field(description="the index an after-sales application names")
    sku: str
    name: str
    category: str
    quantity: int
    unit_price: str
    paid_amount: str = Field(description="the whole line after coupons")
    warranty_days: int | None
    services: list[str]
    price_protection_days: int
    non_returnable_confirmed: bool
    gifts: list[GiftOut]


class PaymentOut(BaseModel):
    method: str
    amount: str


class TrackingEventOut(BaseModel):
    at: datetime
    location: str
    description: str


class DeliveryOut(BaseModel):
    carrier: str
    carrier_name: str
    tracking_no: str | None
    status: str
    shipped_at: datetime | None
    signed_at: datetime | None
    arrived_at: datetime | None
    events: list[TrackingEventOut]


class OrderOut(BaseModel):
    id: str
    customer_id: str
    seller: SellerOut
    status: str
    paid_at: datetime
    shipping_insurance: bool
    total_paid: str
    address: str = Field(description="masked (北京市朝阳区****) for sellers")
    lines: list[LineOut]
    payments: list[PaymentOut]
    delivery: DeliveryOut | None


def _seller(order: Order) -> SellerOut:
    return SellerOut(id=order.seller.id, name=order.seller.name, type=order.seller.type)


def _summary(order: Order) -> OrderSummaryOut:
    return OrderSummaryOut(
        id=order.id, customer_id=order.customer_id, seller=_seller(order), status=order.status,
        paid_at=order.paid_at, total_paid=fmt(order.total_paid),
        delivery_status=order.delivery.status if order.delivery else None,
        lines=[LineBriefOut(line_no=ln.line_no, sku=ln.sku, name=ln.name, quantity=ln.quantity)
               for ln in order.lines])


def _detail(order: Order, actor: Actor) -> OrderOut:
    delivery = order.delivery
    return OrderOut(
        id=order.id, customer_id=order.customer_id, seller=_seller(order), status=order.status,
        paid_at=order.paid_at, shipping_insurance=order.shipping_insurance, total_paid=fmt(order.total_paid),
        address=masked_address(order.address) if actor.role is Role.SELLER else order.address,
        lines=[LineOut(line_no=ln.line_no, sku=ln.sku, name=ln.name, category=ln.category,
                       quantity=ln.quantity, unit_price=fmt(ln.unit_price), paid_amount=fmt(ln.paid_amount),
                       warranty_days=ln.warranty_days, services=list(ln.services or ()),
                       price_protection_days=ln.price_protection_days,
                       non_returnable_confirmed=ln.non_returnable_confirmed,
                       gifts=[GiftOut(name=g.name, value=fmt(g.value)) for g in ln.gifts])
               for ln in order.lines],
        payments=[PaymentOut(method=p.method, amount=fmt(p.amount)) for p in order.payments],
        delivery=None if delivery is None else DeliveryOut(
            carrier=delivery.carrier, carrier_name=delivery.carrier_name, tracking_no=delivery.tracking_no,
            status=delivery.status, shipped_at=delivery.shipped_at, signed_at=delivery.signed_at,
            arrived_at=delivery.arrived_at,
            events=[TrackingEventOut(at=e.at, location=e.location, description=e.description)
                    for e in delivery.events]))


@router.post("/import", response_model=ImportReportOut, responses=error_responses(401, 403),
             summary="Import orders (idempotent on order id)")
def import_orders_api(body: OrdersImportIn, request: Request,
                      actor: Actor = Depends(require_roles(Role.ADMIN)),
                      db: Database = Depends(db_dep)) -> ImportReportOut:
    """New orders are created, changed ones updated in place, identical ones left untouched.

    A bad record is reported with its row and reasons; the others still land.
    """
    runtime: Runtime = get_runtime(request)
    records = (SourceRecord(i, raw) for i, raw in enumerate(body.orders, start=1))
    return ImportReportOut.of(import_orders(db, records, runtime.clock, actor=actor))


@router.get("", response_model=OrderPageOut, responses=error_responses(401, 403),
            summary="Orders the caller may see, newest first")
def list_orders_api(actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
                    customer_id: str | None = Query(None, max_length=32,
                                                    description="agents and admins: one customer's orders"),
                    limit: int = Query(20, ge=1, le=200), offset: int = Query(0, ge=0)) -> OrderPageOut:
    """A customer gets their own orders, a seller the orders of their goods, staff everyone's."""
    page = svc.list_orders(db, actor, customer_id=customer_id, limit=limit, offset=offset)
    return OrderPageOut(items=[_summary(o) for o in page.items], total=page.total, limit=page.limit,
                        offset=page.offset)


@router.get("/{order_id}", response_model=OrderOut, responses=error_responses(401, 404),
            summary="One order with lines, gifts, payments and delivery")
def get_order_api(order_id: str, actor: Actor = Depends(current_actor),
                  db: Database = Depends(db_dep)) -> OrderOut:
    return _detail(svc.get_order(db, actor, order_id), actor)


# ── cancel and change of address (issue 5 §2) ───────────────────────────────────────────────


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500, examples=["不想要了"])


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(max_length=1000, description="5–200 characters after trimming, no control characters",
                         examples=["北京市朝阳区建国路88号SOHO现代城1号楼"])
    phone: str | None = Field(None, max_length=64, description="the recipient's mainland mobile number; "
                              "omitted or blank keeps the current one", examples=["13900001111"])


class RefundLineOut(BaseModel):
    method: str
    amount: str = Field(examples=["800.00"])


class OrderChangeResultOut(BaseModel):
    order_id: str
    action: str = Field(description="`cancel` or `change_address`")
    status: str
    address: str
    recipient_phone: str | None
    refund: list[RefundLineOut] = Field(description="a cancel's refund, one line per original payment")
    refund_total: str
    change_id: int
    at: datetime

    @classmethod
    def of(cls, result: changes_svc.OrderChangeResult) -> OrderChangeResultOut:
        return cls(order_id=result.order_id, action=result.action, status=result.status, address=result.address,
                   recipient_phone=result.recipient_phone,
                   refund=[RefundLineOut(method=r.method, amount=fmt(r.amount)) for r in result.refund],
                   refund_total=fmt(result.refund_total), change_id=result.change_id, at=result.at)


class OrderChangeOut(BaseModel):
    id: int
    at: datetime
    action: str
    actor_role: str = Field(description="customer | agent | supervisor | admin | bot")
    actor_name: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str


@router.post("/{order_id}/cancel", response_model=OrderChangeResultOut, responses=error_responses(401, 403, 404, 409),
             summary="Cancel an order that has not shipped; refunded to the original payments")
def cancel_order_api(order_id: str, body: CancelIn | None = None, actor: Actor = Depends(current_actor),
                     db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> OrderChangeResultOut:
    """The order's customer or staff; ``409 order_not_cancellable`` once it has shipped or is cancelled."""
    result = changes_svc.cancel_order(db, actor, order_id, runtime.clock, reason=(body or CancelIn()).reason)
    return OrderChangeResultOut.of(result)


@router.post("/{order_id}/address", response_model=OrderChangeResultOut,
             responses=error_responses(401, 403, 404, 409), summary="Change the delivery address before shipment")
def change_address_api(order_id: str, body: AddressIn, actor: Actor = Depends(current_actor),
                       db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> OrderChangeResultOut:
    """The order's customer or staff; ``409 address_not_changeable`` once it has shipped or is cancelled."""
    result = changes_svc.change_address(db, actor, order_id, body.address, runtime.clock, phone=body.phone)
    return OrderChangeResultOut.of(result)


@router.get("/{order_id}/changes", response_model=list[OrderChangeOut], responses=error_responses(401, 404),
            summary="The order's cancel and address changes, oldest first")
def list_order_changes_api(order_id: str, actor: Actor = Depends(current_actor),
                           db: Database = Depends(db_dep)) -> list[OrderChangeOut]:
    """Sellers see addresses and phones masked."""
    return [OrderChangeOut(id=c.id, at=c.at, action=c.action, actor_role=c.actor_role, actor_name=c.actor_name,
                           before=c.before, after=c.after, note=c.note)
            for c in changes_svc.list_order_changes(db, actor, order_id)]
