"""The smart assistant (智能客服): one customer message in, one answer out (issue 5).

:func:`converse` reads the message (intent, confidence, slots), continues the conversation the
shopper has with ``session_id`` (:mod:`kefu.domain.bot.dialogue`), has the answer planned from
the logged-in shopper's own data (:mod:`kefu.services.assistant_answers`), and records the turn
for the supervisor's bot metrics. This module keeps the conversation (sessions and turns) and
the handoff.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kefu.adapters.db.prepared import PreparedSet
from kefu.adapters.db.tables.bot import BotSession, BotTurn
from kefu.adapters.db.tables.service_desk import Ticket, TicketSla
from kefu.domain.actors import Actor, Role
from kefu.domain.bot import answers as say
from kefu.domain.bot.answers import Button, Reply
from kefu.domain.bot.dialogue import HANDOFF_LABELS, ConversationState, HandoffReason, handoff_reason, is_low_confidence
from kefu.domain.bot.intents import INTENT_LABELS, Intent, Understanding
from kefu.domain.bot.understand import understand
from kefu.domain.errors import InputError
from kefu.domain.service.tickets import OPEN_STATUSES, Category, Channel, Kind, Status
from kefu.services import tickets as desk
from kefu.services.assistant_answers import (
    AssistantDeps,
    Cite,
    FaqAnswer,
    FaqSource,
    Turn,
    login_reply,
    next_state,
    plan,
    run_action,
    service_hours,
)
from kefu.services.uow import Database

__all__ = ["HANDOFF_CATEGORY", "MAX_TEXT", "SESSION_ID", "AssistantDeps", "BotAnswer", "Cite", "Conversation",
           "FaqAnswer", "FaqSource", "conversation", "converse"]

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


def converse(db: Database, actor: Actor | None, session_id: str, text: str, deps: AssistantDeps, *,
             channel: str = "web_chat") -> BotAnswer:
    """Answer one message of the conversation ``session_id`` (module docstring)."""
    prepared = prepare_turn(db, actor, session_id, text, deps, channel=channel)
    if isinstance(prepared, BotAnswer):
        return prepared
    [answer] = write_turns(db, [prepared])
    if isinstance(answer, Exception):
        raise answer
    return answer


@dataclass(frozen=True, slots=True)
class PendingTurn:
    """An answered message whose turn is still to be written: the answer, and the prepared
    statements that store it (the session's state and the turn row), run by :func:`write_turns`."""

    answer: BotAnswer
    write: Callable[[Connection], None]


def prepare_turn(db: Database, actor: Actor | None, session_id: str, text: str, deps: AssistantDeps, *,
                 channel: str = "web_chat") -> BotAnswer | PendingTurn:
    """Everything of :func:`converse` before its last write: understand the message, read, plan
    and answer it. A message that hands over, runs an action (cancel, change of address) or
    reaches a person's ticket is finished here (its writes are its own transactions) and comes
    back as the :class:`BotAnswer`; the common message — answered from what was read — comes
    back as a :class:`PendingTurn`, its state and turn bound and ready to be written with others."""
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
        turn = Turn(db, actor, customer_id, text, u, state, deps)
        with_person = ticket is not None and Status(ticket.status) in OPEN_STATUSES
        if not with_person:
            plan(conn, turn)
            if turn.handoff is not None and session is not None:
                history = list(reversed(q["turns"].all(conn, sid=session.id)))
            if turn.handoff is None and turn.action is None and session is not None:
                # the common case: a conversation going on, answered from what was read; every
                # value is bound before the write lock is taken
                now = deps.clock()
                save = q["save"].bind(sid=session.id, state=_stored_state(next_state(turn), turn.reply), now=now)
                add = q["add_turn"].bind(**_turn_values(session.id, turn, now))

                def store(write: Connection) -> None:
                    statements = _Q.of(write)
                    statements["save"].run_bound(write, save)
                    statements["add_turn"].run_bound(write, add)

                return PendingTurn(BotAnswer(session_id, u, turn.intent, turn.reply, None), store)
    if with_person:
        assert session is not None
        return _with_person(db, turn, session_id, session.id, ticket)
    if turn.handoff is not None and customer_id is None:
        turn.reply = login_reply(turn)
    if turn.action is not None:
        run_action(db, turn)
    new_state = next_state(turn)
    now = deps.clock()
    if turn.handoff is not None and customer_id is not None and actor is not None:
        return _hand_over(db, turn, session_id, owner, session, new_state, history, channel)

    def start_or_save(write: Connection) -> None:
        sid = _save(write, owner, session_id, session, turn, new_state, channel, now)
        _record(write, sid, turn, now)

    return PendingTurn(BotAnswer(session_id, u, turn.intent, turn.reply, turn.handoff), start_or_save)


def write_turns(db: Database, pending: Sequence[PendingTurn]) -> list[BotAnswer | Exception]:
    """Store several answered messages' turns in one write transaction (group commit,
    :meth:`Database.write_batch`: one that fails to be stored fails alone). One result per
    message, in order: its answer, or the error storing it raised."""
    return db.write_batch(pending, _store)


def _store(conn: Connection, pending: PendingTurn) -> BotAnswer:
    pending.write(conn)
    return pending.answer


def _stored_state(state: ConversationState, reply: Reply | None) -> dict[str, Any]:
    """The session's JSON: the conversation state and the last answer's buttons (a page that is
    loaded again shows them)."""
    buttons = [{"zh": b.zh, "en": b.en, "send": b.send, "href": b.href} for b in reply.buttons] if reply else []
    return {**state.to_json(), "buttons": buttons}


def _save(conn: Connection, owner: str, key: str, session: Any, turn: Turn, state: ConversationState,
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


def _turn_values(sid: int, turn: Turn, now: datetime, reply: str | None = None) -> dict[str, Any]:
    return {"v_session_id": sid, "v_at": now, "v_text": turn.text, "v_intent": turn.u.intent.value,
            "v_confidence": round(turn.u.confidence, 4), "v_slots": dict(turn.u.slots),
            "v_reply": reply if reply is not None else (turn.reply.zh if turn.reply else ""),
            "v_source": turn.reply.source if turn.reply else "",
            "v_handoff": turn.handoff.value if turn.handoff else None}


def _record(conn: Connection, sid: int, turn: Turn, now: datetime, reply: str | None = None) -> None:
    _Q.of(conn)["add_turn"].run(conn, **_turn_values(sid, turn, now, reply))


# ── handing over to a person ────────────────────────────────────────────────────────────────


def _topic(turn: Turn) -> Intent:
    """The subject the shopper was on: this message's intent, or the conversation's last topic."""
    if turn.intent not in (Intent.HUMAN_AGENT, Intent.COMPLAINT, Intent.GREETING, Intent.OUT_OF_SCOPE):
        return turn.intent
    last = turn.state.last_intent
    if last and last in Intent._value2member_map_:
        topic = Intent(last)
        if topic not in (Intent.HUMAN_AGENT, Intent.GREETING, Intent.OUT_OF_SCOPE):
            return topic
    return turn.intent


def _hand_over(db: Database, turn: Turn, session_id: str, owner: str, session: Any, state: ConversationState,
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


def _handoff_reply(turn: Turn, key: str, ticket: Ticket, due: datetime | None) -> Reply:
    rules = turn.deps.rules
    if ticket.assignee_id is None:
        zh, en = rules.off_hours
        answer_by = _answer_by(turn.deps, due)
        when = say.local(answer_by) if answer_by else ""
        text = (zh.format(hours=service_hours(turn.deps), ticket=ticket.number, due=when),
                en.format(hours=service_hours(turn.deps), ticket=ticket.number, due=when))
        return say.general(text, Button("查看工单", "Open the ticket", href=f"/tickets/{ticket.number}"),
                           source="handoff")
    return Reply(*rules.answer(key, ticket=ticket.number), buttons=(
        Button("查看工单", "Open the ticket", href=f"/tickets/{ticket.number}"),), source="handoff",
        data={"ticket": ticket.number})


def _with_person(db: Database, turn: Turn, session_id: str, sid: int, ticket: Any) -> BotAnswer:
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
            plan(read, turn)
        if turn.action is not None:
            run_action(db, turn)
        reply = turn.reply if turn.handoff is None else None
    turn.reply, turn.handoff = reply, None
    if reply is not None:
        desk.post_bot_message(db, ticket.number, reply.zh, turn.deps.clock, live=turn.deps.live)
    state = next_state(turn)
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
