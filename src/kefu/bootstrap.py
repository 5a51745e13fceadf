"""Wiring that entrypoints share: policy data and adapters assembled into what services take."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from kefu.adapters.compliance_files import load_compliance_rules
from kefu.adapters.service_desk_files import load_sla_policy
from kefu.domain.compliance import check_reply
from kefu.services.desk_clocks import DeskRules


@lru_cache(maxsize=8)
def desk_rules(policy_dir: Path) -> DeskRules:
    """The service desk's rules from ``policy_dir``: SLA targets (D1–D10) and the reply check."""
    compliance = load_compliance_rules(policy_dir)

    def check(text: str) -> list[tuple[str, str]]:
        return [(v.kind, v.match) for v in check_reply(text, compliance).violations]

    return DeskRules(sla=load_sla_policy(policy_dir), check=check)
