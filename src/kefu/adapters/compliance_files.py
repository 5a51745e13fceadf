"""Loads reply compliance data (``policies/compliance.toml``) into the domain's :class:`ComplianceRules`."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from kefu.domain.compliance import KINDS, ComplianceRules

COMPLIANCE_FILE = "compliance.toml"


@lru_cache(maxsize=8)
def load_compliance_rules(policy_dir: Path) -> ComplianceRules:
    """The compliance rules in ``policy_dir`` (cached per folder; restart to reload).

    A folder without ``compliance.toml`` gets the built-in defaults (the platform domain
    ``mall.example.com`` and hotline 950618). A file that is there but malformed raises
    ``ValueError`` naming the member, so a typo never silently turns the check off.
    """
    path = policy_dir / COMPLIANCE_FILE
    if not path.is_file():
        return ComplianceRules()
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return rules_from_mapping(data, source=str(path))


def rules_from_mapping(data: dict[str, Any], source: str = COMPLIANCE_FILE) -> ComplianceRules:
    """Build :class:`ComplianceRules` from the parsed TOML (checked member by member)."""
    defaults = ComplianceRules()
    domains = _strings(data, "allowed_domains", source, list(defaults.allowed_domains))
    hotlines = _strings(data, "platform_hotlines", source, list(defaults.platform_hotlines))
    bad_hotlines = [h for h in hotlines if not h.isdigit()]
    if bad_hotlines:
        raise ValueError(f"{source}: platform_hotlines must be digits only, got {bad_hotlines}")
    extra = data.get("extra_words", {})
    if not isinstance(extra, dict):
        raise ValueError(f"{source}: extra_words must be a table of kind = [phrases]")
    unknown = sorted(set(extra) - set(KINDS))
    if unknown:
        raise ValueError(f"{source}: unknown kinds in extra_words: {', '.join(unknown)} "
                         f"(known: {', '.join(KINDS)})")
    words = {kind: tuple(_strings(extra, kind, f"{source} extra_words", [])) for kind in extra}
    return ComplianceRules(allowed_domains=frozenset(d.lower().strip(".") for d in domains),
                           platform_hotlines=frozenset(hotlines), extra_words=words)


def _strings(data: dict[str, Any], key: str, source: str, default: list[str]) -> list[str]:
    value = data.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{source}: {key} must be a list of strings")
    return value
