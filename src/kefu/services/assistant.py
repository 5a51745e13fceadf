"""The smart assistant (智能客服): one customer message in, one answer out (issue 5).

:func:`converse` reads the message (intent, confidence, slots), continues the conversation the
shopper has with ``session_id`` (:mod:`kefu.domain.bot.dialogue`), answers from the logged-in
shopper's own data (:mod:`kefu.services.assistant_facts`, the policy engine, the FAQ), and
records the turn for the supervisor's bot metrics.

Handoff (§5): on a request for a person, a complaint, an angry message, a repeated question or
the second low-confidence message in a row, the conversation becomes a web-chat ticket carrying
the whole transcript, the detected intent and the order (``tickets.open_ticket``, the same
transaction links the session); PLUS and enterprise shoppers rank first in the queue (D5). When
no agent is online the shopper is told by when a person will answer (the ticket's first-response
due time). After the handoff each message joins the ticket; until a person has answered, the
assistant still answers what it can, on the ticket — and says nothing when it cannot, so one
message never gets two automatic replies.

Only a logged-in customer's questions are grounded in orders; a visitor (or a staff account
trying the assistant) gets the general answers and is asked to log in for anything about an
order. Cancelling an order and changing its address go through the same service functions agents
use (:mod:`kefu.services.order_changes`), only after the shopper confirms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kefu.adapters.db.prepared import PreparedSet
from kefu.adapters.db.tables.bot import BotSession, BotTurn
from kefu.adapters.db.tables.service_desk import Ticket, TicketSla
from kefu.domain.actors import Actor, Role
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.domain.aftersales.params import PolicyBook
from kefu.domain.bot import answers as say
from kefu.domain.bot.answers import Button, OrderFact, Reply
from kefu.domain.bot.dialogue import (
    HANDOFF_LABELS,
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
from kefu.domain.bot.intents import INTENT_LABELS, Intent, Understanding
from kefu.domain.bot.normalise import fold
from kefu.domain.bot.slots import find_slots
from kefu.domain.bot.understand import IntentScorer, understand
from kefu.domain.clock import Clock
from kefu.domain.errors import InputError, KefuError
from kefu.domain.order_changes import ShipmentState, may_cancel, may_change_address
from kefu.domain.service.tickets import OPEN_STATUSES, Category, Channel, Kind, Status
from kefu.services import assistant_facts as facts
from kefu.services import tickets as desk
from kefu.services.aftersales import ApplicationRequest, preview_application
from kefu.services.desk_clocks import DeskRules
from kefu.services.order_changes import cancel_order, change_address
from kefu.services.ports import LiveEvents
from kefu.services.uow import Database

MAX_TEXT = 500
SESSION_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
#: how many earlier turns a handed-over ticket carries
TRANSCRIPT_TURNS = 50

#: the queue category a handed-over conversation goes to, by the topic the shopper was on
HANDOFF_CATEGORY: Mapping[Intent, Category] = {
    Intent.ORDER_STATUS: Category.LOGISTICS, Intent.CHANGE_ADDRESS: Category.LOGISTICS,
    Intent.RETURN_POLICY: Category.AFTERSALES, Intent.APPLY_AFTERSALES: Category.AFTERSALES,
    Intent.REFUND_STATUS: Category.AFTERSALES, Intent.PRODUCT_PARAM: Category.PRODUCT,
    Intent.PRICE_PROTECTION: Category.PAYMENT, Intent.PAYMENT_ISSUE: Category.PAYMENT,
    Intent.MEMBERSHIP: Category.MEMBERSHIP, Intent.CANCEL_ORDER: Category.OTHER,
}

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


@dataclass(frozen=True, slots=True)
class BotAnswer:
    """One message's result: the reading, the answer (None: a person has the conversation), and
    the handoff, if this message caused one or the conversation is already with a person."""

    session_id: str
    understanding: Understanding
    intent: Intent
    reply: Reply | None
    handoff: HandoffReason | None = None
    ticket: str | None = None
    agent_online: bool | None = None

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        """The JSON of ``POST /api/v1/bot/messages`` (shared/eval/bot/README.md, plus extras)."""
        u = self.understanding
        reply = self.reply
        return {
            "session_id": self.session_id, "intent": u.intent.value, "confidence": round(u.confidence, 4),
            "slots": dict(u.slots), "reply": reply.text(lang) if reply else "",
            "handoff": self.ticket is not None,
            "handoff_reason": self.handoff.value if self.handoff else None, "ticket": self.ticket,
            "agent_online": self.agent_online, "topic": self.intent.value,
            "buttons": [b.as_dict(lang) for b in reply.buttons] if reply else [],
            "source": reply.source if reply else None,
            "cites": [{"slug": s, "title": en if lang == "en" else zh} for s, zh, en in reply.cites] if reply else [],
            "data": dict(reply.data) if reply else {},
            "alternatives": [{"intent": i.value, "confidence": round(p, 4)} for i, p in u.alternatives],
        }


# ── reading and writing the conversation ───────────────────────────────────────────────────

_SESSION = select(BotSession.id, BotSession.state, BotSession.turns, BotSession.ticket_id).where(
    BotSession.owner == bindparam("owner"), BotSession.session_key == bindparam("key"))
_TICKET = select(Ticket.number, Ticket.status, Ticket.assignee_id, Ticket.first_response_at).where(
    Ticket.id == bindparam("id"))
_TURNS = (select(BotTurn.text, BotTurn.reply, BotTurn.at).where(BotTurn.session_id == bindparam("sid"))
          .order_by(BotTurn.id.desc()).limit(TRANSCRIPT_TURNS))
_SAVE_SESSION = (update(BotSession).where(BotSession.id == bindparam("sid"))
                 .values(state=bindparam("state"), turns=BotSession.turns + 1, updated_at=bindparam("now")))
_HANDED = (update(BotSession).where(BotSession.id == bindparam("sid"))
           .values(ticket_id=bindparam("ticket_id"), handoff_reason=bindparam("reason"),
                   handoff_at=bindparam("now")))
_TURN_COLUMNS = ("session_id", "at", "text", "intent", "confidence", "slots", "reply", "source", "handoff")
_ADD_TURN = insert(BotTurn).values({c: bindparam(f"v_{c}") for c in _TURN_COLUMNS})
_FIRST_RESPONSE_DUE = select(TicketSla.due_at).where(TicketSla.ticket_id == bindparam("id"),
                                                     TicketSla.metric == "first_response")
_SESSION_COLUMNS = ("owner", "session_key", "customer_id", "channel", "state", "turns", "ticket_id",
                    "handoff_reason", "handoff_at", "started_at", "updated_at")


def _new_session(dialect: str) -> Any:
    """INSERT … ON CONFLICT (owner, session_key) DO NOTHING RETURNING id (no row when it exists)."""
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(BotSession)
    return (statement.values({c: bindparam(f"v_{c}") for c in _SESSION_COLUMNS})
            .on_conflict_do_nothing(index_elements=["owner", "session_key"]).returning(BotSession.id))


#: the statements of every message, prepared (kefu.adapters.db.prepared: no per-call Core overhead)
_Q = PreparedSet(session=_SESSION, ticket=_TICKET, turns=_TURNS, save=_SAVE_SESSION, add_turn=_ADD_TURN,
                 new_session=_new_session)


def _clean(text: str, session_id: str) -> str:
    if not SESSION_ID.match(session_id or ""):
        raise InputError("bot_session_invalid", "会话编号无效（1–128 位字母、数字或 _.:@-）。",
                         "Invalid session_id (1–128 letters, digits or _.:@-).")
    cleaned = (text or "").strip()
    if not cleaned:
        raise InputError("bot_text_missing", "请输入您的问题。", "Please type your question.")
    if len(cleaned) > MAX_TEXT:
        raise InputError("bot_text_too_long", f"消息太长了（最多 {MAX_TEXT} 字）。",
                         f"The message is too long (at most {MAX_TEXT} characters).", limit=MAX_TEXT)
    return cleaned


@dataclass(slots=True)
class _Turn:
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


def converse(db: Database, actor: Actor | None, session_id: str, text: str, deps: AssistantDeps, *,
             channel: str = "web_chat") -> BotAnswer:
    """Answer one message of the conversation ``session_id`` (module docstring)."""
    text = _clean(text, session_id)
    u = understand(text, deps.scorer)
    customer_id = actor.customer_id if actor is not None and actor.role is Role.CUSTOMER else None
    owner = f"customer:{customer_id}" if customer_id else "anon"
    history: list[Any] = []
    with db.read_connection() as conn:
        q = _Q.of(conn)
        session = q["session"].first(conn, owner=owner, key=session_id)
        state = ConversationState.from_json(session.state if session is not None else None)
        ticket = q["ticket"].first(conn, id=session.ticket_id) if session and session.ticket_id else None
        turn = _Turn(db, actor, customer_id, text, u, state, deps)
        with_person = ticket is not None and Status(ticket.status) in OPEN_STATUSES
        if not with_person:
            _plan(conn, turn)
            if turn.handoff is not None and session is not None:
                history = list(reversed(q["turns"].all(conn, sid=session.id)))
            if turn.handoff is None and turn.action is None and session is not None:
                # the common case: a conversation going on, answered from what was read; written
                # on the same connection, everything computed before the write lock is taken
                now = deps.clock()
                save = q["save"].bind(sid=session.id, state=_stored_state(_next_state(turn), turn.reply), now=now)
                add = q["add_turn"].bind(**_turn_values(session.id, turn, now))
                with db.prepared_write(conn):
                    q["save"].run_bound(conn, save)
                    q["add_turn"].run_bound(conn, add)
                return BotAnswer(session_id, u, turn.intent, turn.reply, None)
    if with_person:
        assert session is not None
        return _with_person(db, turn, session_id, session.id, ticket)
    if turn.handoff is not None and customer_id is None:
        turn.reply = _login(turn)
    if turn.action is not None:
        _run_action(db, turn)
    new_state = _next_state(turn)
    now = deps.clock()
    if turn.handoff is not None and customer_id is not None and actor is not None:
        return _hand_over(db, turn, session_id, owner, session, new_state, history, channel)
    with db.prepared_write() as conn:
        sid = _save(conn, owner, session_id, session, turn, new_state, channel, now)
        _record(conn, sid, turn, now)
    return BotAnswer(session_id, u, turn.intent, turn.reply, turn.handoff)


def _stored_state(state: ConversationState, reply: Reply | None) -> dict[str, Any]:
    """The session's JSON: the conversation state and the last answer's buttons (a page that is
    loaded again shows them)."""
    buttons = [{"zh": b.zh, "en": b.en, "send": b.send, "href": b.href} for b in reply.buttons] if reply else []
    return {**state.to_json(), "buttons": buttons}


def _save(conn: Connection, owner: str, key: str, session: Any, turn: _Turn, state: ConversationState,
          channel: str, now: datetime) -> int:
    stored = _stored_state(state, turn.reply)
    q = _Q.of(conn)
    if session is None:
        # two messages of a new conversation may race: the second one continues the first's row
        created = q["new_session"].scalar(
            conn, v_owner=owner, v_session_key=key, v_customer_id=turn.customer_id, v_channel=channel,
            v_state=stored, v_turns=1, v_ticket_id=None, v_handoff_reason=None, v_handoff_at=None,
            v_started_at=now, v_updated_at=now)
        if created is not None:
            return int(created)
        session = q["session"].first(conn, owner=owner, key=key)
    q["save"].run(conn, sid=session.id, state=stored, now=now)
    return int(session.id)


def _turn_values(sid: int, turn: _Turn, now: datetime, reply: str | None = None) -> dict[str, Any]:
    return {"v_session_id": sid, "v_at": now, "v_text": turn.text, "v_intent": turn.u.intent.value,
            "v_confidence": round(turn.u.confidence, 4), "v_slots": dict(turn.u.slots),
            "v_reply": reply if reply is not None else (turn.reply.zh if turn.reply else ""),
            "v_source": turn.reply.source if turn.reply else "",
            "v_handoff": turn.handoff.value if turn.handoff else None}


def _record(conn: Connection, sid: int, turn: _Turn, now: datetime, reply: str | None = None) -> None:
    _Q.of(conn)["add_turn"].run(conn, **_turn_values(sid, turn, now, reply))


def _next_state(turn: _Turn) -> ConversationState:
    state = turn.state.remember(turn.text)
    return replace(state, last_intent=turn.intent.value, low_streak=next_low_streak(turn.u, turn.state,
                                                                                  turn.deps.rules))


# ── planning an answer ──────────────────────────────────────────────────────────────────────


def _plan(conn: Connection, turn: _Turn) -> None:
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


def _general(turn: _Turn, key: str, *buttons: Button, source: str = "rules", **values: Any) -> Reply:
    cite = turn.deps.faq.cite(turn.db, turn.intent, turn.text) if turn.deps.faq is not None else None
    return say.general(turn.deps.rules.answer(key, **values), *buttons,
                       source="faq" if cite else source, cites=(cite,) if cite else ())


def _policy_values(book: PolicyBook) -> dict[str, Any]:
    base = book.resolve("self_operated", "other")
    third = book.resolve("third_party", "other")
    return {"no_reason_return_days": base.no_reason_return_days, "fault_return_days": base.fault_return_days,
            "third_party_fault_return_days": third.fault_return_days,
            "fault_exchange_days": base.fault_exchange_days, "refund_days": base.refund_days}


def _hours(deps: AssistantDeps) -> str:
    cal = deps.desk.sla.calendar
    return f"{cal.opens:%H:%M}–{cal.closes:%H:%M}"


def _answer(conn: Connection, turn: _Turn) -> None:
    intent, deps = turn.intent, turn.deps
    if intent in ORDER_INTENTS:
        _answer_about_order(conn, turn)
        return
    if intent is Intent.GREETING:
        turn.reply = say.general(deps.rules.answer("greeting"), *say.MENU[:3])
    elif intent is Intent.PRICE_PROTECTION:
        text = _general(turn, "price_protection", source="policy")
        if turn.customer_id is None:
            turn.reply = _login(turn, text)
        else:
            drops, eligible = facts.price_drops(conn, turn.customer_id, deps.clock())
            reply = say.price_protection(drops, eligible, (text.zh, text.en))
            turn.reply = replace(reply, cites=text.cites)
    elif intent is Intent.CONTACT_CHANNELS:
        level = facts.customer_level(conn, turn.customer_id) if turn.customer_id else "regular"
        vip = deps.hotlines.get(level) if level != "regular" else None
        vip_zh, vip_en = deps.rules.answer(f"vip_line_{level}", number=vip) if vip else ("", "")
        turn.reply = _general(turn, "contact_channels", hours=_hours(deps),
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


def _login(turn: _Turn, general: Reply | None = None) -> Reply:
    lead = turn.deps.rules.answer("login")
    if general is not None:
        return replace(general, zh=f"{general.zh}\n{lead[0]}", en=f"{general.en}\n{lead[1]}",
                       buttons=(Button("登录", "Log in", href="/login?next=/chat"), *general.buttons))
    return say.general(lead, Button("登录", "Log in", href="/login?next=/chat"))


def _answer_about_order(conn: Connection, turn: _Turn) -> None:
    intent, deps = turn.intent, turn.deps
    if turn.customer_id is None:
        if intent is Intent.RETURN_POLICY:
            turn.reply = _login(turn, _general(turn, "return_policy", source="policy", **_policy_values(deps.book)))
        elif intent is Intent.REFUND_STATUS:
            turn.reply = _login(turn, _general(turn, "refund_general", source="policy", **_policy_values(deps.book)))
        else:
            turn.reply = _login(turn)
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


def _about_line(turn: _Turn, conn: Connection, order: OrderFact, line_no: int | None) -> None:
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


def _refund_status(conn: Connection, turn: _Turn, order_id: str | None) -> None:
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


def _cancel(turn: _Turn, order: OrderFact) -> None:
    verdict = may_cancel(_shipment(order))
    if not verdict.allowed:
        turn.reply = say.action_refused(verdict.zh, verdict.en, order.id)
        return
    turn.reply = say.confirm_cancel(order)
    turn.state = replace(turn.state, pending={"action": "cancel", "order_id": order.id})


def _ask_address(turn: _Turn, order: OrderFact) -> None:
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


def _confirm_address(conn: Connection, turn: _Turn, order_id: str) -> None:
    assert turn.customer_id is not None
    order = facts.customer_order(conn, turn.customer_id, order_id)
    if order is None:
        turn.reply = say.order_not_found(order_id)
        return
    _confirm_address_of(turn, order)


def _confirm_address_of(turn: _Turn, order: OrderFact) -> None:
    phone = next((m.value for m in find_slots(fold(turn.text)) if m.name == "phone"), None)
    address = _ADDRESS_LEAD.sub("", turn.text)
    if phone:
        address = re.sub(_PHONE_LEAD + re.escape(phone) + r"\s*", " ", address)
    address = " ".join(address.replace(order.id, " ").split()).strip(" ,，。")
    turn.reply = say.confirm_address(order, address, phone)
    turn.state = replace(turn.state, order_id=order.id, awaiting=None,
                         pending={"action": "change_address", "order_id": order.id, "address": address,
                                  "phone": phone})


def _run_action(db: Database, turn: _Turn) -> None:
    """Run the confirmed order change through the agents' own service functions (the order's
    state is checked again there, under lock)."""
    action = turn.action or {}
    order_id = str(action.get("order_id", ""))
    if turn.actor is None or turn.customer_id is None:
        turn.reply = _login(turn)
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


# ── handing over to a person ────────────────────────────────────────────────────────────────


def _topic(turn: _Turn) -> Intent:
    """The subject the shopper was on: this message's intent, or the conversation's last topic."""
    if turn.intent not in (Intent.HUMAN_AGENT, Intent.COMPLAINT, Intent.GREETING, Intent.OUT_OF_SCOPE):
        return turn.intent
    last = turn.state.last_intent
    if last and last in Intent._value2member_map_:
        topic = Intent(last)
        if topic not in (Intent.HUMAN_AGENT, Intent.GREETING, Intent.OUT_OF_SCOPE):
            return topic
    return turn.intent


def _hand_over(db: Database, turn: _Turn, session_id: str, owner: str, session: Any, state: ConversationState,
               history: Sequence[Any], channel: str) -> BotAnswer:
    """Open the web-chat ticket with the transcript, link the session and record the turn, in
    one transaction; tell the shopper who answers and when."""
    assert turn.actor is not None and turn.handoff is not None
    deps, now = turn.deps, turn.deps.clock()
    topic = _topic(turn)
    reason_zh = HANDOFF_LABELS[turn.handoff][0]
    topic_zh, _ = INTENT_LABELS[topic]
    order_id = state.order_id
    lines = [f"智能助手转人工：{reason_zh}", f"识别意图：{INTENT_LABELS[turn.u.intent][0]}（{turn.u.confidence:.2f}）",
             f"咨询主题：{topic_zh}"]
    if order_id:
        lines.append(f"订单：{order_id}" + (f" 第{state.line + 1}件" if state.line is not None else ""))
    transcript: list[desk.TranscriptEntry] = []
    for old in history:
        transcript.append(desk.TranscriptEntry("customer", old.text, old.at))
        if old.reply:
            transcript.append(desk.TranscriptEntry("bot", old.reply, old.at))
    key = "handoff_complaint" if turn.handoff in (HandoffReason.COMPLAINT, HandoffReason.ANGRY) else "handoff"
    saved: dict[str, Any] = {}

    def link(conn: Connection, ticket: Ticket) -> None:
        due = conn.scalar(_FIRST_RESPONSE_DUE, {"id": ticket.id})
        reply = _handoff_reply(turn, key, ticket, due)
        saved["reply"] = turn.reply = reply
        sid = _save(conn, owner, session_id, session, turn, state, channel, now)
        conn.execute(_HANDED, {"sid": sid, "ticket_id": ticket.id, "reason": turn.handoff.value if turn.handoff
                               else None, "now": now})
        conn.execute(desk._INSERT_MESSAGE, {
            "ticket_id": ticket.id, "author_user_id": None, "author_role": "bot", "author_name": "智能助手",
            "body": reply.zh, "visibility": "public", "channel": ticket.channel, "external_id": None,
            "created_at": now})
        _record(conn, sid, turn, now)

    note = desk.TranscriptEntry("system", "\n".join(lines), now, internal=True)
    ticket = desk.open_ticket(db, turn.actor, desk.TicketRequest(
        subject=f"智能客服转人工：{topic_zh}", body=turn.text, channel=Channel.WEB_CHAT,
        category=HANDOFF_CATEGORY.get(topic, Category.OTHER), kind=Kind.CONSULTATION, order_id=order_id,
        tags=("bot-handoff", f"handoff-{turn.handoff.value}")), deps.desk, deps.clock, live=deps.live,
        history=transcript, replies=(note,), after_write=link)
    return BotAnswer(session_id, turn.u, topic, saved.get("reply"), turn.handoff, ticket.number,
                     agent_online=ticket.assignee_id is not None)


def _answer_by(deps: AssistantDeps, due: datetime | None) -> datetime | None:
    """When a person will answer a handed-over conversation nobody took: its first-response due
    time, but never before the agents' business hours start again (D1) — at night "within a
    minute" would be a promise nobody is there to keep."""
    now = deps.clock()
    calendar = deps.desk.sla.calendar
    opening = now if calendar.is_open(now) else calendar.next_open(now)
    return max(due, opening) if due is not None else opening


