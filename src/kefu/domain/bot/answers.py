"""The assistant's answers, built only from facts read for the logged-in shopper (issue 5 §2).

Every function here is pure: it takes facts the service read from the database (an order, its
delivery and latest tracking event, the policy engine's decision, an application, a product's
attributes) and returns a :class:`Reply` in Chinese and English with its quick-reply buttons and
the source it was built from. Nothing is invented: where a fact is missing the answer says so
("商品资料中没有这个参数") and offers the next step. No answer is a dead end — each one carries
at least one button (a next step, or a person).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from kefu.domain.aftersales.decision import Decision
from kefu.domain.bot.dialogue import ATTRIBUTE_LABELS
from kefu.domain.bot.intents import INTENT_LABELS, Intent
from kefu.domain.clock import SHANGHAI
from kefu.domain.money import fmt

ORDER_STATUS_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "paid": ("已付款，待发货", "paid, not shipped yet"), "shipped": ("已发货", "shipped"),
    "delivered": ("已送达", "delivered"), "completed": ("已完成", "completed"),
    "cancelled": ("已取消", "cancelled"),
})
DELIVERY_STATUS_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "signed": ("已签收", "signed for"), "in_transit": ("运输中", "in transit"), "lost": ("已丢失", "lost"),
})
OUTCOME_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "approved": ("可以办理", "can be done"), "rejected": ("不能办理", "cannot be done"),
    "needs_info": ("需要补充凭证", "needs evidence"), "manual_review": ("需要人工审核", "goes to manual review"),
    "seller_review": ("需要商家审核", "goes to the seller for review"),
})
PAYMENT_METHOD_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "card": ("银行卡", "bank card"), "balance": ("余额", "balance"), "wechat": ("微信支付", "WeChat Pay"),
    "alipay": ("支付宝", "Alipay"), "coupon": ("优惠券", "coupon"), "gift_card": ("礼品卡", "gift card"),
})
#: a message that asks for each intent (the text a quick-reply button sends)
INTENT_PROMPTS: Mapping[Intent, tuple[str, str]] = MappingProxyType({
    Intent.ORDER_STATUS: ("我的订单到哪了", "Where is my order"),
    Intent.RETURN_POLICY: ("这个能退货吗", "Can I return this"),
    Intent.APPLY_AFTERSALES: ("我要申请售后", "I want to return or exchange"),
    Intent.REFUND_STATUS: ("我的退款到哪了", "Where is my refund"),
    Intent.PRODUCT_PARAM: ("商品参数", "Product details"),
    Intent.PRICE_PROTECTION: ("降价了能价保吗", "Price protection"),
    Intent.PAYMENT_ISSUE: ("支付遇到问题", "A payment problem"),
    Intent.INVOICE: ("怎么开发票", "How do I get an invoice"),
    Intent.MEMBERSHIP: ("PLUS会员有什么权益", "PLUS membership"),
    Intent.CONTACT_CHANNELS: ("客服电话是多少", "Contact numbers"),
    Intent.CANCEL_ORDER: ("我要取消订单", "Cancel an order"),
    Intent.CHANGE_ADDRESS: ("我要修改收货地址", "Change the address"),
    Intent.HUMAN_AGENT: ("转人工", "Talk to a person"),
    Intent.COMPLAINT: ("我要投诉", "Make a complaint"),
})


@dataclass(frozen=True, slots=True)
class Button:
    """A quick reply: ``send`` is the message it sends as the shopper; ``href`` a page it opens."""

    zh: str
    en: str
    send: str | None = None
    href: str | None = None

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {"label": self.en if lang == "en" else self.zh, "send": self.send, "href": self.href}


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer: text in both languages, buttons, what it was built from, cited articles."""

    zh: str
    en: str
    buttons: tuple[Button, ...] = ()
    #: order | policy | catalog | application | faq | rules | action
    source: str = "rules"
    #: FAQ articles cited: (slug, zh title, en title)
    cites: tuple[tuple[str, str, str], ...] = ()
    #: structured facts the answer shows (the decision's rule ids, the tracking event …)
    data: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def intent_button(intent: Intent) -> Button:
    zh, en = INTENT_PROMPTS[intent]
    return Button(zh, en, send=zh)


PERSON = intent_button(Intent.HUMAN_AGENT)
MENU = (intent_button(Intent.ORDER_STATUS), intent_button(Intent.APPLY_AFTERSALES),
        intent_button(Intent.REFUND_STATUS), PERSON)


