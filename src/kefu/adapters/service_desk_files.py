"""Loads the service-desk policy data (``policies/service_desk.toml``) into the domain's :class:`SlaPolicy`."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from kefu.domain.service.sla import SlaPolicy

SERVICE_DESK_FILE = "service_desk.toml"


@lru_cache(maxsize=8)
def load_sla_policy(policy_dir: Path) -> SlaPolicy:
    """The service-desk policy (POLICY.md §10, D1–D10) in ``policy_dir`` (cached per folder; restart to reload)."""
    with (policy_dir / SERVICE_DESK_FILE).open("rb") as fh:
        return SlaPolicy.from_dict(tomllib.load(fh))
