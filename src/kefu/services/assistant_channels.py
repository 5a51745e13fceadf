"""The smart assistant's answers on the phone and by e-mail (issue 5 §6: "the same replies usable by
the phone IVR and by email auto-replies").

:func:`answer_on_channel` answers one text with :func:`kefu.services.assistant.converse` and
renders the reply for the channel. The customer is who the channel says: the caller's number
(``customers.phone``) on the phone, the sender's address (``customers.email``) by e-mail — and
only when exactly one customer has it; anyone else is a visitor and gets the general answers
only, never an order.

What the assistant would hand to a person (a request for one, a complaint, an angry or repeated
message, the second unclear message in a row) is decided here *before* it is asked, from the same
rules (:func:`kefu.domain.bot.dialogue.handoff_reason`): on these channels the handover is the
channel's own — the call is queued, the e-mail waits for an agent — not a web-chat ticket. So is a
request to cancel an order or change its address: a caller's number or a From header is not proof
enough of who is asking to change an order, so a person does it.

- Phone (:func:`ask_by_phone`, ``POST /api/v1/channels/ivr/ask``): the answer as plain speakable
  Chinese — no links, no button labels; the buttons that send a text are offered as
  "您可以说：…" — or a transfer to the queue the IVR menu itself routes the topic to. The
  conversation is kept in the call's notes and goes with the call to the person.
- E-mail (:func:`email_auto_reply`, passed to :func:`kefu.services.inbound.receive_message`):
  a message that opens a new ticket gets at most one automatic reply — the assistant's answer,
  only when it answered by itself (no handover, not the fallback, not a question back). It is a
  ``bot`` message on the ticket and leaves by SMTP in the customer's thread, and it replaces the
  desk's "we have your request" e-mail, so one message never gets two automatic replies.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, delete, func, insert, select

from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.bot import BotSession
from kefu.adapters.db.tables.catalog import Customer
from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.adapters.db.tables.service_desk import Ticket, TicketMessage
from kefu.domain.actors import Actor, Role
from kefu.domain.bot.answers import PERSON, Button, Reply
from kefu.domain.bot.dialogue import HANDOFF_LABELS, ConversationState, HandoffReason, handoff_reason, is_low_confidence
from kefu.domain.bot.intents import Intent, Understanding
from kefu.domain.bot.understand import understand
from kefu.domain.clock import Clock
from kefu.domain.errors import InputError, KefuError
from kefu.domain.service.channels import InboundMessage
from kefu.domain.service.ivr import IvrMenu, IvrNode
from kefu.domain.service.tickets import Category, Channel, Kind
from kefu.services import calls
from kefu.services.assistant import HANDOFF_CATEGORY, MAX_TEXT, SESSION_ID, AssistantDeps, converse
from kefu.services.inbound import AutoReply
from kefu.services.notifications import queue_email
from kefu.services.ports import LiveEvents
from kefu.services.uow import Database

log = logging.getLogger("kefu.assistant.channels")

PHONE = Channel.PHONE.value
EMAIL = Channel.EMAIL.value
#: the handover reason of an order change asked for on these channels (a person verifies who asks)
ORDER_CHANGE = "order_change"
_ORDER_CHANGES = frozenset({Intent.CANCEL_ORDER, Intent.CHANGE_ADDRESS})
#: what the assistant says when it has no answer of its own: never sent as an e-mail auto-reply
_FALLBACK_INTENTS = frozenset({Intent.OUT_OF_SCOPE, Intent.GREETING, Intent.HUMAN_AGENT, Intent.COMPLAINT})

#: said to a caller whose number belongs to no customer (or to several) when the answer needs one
PHONE_NO_ACCOUNT = "您的来电号码没有绑定账户，电话里暂时无法查询订单；您可以用注册手机号来电，或说“转人工”。"
PHONE_OPTIONS = "您可以说："
PHONE_PERSON = "如需人工服务，请说“转人工”。"
EMAIL_GREETING = "您好："
EMAIL_MORE = "您还可以："
EMAIL_ARTICLES = "相关帮助文章："
EMAIL_FOOTER = ("以上是智能客服的自动回复。如果没有解决您的问题，请直接回复本邮件，人工客服会跟进处理，"
                "不需要重新提问。")
#: RFC 3834: mark the reply as automatic, so the customer's own auto-responder does not answer it
AUTO_SUBMITTED = {"Auto-Submitted": "auto-replied"}

_MESSAGES = cast(Table, TicketMessage.__table__)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+|(?<![\w.])/[A-Za-z0-9_\-./?=&#%]+")
_RULE_REF = re.compile(r"（规则[^）]*）")
_BULLET = re.compile(r"^[·•\-*]\s*(?:[A-Za-z][\w.\-]*[:：]\s*)?")
_MONEY = re.compile(r"¥\s?(\d+(?:\.\d+)?)")
_MARKUP = re.compile(r"[*#`>]+")
_SENTENCE_END = "。！？；，：.!?"
_ROBOT = re.compile(r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)(?:[+.\-]|$)", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ChannelAnswer:
    """One text answered for a channel."""

    channel: str
    question: str
    customer_id: str | None
    understanding: Understanding
    #: the subject the customer is on (the queue a handover goes to)
    topic: Intent
    #: the assistant's reply (None when a person takes over before it is asked)
    reply: Reply | None
    #: why a person takes over: a :class:`HandoffReason` value or :data:`ORDER_CHANGE`; None: answered
    handoff: str | None
    #: the reply answers by itself: no handover, not the fallback, not a question back
    confident: bool
    #: the reply rendered for the channel ("" when there is none)
    text: str

    @property
    def category(self) -> Category:
        return HANDOFF_CATEGORY.get(self.topic, Category.OTHER)

    @property
    def kind(self) -> Kind:
        return Kind.COMPLAINT if self.handoff == HandoffReason.COMPLAINT.value else Kind.CONSULTATION


# ── who is asking ──────────────────────────────────────────────────────────────────────────


def _phone_numbers(caller: str) -> list[str]:
    """The caller's number as customers.phone may hold it (with and without the +86 prefix)."""
    digits = "".join(ch for ch in caller if ch.isdigit() or ch == "+")
    found = [digits] if digits else []
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            found.append(digits[len(prefix):])
    return found


