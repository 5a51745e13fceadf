"""The assistant's conversation rules: what it remembers between turns, when it hands over to a
person, and how it reads a short answer ("确认", "第2件", an address).

Rules (issue 5 §4–§5; thresholds and word lists are policy data, ``policies/assistant.toml``):

* **Memory.** A conversation remembers the order (and line) it last talked about, the intent it
  last answered, what it is waiting for (an order pick, an address, a yes/no) and the step it
  asked to confirm. A question about an order that names none ("那退货呢") uses the remembered
  order; naming another order replaces it. "我的订单到哪了" with no word pointing back lists the
  orders again.
* **A bare pick.** While the assistant waits for an order, a message that is little more than
  an order number ("202603051234", "订单202603051234", "就这个 202603051234") continues the
  intent that asked for it.
* **Handoff** (:func:`handoff_reason`), first match wins:
  ``request`` — the shopper asks for a person (intent ``human_agent``);
  ``angry`` — the message holds an anger word or three exclamation marks;
  ``complaint`` — the shopper complains (intent ``complaint``);
  ``repeated`` — the message repeats one of the shopper's last two messages (similarity at or
  above ``repeat_similarity``; very short messages never count);
  ``low_confidence`` — this is the ``low_confidence_turns``-th message in a row the classifier
  was less sure of than ``low_confidence``.
* **Confirmation** (:func:`confirmation`): a whole message that is a confirm word is yes, a deny
  word is no, anything else is neither (the shopper asked something else; the pending step is
  dropped).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from kefu.domain.bot.intents import Intent, Understanding
from kefu.domain.bot.normalise import canonical, fold


class HandoffReason(StrEnum):
    """Why a conversation went to a person."""

    REQUEST = "request"
    COMPLAINT = "complaint"
    ANGRY = "angry"
    REPEATED = "repeated"
    LOW_CONFIDENCE = "low_confidence"


HANDOFF_LABELS: Mapping[HandoffReason, tuple[str, str]] = MappingProxyType({
    HandoffReason.REQUEST: ("顾客要求转人工", "Asked for a person"),
    HandoffReason.COMPLAINT: ("投诉", "Complaint"),
    HandoffReason.ANGRY: ("情绪激动", "Angry"),
    HandoffReason.REPEATED: ("重复提问", "Asked again"),
    HandoffReason.LOW_CONFIDENCE: ("连续未能理解", "Not understood twice"),
})

#: intents whose answer is about one order (the remembered order applies to them)
ORDER_INTENTS = frozenset({
    Intent.ORDER_STATUS, Intent.RETURN_POLICY, Intent.APPLY_AFTERSALES, Intent.REFUND_STATUS,
    Intent.PRODUCT_PARAM, Intent.CANCEL_ORDER, Intent.CHANGE_ADDRESS,
})

#: product parameter names (catalog attribute keys) and the words that ask for them
ATTRIBUTE_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "battery": ("电池", "电量", "续航", "毫安", "mah", "battery", "充电"),
    "size": ("尺寸", "尺码", "大小", "多大", "多长", "多宽", "多高", "长宽高", "屏幕", "寸", "码数", "size",
             "dimension"),
    "weight": ("重量", "多重", "多沉", "几斤", "几克", "净重", "重不重", "weight", "heavy"),
    "colour": ("颜色", "颜色有", "什么色", "配色", "color", "colour"),
    "material": ("材质", "材料", "面料", "什么做的", "成分", "material", "fabric"),
    "compatibility": ("兼容", "适配", "适用", "支持", "能用", "能不能用", "配不配", "compatible", "compatibility",
                      "fit"),
})
ATTRIBUTE_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "battery": ("电池", "battery"), "size": ("尺寸", "size"), "weight": ("重量", "weight"),
    "colour": ("颜色", "colour"), "material": ("材质", "material"), "compatibility": ("兼容性", "compatibility"),
})

_LINE = re.compile(r"第\s*([0-9一二三四五六七八九十]{1,3})\s*(?:件|个|样|款|行|项|种)")
_LINE_EN = re.compile(r"\b(?:item|line)\s*#?\s*(\d{1,3})\b", re.IGNORECASE)
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ADDRESS_PARTS = re.compile(r"省|市|区|县|镇|乡|村|街|路|道|巷|号|弄|栋|幢|单元|室|楼|小区|大厦|花园|苑|公寓|"
                            r"\b(?:road|street|st|ave|avenue|district|city|room|building)\b", re.IGNORECASE)
_PICK_FILLER = re.compile(r"[\W_\d]|订单号?|单号|就是|就|这个|那个|这单|那单|是|查|看|下|一下|吧|呢|的|了|好|[A-Za-z]",
                          re.UNICODE)
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class AssistantRules:
    """The policy data of ``policies/assistant.toml``."""

    low_confidence: float = 0.45
    low_confidence_turns: int = 2
    repeat_similarity: float = 0.85
    repeat_min_chars: int = 4
    angry_words: tuple[str, ...] = ()
    confirm_words: frozenset[str] = frozenset()
    deny_words: frozenset[str] = frozenset()
    #: answer texts by key (``greeting``, ``invoice`` …): (zh, en)
    answers: Mapping[str, tuple[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    off_hours: tuple[str, str] = ("", "")

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AssistantRules:
        """Rules from the parsed TOML (missing keys keep their defaults); raises ``ValueError``
        for values out of range."""
        handoff = data.get("handoff", {})
        words = data.get("words", {})
        rules = cls(
            low_confidence=float(handoff.get("low_confidence", 0.45)),
            low_confidence_turns=int(handoff.get("low_confidence_turns", 2)),
            repeat_similarity=float(handoff.get("repeat_similarity", 0.85)),
            repeat_min_chars=int(handoff.get("repeat_min_chars", 4)),
            angry_words=tuple(fold(str(w)).lower() for w in words.get("angry", [])),
            confirm_words=frozenset(_plain(str(w)) for w in words.get("confirm", [])),
            deny_words=frozenset(_plain(str(w)) for w in words.get("deny", [])),
            answers=MappingProxyType({str(k): (str(v["zh"]), str(v.get("en", v["zh"])))
                                      for k, v in data.get("answers", {}).items()}),
            off_hours=(str(data.get("off_hours", {}).get("zh", "")), str(data.get("off_hours", {}).get("en", ""))),
        )
        if not 0.0 <= rules.low_confidence <= 1.0 or not 0.0 < rules.repeat_similarity <= 1.0:
            raise ValueError("low_confidence and repeat_similarity must be within [0, 1]")
        if rules.low_confidence_turns < 1:
            raise ValueError("low_confidence_turns must be at least 1")
        return rules

    def answer(self, key: str, **facts: Any) -> tuple[str, str]:
        """The (zh, en) answer ``key`` with its placeholders filled in."""
        zh, en = self.answers.get(key, ("", ""))
        return zh.format(**facts), en.format(**facts)


def _plain(text: str) -> str:
    return _PUNCT.sub("", canonical(fold(text)).lower())


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What a conversation remembers between turns (stored as JSON on the session)."""

    order_id: str | None = None
    line: int | None = None
    last_intent: str | None = None
    #: the intent waiting for an order pick, or ``address`` (waiting for a new address)
    awaiting: str | None = None
    #: a step waiting for the shopper's yes: {"action": "cancel"|"change_address", "order_id", …}
    pending: Mapping[str, Any] | None = None
    low_streak: int = 0
    #: the shopper's earlier messages, canonical, newest last (for the repeat rule)
    recent: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ConversationState:
        data = data or {}
        line = data.get("line")
        return cls(order_id=data.get("order_id"), line=int(line) if line is not None else None,
                   last_intent=data.get("last_intent"), awaiting=data.get("awaiting"),
                   pending=dict(data["pending"]) if data.get("pending") else None,
                   low_streak=int(data.get("low_streak", 0)), recent=tuple(data.get("recent", ())))

    def to_json(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "line": self.line, "last_intent": self.last_intent,
                "awaiting": self.awaiting, "pending": dict(self.pending) if self.pending else None,
                "low_streak": self.low_streak, "recent": list(self.recent)}

    def remember(self, text: str, keep: int = 6) -> ConversationState:
        """The state with ``text`` added to the shopper's recent messages."""
        return replace(self, recent=(*self.recent, _plain(text))[-keep:])