def local(moment: datetime | None) -> str:
    """A time as shoppers read it: Asia/Shanghai, minutes."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""


def _label(table: Mapping[str, tuple[str, str]], code: str | None) -> tuple[str, str]:
    return table.get(code or "", (code or "", code or ""))


# ── facts ──────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class TrackingFact:
    at: datetime
    location: str
    description: str


@dataclass(frozen=True, slots=True)
class LineFact:
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    paid_amount: Decimal
    price_protection_days: int = 0


@dataclass(frozen=True, slots=True)
class OrderFact:
    """An order as the assistant talks about it."""

    id: str
    status: str
    paid_at: datetime
    total_paid: Decimal
    address: str
    lines: tuple[LineFact, ...]
    carrier_name: str | None = None
    tracking_no: str | None = None
    delivery_status: str | None = None
    shipped_at: datetime | None = None
    signed_at: datetime | None = None
    latest: TrackingFact | None = None

    @property
    def title(self) -> str:
        first = self.lines[0].name if self.lines else ""
        more = f" 等{len(self.lines)}件" if len(self.lines) > 1 else ""
        return f"{first}{more}"


@dataclass(frozen=True, slots=True)
class ApplicationFact:
    number: str
    order_id: str
    line_name: str
    type: str
    status: str
    status_label: tuple[str, str]
    refund_amount: Decimal | None
    #: (method, amount): refunds made, or the planned split when not refunded yet
    route: tuple[tuple[str, Decimal], ...]
    refunded_at: datetime | None
    due_at: datetime | None
    due_kind: str | None


@dataclass(frozen=True, slots=True)
class PriceDrop:
    order_id: str
    line: LineFact
    current_price: Decimal
    until: datetime

    @property
    def difference(self) -> Decimal:
        paid_unit = (self.line.paid_amount / self.line.quantity).quantize(Decimal("0.01"))
        return max(Decimal("0.00"), (paid_unit - self.current_price) * self.line.quantity)


# ── order picking ─────────────────────────────────────────────────────────────────────────


def order_button(order: OrderFact) -> Button:
    label = f"{order.id} {order.title[:18]}"
    return Button(label, label, send=f"订单{order.id}")


def choose_order(orders: Sequence[OrderFact], intent: Intent) -> Reply:
    """Which order? The shopper's recent orders as buttons (or: no orders yet)."""
    if not orders:
        return Reply("您的账号下还没有订单。还有什么可以帮您？", "There are no orders on your account. Anything else?",
                     MENU, source="order")
    zh_topic, en_topic = INTENT_LABELS[intent]
    return Reply(f"请问您要办理「{zh_topic}」的是哪个订单？请点选，或直接发送订单号。",
                 f"Which order is this about ({en_topic})? Pick one or send its number.",
                 (*(order_button(o) for o in orders), PERSON), source="order",
                 data={"orders": [o.id for o in orders]})


def choose_line(order: OrderFact, intent: Intent) -> Reply:
    buttons = tuple(Button(f"第{line.line_no + 1}件 {line.name[:16]}", f"Item {line.line_no + 1} {line.name[:16]}",
                           send=f"订单{order.id} 第{line.line_no + 1}件") for line in order.lines)
    zh_topic, en_topic = INTENT_LABELS[intent]
    return Reply(f"订单 {order.id} 有 {len(order.lines)} 件商品，您问的是哪一件（{zh_topic}）？",
                 f"Order {order.id} has {len(order.lines)} items. Which one ({en_topic})?",
                 (*buttons, PERSON), source="order", data={"order_id": order.id})


def order_not_found(order_id: str) -> Reply:
    """The named order is not the shopper's (or does not exist): the same answer either way."""
    return Reply(f"没有在您的账号下找到订单 {order_id}，请核对订单号，或从您的订单中选择。",
                 f"I can't find order {order_id} on your account. Please check the number or pick one of your orders.",
                 (intent_button(Intent.ORDER_STATUS), PERSON), source="order")


# ── answers grounded in an order ───────────────────────────────────────────────────────────