def identify(db: Database, channel: str, sender: str) -> Actor | None:
    """The customer behind a caller number (phone) or a sender address (e-mail), as a customer
    actor — only when exactly one customer has it; None (a visitor) otherwise."""
    where: ColumnElement[bool]
    if channel == PHONE:
        numbers = _phone_numbers(sender)
        if not numbers:
            return None
        where = Customer.phone.in_(numbers)
    elif channel == EMAIL and "@" in sender:
        where = func.lower(Customer.email) == sender.strip().lower()
    else:
        return None
    with db.read_connection() as conn:
        found = conn.execute(select(Customer.id, Customer.name).where(where).limit(2)).all()
        if len(found) != 1:
            return None
        customer = found[0]
        user_id = conn.scalar(select(User.id).where(User.customer_id == customer.id).order_by(User.id).limit(1))
    return Actor(user_id=user_id, role=Role.CUSTOMER, customer_id=customer.id, display_name=customer.name)


def _state(db: Database, actor: Actor | None, session_id: str) -> ConversationState:
    owner = f"customer:{actor.customer_id}" if actor is not None else "anon"
    with db.read_connection() as conn:
        stored = conn.scalar(select(BotSession.state).where(BotSession.owner == owner,
                                                            BotSession.session_key == session_id))
    return ConversationState.from_json(stored)


