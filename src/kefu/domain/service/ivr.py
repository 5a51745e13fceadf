"""The phone hotline's IVR menu (语音导航) as data, and the one step a key press takes.

The menu is a tree read from ``policies/ivr.toml``: menus (a prompt and DTMF keys), routes (a
desk queue, a ticket category and kind, a prompt) and actions (``back``, ``repeat``). The
switch keeps where the caller is as a *path*, the keys pressed from the top (``""`` is the top
menu, ``"3"`` the complaint menu, ``"31"`` its first entry), and asks :meth:`IvrMenu.step` what
a key does there. Pure: no telephony, no clock.

Invalid input (a key the menu does not offer, or ``""`` for no key before the timeout) repeats
the menu with a notice up to ``max_repeats`` times; the next miss transfers the caller to a
person. Dedicated hotlines route PLUS and enterprise customers straight to their queue
(POLICY.md §10 D5: they are served ahead of regular customers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from kefu.domain.service.tickets import Category, Kind

#: the keys of a telephone keypad
DTMF_KEYS = frozenset("0123456789*#")
_QUEUE_CODE = re.compile(r"[a-z0-9_]{1,40}")


class StepKind(StrEnum):
    PROMPT = "prompt"        # play ``prompt`` and collect one of ``valid_keys`` in menu ``path``
    ROUTE = "route"          # play ``prompt`` and queue the call at ``queue`` with ``category``
    REPEAT = "repeat"        # invalid input: play ``prompt`` (notice + the menu again), collect again
    TRANSFER = "transfer"    # too many misses: play ``prompt`` and queue at the fallback queue


class NodeAction(StrEnum):
    BACK = "back"
    REPEAT = "repeat"


@dataclass(frozen=True, slots=True)
class IvrNode:
    """One menu, route or action of the tree."""

    label: str = ""
    prompt: str = ""
    keys: Mapping[str, IvrNode] = field(default_factory=lambda: MappingProxyType({}))
    queue: str | None = None
    category: Category | None = None
    kind: Kind = Kind.CONSULTATION
    action: NodeAction | None = None

    @property
    def is_menu(self) -> bool:
        return bool(self.keys)


@dataclass(frozen=True, slots=True)
class IvrStep:
    """What the switch does next (see :class:`StepKind`); ``failures`` goes back into the next step."""

    kind: StepKind
    path: str
    prompt: str
    valid_keys: tuple[str, ...] = ()
    queue: str | None = None
    category: Category | None = None
    ticket_kind: Kind | None = None
    failures: int = 0


@dataclass(frozen=True, slots=True)
class Hotline:
    """A number the switch answers; with ``queue`` it routes eligible callers straight there."""

    name: str
    number: str
    levels: frozenset[str] = frozenset()
    queue: str | None = None
    category: Category | None = None
    prompt: str = ""
    not_eligible_prompt: str = ""


@dataclass(frozen=True, slots=True)
class IvrSettings:
    max_repeats: int
    timeout_seconds: int
    invalid_prompt: str
    timeout_prompt: str
    transfer_queue: str
    transfer_category: Category
    transfer_prompt: str


def dialled_digits(number: str) -> str:
    """A dialled number with spaces, dashes and brackets dropped (``400-895-0618`` → ``4008950618``)."""
    return "".join(ch for ch in number if ch.isdigit())


@dataclass(frozen=True, slots=True)
class IvrMenu:
    """The whole IVR: settings, hotlines and the menu tree."""

    root: IvrNode
    settings: IvrSettings
    hotlines: tuple[Hotline, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IvrMenu:
        """The menu in ``policies/ivr.toml`` form; ``ValueError`` naming the bad entry otherwise."""
        menu = data.get("menu")
        if not isinstance(menu, Mapping):
            raise ValueError("ivr: a [menu] table is required")
        if "keys" not in menu:
            raise ValueError("ivr: [menu] must offer keys")
        root = _node(menu, "menu")
        settings = _settings(data.get("settings", {}))
        hotlines_data = data.get("hotlines", {})
        if not isinstance(hotlines_data, Mapping) or not hotlines_data:
            raise ValueError("ivr: at least one [hotlines.<name>] is required")
        hotlines = tuple(_hotline(name, value) for name, value in hotlines_data.items())
        numbers = [hotline.number for hotline in hotlines]
        if len(set(numbers)) != len(numbers):
            raise ValueError("ivr: two hotlines share a number")
        return cls(root=root, settings=settings, hotlines=hotlines)

    def node_at(self, path: str) -> IvrNode:
        """The node a path of keys leads to; ``ValueError`` for a path the tree does not have."""
        node = self.root
        for key in path:
            child = node.keys.get(key)
            if child is None:
                raise ValueError(f"ivr: no menu entry at path {path!r}")
            node = child
        return node

    def menu_step(self, path: str, prefix: str = "") -> IvrStep:
        """The prompt step of the menu at ``path`` (``prefix`` is said before the menu's prompt)."""
        node = self.node_at(path)
        if not node.is_menu:
            raise ValueError(f"ivr: path {path!r} is not a menu")
        return IvrStep(StepKind.PROMPT, path, prefix + node.prompt, valid_keys=tuple(node.keys))

    def step(self, path: str, key: str, failures: int = 0) -> IvrStep:
        """What pressing ``key`` (``""`` for a timeout) in the menu at ``path`` does.

        ``failures`` is the count of invalid inputs in a row so far (from the previous step).
        """
        menu = self.node_at(path)
        if not menu.is_menu:
            raise ValueError(f"ivr: path {path!r} is not a menu")
        chosen = menu.keys.get(key) if len(key) == 1 else None
        if chosen is None:
            return self._miss(path, menu, timed_out=key == "", failures=failures + 1)
        if chosen.action is NodeAction.REPEAT:
            return self.menu_step(path)
        if chosen.action is NodeAction.BACK:
            return self.menu_step(path[:-1])
        if chosen.is_menu:
            return self.menu_step(path + key)
        return IvrStep(StepKind.ROUTE, path + key, chosen.prompt, queue=chosen.queue, category=chosen.category,
                       ticket_kind=chosen.kind)

    def _miss(self, path: str, menu: IvrNode, *, timed_out: bool, failures: int) -> IvrStep:
        settings = self.settings
        if failures > settings.max_repeats:
            return IvrStep(StepKind.TRANSFER, path, settings.transfer_prompt, queue=settings.transfer_queue,
                           category=settings.transfer_category, ticket_kind=Kind.CONSULTATION, failures=failures)
        notice = settings.timeout_prompt if timed_out else settings.invalid_prompt
        return IvrStep(StepKind.REPEAT, path, notice + menu.prompt, valid_keys=tuple(menu.keys), failures=failures)

    def menu_for_hotline(self, dialled_number: str, caller_level: str | None) -> IvrStep:
        """The first step of a call to ``dialled_number`` by a customer of ``caller_level``.

        A dedicated hotline (PLUS, enterprise) routes a caller whose level it serves straight to
        its queue (POLICY.md §10 D5); other callers hear its notice and the top menu, as do
        callers of the regular line or of a number the configuration does not list.
        """
        digits = dialled_digits(dialled_number)
        hotline = next((line for line in self.hotlines if line.number == digits), None)
        if hotline is None or hotline.queue is None:
            return self.menu_step("")
        if not hotline.levels or (caller_level or "") in hotline.levels:
            return IvrStep(StepKind.ROUTE, "", hotline.prompt, queue=hotline.queue,
                           category=hotline.category or Category.OTHER, ticket_kind=Kind.CONSULTATION)
        return self.menu_step("", prefix=hotline.not_eligible_prompt)


def _text(data: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"ivr: {where}.{name} must be a non-empty string")
    return value.strip()


def _queue(data: Mapping[str, Any], name: str, where: str) -> str:
    value = _text(data, name, where)
    if not _QUEUE_CODE.fullmatch(value):
        raise ValueError(f"ivr: {where}.{name} {value!r} is not a queue code (a-z, 0-9, _)")
    return value


def _category(data: Mapping[str, Any], name: str, where: str) -> Category:
    value = _text(data, name, where)
    try:
        return Category(value)
    except ValueError:
        raise ValueError(f"ivr: {where}.{name} {value!r} is not one of "
                         f"{', '.join(c.value for c in Category)}") from None


def _node(data: Mapping[str, Any], where: str) -> IvrNode:
    label = _text(data, "label", where, required=False)
    if "action" in data:
        try:
            action = NodeAction(data["action"])
        except ValueError:
            raise ValueError(f"ivr: {where}.action must be back or repeat") from None
        if set(data) - {"action", "label"}:
            raise ValueError(f"ivr: {where} is an action and may not have other fields")
        return IvrNode(label=label, action=action)
    keys = data.get("keys")
    if keys is not None:
        if not isinstance(keys, Mapping) or not keys:
            raise ValueError(f"ivr: {where}.keys must be a table of keys")
        if "queue" in data or "category" in data:
            raise ValueError(f"ivr: {where} is a menu and may not name a queue")
        children: dict[str, IvrNode] = {}
        for key, child in keys.items():
            if key not in DTMF_KEYS:
                raise ValueError(f"ivr: {where}.keys.{key} is not a keypad key (0-9, *, #)")
            if not isinstance(child, Mapping):
                raise ValueError(f"ivr: {where}.keys.{key} must be a table")
            children[key] = _node(child, f"{where}.keys.{key}")
        return IvrNode(label=label, prompt=_text(data, "prompt", where), keys=MappingProxyType(children))
    kind_value = data.get("kind", Kind.CONSULTATION.value)
    try:
        kind = Kind(kind_value)
    except ValueError:
        raise ValueError(f"ivr: {where}.kind must be consultation or complaint") from None
    return IvrNode(label=label, prompt=_text(data, "prompt", where), queue=_queue(data, "queue", where),
                   category=_category(data, "category", where), kind=kind)


def _settings(data: Any) -> IvrSettings:
    if not isinstance(data, Mapping):
        raise ValueError("ivr: [settings] must be a table")
    numbers: dict[str, int] = {}
    for name, default in (("max_repeats", 2), ("timeout_seconds", 8)):
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"ivr: settings.{name} must be a non-negative integer")
        numbers[name] = value
    return IvrSettings(
        max_repeats=numbers["max_repeats"],
        timeout_seconds=numbers["timeout_seconds"],
        invalid_prompt=_text(data, "invalid_prompt", "settings"),
        timeout_prompt=_text(data, "timeout_prompt", "settings"),
        transfer_queue=_queue(data, "transfer_queue", "settings"),
        transfer_category=_category(data, "transfer_category", "settings"),
        transfer_prompt=_text(data, "transfer_prompt", "settings"),
    )


def _hotline(name: str, data: Any) -> Hotline:
    where = f"hotlines.{name}"
    if not isinstance(data, Mapping):
        raise ValueError(f"ivr: {where} must be a table")
    number = dialled_digits(_text(data, "number", where))
    if not number:
        raise ValueError(f"ivr: {where}.number has no digits")
    levels = data.get("levels", [])
    if not isinstance(levels, list) or not all(isinstance(level, str) for level in levels):
        raise ValueError(f"ivr: {where}.levels must be a list of customer levels")
    if "queue" not in data:
        return Hotline(name=name, number=number, levels=frozenset(levels))
    return Hotline(name=name, number=number, levels=frozenset(levels), queue=_queue(data, "queue", where),
                   category=_category(data, "category", where), prompt=_text(data, "prompt", where),
                   not_eligible_prompt=_text(data, "not_eligible_prompt", where, required=bool(levels)))