def _handoff_reply(turn: _Turn, key: str, ticket: Ticket, due: datetime | None) -> Reply:
    rules = turn.deps.rules
    if ticket.assignee_id is None:
        zh, en = rules.off_hours
        answer_by = _answer_by(turn.deps, due)
        when = say.local(answer_by) if answer_by else ""
        text = (zh.format(hours=_hours(turn.deps), ticket=ticket.number, due=when),
                en.format(hours=_hours(turn.deps), ticket=ticket.number, due=when))
        return say.general(text, Button("查看工单", "Open the ticket", href=f"/tickets/{ticket.number}"),
                           source="handoff")
    return Reply(*rules.answer(key, ticket=ticket.number), buttons=(
        Button("查看工单", "Open the ticket", href=f"/tickets/{ticket.number}"),), source="handoff",
        data={"ticket": ticket.number})


def _with_person(db: Database, turn: _Turn, session_id: str, sid: int, ticket: Any) -> BotAnswer:
    """The conversation is a ticket already: the message joins it. While the ticket waits in the
    queue (no agent assigned, no person has answered) the assistant answers on the ticket what it
    can answer by itself; otherwise, and for anything it would hand over, it stays silent."""
    actor = turn.actor
    assert actor is not None
    desk.post_message(db, actor, ticket.number, turn.text, turn.deps.desk, turn.deps.clock, live=turn.deps.live)
    reply: Reply | None = None
    waiting = ticket.assignee_id is None and ticket.first_response_at is None
    reason = handoff_reason(turn.u, turn.text, turn.state, turn.deps.rules)
    if waiting and reason is None and not is_low_confidence(turn.u, turn.deps.rules):
        with db.read_connection() as read:
            _plan(read, turn)
        if turn.action is not None:
            _run_action(db, turn)
        reply = turn.reply if turn.handoff is None else None
    turn.reply, turn.handoff = reply, None
    if reply is not None:
        desk.post_bot_message(db, ticket.number, reply.zh, turn.deps.clock, live=turn.deps.live)
    state = _next_state(turn)
    now = turn.deps.clock()
    with db.prepared_write() as write:
        _Q.of(write)["save"].run(write, sid=sid, state=_stored_state(state, reply), now=now)
        _record(write, sid, turn, now)
    return BotAnswer(session_id, turn.u, turn.intent if reply else turn.u.intent, reply, None, ticket.number,
                     agent_online=ticket.assignee_id is not None)


