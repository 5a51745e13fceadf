"""Reading order files as a stream of :class:`~kefu.domain.orders.SourceRecord`.

Three formats (``docs/import.md`` has the full description and examples):

**JSON** — an array of order objects ``[{...}, ...]`` or an object ``{"orders": [{...}, ...]}``.
It is parsed incrementally (ijson), so a file of any size is read in bounded memory. Numbers
come back as ``Decimal``. A record's row is its 1-based index in the array. A syntax error ends
the file: the records before it are imported, the error is reported at the next index.

**JSON Lines** — one order object per line (``.jsonl`` / ``.ndjson``). A record's row is its line
number; a broken line is reported and the next lines still import.

**CSV** — UTF-8 (a BOM is fine), a header row, then one row per order line. The order-level
columns are repeated on every row of the order (or left empty on the second and later rows);
the rows of one order must be consecutive. The first data row is row 2, as in a spreadsheet.

    order-level: order_id, customer_id, customer_name, customer_phone, customer_email,
                 customer_level, seller_id, seller_name, seller_type, status, paid_at,
                 shipping_insurance, address, total_paid, payments, carrier, carrier_name,
                 tracking_no, delivery_status, shipped_at, signed_at, arrived_at, tracking_events
    line-level:  sku, name, category, quantity, unit_price, paid_amount, warranty_days,
                 services, price_protection_days, non_returnable_confirmed, gifts

    payments         method:amount;method:amount       card:4000.00;balance:199.00
    gifts            name:value;name:value             快充头:99.00;手机壳:0.00
    services         code|code                         extended_warranty_1y|accident_protection
    tracking_events  at|location|description;…         2024-05-02T09:00:00+08:00|北京|已签收

A delivery is present when ``carrier`` or ``delivery_status`` is filled in. Booleans accept
true/false, 1/0, yes/no, 是/否.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

import ijson

from kefu.domain.orders import Problem, SourceRecord

Format = Literal["csv", "json", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "json", "jsonl")

ORDER_COLUMNS = (
    "order_id", "customer_id", "customer_name", "customer_phone", "customer_email", "customer_level",
    "seller_id", "seller_name", "seller_type", "status", "paid_at", "shipping_insurance", "address",
    "total_paid", "payments", "carrier", "carrier_name", "tracking_no", "delivery_status", "shipped_at",
    "signed_at", "arrived_at", "tracking_events",
)
LINE_COLUMNS = (
    "sku", "name", "category", "quantity", "unit_price", "paid_amount", "warranty_days", "services",
    "price_protection_days", "non_returnable_confirmed", "gifts",
)
CSV_COLUMNS = ORDER_COLUMNS + LINE_COLUMNS
_PEEK = 1 << 20


class UnknownFormat(ValueError):
    """The file is neither CSV, a JSON array / ``{"orders": [...]}`` nor JSON Lines."""


def detect_format(path: Path) -> Format:
    """By extension (.csv, .jsonl, .ndjson); for .json and anything else, by content."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    with path.open("rb") as stream:
        return sniff(stream)


def sniff(stream: IO[bytes]) -> Format:
    """Tell a JSON document from JSON Lines by the first line; rewinds ``stream``."""
    head = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    stream.seek(0)
    if head.startswith(b"["):
        return "json"
    if not head.startswith(b"{"):
        if head[:1].isalpha() or head.startswith(b'"'):
            return "csv"
        raise UnknownFormat("not a JSON array, a JSON object, JSON Lines or CSV")
    first = stream.readline(_PEEK)
    stream.seek(0)
    try:
        parsed = json.loads(first)
    except ValueError:
        return "json"  # an object spread over several lines: {"orders": [...]}
    return "json" if isinstance(parsed, dict) and "orders" in parsed else "jsonl"


