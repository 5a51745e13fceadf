"""The assistant's conversation rules (kefu.domain.bot.dialogue), with the shipped policy data:
when it hands over, how it reads a yes/no, a line, an address, a product parameter, a bare order
pick, and what a conversation remembers."""

from __future__ import annotations

import pytest

from kefu.adapters.assistant_files import load_assistant_rules
from kefu.config import PROJECT_ROOT
from kefu.domain.bot.dialogue import (
    AssistantRules,
    ConversationState,
    HandoffReason,
    attribute_asked,
    confirmation,
    context_intent,
    handoff_reason,
    is_angry,
    is_bare_pick,
    line_mentioned,
    looks_like_address,
    order_for,
    repeats,
)
from kefu.domain.bot.intents import Intent, Understanding

RULES = load_assistant_rules(PROJECT_ROOT / "policies")


def reading(intent: Intent, p: float = 0.9, **slots: str) -> Understanding:
    return Understanding(intent, p, slots)


@pytest.mark.parametrize(("u", "text", "state", "expected"), [
    (reading(Intent.HUMAN_AGENT), "转人工", ConversationState(), HandoffReason.REQUEST),
    (reading(Intent.COMPLAINT), "我要投诉快递员", ConversationState(), HandoffReason.COMPLAINT),
    (reading(Intent.ORDER_STATUS), "你们什么破平台 快递到底到哪了", ConversationState(), HandoffReason.ANGRY),
    (reading(Intent.ORDER_STATUS), "到底到哪了!!!", ConversationState(), HandoffReason.ANGRY),
    (reading(Intent.INVOICE), "发票怎么开具啊", ConversationState(recent=("发票怎么开具",)), HandoffReason.REPEATED),
    (reading(Intent.GREETING), "你好你好", ConversationState(recent=("你好你好",)), None),        # greetings repeat
    (reading(Intent.INVOICE, 0.3), "那个怎么弄", ConversationState(low_streak=1), HandoffReason.LOW_CONFIDENCE),
    (reading(Intent.INVOICE, 0.3), "那个怎么弄", ConversationState(low_streak=0), None),         # first one: ask
    (reading(Intent.HUMAN_AGENT, 0.3), "人", ConversationState(), None),                      # an unsure "person?"
    (reading(Intent.INVOICE), "发票怎么开", ConversationState(recent=("我的订单到哪了",)), None),
])
def test_handoff_rules(u: Understanding, text: str, state: ConversationState,
                       expected: HandoffReason | None) -> None:
    assert handoff_reason(u, text, state, RULES) is expected


def test_only_the_last_two_messages_count_for_a_repeat() -> None:
    earlier = ConversationState(recent=("我的订单到哪了", "订单302600069811", "能退货吗"))
    assert not repeats("我的订单到哪了", earlier, RULES)               # asked again later, about another order
    assert repeats("我的订单到哪了", ConversationState(recent=("我的订单到哪了", "订单302600069811")), RULES)


def test_short_messages_never_count_as_a_repeat() -> None:
    assert not repeats("好的", ConversationState(recent=("好的",)), RULES)
    assert repeats("我的退款什么时候到账", ConversationState(recent=("我的退款什么时候到账呢",)), RULES)


@pytest.mark.parametrize(("text", "expected"), [
    ("确认", True), ("好的！", True), ("是的", True), ("OK", True), ("确认取消", True),
    ("不取消", False), ("算了", False), ("不用了", False), ("no", False),
    ("确认一下我的订单到哪了", None), ("发票怎么开", None),
])
def test_confirmation(text: str, expected: bool | None) -> None:
    assert confirmation(text, RULES) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("订单302600069811 第2件", 1), ("第一件能退吗", 0), ("第 3 个商品", 2), ("第十件", 9), ("item 2", 1),
    ("这个能退吗", None), ("第0件", None),
])
def test_line_mentioned(text: str, expected: int | None) -> None:
    assert line_mentioned(text) == expected


