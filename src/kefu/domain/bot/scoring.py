"""Scoring the assistant's understanding against a labelled file (shared/eval/bot/README.md).

The file: one JSON object a line, ``{"text": ..., "intent": ..., "slots": {...}}``; blank lines are
skipped. The figures:

* **intent accuracy** — share of messages whose predicted intent is the labelled one;
* **macro-F1** — the unweighted mean, over every intent that is labelled or predicted at least
  once in the file, of that intent's F1 (an intent never predicted has precision 0);
* **per-intent precision / recall** — of the messages predicted as the intent, the share
  labelled so; of those labelled so, the share predicted so;
* **slot exact match** — over the messages whose labelled ``slots`` are not empty: the share where
  the predicted slot dict *equals* the labelled one (a missing, wrong or extra slot fails it). The
  report also counts messages labelled without slots that got some anyway ("spurious slots");
* **pass / fail** — a message passes when its intent is right and every listed slot has the
  listed value (the README's rule; an extra predicted slot does not fail it);
* **latency** — p50 and p99 of the seconds each message took to understand (nearest rank).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from kefu.domain.bot.intents import INTENTS, SLOT_NAMES, Understanding
from kefu.domain.bot.understand import IntentScorer, understand


class LabelledFileError(ValueError):
    """A labelled file that cannot be read (the message names the line)."""


@dataclass(frozen=True, slots=True)
class LabelledMessage:
    """One line of a labelled file."""

    text: str
    intent: str
    slots: Mapping[str, str]
    line: int = 0


def parse_labelled(raw: str, source: str = "<input>") -> list[LabelledMessage]:
    """The labelled messages of a JSONL text; raises :class:`LabelledFileError` naming the line."""
    out: list[LabelledMessage] = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelledFileError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise LabelledFileError(f"{where}: expected a JSON object")
        text, intent, slots = data.get("text"), data.get("intent"), data.get("slots", {})
        if not isinstance(text, str):
            raise LabelledFileError(f"{where}: \"text\" must be a string")
        if intent not in INTENTS:
            raise LabelledFileError(f"{where}: unknown intent {intent!r} (known: {', '.join(INTENTS)})")
        if not isinstance(slots, dict) or not all(isinstance(v, str) for v in slots.values()):
            raise LabelledFileError(f"{where}: \"slots\" must be an object of strings")
        unknown = sorted(set(slots) - set(SLOT_NAMES))
        if unknown:
            raise LabelledFileError(f"{where}: unknown slot {unknown[0]!r} (known: {', '.join(SLOT_NAMES)})")
        out.append(LabelledMessage(text=text, intent=intent, slots=dict(slots), line=number))
    if not out:
        raise LabelledFileError(f"{source}: no messages")
    return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """One message, what was understood, and how long it took (seconds)."""

    case: LabelledMessage
    got: Understanding
    seconds: float = 0.0

    @property
    def intent_right(self) -> bool:
        return self.got.intent.value == self.case.intent

    @property
    def slots_right(self) -> bool:
        """Every listed slot has its listed value (extra predicted slots are allowed)."""
        return all(self.got.slots.get(k) == v for k, v in self.case.slots.items())

    @property
    def slots_exact(self) -> bool:
        """The predicted slot dict equals the labelled one."""
        return dict(self.got.slots) == dict(self.case.slots)

    @property
    def passed(self) -> bool:
        return self.intent_right and self.slots_right


@dataclass(frozen=True, slots=True)
class Ratio:
    hits: int
    total: int

    @property
    def value(self) -> float:
        """The share; 1.0 when there is nothing to count."""
        return self.hits / self.total if self.total else 1.0


@dataclass(frozen=True, slots=True)
class IntentFigures:
    intent: str
    precision: Ratio
    recall: Ratio

    @property
    def f1(self) -> float:
        p = self.precision.value if self.precision.total else 0.0
        r = self.recall.value if self.recall.total else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q ≤ 100) of ``values``; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class EvalReport:
    outcomes: tuple[Outcome, ...]

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def failed(self) -> int:
        return len(self.outcomes) - self.passed

    @property
    def failures(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.passed)

    @property
    def accuracy(self) -> Ratio:
        return Ratio(sum(o.intent_right for o in self.outcomes), len(self.outcomes))

    def per_intent(self) -> dict[str, IntentFigures]:
        """Precision and recall of every intent labelled or predicted in the file (README order)."""
        seen = {o.case.intent for o in self.outcomes} | {o.got.intent.value for o in self.outcomes}
        out: dict[str, IntentFigures] = {}
        for intent in (i for i in INTENTS if i in seen):
            predicted = [o for o in self.outcomes if o.got.intent.value == intent]
            labelled = [o for o in self.outcomes if o.case.intent == intent]
            out[intent] = IntentFigures(intent, Ratio(sum(o.case.intent == intent for o in predicted), len(predicted)),
                                        Ratio(sum(o.got.intent.value == intent for o in labelled), len(labelled)))
        return out

    @property
    def macro_f1(self) -> float:
        figures = self.per_intent()
        return sum(f.f1 for f in figures.values()) / len(figures) if figures else 0.0

    @property
    def slot_exact_match(self) -> Ratio:
        """Over messages with labelled slots: predicted slot dict == labelled slot dict."""
        with_slots = [o for o in self.outcomes if o.case.slots]
        return Ratio(sum(o.slots_exact for o in with_slots), len(with_slots))

    @property
    def spurious_slots(self) -> Ratio:
        """Over messages labelled without slots: how many got a slot anyway."""
        without = [o for o in self.outcomes if not o.case.slots]
        return Ratio(sum(bool(o.got.slots) for o in without), len(without))

    def latency(self, q: float) -> float:
        """The ``q``-th percentile of seconds per message."""
        return percentile([o.seconds for o in self.outcomes], q)


def score(messages: Sequence[LabelledMessage], scorer: IntentScorer, clock: Callable[[], float],
          warm_up: bool = True) -> EvalReport:
    """Understand every message with ``scorer`` and time each with ``clock`` (seconds; the caller
    injects ``time.perf_counter``). ``warm_up`` reads one message untimed first, so a lazily
    loaded dictionary is not counted as a message's latency."""
    return score_reader(messages, lambda text: understand(text, scorer), clock, warm_up)


def score_reader(messages: Sequence[LabelledMessage], read: Callable[[str], Understanding],
                 clock: Callable[[], float], warm_up: bool = True) -> EvalReport:
    """:func:`score` with any reader of a message — the in-process one, or a running server's
    ``POST /api/v1/bot/messages``."""
    if warm_up and messages:
        read(messages[0].text)
    outcomes: list[Outcome] = []
    for case in messages:
        start = clock()
        got = read(case.text)
        outcomes.append(Outcome(case, got, clock() - start))
    return EvalReport(tuple(outcomes))