def is_angry(text: str, rules: AssistantRules) -> bool:
    """A message is angry when it holds one of the anger words or three or more exclamation marks."""
    folded = fold(text).lower()
    return folded.count("!") >= 3 or any(w and w in folded for w in rules.angry_words)


#: a question counts as repeated when it asks again what one of the shopper's last two messages
#: asked (asking "where is my order?" again later, about another order, is not being stuck)
REPEAT_WINDOW = 2


def repeats(text: str, state: ConversationState, rules: AssistantRules) -> bool:
    """The message asks again what one of the shopper's last :data:`REPEAT_WINDOW` messages asked."""
    plain = _plain(text)
    if len(plain) < rules.repeat_min_chars:
        return False
    threshold = rules.repeat_similarity
    for old in state.recent[-REPEAT_WINDOW:]:
        if len(old) < rules.repeat_min_chars:
            continue
        matcher = SequenceMatcher(None, plain, old, autojunk=False)
        # the cheap upper bounds first: most messages differ at a glance
        if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold \
                and matcher.ratio() >= threshold:
            return True
    return False


def is_low_confidence(u: Understanding, rules: AssistantRules) -> bool:
    return u.confidence < rules.low_confidence


def handoff_reason(u: Understanding, text: str, state: ConversationState,
                   rules: AssistantRules) -> HandoffReason | None:
    """Whether this message hands the conversation to a person, and why (module docstring)."""
    if u.intent is Intent.HUMAN_AGENT and not is_low_confidence(u, rules):
        return HandoffReason.REQUEST
    if is_angry(text, rules):
        return HandoffReason.ANGRY
    if u.intent is Intent.COMPLAINT and not is_low_confidence(u, rules):
        return HandoffReason.COMPLAINT
    if u.intent is not Intent.GREETING and repeats(text, state, rules):
        return HandoffReason.REPEATED
    if is_low_confidence(u, rules) and state.low_streak + 1 >= rules.low_confidence_turns:
        return HandoffReason.LOW_CONFIDENCE
    return None