def _topic(u: Understanding, state: ConversationState) -> Intent:
    """This message's subject, or the conversation's last one for "a person, please" (as the
    assistant's own handover picks its queue)."""
    if u.intent not in (Intent.HUMAN_AGENT, Intent.COMPLAINT, Intent.GREETING, Intent.OUT_OF_SCOPE):
        return u.intent
    if state.last_intent is not None and state.last_intent in Intent._value2member_map_:
        last = Intent(state.last_intent)
        if last not in (Intent.HUMAN_AGENT, Intent.GREETING, Intent.OUT_OF_SCOPE):
            return last
    return u.intent


def _session_key(prefix: str, key: str) -> str:
    session_id = f"{prefix}-{key}"
    if SESSION_ID.match(session_id):
        return session_id
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


# ── answering ──────────────────────────────────────────────────────────────────────────────


def answer_on_channel(db: Database, channel: str, sender: str, session_id: str, text: str,
                      deps: AssistantDeps) -> ChannelAnswer:
    """Answer ``text`` from ``sender`` on ``channel`` (``phone`` or ``email``) in the
    conversation ``session_id`` and render the reply for the channel (module docstring)."""
    question = (text or "").strip()
    if not question:
        raise InputError("bot_text_missing", "请输入您的问题。", "Please type your question.")
    if len(question) > MAX_TEXT:
        raise InputError("bot_text_too_long", f"消息太长了（最多 {MAX_TEXT} 字）。",
                         f"The message is too long (at most {MAX_TEXT} characters).", limit=MAX_TEXT)
    actor = identify(db, channel, sender)
    customer_id = actor.customer_id if actor is not None else None
    u = understand(question, deps.scorer)
    state = _state(db, actor, session_id)
    reason = handoff_reason(u, question, state, deps.rules)
    handoff = reason.value if reason is not None else ORDER_CHANGE if u.intent in _ORDER_CHANGES else None
    if handoff is not None:
        return ChannelAnswer(channel, question, customer_id, u, _topic(u, state), None, handoff, False, "")
    answer = converse(db, actor, session_id, question, deps, channel=channel)
    reply = answer.reply
    after = _state(db, actor, session_id)
    if answer.ticket is not None or answer.handoff is not None or reply is None or after.pending:
        # the conversation went to a person after all (a message racing this one), or it waits
        # for a yes to change an order: a person takes it from here
        why = answer.handoff.value if answer.handoff is not None else ORDER_CHANGE if after.pending else "request"
        return ChannelAnswer(channel, question, customer_id, u, answer.intent, reply, why, False, "")
    lead = deps.rules.answer("login")[0]
    login = actor is None and any((b.href or "").startswith("/login") for b in reply.buttons)
    said = reply.zh.removesuffix(lead).strip() if login else reply.zh
    fallback = reply.source != "faq" and (is_low_confidence(u, deps.rules) or answer.intent in _FALLBACK_INTENTS)
    confident = not fallback and after.awaiting is None and bool(said)
    rendered = (speakable(reply, said, no_account=login) if channel == PHONE
                else email_text(reply, said) if said else "")
    return ChannelAnswer(channel, question, customer_id, u, answer.intent, reply, None, confident, rendered)


def speakable(reply: Reply, text: str | None = None, *, no_account: bool = False) -> str:
    """The reply as plain Chinese a text-to-speech engine reads out: no links, no rule ids, no
    markup, ``¥`` read as 元; the buttons that send a text offered as what the caller can say."""
    sentences: list[str] = []
    for raw in (reply.zh if text is None else text).splitlines():
        line = _URL.sub("", _LINK.sub(r"\1", raw))
        line = _MONEY.sub(r"\1元", _RULE_REF.sub("", line))
        line = _MARKUP.sub("", _BULLET.sub("", line.strip())).strip(" ，,;；")
        if line:
            sentences.append(line if line[-1] in _SENTENCE_END else line + "。")
    if no_account:
        sentences.append(PHONE_NO_ACCOUNT)
    said = "".join(sentences)
    options = list(dict.fromkeys(b.send for b in reply.buttons if b.send and b.send != PERSON.send))[:3]
    person = PERSON in reply.buttons and not no_account
    if options:
        lead = "" if said.endswith("：") else PHONE_OPTIONS
        said += lead + "、".join(f"“{o}”" for o in options) + ("，或者说“转人工”。" if person else "。")
    elif person:
        said += PHONE_PERSON
    return said


