"""Customer pages: my orders, an order (cancel and change of address before shipment), the
after-sales form with its live decision, my applications, one application's timeline and
actions, and the in-app inbox.

Every read and write goes through a service (or the order repository for reading orders, scoped
to the signed-in customer); a :class:`KefuError` is shown on the page in the reader's language,
never as a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from kefu.adapters.db import catalog_repository as orders_repo
from kefu.adapters.db.tables.aftersales import Application
from kefu.adapters.db.tables.catalog import Order, TrackingEvent
from kefu.domain.actors import Actor, Role
from kefu.domain.aftersales.lifecycle import ACTION_LABELS, STATUS_LABELS, Status
from kefu.domain.aftersales.model import CONDITION_FLAGS, Category, Reason, RequestType
from kefu.domain.errors import InputError, KefuError, NotFound
from kefu.services import aftersales as svc
from kefu.services import evidence as evidence_svc
from kefu.services import notifications, order_changes
from kefu.services.uow import Database
from kefu.web.deps import csrf_protect, db_dep, get_db, require_roles
from kefu.web.i18n import pick_lang
from kefu.web.runtime import get_runtime
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
customer_only = require_roles(Role.CUSTOMER)

# Bilingual labels for values the engine and the lifecycle speak in codes.
TYPE_LABELS: dict[str, tuple[str, str]] = {
    RequestType.RETURN: ("退货", "Return"), RequestType.EXCHANGE: ("换货", "Exchange"),
    RequestType.REPAIR: ("维修", "Repair"), RequestType.REFUND_ONLY: ("仅退款", "Refund only"),
}
REASON_LABELS: dict[str, tuple[str, str]] = {
    Reason.NO_REASON: ("七天无理由", "No reason (7 days)"),
    Reason.QUALITY: ("质量问题", "Quality problem"),
    Reason.WRONG_ITEM: ("发错货", "Wrong item"),
    Reason.DAMAGED_IN_TRANSIT: ("运输途中损坏", "Damaged in transit"),
    Reason.NOT_AS_DESCRIBED: ("与描述不符", "Not as described"),
    Reason.MISSING_PARTS: ("少件/缺配件", "Missing parts"),
    Reason.NOT_RECEIVED: ("未收到货", "Not received"),
    Reason.SIZE_EXCHANGE: ("尺码不合适", "Size exchange"),
}
CONDITION_LABELS: dict[str, tuple[str, str]] = {
    "packaging_opened": ("包装已拆封", "Packaging opened"),
    "seal_broken": ("封条已破损", "Seal broken"),
    "activated": ("已激活", "Activated"),
    "used": ("已使用", "Used"),
    "tags_removed": ("吊牌已拆", "Tags removed"),
    "accessories_missing": ("配件不全", "Accessories missing"),
}
GIFTS_NOT_RETURNED = "gifts_not_returned"
PAYER_LABELS: dict[str, tuple[str, str]] = {
    "customer": ("顾客承担", "Customer"), "platform": ("平台承担", "Platform"), "seller": ("商家承担", "Seller"),
}
ROLE_LABELS: dict[str, tuple[str, str]] = {
    "customer": ("顾客", "Customer"), "agent": ("客服", "Agent"), "supervisor": ("客服主管", "Supervisor"),
    "seller": ("商家", "Seller"),
    "admin": ("管理员", "Admin"), "system": ("系统", "System"), "bot": ("智能助手", "Assistant"),
}
DELIVERY_LABELS: dict[str, tuple[str, str]] = {
    "signed": ("已签收", "Signed for"), "in_transit": ("运输中", "In transit"), "lost": ("已丢失", "Lost"),
}
REFUND_METHOD_LABELS: dict[str, tuple[str, str]] = {
    "card": ("银行卡", "Bank card"), "balance": ("余额", "Balance"), "wechat": ("微信支付", "WeChat Pay"),
    "alipay": ("支付宝", "Alipay"), "coupon": ("优惠券", "Coupon"), "gift_card": ("礼品卡", "Gift card"),
}
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "phone": ("手机", "Phones"), "camera": ("相机", "Cameras"), "laptop": ("笔记本电脑", "Laptops"),
    "tablet": ("平板电脑", "Tablets"), "electronics": ("数码电子", "Electronics"),
    "appliance": ("家用电器", "Appliances"),
    "clothing": ("服装", "Clothing"), "shoes": ("鞋靴", "Shoes"), "bags": ("箱包", "Bags"),
    "diaper": ("纸尿裤", "Diapers"), "baby": ("母婴用品", "Baby"), "toy": ("玩具", "Toys"), "home": ("家居", "Home"),
    "furniture": ("家具", "Furniture"), "book": ("图书", "Books"), "periodical": ("报纸期刊", "Periodicals"),
    "food": ("食品", "Food"), "fresh_food": ("生鲜", "Fresh food"), "health_supplement": ("保健品", "Supplements"),
    "personal_care": ("个护", "Personal care"), "intimate_apparel": ("贴身衣物", "Intimate apparel"),
    "cosmetics": ("化妆品", "Cosmetics"), "jewelry": ("珠宝首饰", "Jewelry"), "gold": ("黄金", "Gold"),
    "watch": ("手表", "Watches"), "virtual": ("虚拟商品", "Virtual goods"), "software": ("软件", "Software"),
    "custom_made": ("定制商品", "Custom-made"), "other": ("其他", "Other"),
}
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "regular": ("普通会员", "Regular"), "plus": ("PLUS 会员", "PLUS"), "enterprise": ("企业客户", "Enterprise"),
}
assert set(CONDITION_LABELS) == set(CONDITION_FLAGS)
assert set(CATEGORY_LABELS) == {c.value for c in Category}


def _label(table: dict[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return ""
    pair = table.get(code)
    return pick_lang({"zh": pair[0], "en": pair[1]}) if pair else code


def labels() -> dict[str, Any]:
    """Label helpers every after-sales template receives."""
    return {
        "type_label": lambda c: _label(TYPE_LABELS, c),
        "reason_label": lambda c: _label(REASON_LABELS, c),
        "condition_label": lambda c: _label(CONDITION_LABELS, c),
        "payer_label": lambda c: _label(PAYER_LABELS, c),
        "role_label": lambda c: _label(ROLE_LABELS, c),
        "delivery_label": lambda c: _label(DELIVERY_LABELS, c),
        "method_label": lambda c: _label(REFUND_METHOD_LABELS, c),
        "status_label": lambda c: _label({s.value: v for s, v in STATUS_LABELS.items()}, c),
        "action_label": lambda c: _label({a.value: v for a, v in ACTION_LABELS.items()}, c),
        "category_label": lambda c: _label(CATEGORY_LABELS, c),
        "level_label": lambda c: _label(LEVEL_LABELS, c),
        "mask_phone": mask_phone,
    }


def mask_phone(phone: str | None) -> str:
    """138****1234 (DESIGN.md §Security): keep the first three and last four digits."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "****"
    return phone[:3] + "****" + phone[-4:]


