"""The IVR menu: the shipped tree, every key's step, repeats and transfer, hotlines, and bad data refused."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from kefu.adapters.ivr_files import load_ivr_menu
from kefu.domain.service.ivr import IvrMenu, IvrStep, StepKind
from kefu.domain.service.tickets import Category, Kind

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MENU = load_ivr_menu(PROJECT_ROOT / "policies")
with (PROJECT_ROOT / "policies" / "ivr.toml").open("rb") as fh:
    RAW: dict[str, Any] = tomllib.load(fh)

ROOT_PROMPT = MENU.root.prompt


def test_the_loader_is_cached_per_folder() -> None:
    assert load_ivr_menu(PROJECT_ROOT / "policies") is MENU


def test_the_regular_hotline_opens_with_the_top_menu() -> None:
    step = MENU.menu_for_hotline("950618", None)
    assert step == IvrStep(StepKind.PROMPT, "", ROOT_PROMPT, valid_keys=("*", "0", "1", "2", "3", "4"))
    for words in ("查询订单请按1", "退换货及售后请按2", "投诉请按3", "会员与发票请按4", "人工服务请按0"):
        assert words in step.prompt


@pytest.mark.parametrize(("keys", "queue", "category", "kind"), [
    ("0", "general", Category.OTHER, Kind.CONSULTATION),
    ("11", "logistics", Category.LOGISTICS, Kind.CONSULTATION),
    ("12", "payment", Category.PAYMENT, Kind.CONSULTATION),
    ("13", "general", Category.PRODUCT, Kind.CONSULTATION),
    ("10", "general", Category.OTHER, Kind.CONSULTATION),
    ("21", "aftersales", Category.AFTERSALES, Kind.CONSULTATION),
    ("22", "aftersales", Category.AFTERSALES, Kind.CONSULTATION),
    ("23", "aftersales", Category.AFTERSALES, Kind.CONSULTATION),
    ("20", "aftersales", Category.AFTERSALES, Kind.CONSULTATION),
    ("31", "complaints", Category.SERVICE_ATTITUDE, Kind.COMPLAINT),
    ("32", "complaints", Category.PRODUCT, Kind.COMPLAINT),
    ("33", "complaints", Category.LOGISTICS, Kind.COMPLAINT),
    ("39", "complaints", Category.OTHER, Kind.COMPLAINT),
    ("30", "complaints", Category.OTHER, Kind.COMPLAINT),
    ("41", "payment", Category.MEMBERSHIP, Kind.CONSULTATION),
    ("42", "payment", Category.PAYMENT, Kind.CONSULTATION),
    ("40", "payment", Category.MEMBERSHIP, Kind.CONSULTATION),
])
def test_every_leaf_routes_to_a_queue_and_category(keys: str, queue: str, category: Category, kind: Kind) -> None:
    path = ""
    step = MENU.menu_for_hotline("950618", "regular")
    for key in keys:
        assert step.kind is StepKind.PROMPT and key in step.valid_keys
        step = MENU.step(path, key)
        path = step.path
    assert (step.kind, step.path, step.queue, step.category, step.ticket_kind) == (
        StepKind.ROUTE, keys, queue, category, kind)
    assert step.prompt.startswith("正在为您转接")


def test_a_submenu_prompt_lists_its_keys() -> None:
    step = MENU.step("", "2")
    assert (step.kind, step.path, step.valid_keys) == (StepKind.PROMPT, "2", ("1", "2", "3", "0", "*"))
    assert step.prompt.startswith("退换货及售后：")


def test_star_goes_back_from_a_submenu_and_repeats_at_the_top() -> None:
    assert MENU.step("3", "*") == MENU.menu_step("")
    assert MENU.step("", "*") == MENU.menu_step("")


@pytest.mark.parametrize("path", ["", "1", "3"])
def test_invalid_keys_repeat_twice_then_transfer_to_a_person(path: str) -> None:
    menu_prompt = MENU.node_at(path).prompt
    first = MENU.step(path, "8")
    assert (first.kind, first.path, first.failures) == (StepKind.REPEAT, path, 1)
    assert first.prompt == "对不起，您的输入有误。" + menu_prompt
    second = MENU.step(path, "", first.failures)                       # no key before the timeout
    assert (second.kind, second.failures) == (StepKind.REPEAT, 2)
    assert second.prompt == "对不起，没有收到您的按键。" + menu_prompt
    third = MENU.step(path, "#", second.failures)
    assert (third.kind, third.queue, third.category, third.failures) == (
        StepKind.TRANSFER, "general", Category.OTHER, 3)
    assert third.prompt == "正在为您转接人工客服，请稍候。"


def test_a_valid_key_after_a_miss_starts_counting_again() -> None:
    miss = MENU.step("", "7")
    assert MENU.step("", "3", miss.failures).failures == 0
    assert MENU.step("3", "9", miss.failures).kind is StepKind.ROUTE


@pytest.mark.parametrize("key", ["12", "a", " ", "１"])
def test_anything_but_one_keypad_key_is_invalid(key: str) -> None:
    assert MENU.step("", key).kind is StepKind.REPEAT


@pytest.mark.parametrize("path", ["5", "11", "9x"])
def test_a_path_the_tree_does_not_have_is_an_error(path: str) -> None:
    with pytest.raises(ValueError, match="ivr"):
        MENU.step(path, "1")


# --- hotlines ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("number", "level", "prompt_start"), [
    ("950616", "plus", "尊敬的PLUS会员"),
    ("950-616", "plus", "尊敬的PLUS会员"),
    ("400-895-0618", "enterprise", "尊敬的企业客户"),
    ("(400) 8950618", "enterprise", "尊敬的企业客户"),
])
def test_member_hotlines_route_their_members_straight_to_the_vip_queue(number: str, level: str,
                                                                       prompt_start: str) -> None:
    step = MENU.menu_for_hotline(number, level)
    assert (step.kind, step.queue, step.category) == (StepKind.ROUTE, "vip", Category.OTHER)
    assert step.prompt.startswith(prompt_start)


@pytest.mark.parametrize(("number", "level", "notice"), [
    ("950616", "regular", "本热线为PLUS会员专线，已为您转入普通服务。"),
    ("950616", None, "本热线为PLUS会员专线，已为您转入普通服务。"),
    ("950616", "enterprise", "本热线为PLUS会员专线，已为您转入普通服务。"),
    ("4008950618", "plus", "本热线为企业客户专线，已为您转入普通服务。"),
])
def test_other_callers_of_a_member_hotline_hear_a_notice_and_the_menu(number: str, level: str | None,
                                                                      notice: str) -> None:
    step = MENU.menu_for_hotline(number, level)
    assert (step.kind, step.path, step.prompt) == (StepKind.PROMPT, "", notice + ROOT_PROMPT)


@pytest.mark.parametrize("level", ["plus", "enterprise", "regular", None])
def test_the_regular_line_and_unknown_numbers_give_everyone_the_menu(level: str | None) -> None:
    assert MENU.menu_for_hotline("950618", level) == MENU.menu_step("")
    assert MENU.menu_for_hotline("12345", level) == MENU.menu_step("")


# --- the data is checked -----------------------------------------------------------------------

def changed(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(RAW)
    edit(data)
    return data


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("menu"), r"\[menu\]"),
    (lambda d: d["menu"].pop("keys"), "must offer keys"),
    (lambda d: d["menu"]["keys"].update({"A": {"action": "repeat"}}), "keypad"),
    (lambda d: d["menu"]["keys"]["0"].update({"category": "shipping"}), "shipping"),
    (lambda d: d["menu"]["keys"]["0"].update({"queue": "VIP Queue"}), "queue code"),
    (lambda d: d["menu"]["keys"]["0"].pop("queue"), "queue"),
    (lambda d: d["menu"]["keys"]["0"].update({"prompt": ""}), "prompt"),
    (lambda d: d["menu"]["keys"]["0"].update({"kind": "praise"}), "kind"),
    (lambda d: d["menu"]["keys"]["1"].pop("prompt"), "prompt"),
    (lambda d: d["menu"]["keys"]["1"].update({"queue": "general"}), "menu"),
    (lambda d: d["menu"]["keys"]["*"].update({"action": "hangup"}), "action"),
    (lambda d: d["menu"]["keys"]["*"].update({"queue": "general"}), "action"),
    (lambda d: d["settings"].update({"max_repeats": -1}), "max_repeats"),
    (lambda d: d["settings"].update({"max_repeats": True}), "max_repeats"),
    (lambda d: d["settings"].update({"transfer_category": "x"}), "transfer_category"),
    (lambda d: d["settings"].pop("invalid_prompt"), "invalid_prompt"),
    (lambda d: d.pop("hotlines"), "hotlines"),
    (lambda d: d["hotlines"]["plus"].update({"number": "950618"}), "share a number"),
    (lambda d: d["hotlines"]["plus"].update({"number": "热线"}), "digits"),
    (lambda d: d["hotlines"]["plus"].update({"levels": "plus"}), "levels"),
    (lambda d: d["hotlines"]["plus"].pop("not_eligible_prompt"), "not_eligible_prompt"),
])
def test_bad_menu_data_is_refused_naming_the_entry(edit: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IvrMenu.from_dict(changed(edit))


def test_a_minimal_menu() -> None:
    menu = IvrMenu.from_dict({
        "settings": {"invalid_prompt": "错", "timeout_prompt": "慢", "transfer_queue": "general",
                     "transfer_category": "other", "transfer_prompt": "转", "max_repeats": 0},
        "hotlines": {"main": {"number": "950618"}},
        "menu": {"prompt": "按1", "keys": {"1": {"queue": "general", "category": "product", "prompt": "好"}}},
    })
    assert menu.step("", "1").queue == "general"
    assert menu.step("", "2").kind is StepKind.TRANSFER                 # no repeats allowed
    assert menu.settings.timeout_seconds == 8