def _button_line(button: Button) -> str | None:
    if button == PERSON or (button.href or "").startswith("/login"):
        return None                        # the footer says a person follows up; the text asks to log in
    if button.href:
        return f"· {button.zh}（登录网站后打开 {button.href}）"
    return f"· {button.zh}"


def email_text(reply: Reply, text: str | None = None) -> str:
    """The reply as a plain-text e-mail body: the answer, its next steps and cited articles as
    lines, and the note that a person follows up on a reply."""
    parts = [EMAIL_GREETING, "", (reply.zh if text is None else text).strip()]
    steps = [line for line in map(_button_line, reply.buttons) if line]
    if steps:
        parts += ["", EMAIL_MORE, *steps]
    if reply.cites:
        parts += ["", EMAIL_ARTICLES, *(f"· 《{zh}》" for _, zh, _ in reply.cites)]
    parts += ["", "——", EMAIL_FOOTER]
    return "\n".join(parts)


# ── the phone ──────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class PhoneAnswer:
    """What the PBX does: play ``say``; with ``transfer_queue`` the call then waits there for a
    person (and ``ticket`` is its phone ticket), otherwise it listens for the next question."""

    call_id: str
    say: str
    intent: Intent
    confidence: float
    transfer_queue: str | None = None
    ticket: str | None = None
    handoff: str | None = None


def _routes(node: IvrNode) -> Iterator[IvrNode]:
    for child in node.keys.values():
        if child.queue:
            yield child
        yield from _routes(child)


def transfer_route(menu: IvrMenu, category: Category, kind: Kind) -> tuple[str, Category, Kind]:
    """Where a handed-over caller waits: the queue the IVR menu itself routes this category (and
    kind) to — its first route with both — else, for a complaint, the menu's first complaint
    queue, else the menu's transfer queue (``policies/ivr.toml``)."""
    routes = list(_routes(menu.root))
    for node in routes:
        if node.queue and node.category is category and node.kind is kind:
            return node.queue, category, kind
    if kind is Kind.COMPLAINT:
        for node in routes:
            if node.queue and node.kind is Kind.COMPLAINT:
                return node.queue, category, kind
    return menu.settings.transfer_queue, category, kind


def _caller(number: str) -> str:
    return "".join(ch for ch in (number or "") if ch.isdigit() or ch == "+")[:32]


def ask_by_phone(db: Database, call_id: str, caller: str, text: str, deps: AssistantDeps, menu: IvrMenu, *,
                 live: LiveEvents | None = None) -> PhoneAnswer:
    """The caller said ``text`` (the PBX's speech recognition) on a call still in the IVR: the
    assistant's speakable answer, or — when a person takes over — the transfer, queued like a
    menu route with the conversation on the phone ticket (module docstring)."""
    record = calls.call_in_menu(db, call_id)
    if _caller(caller) != record.caller:
        raise InputError("caller_mismatch", "主叫号码与该通话不符。", "The caller does not match the call.",
                         call_id=record.call_id)
    found = answer_on_channel(db, PHONE, record.caller, _session_key("phone", record.call_id), text, deps)
    u = found.understanding
    if found.handoff is None:
        calls.note_call(db, record.call_id, f"来电者：{found.question}\n智能助手：{found.text}")
        return PhoneAnswer(record.call_id, found.text, found.topic, u.confidence)
    why = (HANDOFF_LABELS[HandoffReason(found.handoff)][0] if found.handoff in HandoffReason._value2member_map_
           else "办理订单修改需人工核实")
    calls.note_call(db, record.call_id, f"来电者：{found.question}\n智能助手：转人工（{why}）")
    queue, category, kind = transfer_route(menu, found.category, found.kind)
    step = calls.transfer_call(db, record.call_id, queue, category, kind, menu.settings.transfer_prompt, deps.desk,
                               deps.clock, live=live)
    return PhoneAnswer(record.call_id, step.step.prompt, found.topic, u.confidence, queue, step.ticket_number,
                       found.handoff)