def page(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> Response:
    return render(request, name, {**labels(), **context}, status_code=status_code)


def error_of(exc: KefuError) -> dict[str, Any]:
    return exc.as_dict()


# ── orders ────────────────────────────────────────────────────────────────────────────────


def _latest_events(db: Database, orders: Sequence[Order]) -> dict[int, TrackingEvent]:
    ids = [o.delivery.id for o in orders if o.delivery is not None]
    if not ids:
        return {}
    latest: dict[int, TrackingEvent] = {}
    with db.read() as uow:
        for ev in uow.session.scalars(select(TrackingEvent).where(TrackingEvent.delivery_id.in_(ids))
                                      .order_by(TrackingEvent.at, TrackingEvent.id)):
            latest[ev.delivery_id] = ev
    return latest


def _customer_order(db: Database, actor: Actor, order_id: str) -> Order:
    with db.read() as uow:
        order = orders_repo.get_order(uow.session, order_id)
    if order is None or order.customer_id != actor.customer_id:
        raise NotFound("order_not_found", "订单不存在。", "Order not found.", order_id=order_id)
    return order


@router.get("/orders")
def my_orders(request: Request, actor: Actor = Depends(customer_only), db: Database = Depends(db_dep)) -> Response:
    with db.read() as uow:
        orders = orders_repo.list_orders(uow.session, customer_id=actor.customer_id, limit=50)
    return page(request, "customer/orders.html", {"orders": orders, "latest": _latest_events(db, orders)})


ORDER_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "paid": ("已付款，待发货", "Paid, not shipped yet"), "shipped": ("已发货", "Shipped"),
    "delivered": ("已签收", "Delivered"), "completed": ("已完成", "Completed"), "cancelled": ("已取消", "Cancelled"),
}
CHANGE_LABELS: dict[str, tuple[str, str]] = {
    "cancel": ("取消订单", "Order cancelled"), "change_address": ("修改收货地址", "Address changed"),
}