def order_status(order: OrderFact) -> Reply:
    """Order status: the order's state, its delivery state and its latest tracking event."""
    zh_state, en_state = _label(ORDER_STATUS_LABELS, order.status)
    zh = [f"订单 {order.id}（{order.title}）：{zh_state}。"]
    en = [f"Order {order.id} ({order.title}): {en_state}."]
    if order.delivery_status:
        zh_d, en_d = _label(DELIVERY_STATUS_LABELS, order.delivery_status)
        carrier = order.carrier_name or ""
        zh.append(f"物流：{carrier} {order.tracking_no or ''} {zh_d}".replace("  ", " ") + "。")
        en.append(f"Delivery: {carrier} {order.tracking_no or ''} {en_d}".replace("  ", " ") + ".")
        if order.latest is not None:
            where = f"【{order.latest.location}】" if order.latest.location else ""
            zh.append(f"最新动态（{local(order.latest.at)}）：{where}{order.latest.description}")
            place = f"{order.latest.location} " if order.latest.location else ""
            en.append(f"Latest ({local(order.latest.at)}): {place}{order.latest.description}")
    elif order.status == "paid":
        zh.append("商家正在备货，发货后这里会显示物流信息。")
        en.append("The seller is preparing it; tracking appears here once it ships.")
    buttons: list[Button] = []
    if order.status == "paid":
        buttons += [Button("取消订单", "Cancel this order", send=f"取消订单{order.id}"),
                    Button("修改地址", "Change the address", send=f"订单{order.id}修改收货地址")]
    else:
        buttons.append(Button("能退货吗", "Can I return it", send=f"订单{order.id}能退货吗"))
    buttons += [Button("查看订单", "Open the order", href=f"/orders/{order.id}"), PERSON]
    data: dict[str, Any] = {"order_id": order.id, "status": order.status, "delivery_status": order.delivery_status}
    if order.latest is not None:
        data["latest_event"] = {"at": order.latest.at.isoformat(), "location": order.latest.location,
                                "description": order.latest.description}
    return Reply("\n".join(zh), "\n".join(en), tuple(buttons), source="order", data=data)


def return_decision(order: OrderFact, line: LineFact, decision: Decision) -> Reply:
    """Return policy for a named line: the policy engine's decision with its rule ids and reasons
    (the same as ``POST /api/v1/aftersales/evaluate``)."""
    zh_out, en_out = _label(OUTCOME_LABELS, decision.outcome.value)
    rules = "、".join(decision.rules)
    zh = [f"「{line.name}」七天无理由退货：{zh_out}（规则 {rules}）。"]
    en = [f"No-reason return of \"{line.name}\": {en_out} (rules {', '.join(decision.rules)})."]
    zh += [f"· {h.rule}：{h.zh}" for h in decision.hits]
    en += [f"· {h.rule}: {h.en}" for h in decision.hits]
    if decision.refund_amount is not None and decision.outcome.value != "rejected":
        zh.append(f"预计退款 ¥{fmt(decision.refund_amount)}。")
        en.append(f"Expected refund ¥{fmt(decision.refund_amount)}.")
    if decision.outcome.value == "rejected":
        zh.append("如果商品有质量问题，可以按质量问题申请售后。")
        en.append("If the item is faulty, you can apply for after-sales for a fault.")
    apply = Button("申请售后", "Apply for after-sales", href=f"/orders/{order.id}/lines/{line.line_no}/apply")
    return Reply("\n".join(zh), "\n".join(en), (apply, PERSON), source="policy",
                 data={"order_id": order.id, "line": line.line_no, "decision": decision.as_dict()})


def apply_start(order: OrderFact, line: LineFact, decision: Decision) -> Reply:
    """Apply for after-sales: the application flow on the chosen line, with the decision a
    no-reason return would get now."""
    zh_out, en_out = _label(OUTCOME_LABELS, decision.outcome.value)
    href = f"/orders/{order.id}/lines/{line.line_no}/apply"
    return Reply(
        f"好的，为「{line.name}」（订单 {order.id}）申请售后：请在申请页选择退货、换货或维修并填写原因、上传照片，"
        f"提交后立即给出结果。按七天无理由退货，当前结果是：{zh_out}（规则 {'、'.join(decision.rules)}）。",
        f"Let's start after-sales for \"{line.name}\" (order {order.id}): choose return, exchange or repair on the "
        f"application page, give the reason and photos, and you get the decision at once. A no-reason return "
        f"would now be: {en_out} (rules {', '.join(decision.rules)}).",
        (Button("去申请售后", "Open the application", href=href), PERSON), source="policy",
        data={"order_id": order.id, "line": line.line_no, "apply_url": href, "decision": decision.as_dict()})


