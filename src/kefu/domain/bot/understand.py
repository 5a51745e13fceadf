"""Reading one customer message: slots by rule, intent by a trained scorer, and the two
README rules that define an intent outright.

:func:`read` turns a message into a :class:`Reading`: the slots it states and the text the
classifier sees (:func:`features`), in which

* slot numbers become one placeholder per slot (the classifier learns "an order number, then
  到哪了", never the digits), other long numbers another, short numbers (7天, 12315, 400) stay;
* spellings are canonical (:func:`~kefu.domain.bot.normalise.canonical`);
* a withdrawn request is left out (README: "不用取消了，就问问多久发货" has the intent of what is
  still asked): a clause such as 不用取消了 / 先不退了 / 算了不投诉了 / 地址不用改了 is dropped when
  something else is left to read.

:func:`understand` asks an :class:`IntentScorer` (the trained classifier, an adapter) for the
probabilities of the intents and applies the rules that state a definition rather than guess:

* a message made only of greetings and "are you there" checks (你好, 在吗, 亲 有人吗, hello, 你好
  想问个事儿) is ``greeting`` — a greeting with a request has the request's intent, so the rule
  only fires when nothing else is said;
* a message with no words at all is a bare "anyone there?" when it holds a question mark
  (``？？？``) — ``greeting`` — and otherwise (emoji, dots) ``out_of_scope``; both with
  confidence 0.5, as a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from kefu.domain.bot.intents import INTENTS, Intent, Understanding
from kefu.domain.bot.normalise import canonical, fold
from kefu.domain.bot.slots import find_slots, first_slots

#: placeholders the classifier sees instead of slot values and other long numbers
MARKERS: Mapping[str, str] = {"order_id": " \ue000 ", "phone": " \ue001 ", "tracking_no": " \ue002 "}
OTHER_NUMBER = " \ue003 "
_LONG_NUMBER = re.compile(r"\d{6,}")

_VERB = (r"(?:取消订单|取消|退货|退款|退掉|退了|退|换货|换|改地址|改|修改|投诉|转人工|人工|申请|维修|修|开票|开发票|"
         r"价保|找人工)")
_WITHDRAWN = re.compile(
    r"(?:算了[,，\s]*)?(?:(?:订单|地址|发票|那个|这个)?(?:不用|不需要|无需|先不|暂时不|暂不|懒得|不想|不|别|甭)(?:帮我|给我|用|再|要)?"
    rf"{_VERB}[^,，。.!?！？;；\s]{{0,6}}?了|{_VERB}(?:的事|就|也)?(?:算了|不用了|不弄了|先不弄了))[,，。.!?！？;；~\s]*")
_WORDY = re.compile(r"[\w\u3400-\u9fff]")

_GREETING_WORDS = (
    r"你们好|你好|您好|hello|hi|hey|哈喽|哈罗|哈啰|哈咯|嗨喽|嗨|hai|nihao|有客服|"
    r"在吗|在不在|在线吗|在线不|在线么|在不|在嘛|在呢吗|"
    r"有人吗|有人在吗|有人在不|有人在么|有人没有|有人没|有人不|有人么|有没有人|有人|"
    r"客服小姐姐|客服小哥哥|小姐姐|小哥哥|小客服|客服|亲亲|亲爱的|亲|早上好|上午好|中午好|下午好|晚上好|早安|早|"
    r"喂|打扰了|打扰一下|打扰|请问|老板|掌柜的|掌柜|店家|小二|美女|帅哥|"
    r"想问个事儿|想问个事|想问一下|想问下|想问问|问个事儿|问个事|问一下|问下|问个问题|想咨询一下|想咨询下|咨询一下|"
    r"咨询下|咨询|请教一下|请教|有个问题|有点事|有事"
)
_GREETING = re.compile(rf"(?:{_GREETING_WORDS})")
_FILLER = re.compile(r"[\W_]|[呀啊哈呢嘛吗么哦噢喔诶哎嗯了吧啦哇在没的个我想下]", re.UNICODE)
_HAS_GREETING = re.compile(
    r"你们好|你好|您好|hello|hi|hey|哈喽|哈罗|哈啰|哈咯|嗨|在吗|在不在|在线|有人|客服|亲|早|好|喂|打扰|请问|老板|掌柜|店家|"
    r"咨询|问")


class IntentScorer(Protocol):
    """The trained classifier: a probability for each intent name, given :func:`features` text."""

    def intent_probabilities(self, features: str) -> Mapping[str, float]: ...


@dataclass(frozen=True, slots=True)
class Reading:
    """A message prepared for classification."""

    slots: dict[str, str]
    features: str
    greeting_only: bool
    wordless: bool


def _drop_withdrawn(text: str) -> str:
    rest = _WITHDRAWN.sub(" ", text)
    return rest if rest != text and len(_WORDY.findall(rest)) >= 2 else text


def _greeting_only(text: str) -> bool:
    if not _HAS_GREETING.search(text):
        return False
    return not _FILLER.sub("", _GREETING.sub("", text))


def read(text: str) -> Reading:
    """Slots and classifier text of one message (see the module docstring)."""
    folded = fold(text)
    matches = find_slots(folded)
    parts: list[str] = []
    position = 0
    for m in matches:
        parts.append(canonical(folded[position:m.start]))
        parts.append(MARKERS[m.name])
        position = m.end
    parts.append(canonical(folded[position:]))
    joined = _LONG_NUMBER.sub(OTHER_NUMBER, "".join(parts))
    features = " ".join(_drop_withdrawn(joined).split())
    plain = canonical(folded)
    return Reading(slots=first_slots(matches), features=features,
                   greeting_only=not matches and _greeting_only(plain),
                   wordless=not matches and not _WORDY.search(plain))


def features(text: str) -> str:
    """The text the classifier is trained on and reads: :func:`read`'s ``features``."""
    return read(text).features


def understand(text: str, scorer: IntentScorer, alternatives: int = 3) -> Understanding:
    """The intent, confidence, slots and runner-up intents of one message (rules above)."""
    reading = read(text)
    if reading.wordless:
        asks = "?" in reading.features
        return Understanding(Intent.GREETING if asks else Intent.OUT_OF_SCOPE, 0.5, reading.slots)
    probabilities = scorer.intent_probabilities(reading.features)
    ranked = sorted(((p, name) for name, p in probabilities.items() if name in INTENTS), reverse=True)
    if reading.greeting_only:
        ranked = [(1.0, Intent.GREETING.value)] + [(p, n) for p, n in ranked if n != Intent.GREETING.value]
    if not ranked:
        return Understanding(Intent.OUT_OF_SCOPE, 0.0, reading.slots)
    best_p, best = ranked[0]
    others = tuple((Intent(n), min(max(p, 0.0), 1.0)) for p, n in ranked[1:1 + alternatives])
    return Understanding(Intent(best), min(max(best_p, 0.0), 1.0), reading.slots, others)