# ── the conversation as a page shows it ─────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Conversation:
    """A shopper's conversation: the turns so far, the last answer's buttons, and the open ticket
    it was handed over to (then the page shows the ticket's live transcript instead)."""

    session_id: str
    turns: list[tuple[str, str, datetime]]
    buttons: tuple[Button, ...]
    ticket: str | None


def conversation(db: Database, actor: Actor, session_id: str) -> Conversation:
    """The customer's own conversation ``session_id`` (empty when there is none yet)."""
    if actor.role is not Role.CUSTOMER or actor.customer_id is None or not SESSION_ID.match(session_id or ""):
        return Conversation(session_id, [], say.MENU, None)
    with db.read_connection() as conn:
        q = _Q.of(conn)
        session = q["session"].first(conn, owner=f"customer:{actor.customer_id}", key=session_id)
        if session is None:
            return Conversation(session_id, [], say.MENU, None)
        turns = [(t.text, t.reply, t.at) for t in reversed(q["turns"].all(conn, sid=session.id))]
        ticket = q["ticket"].first(conn, id=session.ticket_id) if session.ticket_id else None
    stored = (session.state or {}).get("buttons") or []
    buttons = tuple(Button(b.get("zh", ""), b.get("en", ""), b.get("send"), b.get("href")) for b in stored)
    open_ticket = ticket.number if ticket is not None and Status(ticket.status) in OPEN_STATUSES else None
    return Conversation(session_id, turns, buttons, open_ticket)
