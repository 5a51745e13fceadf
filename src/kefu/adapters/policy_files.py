"""Loads policy data (``policies/*.toml``) into the domain's :class:`PolicyBook`."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from kefu.domain.aftersales.params import PolicyBook

AFTERSALES_FILE = "aftersales.toml"


@lru_cache(maxsize=8)
def load_policy_book(policy_dir: Path) -> PolicyBook:
    """The after-sales policy in ``policy_dir`` (cached per folder; restart to reload)."""
    with (policy_dir / AFTERSALES_FILE).open("rb") as fh:
        return PolicyBook(tomllib.load(fh))
