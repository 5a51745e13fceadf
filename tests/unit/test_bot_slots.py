"""Slot extraction (shared/eval/bot/README.md): order ids, mobiles and waybills as people type them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu.domain.bot import extract_slots, find_slots
from kefu.domain.bot.normalise import fold

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "slots"), [
    # order ids: 12 digits, however written
    ("我的订单202603051234到哪了", {"order_id": "202603051234"}),
    ("订单号：２０２６０３０５１２３４ 什么时候发货", {"order_id": "202603051234"}),
    ("２０２６ ０３０５-１２３４", {"order_id": "202603051234"}),
    ("订单 2026 0305 1234 到哪了", {"order_id": "202603051234"}),
    ("订单号2026-0305-1234", {"order_id": "202603051234"}),
    ("订单号　２０２６－０３０５－１２３４", {"order_id": "202603051234"}),
    ("order 718293046521 where is it", {"order_id": "718293046521"}),
    ("订单号NO202603051234", {"order_id": "202603051234"}),
    ("thx 550123987640", {"order_id": "550123987640"}),
    ("查下550123987640的物流", {"order_id": "550123987640"}),
    # two orders: the first is the order id
    ("订单202603051234和202603059999都没到", {"order_id": "202603051234"}),
    ("202603051234，202603059999 这两个单", {"order_id": "202603051234"}),
    ("订单202603051234、13812345678", {"order_id": "202603051234", "phone": "13812345678"}),
    ("快递单号75312468097531和75312468097532", {"tracking_no": "75312468097531"}),
    # a product / item number is not an order id
    ("商品编号100012345678的电池多大", {}),
    ("商品编号：１０００１２３４５６７８ 有黑色吗", {}),
    ("SKU100012345678", {}),
    ("sku: 100012345678 几寸", {}),
    ("货号 202601010101 这个有多大", {}),
    ("型号100012345678和100012345679有什么区别", {}),
    ("订单202603051234里的商品编号100012345678能退吗", {"order_id": "202603051234"}),
    ("SKU 100038811204 订单 202603051234", {"order_id": "202603051234"}),
    ("商品编号100012345678 13812345678", {"phone": "13812345678"}),
    # phone vs order: 11-digit mobiles
    ("手机号改成13812345678", {"phone": "13812345678"}),
    ("电话 138 1234 5678", {"phone": "13812345678"}),
    ("收件人电话改为138-1234-5678", {"phone": "13812345678"}),
    ("+86 138 1234 5678", {"phone": "13812345678"}),
    ("应该是１３６ ０１２３ ４５６７", {"phone": "13601234567"}),
    ("订单202603051234 13812345678", {"order_id": "202603051234", "phone": "13812345678"}),
    ("手机13912345678 订单 2026 0305 1234", {"order_id": "202603051234", "phone": "13912345678"}),
    ("订单号是 2026 0305 1234 电话 13812345678", {"order_id": "202603051234", "phone": "13812345678"}),
    ("138123456789 到哪了", {"order_id": "138123456789"}),  # 12 digits: an order id, not a phone
    ("12345678901", {}),  # 11 digits but not a mobile (12…)
    ("电话010-12345678", {}),  # a landline is no mobile
    # waybills with a carrier prefix
    ("JD0087451236904 这个单号帮忙查一下物流", {"tracking_no": "JD0087451236904"}),
    ("物流不更新 单号SF1402938475610", {"tracking_no": "SF1402938475610"}),
    ("yt7591034826413 这个件到哪了", {"tracking_no": "YT7591034826413"}),
    ("单号JDVC20394857162", {"tracking_no": "JDVC20394857162"}),
    ("SF 1402 9384 7561 0", {"tracking_no": "SF1402938475610"}),
    ("EMS单号 EA204938112CN 查一下", {"tracking_no": "EA204938112CN"}),
    ("ＳＦ１４０２９３８４７５６１０", {"tracking_no": "SF1402938475610"}),
    # digits alone are a waybill only when called one or when the carrier is named
    ("中通快递单号75312468097531", {"tracking_no": "75312468097531"}),
    ("快递单号 7531 2468 0975 31", {"tracking_no": "75312468097531"}),
    ("韵达的运单 4312 9980 7715 3 到哪了", {"tracking_no": "4312998077153"}),
    ("顺丰 123456789012", {"tracking_no": "123456789012"}),
    ("运单号是123456789012", {"tracking_no": "123456789012"}),
    ("这个数字75312468097531是什么", {}),
    ("快递还没到 202603051234", {"order_id": "202603051234"}),
    ("订单202603051234用的顺丰 到哪了", {"order_id": "202603051234"}),
    ("订单号202603051234，快递单号是 75312468097531", {"order_id": "202603051234", "tracking_no": "75312468097531"}),
    # numbers that are no slot
    ("2026-03-05买的 199元 7天无理由", {}),
    ("hello 202603051234", {"order_id": "202603051234"}),
    ("", {}),
])
def test_slots(text: str, slots: dict[str, str]) -> None:
    assert extract_slots(text) == slots


def test_spans_point_into_the_folded_text() -> None:
    folded = fold("订单号：２０２６ ０３０５-１２３４，手机 138 1234 5678")
    found = find_slots(folded)
    assert [(m.name, m.value) for m in found] == [("order_id", "202603051234"), ("phone", "13812345678")]
    assert folded[found[0].start:found[0].end] == "2026 0305-1234"
    assert folded[found[1].start:found[1].end] == "138 1234 5678"


@pytest.mark.parametrize("path", [ROOT / "data" / "bot" / "train.jsonl", ROOT / "tests" / "data" / "bot_extra.jsonl"],
                         ids=["train", "extra"])
def test_the_extractor_agrees_with_our_labelled_files(path: Path) -> None:
    wrong = []
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        if extract_slots(case["text"]) != case["slots"]:
            wrong.append(case)
    assert wrong == []