def confirmation(text: str, rules: AssistantRules) -> bool | None:
    """True for a yes, False for a no, None for anything else."""
    plain = _plain(text)
    if plain in rules.confirm_words:
        return True
    if plain in rules.deny_words:
        return False
    return None


def line_mentioned(text: str) -> int | None:
    """The 0-based line a message names ("第2件", "item 2"), if any."""
    found = _LINE.search(fold(text)) or _LINE_EN.search(fold(text))
    if found is None:
        return None
    raw = found.group(1)
    if raw.isdigit():
        number = int(raw)
    else:
        number = 0
        for ch in raw:
            value = _CN_DIGITS.get(ch, 0)
            number = number * 10 + value if value < 10 else max(number, 1) * 10
    return number - 1 if number >= 1 else None


def is_bare_pick(text: str, slots: Mapping[str, str]) -> bool:
    """The message is little more than an order number (a pick from a list)."""
    if "order_id" not in slots:
        return False
    rest = fold(text).replace(slots["order_id"], "")
    rest = _LINE.sub("", rest)
    return len(_PICK_FILLER.sub("", rest)) <= 1


def looks_like_address(text: str) -> bool:
    """A message that reads as a postal address: at least two address words and 6+ characters."""
    folded = fold(text).strip()
    return len(folded) >= 6 and len(_ADDRESS_PARTS.findall(folded)) >= 2


def attribute_asked(text: str) -> str | None:
    """The product parameter a message asks about (a catalog attribute key), if one is named."""
    folded = fold(text).lower()
    best: tuple[int, str] | None = None
    for key, words in ATTRIBUTE_WORDS.items():
        for word in words:
            at = folded.find(word)
            if at >= 0 and (best is None or at < best[0]):
                best = (at, key)
    return best[1] if best else None


def context_intent(u: Understanding, text: str, state: ConversationState) -> Intent:
    """The intent this message continues: a bare order pick continues the intent that asked for
    it; otherwise the message's own intent."""
    if state.awaiting and state.awaiting in Intent._value2member_map_ and is_bare_pick(text, u.slots):
        return Intent(state.awaiting)
    return u.intent


def next_low_streak(u: Understanding, state: ConversationState, rules: AssistantRules) -> int:
    return state.low_streak + 1 if is_low_confidence(u, rules) else 0


_BACK_REFERENCE = re.compile(r"这个|这单|那个|那单|这笔|那笔|这件|那件|它|刚才|刚刚|上面|该订单|此订单|同一|还是|呢|"
                             r"\bit\b|\bthat\b|\bthis\b", re.IGNORECASE)


def order_for(intent: Intent, slots: Mapping[str, str], state: ConversationState, text: str = "") -> str | None:
    """The order a message is about: the one it names, else the remembered one for an order
    intent — except that "where is my order?" with no word pointing back ("这个", "那…呢") asks
    afresh, so the shopper can pick another of their orders."""
    if "order_id" in slots:
        return slots["order_id"]
    if intent not in ORDER_INTENTS:
        return None
    if intent is Intent.ORDER_STATUS and not _BACK_REFERENCE.search(fold(text)):
        return None
    return state.order_id


def plain_texts(texts: Sequence[str]) -> tuple[str, ...]:
    return tuple(_plain(t) for t in texts)
