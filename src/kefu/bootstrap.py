"""Wiring that entrypoints share: policy data and adapters assembled into what services take."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from kefu.adapters.compliance_files import load_compliance_rules
from kefu.adapters.service_desk_files import load_sla_policy
from kefu.domain.aftersales.params import PolicyBook
from kefu.domain.clock import Clock
from kefu.domain.compliance import check_reply
from kefu.services.desk_clocks import DeskRules

if TYPE_CHECKING:  # scikit-learn takes seconds to import: the assistant loads on first use
    from kefu.domain.bot.intents import Intent
    from kefu.services.assistant import AssistantDeps, FaqAnswer
    from kefu.services.uow import Database


@lru_cache(maxsize=8)
def desk_rules(policy_dir: Path) -> DeskRules:
    """The service desk's rules from ``policy_dir``: SLA targets (D1–D10) and the reply check."""
    compliance = load_compliance_rules(policy_dir)

    def check(text: str) -> list[tuple[str, str]]:
        return [(v.kind, v.match) for v in check_reply(text, compliance).violations]

    return DeskRules(sla=load_sla_policy(policy_dir), check=check)


def assistant_deps(policy_dir: Path, book: PolicyBook, desk: DeskRules, clock: Clock) -> AssistantDeps:
    """The smart assistant's parts: the trained intent classifier (loaded, or trained once from
    ``data/bot/train.jsonl`` when the model file is missing), ``policies/assistant.toml``, the
    hotline numbers of ``policies/ivr.toml``, the FAQ and the order actions."""
    from kefu.adapters.assistant_files import load_assistant_rules
    from kefu.adapters.bot import load_or_train
    from kefu.adapters.ivr_files import load_ivr_menu
    from kefu.services.assistant import AssistantDeps

    hotlines: dict[str, str] = {}
    for line in load_ivr_menu(policy_dir).hotlines:
        for level in line.levels or {"regular"}:
            hotlines.setdefault(level, line.number)
        hotlines.setdefault(line.name, line.number)
    return AssistantDeps(scorer=load_or_train(), rules=load_assistant_rules(policy_dir), book=book, desk=desk,
                         clock=clock, hotlines=hotlines, faq=FaqKnowledge())


#: an FAQ article answers a question by itself only when its BM25 score is this many times the
#: citing threshold and this many times the runner-up's (measured on the default articles:
#: "运费险怎么理赔" 12.9 vs 5.0 answers; "怎么修改登录密码" 4.6 vs 4.3 — two weak matches — does not)
ANSWER_FACTOR = 1.8
WINNER_RATIO = 1.5


def _clear_winner(scores: list[float], threshold: float) -> bool:
    best = scores[0]
    runner_up = scores[1] if len(scores) > 1 else 0.0
    return best >= ANSWER_FACTOR * threshold and best >= WINNER_RATIO * runner_up


class FaqKnowledge:
    """:class:`~kefu.services.assistant.FaqSource` over the FAQ service (BM25 over jieba tokens).
    ``answer`` returns an article only when it clearly wins (:data:`ANSWER_FACTOR`)."""

    def cite(self, db: Database, intent: Intent, text: str) -> tuple[str, str, str] | None:
        from kefu.services.faq import cite_for_intent

        return cite_for_intent(db, intent.value, text)

    def answer(self, db: Database, text: str) -> FaqAnswer | None:
        from kefu.services.assistant import FaqAnswer
        from kefu.services.faq import cite_threshold, search_faq

        found = search_faq(db, text, "zh", 2, min_score=0.0)
        if not found or not _clear_winner([h.score for h in found], cite_threshold(db)):
            return None
        english = next((h for h in search_faq(db, text, "en", 3) if h.slug == found[0].slug), found[0])
        return FaqAnswer(found[0].slug, (found[0].title, english.title), (found[0].body, english.body))
