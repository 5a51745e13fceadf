"""Scoring the compliance check against labelled replies (shared/eval/compliance/README.md).

A case passes when ``allowed`` is right and, if it is blocked, every listed kind is found
(extra kinds do not fail it). Precision and recall are of blocking; recall per kind counts the
blocked cases that list the kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kefu.domain.compliance.checker import check_reply
from kefu.domain.compliance.model import KINDS, ComplianceResult, ComplianceRules


@dataclass(frozen=True, slots=True)
class LabelledReply:
    """One line of an eval file: the reply and what the check should say."""

    text: str
    allowed: bool
    kinds: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    case: LabelledReply
    result: ComplianceResult

    @property
    def passed(self) -> bool:
        if self.result.allowed != self.case.allowed:
            return False
        return self.case.allowed or set(self.case.kinds) <= self.result.kinds


@dataclass(frozen=True, slots=True)
class Ratio:
    hits: int
    total: int

    @property
    def value(self) -> float:
        """The share (1.0 when there is nothing to count: no case can have been missed)."""
        return self.hits / self.total if self.total else 1.0


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
    def precision(self) -> Ratio:
        """Of the replies the check blocked, the share that should be blocked."""
        blocked = [o for o in self.outcomes if not o.result.allowed]
        return Ratio(sum(not o.case.allowed for o in blocked), len(blocked))

    @property
    def recall(self) -> Ratio:
        """Of the replies that should be blocked, the share the check blocked."""
        expected = [o for o in self.outcomes if not o.case.allowed]
        return Ratio(sum(not o.result.allowed for o in expected), len(expected))

    def kind_recall(self) -> dict[str, Ratio]:
        """Per kind: of the blocked cases listing it, the share where the check found it."""
        out: dict[str, Ratio] = {}
        for kind in KINDS:
            listed = [o for o in self.outcomes if not o.case.allowed and kind in o.case.kinds]
            out[kind] = Ratio(sum(kind in o.result.kinds for o in listed), len(listed))
        return out


def score(cases: Iterable[LabelledReply], rules: ComplianceRules | None = None) -> EvalReport:
    """Run the check over labelled replies (rule: shared/eval/compliance/README.md)."""
    return EvalReport(tuple(Outcome(case, check_reply(case.text, rules)) for case in cases))
