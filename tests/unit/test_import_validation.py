"""Validation of one order record (pure): clean values, or problems naming their field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from kefu.domain.aftersales.model import Carrier, Category, CustomerLevel, DeliveryStatus, SellerType
from kefu.domain.orders import (
    OrderRecord,
    OrderStatus,
    Problem,
    SourceRecord,
    masked_address,
    validate_order,
)

from .import_builders import line, order


def valid(raw: Any) -> OrderRecord:
    result = validate_order(raw)
    assert isinstance(result, OrderRecord), result
    return result


def problems(raw: Any) -> dict[str, Problem]:
    result = validate_order(raw)
    assert isinstance(result, list), f"expected problems, got {result}"
    return {p.field: p for p in result}


def test_a_complete_record_is_parsed_into_typed_values() -> None:
    record = valid(order())
    assert record.id == "O202405010001"
    assert record.customer.level is CustomerLevel.PLUS and record.customer.name == "张三"
    assert record.seller.type is SellerType.SELF_OPERATED
    assert record.status is OrderStatus.DELIVERED
    assert record.paid_at == datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert record.total_paid == Decimal("7177.10")
    first, second = record.lines
    assert first.category is Category.PHONE and first.unit_price == Decimal("6999.00")
    assert first.gifts[0].value == Decimal("99.00") and first.services == ("extended_warranty_1y",)
    assert second.quantity == 2 and second.warranty_days is None
    assert [p.method for p in record.payments] == ["card", "balance"]
    assert record.delivery is not None
    assert record.delivery.carrier is Carrier.PLATFORM and record.delivery.status is DeliveryStatus.SIGNED
    assert record.delivery.signed_at == datetime(2024, 5, 3, 7, 30, tzinfo=UTC)
    assert [e.description for e in record.delivery.events] == ["您的订单已出库", "已签收，签收人：本人"]


def test_ids_may_stand_in_for_customer_and_seller_objects() -> None:
    raw = order()
    del raw["customer"], raw["seller"]
    record = valid({**raw, "customer_id": "C00009", "seller_id": "S0002"})
    assert record.customer.id == "C00009" and record.customer.name is None
    assert record.seller.id == "S0002" and record.seller.type is None


def test_delivery_is_optional_for_an_order_not_yet_shipped() -> None:
    assert valid(order(status="paid", delivery=None)).delivery is None


@pytest.mark.parametrize(("field", "raw"), [
    ("id", order(id="")),
    ("customer_id", {k: v for k, v in order().items() if k != "customer"}),
    ("status", {k: v for k, v in order().items() if k != "status"}),
    ("paid_at", order(paid_at=None)),
    ("lines", order(lines=[])),
    ("payments", order(payments=[])),
    ("lines[0].sku", order(lines=[line(sku=None)])),
    ("lines[0].category", order(lines=[line(category="")])),
])
def test_required_fields_are_named(field: str, raw: dict[str, Any]) -> None:
    found = problems(raw)
    assert field in found
    assert field in found[field].en and "required" in found[field].en
    assert "缺少必填字段" in found[field].zh


@pytest.mark.parametrize(("field", "raw", "value"), [
    ("status", order(status="refunded"), "refunded"),
    ("customer.level", order(customer={"id": "C1", "name": "李四", "level": "vip"}), "vip"),
    ("seller.type", order(seller={"id": "S9", "name": "某店", "type": "pop"}), "pop"),
    ("delivery.carrier", order(delivery={"carrier": "drone", "status": "signed"}), "drone"),
    ("delivery.status", order(delivery={"carrier": "platform", "status": "done"}), "done"),
    ("lines[0].category", order(lines=[line(category="spaceship")], payments=[
        {"method": "card", "amount": "6799.00"}]), "spaceship"),
])
def test_unknown_enum_values_are_refused_with_the_allowed_ones(field: str, raw: dict[str, Any],
                                                               value: str) -> None:
    problem = problems(raw)[field]
    assert value in problem.en and "expected one of" in problem.en
    assert "不在允许范围内" in problem.zh


@pytest.mark.parametrize("quantity", [0, -1, "0", "-2", "1.5", 2.5, True, "two"])
def test_quantity_must_be_a_positive_integer(quantity: object) -> None:
    problem = problems(order(lines=[line(quantity=quantity)], payments=[
        {"method": "card", "amount": "6799.00"}]))["lines[0].quantity"]
    assert "integer ≥ 1" in problem.en


@pytest.mark.parametrize("amount", ["-1.00", "12.345", "abc", "NaN", "Infinity", -3, "1e20", True])
def test_amounts_are_non_negative_with_at_most_two_decimals(amount: object) -> None:
    found = problems(order(lines=[line(unit_price=amount)], payments=[
        {"method": "card", "amount": "6799.00"}]))
    assert "at most two decimals" in found["lines[0].unit_price"].en


@pytest.mark.parametrize(("given", "expected"), [
    ("6799", "6799.00"), (6799, "6799.00"), (Decimal("6799.0"), "6799.00"), (6799.5, "6799.50"),
    ("6799.500", "6799.50"),
])
def test_amounts_in_any_exact_spelling_become_cents(given: object, expected: str) -> None:
    raw = order(lines=[line(paid_amount=given)], payments=[{"method": "card", "amount": expected}])
    assert valid(raw).lines[0].paid_amount == Decimal(expected)


@pytest.mark.parametrize("moment", ["2024-05-01T10:00:00", "2024-05-01", "yesterday", 1714528800])
def test_timestamps_need_a_utc_offset(moment: object) -> None:
    problem = problems(order(paid_at=moment))["paid_at"]
    assert "UTC offset" in problem.en and "时区偏移" in problem.zh


def test_z_suffix_and_offsets_are_normalised_to_utc() -> None:
    assert valid(order(paid_at="2024-05-01T02:00:00Z")).paid_at == valid(order()).paid_at


def test_payments_must_add_up_to_the_lines_paid_amounts() -> None:
    found = problems(order(payments=[{"method": "card", "amount": "7000.00"}]))
    assert found["payments"].en == "payments add up to 7000.00 but the lines' paid amounts add up to 7177.10"
    assert "不一致" in found["payments"].zh


def test_total_paid_when_given_must_match_the_payments() -> None:
    assert "total_paid" in problems(order(total_paid="7177.00"))
    assert valid(order(total_paid="7177.10")).total_paid == Decimal("7177.10")


def test_several_problems_are_reported_together() -> None:
    found = problems(order(status="lost", lines=[line(quantity=0, unit_price="-1")]))
    assert {"status", "lines[0].quantity", "lines[0].unit_price"} <= set(found)


def test_a_record_that_is_not_an_object_is_refused() -> None:
    assert validate_order(["O1"]) == [Problem("", "订单记录应为 JSON 对象", "an order record must be a JSON object")]


def test_customer_phone_and_ids_are_checked() -> None:
    found = problems(order(id="O 1", customer={"id": "C1", "name": "王五", "phone": "call me"}))
    assert {"id", "customer.phone"} <= set(found)


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("否", False), (1, True), ("", False)])
def test_booleans_accept_the_usual_spellings(value: object, expected: bool) -> None:
    assert valid(order(shipping_insurance=value)).shipping_insurance is expected


def test_services_accept_a_list_or_pipes() -> None:
    raw = order(lines=[line(services="a_b|accident_protection")], payments=[
        {"method": "card", "amount": "6799.00"}])
    assert valid(raw).lines[0].services == ("a_b", "accident_protection")
    bad = order(lines=[line(services=["延保"])], payments=[{"method": "card", "amount": "6799.00"}])
    assert "lines[0].services" in problems(bad)


def test_content_hash_is_stable_and_sensitive_to_order_content_only() -> None:
    base = valid(order()).content_hash()
    assert base == valid(order()).content_hash()
    # the same moment written in another offset and an amount spelled differently: same content
    same = order(paid_at="2024-05-01T02:00:00+00:00")
    same["payments"][0]["amount"] = "7000"
    assert valid(same).content_hash() == base
    # customer details other than the id never change an order
    assert valid(order(customer={"id": "C00001", "name": "张三丰"})).content_hash() == base
    assert valid(order(status="completed")).content_hash() != base
    changed = order()
    changed["delivery"]["events"].append({"at": "2024-05-04T00:00:00Z", "description": "x"})
    assert valid(changed).content_hash() != base


def test_source_record_maps_line_problems_to_their_csv_rows() -> None:
    source = SourceRecord(row=5, data={"id": " O9 "}, line_rows=(5, 6, 7))
    assert source.row_of("lines[2].quantity") == 7
    assert source.row_of("lines[9].quantity") == 5
    assert source.row_of("payments") == 5
    assert source.order_id == "O9"
    assert SourceRecord(row=1, data=None).order_id is None


def test_addresses_are_masked_after_the_city() -> None:
    assert masked_address("北京市朝阳区建国路88号") == "北京市朝阳区****"
    assert masked_address("北京") == "****"
    assert masked_address("") == ""
