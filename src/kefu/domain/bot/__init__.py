"""The smart assistant's understanding (智能客服): intents, slots and how a message is read.

    >>> extract_slots("订单号：２０２６ ０３０５-１２３４ 到哪了")
    {'order_id': '202603051234'}

Pure rules and data; the trained classifier that scores intents lives behind
:class:`IntentScorer` in ``kefu.adapters.bot``. Intents and slot rules: shared/eval/bot/README.md.
"""

from kefu.domain.bot.intents import INTENT_LABELS, INTENTS, SLOT_NAMES, Intent, Understanding
from kefu.domain.bot.slots import SlotMatch, extract_slots, find_slots
from kefu.domain.bot.understand import IntentScorer, Reading, features, read, understand

__all__ = [
    "INTENTS", "INTENT_LABELS", "SLOT_NAMES", "Intent", "IntentScorer", "Reading", "SlotMatch", "Understanding",
    "extract_slots", "features", "find_slots", "read", "understand",
]