def _order_page(request: Request, actor: Actor, order_id: str, *, error: dict[str, Any] | None = None,
                address_form: dict[str, str] | None = None, done: str | None = None,
                status_code: int = 200) -> Response:
    """The order, what may change on it now (issue 5 §2, asked of the domain rules) and its history."""
    db = get_db(request)
    order = _customer_order(db, actor, order_id)
    can_cancel, can_readdress = order_changes.change_options(order)
    return page(request, "customer/order.html", {
        "order": order, "can_cancel": can_cancel, "can_readdress": can_readdress,
        "changes": order_changes.list_order_changes(db, actor, order_id), "change_error": error,
        "address_form": address_form or {"address": order.address, "phone": ""},
        "done": done if done in CHANGE_LABELS else None,
        "order_status_label": lambda c: _label(ORDER_STATUS_LABELS, c),
        "change_label": lambda c: _label(CHANGE_LABELS, c),
    }, status_code=status_code)


@router.get("/orders/{order_id}")
def order_detail(request: Request, order_id: str, actor: Actor = Depends(customer_only),
                 done: str | None = None) -> Response:
    return _order_page(request, actor, order_id, done=done)


def _form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@router.post("/orders/{order_id}/cancel", dependencies=[Depends(csrf_protect)])
async def cancel_order_form(request: Request, order_id: str, actor: Actor = Depends(customer_only)) -> Response:
    """Cancel from the order page once the shopper ticked the confirmation; a refusal is shown there."""
    form = await request.form()
    runtime = get_runtime(request)
    try:
        if _form_text(form, "confirm") != "yes":
            raise InputError("confirmation_required", "请勾选确认后再取消订单。",
                             "Tick the box to confirm the cancellation.")
        await run_in_threadpool(order_changes.cancel_order, get_db(request), actor, order_id, runtime.clock,
                                reason=_form_text(form, "reason")[:500])
    except KefuError as exc:
        return await run_in_threadpool(_order_page, request, actor, order_id, error=error_of(exc),
                                       status_code=exc.status)
    return RedirectResponse(f"/orders/{order_id}?done=cancel", status_code=303)


@router.post("/orders/{order_id}/address", dependencies=[Depends(csrf_protect)])
async def change_address_form(request: Request, order_id: str, actor: Actor = Depends(customer_only)) -> Response:
    """Send the order to another address; what was typed stays in the form when it is refused."""
    form = await request.form()
    typed = {"address": _form_text(form, "address")[:1000], "phone": _form_text(form, "phone")[:64]}
    runtime = get_runtime(request)
    try:
        await run_in_threadpool(order_changes.change_address, get_db(request), actor, order_id, typed["address"],
                                runtime.clock, phone=typed["phone"] or None)
    except KefuError as exc:
        return await run_in_threadpool(_order_page, request, actor, order_id, error=error_of(exc),
                                       address_form=typed, status_code=exc.status)
    return RedirectResponse(f"/orders/{order_id}?done=change_address", status_code=303)