@pytest.mark.parametrize(("text", "slots", "expected"), [
    ("订单302600069811", {"order_id": "302600069811"}, True),
    ("302600069811", {"order_id": "302600069811"}, True),
    ("就这个 302600069811 吧", {"order_id": "302600069811"}, True),
    ("订单302600069811 第2件", {"order_id": "302600069811"}, True),
    ("302600069811能退货吗", {"order_id": "302600069811"}, False),
    ("我要退货", {}, False),
])
def test_bare_pick(text: str, slots: dict[str, str], expected: bool) -> None:
    assert is_bare_pick(text, slots) is expected


def test_a_bare_pick_continues_the_intent_that_asked_for_it() -> None:
    waiting = ConversationState(awaiting=Intent.RETURN_POLICY.value)
    pick = reading(Intent.ORDER_STATUS, order_id="302600069811")
    assert context_intent(pick, "订单302600069811", waiting) is Intent.RETURN_POLICY
    assert context_intent(pick, "订单302600069811到哪了", waiting) is Intent.ORDER_STATUS
    assert context_intent(pick, "订单302600069811", ConversationState()) is Intent.ORDER_STATUS


def test_the_remembered_order_applies_to_order_questions_only() -> None:
    state = ConversationState(order_id="302600069811")
    assert order_for(Intent.RETURN_POLICY, {}, state) == "302600069811"            # 那退货呢
    assert order_for(Intent.RETURN_POLICY, {"order_id": "302600000001"}, state) == "302600000001"
    assert order_for(Intent.INVOICE, {}, state) is None
    assert order_for(Intent.ORDER_STATUS, {}, state, "我的订单到哪了") is None          # pick again
    assert order_for(Intent.ORDER_STATUS, {}, state, "那这个什么时候到") == "302600069811"
    assert order_for(Intent.ORDER_STATUS, {}, state, "物流呢") == "302600069811"


@pytest.mark.parametrize(("text", "expected"), [
    ("北京市朝阳区建国路88号院3号楼", True), ("上海市浦东新区张江路100号", True),
    ("No. 8 Century Road, Pudong District", True),
    ("确认", False), ("我要改地址", False), ("北京", False),
])
def test_looks_like_address(text: str, expected: bool) -> None:
    assert looks_like_address(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("这个电池多大", "battery"), ("续航怎么样", "battery"), ("有多重", "weight"), ("什么颜色的", "colour"),
    ("是什么材质", "material"), ("支持iPhone吗", "compatibility"), ("尺码偏大吗", "size"), ("好用吗", None),
])
def test_attribute_asked(text: str, expected: str | None) -> None:
    assert attribute_asked(text) == expected


def test_state_round_trips_through_json_and_keeps_the_last_messages() -> None:
    state = ConversationState(order_id="302600069811", line=1, last_intent="return_policy", awaiting="address",
                              pending={"action": "cancel", "order_id": "302600069811"}, low_streak=1)
    for n in range(8):
        state = state.remember(f"第{n}条消息，内容比较长")
    again = ConversationState.from_json(state.to_json())
    assert again == state and len(again.recent) == 6 and again.recent[-1] == "第7条消息内容比较长"
    assert ConversationState.from_json(None) == ConversationState()


def test_policy_data_is_loaded_and_checked() -> None:
    assert RULES.low_confidence == 0.45 and RULES.low_confidence_turns == 2
    assert is_angry("垃圾平台", RULES) and not is_angry("谢谢", RULES)
    assert "{no_reason_return_days}" in RULES.answers["return_policy"][0]
    with pytest.raises(ValueError, match="low_confidence"):
        AssistantRules.from_data({"handoff": {"low_confidence": 1.5}})
    with pytest.raises(ValueError, match="turns"):
        AssistantRules.from_data({"handoff": {"low_confidence_turns": 0}})
