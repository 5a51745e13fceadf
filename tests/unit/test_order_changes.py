"""Order changes after the sale (issue 5 §2): OC1–OC3 may an order be cancelled or re-addressed,
OC4–OC5 the new address and phone, OC6 the refund of a cancelled order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.domain.order_changes import (
    ADDRESS_MAX,
    ADDRESS_MIN,
    ChangeDecision,
    NewAddress,
    RefundLine,
    ShipmentState,
    cancel_refund,
    clean_address,
    clean_phone,
    may_cancel,
    may_change_address,
    normalise_phone,
    validate_new_address,
)
from kefu.domain.orders import Problem

SHIPPED_AT = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)

# status, delivery status, shipped_at → reason code (OC1–OC3)
STATES = [
    ("paid", None, None, "not_shipped"),
    ("paid", "in_transit", None, "already_shipped"),
    ("paid", "in_transit", SHIPPED_AT, "already_shipped"),
    ("paid", "signed", SHIPPED_AT, "already_delivered"),
    ("paid", "lost", None, "parcel_lost"),
    ("paid", "lost", SHIPPED_AT, "parcel_lost"),
    ("paid", None, SHIPPED_AT, "already_shipped"),
    ("shipped", None, None, "already_shipped"),
    ("shipped", "in_transit", SHIPPED_AT, "already_shipped"),
    ("delivered", "signed", SHIPPED_AT, "already_delivered"),
    ("completed", "signed", SHIPPED_AT, "already_delivered"),
    ("cancelled", None, None, "already_cancelled"),
    ("cancelled", "in_transit", SHIPPED_AT, "already_cancelled"),
    ("refunding", None, None, "not_paid"),
]


@pytest.mark.parametrize(("status", "delivery", "shipped_at", "reason"), STATES)
def test_cancel_is_allowed_only_before_shipment(status: str, delivery: str | None, shipped_at: datetime | None,
                                                 reason: str) -> None:
    decision = may_cancel(ShipmentState(status, delivery, shipped_at))
    assert decision.allowed is (reason == "not_shipped")
    assert (decision.rule, decision.reason) == ("OC1", reason)
    assert decision.zh and decision.en


@pytest.mark.parametrize(("status", "delivery", "shipped_at", "reason"), STATES)
def test_the_address_may_change_on_the_same_condition(status: str, delivery: str | None,
                                                      shipped_at: datetime | None, reason: str) -> None:
    decision = may_change_address(ShipmentState(status, delivery, shipped_at))
    assert decision.allowed is (reason == "not_shipped")
    assert (decision.rule, decision.reason) == ("OC2", reason)


@pytest.mark.parametrize(("state", "cancel_zh", "address_zh"), [
    (ShipmentState("cancelled"), "订单已取消", "订单已取消"),
    (ShipmentState("shipped"), "已发货，无法取消", "已发货，无法修改收货地址"),
    (ShipmentState("delivered"), "已签收，无法取消", "已签收，无法修改收货地址"),
])
def test_a_refusal_says_why_in_both_languages(state: ShipmentState, cancel_zh: str, address_zh: str) -> None:
    cancel, address = may_cancel(state), may_change_address(state)
    assert cancel_zh in cancel.zh and address_zh in address.zh
    assert cancel.en != address.en and "cancel" in cancel.en and "address" in address.en


def test_a_decision_renders_as_a_dict() -> None:
    assert may_cancel(ShipmentState("paid")).as_dict() == {
        "allowed": True, "rule": "OC1", "reason": "not_shipped",
        "message": {"zh": "订单尚未发货，可以取消。", "en": "The order has not shipped yet and can be cancelled."}}


@given(status=st.text(max_size=12), delivery=st.sampled_from([None, "in_transit", "signed", "lost"]),
       shipped=st.booleans())
def test_the_two_rules_always_agree_and_never_raise(status: str, delivery: str | None, shipped: bool) -> None:
    state = ShipmentState(status, delivery, SHIPPED_AT if shipped else None)
    cancel: ChangeDecision = may_cancel(state)
    address = may_change_address(state)
    assert cancel.allowed == address.allowed == (status == "paid" and delivery is None and not shipped)
    assert cancel.reason == address.reason


# ── OC4 / OC5 ──────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(("raw", "expected"), [
    ("  北京市朝阳区建国路88号  ", "北京市朝阳区建国路88号"),
    ("上海市浦东", "上海市浦东"),                              # exactly 5 characters
    ("\u3000广州市天河区体育西路1号\u3000", "广州市天河区体育西路1号"),   # ideographic spaces are trimmed
    ("北京" + "a" * (ADDRESS_MAX - 2), "北京" + "a" * (ADDRESS_MAX - 2)),
])
def test_a_good_address_is_trimmed(raw: str, expected: str) -> None:
    assert clean_address(raw) == expected


@pytest.mark.parametrize(("raw", "en_part"), [
    ("上海市", "at least 5"),
    ("     上海  ", "at least 5"),
    ("", "at least 5"),
    ("北" * (ADDRESS_MAX + 1), "at most 200"),
    ("北京市朝阳区\n建国路88号", "control characters"),
    ("北京市朝阳区\x00建国路88号", "control characters"),
    ("北京市朝阳区\u2028建国路88号", "control characters"),
    ("北京市朝阳区\x1b[31m建国路", "control characters"),
    (None, "Enter the delivery address"),
    (12345678, "Enter the delivery address"),
])
def test_a_bad_address_is_a_problem_not_an_exception(raw: object, en_part: str) -> None:
    problem = clean_address(raw)
    assert isinstance(problem, Problem) and problem.field == "address"
    assert en_part in problem.en and problem.zh


@pytest.mark.parametrize(("raw", "expected"), [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),
    ("１３８－００１３－８０００", "13800138000"),
    ("\u3000199 9999 0000 ", "19999990000"),
    (None, None),
    ("", None),
    ("   ", None),
])
def test_a_phone_is_normalised_or_absent(raw: object, expected: str | None) -> None:
    assert clean_phone(raw) == expected


@pytest.mark.parametrize("raw", [
    "12800138000",        # second digit 2
    "1380013800",         # ten digits
    "138001380000",       # twelve digits
    "+8613800138000",     # a country code is not part of the number
    "02112345678",        # a landline
    "1380013800a",
    "138.0013.8000",
    13800138000,
])
def test_a_bad_phone_is_a_problem(raw: object) -> None:
    problem = clean_phone(raw)
    assert isinstance(problem, Problem) and problem.field == "phone"


def test_validate_new_address_reports_every_problem_at_once() -> None:
    assert validate_new_address(" 北京市朝阳区建国路88号 ", "138 0013 8000") == NewAddress(
        "北京市朝阳区建国路88号", "13800138000")
    assert validate_new_address("北京市朝阳区建国路88号") == NewAddress("北京市朝阳区建国路88号", None)
    problems = validate_new_address("北京", "123")
    assert isinstance(problems, list)
    assert [p.field for p in problems] == ["address", "phone"]


@given(st.text(max_size=260))
def test_clean_address_never_raises_and_what_it_keeps_obeys_oc4(raw: str) -> None:
    result = clean_address(raw)
    if isinstance(result, str):
        assert result == raw.strip()
        assert ADDRESS_MIN <= len(result) <= ADDRESS_MAX
        assert "\n" not in result and "\x00" not in result
    else:
        assert isinstance(result, Problem)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.lists(st.sampled_from([" ", "-", "－", "\u3000"])))
def test_any_mobile_number_survives_spaces_dashes_and_full_width(number: str, noise: list[str]) -> None:
    full_width = "".join(chr(0xFF10 + int(d)) for d in number)
    spaced = number[:3] + "".join(noise) + number[3:7] + "".join(noise) + number[7:]
    assert clean_phone(full_width) == number
    assert clean_phone(spaced) == number
    assert normalise_phone(spaced) == number


# ── OC6 ────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Pay:
    method: str
    amount: Decimal


def pays(*rows: tuple[str, str]) -> list[Pay]:
    return [Pay(method, Decimal(amount)) for method, amount in rows]


@pytest.mark.parametrize(("total", "payments", "expected"), [
    ("299.00", [("card", "299.00")], [("card", "299.00")]),
    ("1000.00", [("card", "800.00"), ("balance", "200.00")], [("card", "800.00"), ("balance", "200.00")]),
    # two rows of the same method stay two refund lines (one per payment row)
    ("100.00", [("card", "60.00"), ("card", "40.00")], [("card", "60.00"), ("card", "40.00")]),
    # a row that paid nothing gets nothing back
    ("50.00", [("coupon", "0.00"), ("wechat", "50.00")], [("wechat", "50.00")]),
    ("0.00", [("coupon", "0.00")], []),
    ("0.00", [], []),
    # payments that do not add up (never imported so): total_paid goes back, split in proportion
    ("100.00", [("card", "100.00"), ("balance", "100.00")], [("card", "50.00"), ("balance", "50.00")]),
    # … by largest remainder, so a tiny last row never goes negative
    ("0.15", [("card", "0.03"), ("balance", "0.12"), ("wechat", "0.53"), ("coupon", "0.01")],
     [("card", "0.01"), ("balance", "0.03"), ("wechat", "0.11")]),
])
def test_the_whole_amount_goes_back_to_each_payment(total: str, payments: list[tuple[str, str]],
                                                    expected: list[tuple[str, str]]) -> None:
    lines = cancel_refund(Decimal(total), pays(*payments))
    assert lines == tuple(RefundLine(m, Decimal(a)) for m, a in expected)
    assert sum((ln.amount for ln in lines), Decimal("0")) == Decimal(total)


def test_money_paid_with_nowhere_to_go_back_breaks_an_invariant() -> None:
    with pytest.raises(ValueError, match="no payment"):
        cancel_refund(Decimal("10.00"), [])


def test_a_refund_line_renders_its_amount_as_a_string() -> None:
    assert RefundLine("card", Decimal("12.50")).as_dict() == {"method": "card", "amount": "12.50"}


_amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)


@given(st.lists(st.tuples(st.sampled_from(["card", "balance", "wechat", "alipay", "coupon"]), _amounts),
                min_size=1, max_size=6))
def test_oc6_refunds_exactly_what_each_row_paid(rows: list[tuple[str, Decimal]]) -> None:
    payments = [Pay(m, a) for m, a in rows]
    total = sum((a for _m, a in rows), Decimal("0.00"))
    lines = cancel_refund(total, payments)
    assert sum((ln.amount for ln in lines), Decimal("0.00")) == total
    assert [(ln.method, ln.amount) for ln in lines] == [(m, a) for m, a in rows if a > 0]


@given(st.lists(_amounts.filter(lambda a: a > 0), min_size=1, max_size=6), _amounts.filter(lambda a: a > 0))
def test_oc6_never_keeps_or_invents_money_even_when_rows_disagree(amounts: list[Decimal], total: Decimal) -> None:
    lines = cancel_refund(total, [Pay("card", a) for a in amounts])
    assert sum((ln.amount for ln in lines), Decimal("0.00")) == total
    assert all(ln.amount > 0 for ln in lines)