def refund_status(app: ApplicationFact) -> Reply:
    """Refund status: the application's state, the refund amount and route, and its due date."""
    zh_s, en_s = app.status_label
    zh = [f"售后单 {app.number}（{app.line_name}，订单 {app.order_id}）：{zh_s}。"]
    en = [f"After-sales {app.number} ({app.line_name}, order {app.order_id}): {en_s}."]
    if app.refund_amount is not None:
        route_zh = "、".join(f"{_label(PAYMENT_METHOD_LABELS, m)[0]} ¥{fmt(a)}" for m, a in app.route)
        route_en = ", ".join(f"{_label(PAYMENT_METHOD_LABELS, m)[1]} ¥{fmt(a)}" for m, a in app.route)
        if app.refunded_at is not None:
            zh.append(f"退款 ¥{fmt(app.refund_amount)} 已于 {local(app.refunded_at)} 原路退回：{route_zh}。")
            en.append(f"Refund ¥{fmt(app.refund_amount)} was paid back on {local(app.refunded_at)}: {route_en}.")
        else:
            zh.append(f"退款金额 ¥{fmt(app.refund_amount)}，将原路退回：{route_zh}。")
            en.append(f"Refund ¥{fmt(app.refund_amount)}, back to: {route_en}.")
    else:
        zh.append("此售后单不涉及退款。")
        en.append("This application involves no refund.")
    if app.due_at is not None and app.refunded_at is None:
        zh.append(f"下一步最晚 {local(app.due_at)} 前处理。")
        en.append(f"The next step is due by {local(app.due_at)}.")
    return Reply("\n".join(zh), "\n".join(en),
                  (Button("查看售后单", "Open the application", href=f"/aftersales/{app.number}"), PERSON),
                  source="application", data={"application": app.number, "status": app.status,
                                              "refund_amount": None if app.refund_amount is None
                                              else fmt(app.refund_amount)})


def no_refunds(general: tuple[str, str]) -> Reply:
    return Reply(f"您目前没有进行中的退款。{general[0]}", f"You have no refund in progress. {general[1]}",
                 (intent_button(Intent.APPLY_AFTERSALES), PERSON), source="application")


def product_param(name: str, attribute: str | None, attributes: Mapping[str, Any], sku: str) -> Reply:
    """Product parameters from the catalog's attributes; "I don't know" when the field is missing."""
    if attribute is None:
        shown = {k: v for k, v in attributes.items() if k in ATTRIBUTE_LABELS}
        if not shown:
            return Reply(f"商品资料中没有「{name}」的参数信息，我无法确定，可以为您转人工确认。",
                         f"The catalog has no details for \"{name}\"; I don't know. A person can check.",
                         (PERSON,), source="catalog", data={"sku": sku})
        zh = "；".join(f"{ATTRIBUTE_LABELS[k][0]}：{_value(v)}" for k, v in shown.items())
        en = "; ".join(f"{ATTRIBUTE_LABELS[k][1]}: {_value(v)}" for k, v in shown.items())
        return Reply(f"「{name}」的参数：{zh}。", f"\"{name}\": {en}.", (PERSON,), source="catalog",
                     data={"sku": sku, "attributes": dict(shown)})
    zh_attr, en_attr = ATTRIBUTE_LABELS[attribute]
    if attribute not in attributes or attributes[attribute] in (None, ""):
        return Reply(f"商品资料中没有「{name}」的{zh_attr}信息，我不确定，可以为您转人工确认。",
                     f"The catalog does not list the {en_attr} of \"{name}\"; I don't know. A person can check.",
                     (PERSON,), source="catalog", data={"sku": sku, "attribute": attribute, "value": None})
    value = _value(attributes[attribute])
    return Reply(f"「{name}」的{zh_attr}：{value}。", f"The {en_attr} of \"{name}\": {value}.",
                 (Button("能退货吗", "Can I return it", send="这个能退货吗"), PERSON), source="catalog",
                 data={"sku": sku, "attribute": attribute, "value": attributes[attribute]})


def _value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def price_protection(drops: Sequence[PriceDrop], eligible: int, general: tuple[str, str]) -> Reply:
    """Price protection: the general rule, and the shopper's lines within their protection period
    whose price fell (the difference estimated by POLICY.md §8)."""
    if not drops:
        zh_tail = (f"您有 {eligible} 件商品在价保期内，目前没有降价。" if eligible
                   else "您目前没有在价保期内的商品。")
        en_tail = (f"{eligible} of your items are within price protection; none has dropped in price."
                   if eligible else "None of your items is within price protection now.")
        return Reply(f"{general[0]}\n{zh_tail}", f"{general[1]}\n{en_tail}", (PERSON,), source="policy",
                     data={"eligible": eligible, "drops": []})
    zh = [general[0], "以下商品降价了，可以申请价保："]
    en = [general[1], "These items dropped in price:"]
    for d in drops:
        zh.append(f"· 订单 {d.order_id}「{d.line.name}」现价 ¥{fmt(d.current_price)}，预计可退差价 ¥{fmt(d.difference)}"
                  f"（价保期至 {local(d.until)}）")
        en.append(f"· Order {d.order_id} \"{d.line.name}\" now ¥{fmt(d.current_price)}: about ¥{fmt(d.difference)} "
                  f"back (protected until {local(d.until)})")
    return Reply("\n".join(zh), "\n".join(en), (PERSON,), source="policy",
                 data={"eligible": eligible, "drops": [{"order_id": d.order_id, "line": d.line.line_no,
                                                        "difference": fmt(d.difference)} for d in drops]})