# ── the application form and its live decision ────────────────────────────────────────────


@dataclass
class ApplyForm:
    type: str = RequestType.RETURN.value
    reason: str = Reason.NO_REASON.value
    quantity: int = 1
    condition: frozenset[str] = frozenset()
    gifts_returned: bool = True
    description: str = ""

    @classmethod
    def parse(cls, form: FormData) -> ApplyForm:
        def text(name: str, default: str = "") -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else default

        flags = {v for v in form.getlist("condition") if isinstance(v, str)}
        try:
            quantity = int(text("quantity", "1") or "1")
        except ValueError:
            quantity = 0
        return cls(type=text("type", RequestType.RETURN.value), reason=text("reason", Reason.NO_REASON.value),
                   quantity=quantity, condition=frozenset(flags - {GIFTS_NOT_RETURNED}),
                   gifts_returned=GIFTS_NOT_RETURNED not in flags, description=text("description")[:2000])

    def request(self, order_id: str, line: int, evidence_ids: tuple[int, ...] = ()) -> svc.ApplicationRequest:
        try:
            rtype, reason = RequestType(self.type), Reason(self.reason)
        except ValueError:
            raise InputError("invalid_input", "请选择有效的申请类型和原因。",
                             "Choose a valid type and reason.") from None
        return svc.ApplicationRequest(
            order_id=order_id, line=line, type=rtype, reason=reason, quantity=self.quantity,
            condition=self.condition, gifts_returned=self.gifts_returned, description=self.description,
            evidence_ids=evidence_ids)


def uploaded_files(form: FormData) -> list[UploadFile]:
    return [f for f in form.getlist("evidence") if not isinstance(f, str) and f.filename]


def _preview(request: Request, actor: Actor, order_id: str, line: int, form: ApplyForm,
             evidence_count: int) -> dict[str, Any]:
    runtime = get_runtime(request)
    try:
        # Files are only stored on submit; for the dry run their number is what the rules look at.
        req = form.request(order_id, line, tuple(range(1, evidence_count + 1)))
        decision = svc.preview_application(get_db(request), actor, req, runtime.book, runtime.clock)
    except KefuError as exc:
        return {"decision": None, "preview_error": error_of(exc)}
    return {"decision": decision.as_dict(), "preview_error": None}


