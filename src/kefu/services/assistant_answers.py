"""How the smart assistant answers one message (issue 5 §2–§4): the intent in context, the
grounded answer, and the order changes it makes after a yes.

:func:`plan` reads what the answer needs (:mod:`kefu.services.assistant_facts`, the policy
engine, the FAQ) and sets the turn's intent, reply and next state, or marks a handoff;
:func:`run_action` runs a confirmed cancel or change of address through the agents' own service
functions (:mod:`kefu.services.order_changes`). :mod:`kefu.services.assistant` calls both and
keeps the conversation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import Connection

from kefu.domain.actors import Actor
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.domain.aftersales.params import PolicyBook
from kefu.domain.bot import answers as say
from kefu.domain.bot.answers import Button, OrderFact, Reply
from kefu.domain.bot.dialogue import (
    ORDER_INTENTS,
    AssistantRules,
    ConversationState,
    HandoffReason,
    attribute_asked,
    confirmation,
    context_intent,
    handoff_reason,
    is_low_confidence,
    line_mentioned,
    looks_like_address,
    next_low_streak,
    order_for,
)
from kefu.domain.bot.intents import Intent, Understanding
from kefu.domain.bot.normalise import fold
from kefu.domain.bot.slots import find_slots
from kefu.domain.bot.understand import IntentScorer
from kefu.domain.clock import Clock
from kefu.domain.errors import KefuError
from kefu.domain.order_changes import ShipmentState, may_cancel, may_change_address
from kefu.services import assistant_facts as facts
from kefu.services.aftersales import ApplicationRequest, preview_application
from kefu.services.desk_clocks import DeskRules
from kefu.services.order_changes import cancel_order, change_address
from kefu.services.ports import LiveEvents
from kefu.services.uow import Database

#: a cited FAQ article: (slug, zh title, en title)
Cite = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class FaqAnswer:
    """An FAQ article retrieved for a question, in both languages."""

    slug: str
    title: tuple[str, str]
    body: tuple[str, str]


class FaqSource(Protocol):
    """The FAQ knowledge base as the assistant uses it (``kefu.services.faq`` behind it)."""

    def cite(self, db: Database, intent: Intent, text: str) -> Cite | None:
        """The article to cite beside an answer about ``intent``, if any."""
        ...

    def answer(self, db: Database, text: str) -> FaqAnswer | None:
        """The article that answers ``text`` (BM25 over jieba tokens), if one matches well enough."""
        ...


@dataclass(frozen=True, slots=True)
class AssistantDeps:
    """What the assistant needs besides the database."""

    scorer: IntentScorer
    rules: AssistantRules
    book: PolicyBook
    desk: DeskRules
    clock: Clock
    live: LiveEvents | None = None
    faq: FaqSource | None = None
    #: hotline numbers by customer level (``regular``, ``plus``, ``enterprise``)
    hotlines: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Turn:
    """One message being answered (internal)."""

    db: Database
    actor: Actor | None
    customer_id: str | None
    text: str
    u: Understanding
    state: ConversationState
    deps: AssistantDeps
    intent: Intent = Intent.OUT_OF_SCOPE
    reply: Reply | None = None
    handoff: HandoffReason | None = None
    #: an order change to run after the read (cancel / change_address) with its arguments
    action: dict[str, Any] | None = None


def next_state(turn: Turn) -> ConversationState:
    state = turn.state.remember(turn.text)
    return replace(state, last_intent=turn.intent.value, low_streak=next_low_streak(turn.u, turn.state,
                                                                                  turn.deps.rules))


# ── planning an answer ──────────────────────────────────────────────────────────────────────


def plan(conn: Connection, turn: Turn) -> None:
    """Choose the intent and the answer (reads only)."""
    rules, state = turn.deps.rules, turn.state
    if state.pending:
        said = confirmation(turn.text, rules)
        if said is not None:
            turn.intent = Intent(state.last_intent or Intent.CANCEL_ORDER.value)
            if said:
                turn.action = dict(state.pending)
            else:
                turn.reply = say.kept(state.pending.get("order_id"))
            turn.state = replace(state, pending=None, awaiting=None)
            return
        turn.state = state = replace(state, pending=None)
    if state.awaiting == "address" and state.order_id and looks_like_address(turn.text):
        turn.intent = Intent.CHANGE_ADDRESS
        _confirm_address(conn, turn, state.order_id)
        return
    reason = handoff_reason(turn.u, turn.text, state, rules)
    if reason is not None:
        turn.handoff = reason
        turn.intent = turn.u.intent
        return
    turn.intent = context_intent(turn.u, turn.text, state)
    turn.state = replace(state, awaiting=None)
    if turn.intent is turn.u.intent and is_low_confidence(turn.u, rules):
        found = turn.deps.faq.answer(turn.db, turn.text) if turn.deps.faq is not None else None
        if found is not None:   # the FAQ knows this one: answer it, and offer a person if it missed
            turn.reply = say.general(found.body, source="faq", cites=((found.slug, *found.title),))
            return
        options = [turn.u.intent, *(i for i, _ in turn.u.alternatives)]
        turn.reply = say.clarify(rules.answer("clarify"), options)
        return
    _answer(conn, turn)


def _general(turn: Turn, key: str, *buttons: Button, source: str = "rules", **values: Any) -> Reply:
    cite = turn.deps.faq.cite(turn.db, turn.intent, turn.text) if turn.deps.faq is not None else None
    return say.general(turn.deps.rules.answer(key, **values), *buttons,
                       source="faq" if cite else source, cites=(cite,) if cite else ())


def _policy_values(book: PolicyBook) -> dict[str, Any]:
    base = book.resolve("self_operated", "other")
    third = book.resolve("third_party", "other")
    return {"no_reason_return_days": base.no_reason_return_days, "fault_return_days": base.fault_return_days,
            "third_party_fault_return_days": third.fault_return_days,
            "fault_exchange_days": base.fault_exchange_days, "refund_days": base.refund_days}


def service_hours(deps: AssistantDeps) -> str:
    cal = deps.desk.sla.calendar
    return f"{cal.opens:%H:%M}–{cal.closes:%H:%M}"


def _answer(conn: Connection, turn: Turn) -> None:
    intent, deps = turn.intent, turn.deps
    if intent in ORDER_INTENTS:
        _answer_about_order(conn, turn)
        return
    if intent is Intent.GREETING:
        turn.reply = say.general(deps.rules.answer("greeting"), *say.MENU[:3])
    elif intent is Intent.PRICE_PROTECTION:
        text = _general(turn, "price_protection", source="policy")
        if turn.customer_id is None:
            turn.reply = login_reply(turn, text)
        else:
            drops, eligible = facts.price_drops(conn, turn.customer_id, deps.clock())
            reply = say.price_protection(drops, eligible, (text.zh, text.en))
            turn.reply = replace(reply, cites=text.cites)
    elif intent is Intent.CONTACT_CHANNELS:
        level = facts.customer_level(conn, turn.customer_id) if turn.customer_id else "regular"
        vip = deps.hotlines.get(level) if level != "regular" else None
        vip_zh, vip_en = deps.rules.answer(f"vip_line_{level}", number=vip) if vip else ("", "")
        turn.reply = _general(turn, "contact_channels", hours=service_hours(deps),
                              hotline=deps.hotlines.get("regular", ""), vip_line=vip_zh, vip_line_en=vip_en)
    elif intent in (Intent.INVOICE, Intent.MEMBERSHIP, Intent.PAYMENT_ISSUE):
        reply = _general(turn, intent.value)
        if intent is Intent.MEMBERSHIP and turn.customer_id:
            zh_level, en_level = deps.rules.answer(f"level_{facts.customer_level(conn, turn.customer_id)}")
            reply = replace(reply, zh=f"{zh_level}{reply.zh}", en=f"{en_level} {reply.en}")
        turn.reply = reply
    else:
        found = deps.faq.answer(turn.db, turn.text) if deps.faq is not None else None
        if found is not None:
            turn.reply = say.general(found.body, *say.MENU[:2], source="faq",
                                     cites=((found.slug, *found.title),))
        else:
            turn.reply = say.general(deps.rules.answer("out_of_scope"), *say.MENU[:3])


def login_reply(turn: Turn, general: Reply | None = None) -> Reply:
    lead = turn.deps.rules.answer("login")
    if general is not None:
        return replace(general, zh=f"{general.zh}\n{lead[0]}", en=f"{general.en}\n{lead[1]}",
                       buttons=(Button("登录", "Log in", href="/login?next=/chat"), *general.buttons))
    return say.general(lead, Button("登录", "Log in", href="/login?next=/chat"))


def _answer_about_order(conn: Connection, turn: Turn) -> None:
    intent, deps = turn.intent, turn.deps
    if turn.customer_id is None:
        general = {Intent.RETURN_POLICY: "return_policy", Intent.REFUND_STATUS: "refund_general"}.get(intent)
        if general is not None:
            turn.reply = login_reply(turn, _general(turn, general, source="policy", **_policy_values(deps.book)))
        else:
            turn.reply = login_reply(turn)
        return
    order_id = order_for(intent, turn.u.slots, turn.state, turn.text)
    if order_id is None:
        if intent is Intent.RETURN_POLICY:
            turn.reply = _general(turn, "return_policy", intent_button_for_orders(), source="policy",
                                  **_policy_values(deps.book))
            return
        if intent is Intent.REFUND_STATUS:
            _refund_status(conn, turn, None)
            return
        turn.reply = say.choose_order(facts.recent_orders(conn, turn.customer_id), intent)
        turn.state = replace(turn.state, awaiting=intent.value)
        return
    order = facts.customer_order(conn, turn.customer_id, order_id)
    if order is None:
        turn.reply = say.order_not_found(order_id)
        turn.state = replace(turn.state, order_id=None, line=None)
        return
    line_no = line_mentioned(turn.text)
    if line_no is None and order.id == turn.state.order_id:
        line_no = turn.state.line
    if line_no is not None and not 0 <= line_no < len(order.lines):
        line_no = None
    turn.state = replace(turn.state, order_id=order.id, line=line_no)
    if intent is Intent.ORDER_STATUS:
        turn.reply = say.order_status(order)
    elif intent is Intent.REFUND_STATUS:
        _refund_status(conn, turn, order.id)
    elif intent is Intent.CANCEL_ORDER:
        _cancel(turn, order)
    elif intent is Intent.CHANGE_ADDRESS:
        _ask_address(turn, order)
    else:
        _about_line(turn, conn, order, line_no)


def intent_button_for_orders() -> Button:
    return Button("查我的订单", "My orders", send="我的订单能退货吗")


def _about_line(turn: Turn, conn: Connection, order: OrderFact, line_no: int | None) -> None:
    """Return policy, apply for after-sales and product parameters: all about one line."""
    if line_no is None:
        if len(order.lines) != 1:
            turn.reply = say.choose_line(order, turn.intent)
            turn.state = replace(turn.state, awaiting=turn.intent.value)
            return
        line_no = 0
    line = order.lines[line_no]
    turn.state = replace(turn.state, line=line_no)
    if turn.intent is Intent.PRODUCT_PARAM:
        found = facts.product(conn, line.sku)  # the catalog's current attributes
        name, attributes = (found[0], found[1]) if found else (line.name, {})
        turn.reply = say.product_param(name, attribute_asked(turn.text), attributes, line.sku)
        return
    assert turn.actor is not None
    try:
        decision = preview_application(turn.db, turn.actor, ApplicationRequest(
            order_id=order.id, line=line_no, type=RequestType.RETURN, reason=Reason.NO_REASON), turn.deps.book,
            turn.deps.clock)
    except KefuError as exc:
        turn.reply = say.action_refused(exc.zh, exc.en, order.id)
        return
    if turn.intent is Intent.APPLY_AFTERSALES:
        turn.reply = say.apply_start(order, line, decision)
    else:
        turn.reply = say.return_decision(order, line, decision)


def _refund_status(conn: Connection, turn: Turn, order_id: str | None) -> None:
    assert turn.customer_id is not None
    found = facts.applications(conn, turn.customer_id, order_id, limit=3)
    with_money = [a for a in found if a.refund_amount is not None] or found
    if not with_money:
        general = turn.deps.rules.answer("refund_general", **_policy_values(turn.deps.book))
        turn.reply = say.no_refunds(general)
        return
    turn.reply = say.refund_status(with_money[0])


def _shipment(order: OrderFact) -> ShipmentState:
    return ShipmentState(order.status, order.delivery_status, order.shipped_at)


def _cancel(turn: Turn, order: OrderFact) -> None:
    verdict = may_cancel(_shipment(order))
    if not verdict.allowed:
        turn.reply = say.action_refused(verdict.zh, verdict.en, order.id)
        return
    turn.reply = say.confirm_cancel(order)
    turn.state = replace(turn.state, pending={"action": "cancel", "order_id": order.id})


def _ask_address(turn: Turn, order: OrderFact) -> None:
    verdict = may_change_address(_shipment(order))
    if not verdict.allowed:
        turn.reply = say.action_refused(verdict.zh, verdict.en, order.id)
        return
    if looks_like_address(turn.text):
        _confirm_address_of(turn, order)
        return
    turn.reply = say.ask_address(order)
    turn.state = replace(turn.state, awaiting="address")


_ADDRESS_LEAD = re.compile(r"^.*?(?:地址|收货)(?:改成|改为|换成|换到|修改为|变更为|是|为|:|：)\s*")


_PHONE_LEAD = r"[\s,，;；]*(?:手机|电话|收货人电话|联系电话)?[号码:：\s]*"


def _confirm_address(conn: Connection, turn: Turn, order_id: str) -> None:
    assert turn.customer_id is not None
    order = facts.customer_order(conn, turn.customer_id, order_id)
    if order is None:
        turn.reply = say.order_not_found(order_id)
        return
    _confirm_address_of(turn, order)


def _confirm_address_of(turn: Turn, order: OrderFact) -> None:
    phone = next((m.value for m in find_slots(fold(turn.text)) if m.name == "phone"), None)
    address = _ADDRESS_LEAD.sub("", turn.text)
    if phone:
        address = re.sub(_PHONE_LEAD + re.escape(phone) + r"\s*", " ", address)
    address = " ".join(address.replace(order.id, " ").split()).strip(" ,，。")
    turn.reply = say.confirm_address(order, address, phone)
    turn.state = replace(turn.state, order_id=order.id, awaiting=None,
                         pending={"action": "change_address", "order_id": order.id, "address": address,
                                  "phone": phone})


def run_action(db: Database, turn: Turn) -> None:
    """Run the confirmed order change through the agents' own service functions (the order's
    state is checked again there, under lock)."""
    action = turn.action or {}
    order_id = str(action.get("order_id", ""))
    if turn.actor is None or turn.customer_id is None:
        turn.reply = login_reply(turn)
        return
    try:
        if action.get("action") == "cancel":
            result = cancel_order(db, turn.actor, order_id, turn.deps.clock, via_assistant=True)
            turn.reply = say.cancelled(order_id, result.refund_total)
        else:
            result = change_address(db, turn.actor, order_id, str(action.get("address", "")), turn.deps.clock,
                                    phone=action.get("phone"), via_assistant=True)
            turn.reply = say.address_changed(order_id, result.address)
    except KefuError as exc:
        turn.reply = say.action_refused(exc.zh, exc.en, order_id)
