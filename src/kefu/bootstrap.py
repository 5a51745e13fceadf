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
    from kefu.services.assistant import AssistantDeps


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
                         clock=clock, hotlines=hotlines)