# ── cancel and change address ──────────────────────────────────────────────────────────────


def confirm_cancel(order: OrderFact) -> Reply:
    return Reply(f"确认取消订单 {order.id}（{order.title}）吗？实付 ¥{fmt(order.total_paid)} 将原路退回。",
                 f"Cancel order {order.id} ({order.title})? ¥{fmt(order.total_paid)} goes back to how you paid.",
                 (Button("确认取消", "Yes, cancel", send="确认"), Button("不取消", "No", send="不取消")),
                 source="action", data={"order_id": order.id, "pending": "cancel"})


def ask_address(order: OrderFact) -> Reply:
    return Reply(f"订单 {order.id} 当前收货地址：{order.address}。请发送新的收货地址（可附上收货人手机号）。",
                 f"Order {order.id} ships to: {order.address}. Send the new address (and the recipient's mobile if "
                 "it changes).", (Button("不改了", "Never mind", send="不改了"), PERSON), source="action",
                 data={"order_id": order.id, "awaiting": "address"})


def confirm_address(order: OrderFact, address: str, phone: str | None) -> Reply:
    tail_zh = f"，收货手机 {phone}" if phone else ""
    tail_en = f", mobile {phone}" if phone else ""
    return Reply(f"确认把订单 {order.id} 的收货地址改为：{address}{tail_zh}？",
                 f"Change the address of order {order.id} to: {address}{tail_en}?",
                 (Button("确认修改", "Yes, change it", send="确认"), Button("不改了", "No", send="不改了")),
                 source="action", data={"order_id": order.id, "pending": "change_address"})


def action_refused(zh: str, en: str, order_id: str) -> Reply:
    return Reply(f"{zh}", f"{en}", (Button("查看订单", "Open the order", href=f"/orders/{order_id}"), PERSON),
                 source="action", data={"order_id": order_id, "done": False})


def cancelled(order_id: str, refund: Decimal) -> Reply:
    return Reply(f"订单 {order_id} 已取消，¥{fmt(refund)} 将原路退回。", f"Order {order_id} is cancelled; "
                 f"¥{fmt(refund)} goes back to how you paid.",
                 (Button("查看订单", "Open the order", href=f"/orders/{order_id}"), intent_button(Intent.ORDER_STATUS)),
                 source="action", data={"order_id": order_id, "done": True})


def address_changed(order_id: str, address: str) -> Reply:
    return Reply(f"订单 {order_id} 的收货地址已改为：{address}。", f"Order {order_id} now ships to: {address}.",
                 (Button("查看订单", "Open the order", href=f"/orders/{order_id}"), intent_button(Intent.ORDER_STATUS)),
                 source="action", data={"order_id": order_id, "done": True})


def kept(order_id: str | None) -> Reply:
    return Reply("好的，订单保持不变。还有什么可以帮您？", "All right, nothing changed. Anything else?", MENU,
                 source="action", data={"order_id": order_id, "done": False})


# ── general answers ────────────────────────────────────────────────────────────────────────


def general(text: tuple[str, str], *buttons: Button, source: str = "rules",
            cites: tuple[tuple[str, str, str], ...] = ()) -> Reply:
    """A general answer from policy data, optionally citing FAQ articles; always ends with a next step."""
    return Reply(text[0], text[1], (*buttons, PERSON) if PERSON not in buttons else tuple(buttons),
                 source=source, cites=cites)


def clarify(lead: tuple[str, str], options: Sequence[Intent]) -> Reply:
    """Low confidence: ask which of the likeliest intents was meant, or a person."""
    buttons = tuple(intent_button(i) for i in options if i in INTENT_PROMPTS and i is not Intent.HUMAN_AGENT)[:3]
    return Reply(lead[0], lead[1], (*buttons, PERSON), source="rules",
                 data={"options": [i.value for i in options]})
