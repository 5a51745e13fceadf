"""Reading order files: JSON arrays and {"orders": [...]}, JSON Lines and CSV, with row numbers."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kefu.adapters.order_files import (
    CSV_COLUMNS,
    UnknownFormat,
    detect_format,
    read_csv,
    read_orders,
    sniff,
)
from kefu.domain.orders import OrderRecord, SourceRecord, validate_order

from .import_builders import order


def records(data: bytes, fmt: str) -> list[SourceRecord]:
    return list(read_orders(io.BytesIO(data), fmt))  # type: ignore[arg-type]


def as_record(source: SourceRecord) -> OrderRecord:
    assert not source.problems, source.problems
    result = validate_order(source.data)
    assert isinstance(result, OrderRecord), result
    return result


def test_json_array_is_read_with_1_based_indexes_and_decimal_numbers() -> None:
    raw = [order("O1"), order("O2", shipping_insurance=False)]
    raw[1]["lines"][0]["unit_price"] = 6999.0  # a JSON number, not a string
    found = records(json.dumps(raw, ensure_ascii=False).encode(), "json")
    assert [s.row for s in found] == [1, 2]
    assert isinstance(found[1].data, dict)
    assert found[1].data["lines"][0]["unit_price"] == Decimal("6999.0")
    assert as_record(found[1]).lines[0].unit_price == Decimal("6999.00")


def test_json_object_with_an_orders_key_is_read_whatever_the_other_keys() -> None:
    body = {"source": "shop", "orders": [order("O1"), order("O2")], "count": 2}
    found = records(json.dumps(body, indent=2).encode(), "json")
    assert [as_record(s).id for s in found] == ["O1", "O2"]


def test_a_json_syntax_error_ends_the_file_and_is_reported_at_the_next_index() -> None:
    text = json.dumps([order("O1"), order("O2")])
    found = records(text[:-40].encode(), "json")
    assert [s.row for s in found] == [1, 2]
    assert found[0].problems == ()
    assert "JSON syntax error" in found[1].problems[0].en


def test_json_lines_skip_blanks_and_report_a_broken_line_by_number() -> None:
    text = "\n".join([json.dumps(order("O1")), "", "{not json", json.dumps(order("O4"))]) + "\n"
    found = records(text.encode(), "jsonl")
    assert [s.row for s in found] == [1, 3, 4]
    assert "line 3 is not valid JSON" in found[1].problems[0].en
    assert as_record(found[2]).id == "O4"


def csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...] = CSV_COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def csv_row(order_id: str, **cells: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "order_id": order_id, "customer_id": "C00001", "customer_name": "张三",
        "customer_phone": "13800001234", "customer_level": "plus", "seller_id": "S0001",
        "seller_name": "京东自营", "seller_type": "self_operated", "status": "delivered",
        "paid_at": "2024-05-01T10:00:00+08:00", "shipping_insurance": "true", "address": "北京市朝阳区",
        "payments": "card:7000.00;balance:177.10", "carrier": "platform", "carrier_name": "京东物流",
        "tracking_no": "JD1", "delivery_status": "signed", "signed_at": "2024-05-03T15:30:00+08:00",
        "tracking_events": "2024-05-02T08:00:00+08:00|北京|已出库;2024-05-03T15:30:00+08:00|北京朝阳|已签收",
        "sku": "100012043978", "name": "华为 Mate 60 Pro", "category": "phone", "quantity": "1",
        "unit_price": "6999.00", "paid_amount": "6799.00", "warranty_days": "365",
        "services": "extended_warranty_1y", "price_protection_days": "30",
        "non_returnable_confirmed": "false", "gifts": "快充充电头:99.00",
    }
    row.update(cells)
    return row


def second(order_id: str, **cells: Any) -> dict[str, Any]:
    """A continuation row: order-level cells left empty, as the format allows."""
    row = {column: "" for column in CSV_COLUMNS}
    row.update({"order_id": order_id, "sku": "100009464799", "name": "优衣库 摇粒绒茄克",
                "category": "clothing", "quantity": "2", "unit_price": "199.00", "paid_amount": "378.10",
                "services": "size_exchange_90d"})
    row.update(cells)
    return row


def test_csv_rows_of_one_order_become_one_record_with_the_row_of_each_line() -> None:
    text = csv_text([csv_row("O1"), second("O1"), csv_row("O2", payments="card:6799.00")])
    found = list(read_csv(io.StringIO(text)))
    assert [(s.row, s.line_rows) for s in found] == [(2, (2, 3)), (4, (4,))]
    first = as_record(found[0])
    assert [ln.sku for ln in first.lines] == ["100012043978", "100009464799"]
    assert first.payments[1].amount == Decimal("177.10")
    assert first.lines[0].gifts[0].name == "快充充电头"
    assert first.delivery is not None and first.delivery.events[1].location == "北京朝阳"
    assert first.customer.name == "张三" and first.shipping_insurance is True


def test_csv_reads_the_same_order_as_json() -> None:
    """The hash is over parsed content, so the same order from CSV or JSON is 'unchanged'."""
    from_csv = as_record(next(read_csv(io.StringIO(csv_text([csv_row("O1"), second("O1")])))))
    raw = order("O1", address="北京市朝阳区")
    raw["lines"][1]["warranty_days"] = None
    raw["delivery"].update(tracking_no="JD1", shipped_at=None, events=[
        {"at": "2024-05-02T08:00:00+08:00", "location": "北京", "description": "已出库"},
        {"at": "2024-05-03T15:30:00+08:00", "location": "北京朝阳", "description": "已签收"}])
    raw["lines"][0]["name"] = "华为 Mate 60 Pro"
    raw["lines"][1]["name"] = "优衣库 摇粒绒茄克"
    assert from_csv.content_hash() == as_record(SourceRecord(1, raw)).content_hash()


def test_a_bad_line_cell_is_reported_on_its_own_row() -> None:
    text = csv_text([csv_row("O1"), second("O1", quantity="-2")])
    source = next(read_csv(io.StringIO(text)))
    result = validate_order(source.data)
    assert isinstance(result, list)
    assert [(source.row_of(p.field), p.field) for p in result] == [(3, "lines[1].quantity")]


def test_malformed_cells_and_inconsistent_order_columns_are_problems() -> None:
    text = csv_text([csv_row("O1", payments="card7000"), second("O1", status="paid", gifts="壳")])
    source = next(read_csv(io.StringIO(text)))
    fields = {p.field: p for p in source.problems}
    assert "payments" in fields and "name:amount" in fields["payments"].en
    assert "status differs from the order's first row (row 2)" in fields["lines[1]"].en
    assert source.row_of("lines[1]") == 3
    assert "lines[1].gifts" in fields


def test_an_order_whose_rows_are_not_consecutive_is_refused() -> None:
    text = csv_text([csv_row("O1"), csv_row("O2"), csv_row("O1")])
    found = list(read_csv(io.StringIO(text)))
    assert [s.row for s in found] == [2, 3, 4]
    assert "not consecutive" in found[2].problems[0].en


def test_a_csv_without_the_needed_columns_is_one_problem_on_the_header() -> None:
    found = list(read_csv(io.StringIO("order_id,sku\nO1,1\n")))
    assert len(found) == 1 and found[0].row == 1
    assert "quantity" in found[0].problems[0].en


def test_csv_with_a_byte_order_mark_reads_the_first_column() -> None:
    data = ("\ufeff" + csv_text([csv_row("O1", payments="card:6799.00")])).encode()
    found = records(data, "csv")
    assert as_record(found[0]).id == "O1"


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("a.csv", b"whatever", "csv"),
    ("a.jsonl", b"{}", "jsonl"),
    ("a.ndjson", b"{}", "jsonl"),
    ("a.json", b'  [{"id": "O1"}]', "json"),
    ("a.json", b'{"orders": [\n{"id": "O1"}]}', "json"),
    ("a.json", b'{"orders": []}\n', "json"),
    ("a.json", b'{"id": "O1"}\n{"id": "O2"}\n', "jsonl"),
    ("a.txt", b"order_id,sku\n", "csv"),
])
def test_formats_are_detected_by_extension_then_content(tmp_path: Path, name: str, content: bytes,
                                                        expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert detect_format(path) == expected


def test_sniff_rewinds_and_refuses_what_it_cannot_read() -> None:
    stream = io.BytesIO(b"[1]")
    assert sniff(stream) == "json" and stream.tell() == 0
    with pytest.raises(UnknownFormat):
        sniff(io.BytesIO(b"\x00\x01binary"))
