"""Loads the IVR menu (``policies/ivr.toml``) into the domain's :class:`IvrMenu`."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from kefu.domain.service.ivr import IvrMenu

IVR_FILE = "ivr.toml"


@lru_cache(maxsize=8)
def load_ivr_menu(policy_dir: Path) -> IvrMenu:
    """The IVR menu in ``policy_dir`` (cached per folder; restart to reload)."""
    with (policy_dir / IVR_FILE).open("rb") as fh:
        return IvrMenu.from_dict(tomllib.load(fh))
