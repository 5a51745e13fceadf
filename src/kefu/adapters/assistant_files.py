"""Loads the smart assistant's policy data (``policies/assistant.toml``) into
:class:`~kefu.domain.bot.dialogue.AssistantRules`."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from kefu.domain.bot.dialogue import AssistantRules

ASSISTANT_FILE = "assistant.toml"


@lru_cache(maxsize=8)
def load_assistant_rules(policy_dir: Path) -> AssistantRules:
    """The assistant's rules in ``policy_dir`` (cached per folder; restart to reload). A missing
    file gives the built-in thresholds with no word lists and no answer texts; a malformed one
    raises ``ValueError`` naming the file."""
    path = policy_dir / ASSISTANT_FILE
    if not path.is_file():
        return AssistantRules()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        return AssistantRules.from_data(data)
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
