"""The assistant's answers (kefu.domain.bot.answers) say only what the facts say, and none is a
dead end: every answer offers a next step or a person."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from kefu.domain.aftersales.decision import Decision, hit
from kefu.domain.aftersales.model import Outcome
from kefu.domain.bot import answers as say
from kefu.domain.bot.intents import Intent

AT = datetime(2026, 3, 10, 6, 5, tzinfo=UTC)          # 14:05 in Shanghai
LINE = say.LineFact(0, "SKU1", "小米 15", 1, Decimal("3999.00"), Decimal("3999.00"), 30)
ORDER = say.OrderFact("202603051234", "delivered", AT, Decimal("3999.00"), "上海市浦东新区张江路 100 号", (LINE,),
                      "京东物流", "JD0001", "signed", AT, AT, say.TrackingFact(AT, "上海", "已签收，签收人：本人"))
UNSHIPPED = say.OrderFact("202603061111", "paid", AT, Decimal("68.00"), "北京市", (LINE,))


def test_order_status_shows_the_latest_event_in_shanghai_time() -> None:
    reply = say.order_status(ORDER)
    assert "已签收，签收人：本人" in reply.zh and "2026-03-10 14:05" in reply.zh and "signed for" in reply.en
    assert reply.data["latest_event"]["description"] == "已签收，签收人：本人"
    waiting = say.order_status(UNSHIPPED)
    assert "待发货" in waiting.zh and waiting.data["delivery_status"] is None
    assert {b.zh for b in waiting.buttons} >= {"取消订单", "修改地址"}        # only before shipment
    assert "取消订单" not in {b.zh for b in reply.buttons}


def test_product_parameters_come_only_from_the_attributes() -> None:
    known = say.product_param("小米 15", "battery", {"battery": "5400mAh"}, "SKU1")
    assert "5400mAh" in known.zh and known.data["value"] == "5400mAh"
    unknown = say.product_param("小米 15", "weight", {"battery": "5400mAh"}, "SKU1")
    assert "没有" in unknown.zh and "5400" not in unknown.zh and unknown.data["value"] is None
    listed = say.product_param("小米 15", None, {"battery": "5400mAh", "colour": ["白", "黑"], "secret": "x"}, "SKU1")
    assert "白、黑" in listed.zh and "secret" not in listed.zh


def test_the_return_decision_carries_its_rules() -> None:
    decision = Decision(Outcome.APPROVED, (hit("N1", days=7, end="2026-03-17"),), refund_amount=Decimal("3999.00"))
    reply = say.return_decision(ORDER, LINE, decision)
    assert "N1" in reply.zh and "¥3999.00" in reply.zh and reply.data["decision"]["rules"] == ["N1"]
    assert any(b.href == "/orders/202603051234/lines/0/apply" for b in reply.buttons)


def test_no_answer_is_a_dead_end() -> None:
    decision = Decision(Outcome.APPROVED, (hit("N1", days=7, end="2026-03-17"),))
    replies = [
        say.order_status(ORDER), say.order_status(UNSHIPPED), say.choose_order([ORDER], Intent.ORDER_STATUS),
        say.choose_order([], Intent.ORDER_STATUS), say.choose_line(ORDER, Intent.RETURN_POLICY),
        say.order_not_found("202600000000"), say.return_decision(ORDER, LINE, decision),
        say.apply_start(ORDER, LINE, decision), say.product_param("x", "size", {}, "S"),
        say.price_protection([], 0, ("价保规则", "rule")), say.confirm_cancel(UNSHIPPED), say.ask_address(UNSHIPPED),
        say.confirm_address(UNSHIPPED, "北京市朝阳区", None), say.cancelled("1", Decimal("1.00")),
        say.address_changed("1", "x"), say.kept("1"), say.action_refused("不行", "no", "1"),
        say.general(("问", "q")), say.clarify(("嗯？", "eh?"), [Intent.INVOICE, Intent.MEMBERSHIP]),
    ]
    for reply in replies:
        assert reply.buttons, reply.zh
        assert reply.zh and reply.en