def _apply_page(request: Request, actor: Actor, order_id: str, line: int, form: ApplyForm,
                evidence_count: int = 0, error: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    db = get_db(request)
    order = _customer_order(db, actor, order_id)
    the_line = next((ln for ln in order.lines if ln.line_no == line), None)
    if the_line is None:
        raise NotFound("line_out_of_range", f"订单没有第 {line} 行商品。", f"The order has no line {line}.")
    return page(request, "customer/apply.html", {
        "order": order, "line": the_line, "form": form, "error": error,
        "types": list(TYPE_LABELS), "reasons": list(REASON_LABELS),
        "conditions": [*CONDITION_FLAGS, GIFTS_NOT_RETURNED],
        "gifts_label": pick_lang({"zh": "赠品未寄回", "en": "Gifts not sent back"}),
        **_preview(request, actor, order_id, line, form, evidence_count),
    }, status_code=status_code)


@router.get("/orders/{order_id}/lines/{line}/apply")
def apply_form(request: Request, order_id: str, line: int, actor: Actor = Depends(customer_only)) -> Response:
    return _apply_page(request, actor, order_id, line, ApplyForm())


@router.post("/orders/{order_id}/lines/{line}/preview", dependencies=[Depends(csrf_protect)])
async def apply_preview(request: Request, order_id: str, line: int,
                        actor: Actor = Depends(customer_only)) -> Response:
    """The decision for the form as it stands: a fragment for htmx, the whole form otherwise."""
    raw = await request.form()
    form = ApplyForm.parse(raw)
    count = len(uploaded_files(raw))
    if request.headers.get("HX-Request"):
        context = await run_in_threadpool(_preview, request, actor, order_id, line, form, count)
        return page(request, "customer/_decision.html", context)
    return await run_in_threadpool(_apply_page, request, actor, order_id, line, form, count)


@router.post("/orders/{order_id}/lines/{line}/apply", dependencies=[Depends(csrf_protect)])
async def apply_submit(request: Request, order_id: str, line: int,
                       actor: Actor = Depends(customer_only)) -> Response:
    raw = await request.form()
    form = ApplyForm.parse(raw)
    files = uploaded_files(raw)
    try:
        ids = tuple([ev.id for ev in [await store_upload(request, actor, f) for f in files]])
        app = await run_in_threadpool(_submit, request, actor, form.request(order_id, line, ids))
    except KefuError as exc:
        return await run_in_threadpool(_apply_page, request, actor, order_id, line, form, len(files),
                                       error_of(exc), exc.status)
    return RedirectResponse(f"/aftersales/{app.number}", status_code=303)


async def store_upload(request: Request, actor: Actor, upload: UploadFile) -> Any:
    runtime = get_runtime(request)
    limit = runtime.settings.max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise evidence_svc.too_large(limit)
    return await run_in_threadpool(evidence_svc.upload_evidence, get_db(request), runtime.storage, actor,
                                   upload.filename or "upload", data, upload.content_type, limit,
                                   runtime.clock)


def _submit(request: Request, actor: Actor, req: svc.ApplicationRequest) -> Application:
    runtime = get_runtime(request)
    return svc.submit_application(get_db(request), actor, req, runtime.book, runtime.clock)


# ── my applications ───────────────────────────────────────────────────────────────────────


@router.get("/aftersales")
def my_applications(request: Request, actor: Actor = Depends(customer_only),
                    db: Database = Depends(db_dep)) -> Response:
    apps = svc.list_customer_applications(db, actor)
    return page(request, "customer/applications.html", {"apps": apps})


def application_context(request: Request, actor: Actor, number: str) -> dict[str, Any]:
    """What an application page shows, for the customer's page and the desk's alike."""
    db = get_db(request)
    app = svc.get_application(db, actor, number)
    actions = [a.value for a in svc.actions_for(actor, app)]
    with db.read() as uow:
        order = orders_repo.get_order(uow.session, app.order_id)
    line = next((ln for ln in order.lines if ln.line_no == app.line_no), None) if order else None
    return {"app": app, "actions": actions, "order": order, "line": line,
            "now": get_runtime(request).clock(), "Status": Status}


@router.get("/aftersales/{number}")
def application_page(request: Request, number: str, actor: Actor = Depends(customer_only)) -> Response:
    return page(request, "customer/application.html", application_context(request, actor, number))


@router.get("/inbox")
def inbox(request: Request, actor: Actor = Depends(customer_only), db: Database = Depends(db_dep)) -> Response:
    assert actor.customer_id is not None
    items = notifications.list_inbox(db, actor.customer_id)
    unread = sum(1 for i in items if not i.read)
    return page(request, "customer/inbox.html", {"items": items, "unread": unread})


@router.post("/inbox/read", dependencies=[Depends(csrf_protect)])
def mark_inbox_read(actor: Actor = Depends(customer_only), db: Database = Depends(db_dep)) -> Response:
    """All of the customer's messages read (a POST: opening the inbox changes nothing)."""
    assert actor.customer_id is not None
    notifications.mark_inbox_read(db, actor.customer_id)
    return RedirectResponse("/inbox", status_code=303)