# ── e-mail ─────────────────────────────────────────────────────────────────────────────────


def _question(msg: InboundMessage) -> str | None:
    """What the mail asks: its subject (unless the body repeats it) and its body; None when it
    is too long for one answer (a person reads it)."""
    subject = _REPLY_PREFIX.sub("", msg.subject or "").strip()
    body = (msg.body or "").strip()
    text = body if subject and subject in body else "\n".join(p for p in (subject, body) if p)
    return text if text and len(text) <= MAX_TEXT else None


def _is_robot(address: str) -> bool:
    return bool(_ROBOT.match(address.partition("@")[0]))


def email_auto_reply(db: Database, deps: Callable[[], AssistantDeps]) -> AutoReply:
    """The ``auto_reply`` of :func:`kefu.services.inbound.receive_message` for e-mail: asks the
    assistant about a mail that opens a new ticket and, when it answered by itself, returns what
    the ticket's transaction writes (:func:`_write_auto_reply`). ``deps`` is called only then
    (``Runtime.assistant`` loads the classifier on first use). A failing assistant never costs
    the mail: the ticket opens without the auto-reply."""

    def decide(msg: InboundMessage) -> Callable[[Connection, Ticket], None] | None:
        if msg.channel != EMAIL or _is_robot(msg.sender):
            return None
        question = _question(msg)
        if question is None:
            return None
        try:
            parts = deps()
            found = answer_on_channel(db, EMAIL, msg.sender, _session_key("email", msg.external_id or
                                      f"{msg.sender}|{msg.received_at.isoformat()}|{question}"), question, parts)
        except KefuError as exc:
            log.info("no auto-reply to %s: %s", msg.external_id, exc.code)
            return None
        except Exception:  # the mail must still become a ticket
            log.exception("the assistant failed on mail %s; no auto-reply", msg.external_id)
            return None
        if not found.confident or not found.text:
            return None
        return partial(_write_auto_reply, found.text, msg, parts.clock)

    return decide


def _write_auto_reply(body: str, msg: InboundMessage, clock: Clock, conn: Connection, ticket: Ticket) -> None:
    """In the new ticket's transaction: the answer as the assistant's message on the ticket, the
    desk's acknowledgement e-mail withdrawn (it was written a moment ago in this transaction and
    never left), and the answer queued to leave by SMTP in the customer's thread — In-Reply-To
    their message, the ticket number in the subject — as agents' replies do."""
    now = clock()
    conn.execute(insert(_MESSAGES), {
        "ticket_id": ticket.id, "author_user_id": None, "author_role": "bot", "author_name": "智能助手",
        "visibility": "public", "body": body, "channel": ticket.channel, "external_id": None, "created_at": now})
    conn.execute(delete(OutboxMessage).where(
        OutboxMessage.channel == EMAIL, OutboxMessage.event == "ticket_opened",
        OutboxMessage.link == f"/tickets/{ticket.number}", OutboxMessage.status == "pending"))
    subject = ticket.subject if ticket.subject.lower().startswith("re:") else f"Re: {ticket.subject}"
    headers = dict(AUTO_SUBMITTED)
    if msg.external_id:
        headers.update({"In-Reply-To": msg.external_id, "References": msg.external_id})
    queue_email(conn, recipient=ticket.contact or msg.sender, subject=f"{subject} [#{ticket.number}]", body=body,
                event="ticket_auto_reply", now=now, customer_id=ticket.customer_id, headers=headers)