def read_orders(stream: IO[bytes], fmt: Format) -> Iterator[SourceRecord]:
    """Records of a binary stream in the given format, lazily."""
    if fmt == "csv":
        return read_csv(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    if fmt == "jsonl":
        return read_jsonl(stream)
    return read_json(stream)


def _syntax(zh: str, en: str) -> tuple[Problem, ...]:
    return (Problem("", zh, en),)


def read_json(stream: IO[bytes]) -> Iterator[SourceRecord]:
    """Orders of a JSON array or of ``{"orders": [...]}``, parsed incrementally."""
    head = stream.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    stream.seek(0)
    prefix = "orders.item" if head.startswith(b"{") else "item"
    index = 0
    items = ijson.items(stream, prefix, use_float=False)
    while True:
        try:
            item = next(items)
        except StopIteration:
            break
        except ijson.JSONError as exc:
            yield SourceRecord(index + 1, None, _syntax(
                f"JSON 语法错误，之后的记录无法读取：{exc}",
                f"JSON syntax error; the records after it cannot be read: {exc}"))
            return
        index += 1
        yield SourceRecord(index, item)


def read_jsonl(stream: IO[bytes]) -> Iterator[SourceRecord]:
    """Orders of a JSON Lines stream; the row is the line number, blank lines are skipped."""
    for number, raw in enumerate(stream, start=1):
        text = raw.strip()
        if number == 1:
            text = text.removeprefix(b"\xef\xbb\xbf")
        if not text:
            continue
        try:
            item = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            yield SourceRecord(number, None, _syntax(f"第 {number} 行不是有效的 JSON：{exc}",
                                                     f"line {number} is not valid JSON: {exc}"))
            continue
        yield SourceRecord(number, item)


def _pairs(cell: str, column: str, keys: tuple[str, str], problems: list[Problem]) -> list[dict[str, str]]:
    """``a:1;b:2`` → ``[{keys[0]: "a", keys[1]: "1"}, …]``; the value is after the last colon."""
    result: list[dict[str, str]] = []
    for part in cell.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.rpartition(":")
        if not sep or not name.strip():
            problems.append(Problem(column, f"{column} 的格式应为 名称:金额;名称:金额，收到 {part!r}",
                                    f"{column} must look like name:amount;name:amount, got {part!r}"))
            continue
        result.append({keys[0]: name.strip(), keys[1]: value.strip()})
    return result


def _events(cell: str, problems: list[Problem]) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    for part in cell.split(";"):
        if not part.strip():
            continue
        fields = [f.strip() for f in part.split("|")]
        if len(fields) != 3:
            problems.append(Problem(
                "tracking_events", f"tracking_events 的格式应为 时间|地点|描述;…，收到 {part!r}",
                f"tracking_events must look like at|location|description;…, got {part!r}"))
            continue
        events.append({"at": fields[0], "location": fields[1], "description": fields[2]})
    return events


def _order_from_row(row: Mapping[str, str], problems: list[Problem]) -> dict[str, Any]:
    def cell(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    order: dict[str, Any] = {
        "id": cell("order_id"),
        "customer": {"id": cell("customer_id"), "name": cell("customer_name"),
                     "phone": cell("customer_phone"), "email": cell("customer_email"),
                     "level": cell("customer_level")},
        "seller": {"id": cell("seller_id"), "name": cell("seller_name"), "type": cell("seller_type")},
        "status": cell("status"), "paid_at": cell("paid_at"),
        "shipping_insurance": cell("shipping_insurance"), "address": cell("address"),
        "total_paid": cell("total_paid"),
        "payments": _pairs(cell("payments") or "", "payments", ("method", "amount"), problems),
        "lines": [],
    }
    if cell("carrier") or cell("delivery_status"):
        order["delivery"] = {
            "carrier": cell("carrier"), "carrier_name": cell("carrier_name"),
            "tracking_no": cell("tracking_no"), "status": cell("delivery_status"),
            "shipped_at": cell("shipped_at"), "signed_at": cell("signed_at"),
            "arrived_at": cell("arrived_at"), "events": _events(cell("tracking_events") or "", problems),
        }
    return order


def _line_from_row(row: Mapping[str, str], problems: list[Problem], index: int) -> dict[str, Any]:
    line: dict[str, Any] = {name: (row.get(name) or "").strip() or None for name in LINE_COLUMNS}
    gift_problems: list[Problem] = []
    line["gifts"] = _pairs(line["gifts"] or "", "gifts", ("name", "value"), gift_problems)
    problems.extend(Problem(f"lines[{index}].gifts", p.zh, p.en) for p in gift_problems)
    return line


class _CsvOrder:
    """The rows of one order being gathered."""

    def __init__(self, row_no: int, row: Mapping[str, str]) -> None:
        self.row = row_no
        self.first = row
        self.problems: list[Problem] = []
        self.data = _order_from_row(row, self.problems)
        self.line_rows: list[int] = []
        self.add(row_no, row)

    def add(self, row_no: int, row: Mapping[str, str]) -> None:
        if self.line_rows:
            for column in ORDER_COLUMNS:
                value = (row.get(column) or "").strip()
                if value and value != (self.first.get(column) or "").strip():
                    self.problems.append(Problem(
                        f"lines[{len(self.line_rows)}]",
                        f"第 {row_no} 行的 {column} 与本订单第一行（第 {self.row} 行）不一致",
                        f"row {row_no}: {column} differs from the order's first row (row {self.row})"))
        self.data["lines"].append(_line_from_row(row, self.problems, len(self.line_rows)))
        self.line_rows.append(row_no)

    def record(self) -> SourceRecord:
        return SourceRecord(self.row, self.data, tuple(self.problems), tuple(self.line_rows))


def read_csv(stream: IO[str]) -> Iterator[SourceRecord]:
    """Orders of a CSV stream, one row per order line (see the module docstring).

    Keeps the ids of the orders already read (a few dozen bytes each) to catch an order whose
    rows are not consecutive, which would otherwise import as two partial orders.
    """
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    missing = [c for c in ("order_id", "sku", "category", "quantity", "unit_price", "paid_amount")
               if c not in header]
    if missing:
        yield SourceRecord(1, None, _syntax(f"CSV 表头缺少列：{', '.join(missing)}",
                                            f"the CSV header lacks the columns: {', '.join(missing)}"))
        return
    done: set[str] = set()
    current: _CsvOrder | None = None
    for row_no, row in enumerate(reader, start=2):
        order_id = (row.get("order_id") or "").strip()
        if current is not None and order_id == current.data["id"]:
            current.add(row_no, row)
            continue
        if current is not None:
            yield current.record()
            done.add(str(current.data["id"]))
        current = _CsvOrder(row_no, row)
        if order_id and order_id in done:
            current.problems.append(Problem(
                "order_id", f"订单 {order_id} 的行不连续：同一订单的行必须相邻",
                f"the rows of order {order_id} are not consecutive: keep an order's rows together"))
    if current is not None:
        yield current.record()
