"""Orders as the shop sends them: the import record, its validation and its content hash.

One order record (the JSON shape; the CSV reader builds the same shape from its rows, see
``docs/import.md``)::

    {
      "id": "O202405010001",
      "customer": {"id": "C00001", "name": "张三", "phone": "13800001234", "email": null,
                   "level": "plus"},                      # or "customer_id": "C00001"
      "seller": {"id": "S001", "name": "京东自营", "type": "self_operated"},
                                                          # or "seller_id": "S001"
      "status": "delivered",                              # paid|shipped|delivered|completed|cancelled
      "paid_at": "2024-05-01T10:00:00+08:00",             # ISO 8601 with a UTC offset
      "shipping_insurance": true,                         # optional, default false
      "address": "北京市朝阳区…",                          # optional
      "total_paid": "4199.00",                            # optional; must equal the payments' sum
      "lines": [{
          "sku": "100012043978", "name": "华为 Mate 60 Pro 12GB+512GB 雅川青",
          "category": "phone", "quantity": 1, "unit_price": "6999.00",
          "paid_amount": "6799.00",                       # the whole line after coupons
          "warranty_days": 365,                           # optional
          "services": ["extended_warranty_1y"],           # optional
          "price_protection_days": 30,                    # optional, default 0
          "non_returnable_confirmed": false,              # optional, default false
          "gifts": [{"name": "快充头", "value": "99.00"}]  # optional
      }],
      "payments": [{"method": "card", "amount": "6000.00"}, {"method": "balance", "amount": "799.00"}],
      "delivery": {                                       # optional (not shipped yet)
          "carrier": "platform", "carrier_name": "京东物流", "tracking_no": "JD0012345678",
          "status": "signed", "shipped_at": "…", "signed_at": "…", "arrived_at": null,
          "events": [{"at": "…", "location": "北京", "description": "已签收"}]
      }
    }

Amounts are decimal strings or JSON numbers with at most two decimals and never negative. An
unknown customer or seller is created from the ``customer`` / ``seller`` object when it carries
a name (and, for a seller, a type); an existing one is never changed by an import.

Validation is pure: :func:`validate_order` returns either a clean :class:`OrderRecord` or the
list of :class:`Problem` found, each naming its field, in Chinese and English. It never raises
for bad input (DESIGN.md convention 2).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from kefu.domain.aftersales.model import Carrier, Category, CustomerLevel, DeliveryStatus, SellerType
from kefu.domain.money import CENT, ZERO

#: Largest amount a ``Numeric(14, 2)`` column holds.
MAX_AMOUNT = Decimal("999999999999.99")
MAX_LINES = 500
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{2,30}$")
_TRUE = frozenset({"true", "1", "yes", "y", "是"})
_FALSE = frozenset({"false", "0", "no", "n", "否"})


class OrderStatus(StrEnum):
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record cannot be imported: the field (``lines[1].quantity``) and the reason."""

    field: str
    zh: str
    en: str


_LINE_FIELD = re.compile(r"^lines\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One raw order as read from a file or a request, and where it came from.

    ``row`` is the spreadsheet row of the order's first CSV row (the header is row 1) or the
    1-based index of the record in a JSON array / line of a JSON Lines file. A CSV order spans
    several rows, one per line; ``line_rows`` gives the row of each, so a problem in
    ``lines[2]`` is reported on the row where that line is. ``problems`` holds what went wrong
    before validation (unreadable JSON, a malformed CSV cell).
    """

    row: int
    data: object
    problems: tuple[Problem, ...] = ()
    line_rows: tuple[int, ...] = ()

    def row_of(self, field: str) -> int:
        match = _LINE_FIELD.match(field)
        if match and int(match.group(1)) < len(self.line_rows):
            return self.line_rows[int(match.group(1))]
        return self.row

    @property
    def order_id(self) -> str | None:
        """The record's ``id`` when it has a usable one, to name it in a report."""
        if isinstance(self.data, Mapping):
            value = self.data.get("id")
            if isinstance(value, str) and value.strip():
                return value.strip()[:64]
        return None


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    id: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    level: CustomerLevel | None = None


@dataclass(frozen=True, slots=True)
class SellerInfo:
    id: str
    name: str | None = None
    type: SellerType | None = None


@dataclass(frozen=True, slots=True)
class GiftRecord:
    name: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    method: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LineRecord:
    sku: str
    name: str
    category: Category
    quantity: int
    unit_price: Decimal
    paid_amount: Decimal
    warranty_days: int | None = None
    services: tuple[str, ...] = ()
    price_protection_days: int = 0
    non_returnable_confirmed: bool = False
    gifts: tuple[GiftRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class TrackingRecord:
    at: datetime
    description: str
    location: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    carrier: Carrier
    status: DeliveryStatus
    carrier_name: str = ""
    tracking_no: str | None = None
    shipped_at: datetime | None = None
    signed_at: datetime | None = None
    arrived_at: datetime | None = None
    events: tuple[TrackingRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A validated order: parsed types, UTC datetimes, money to the cent."""

    id: str
    customer: CustomerInfo
    seller: SellerInfo
    status: OrderStatus
    paid_at: datetime
    total_paid: Decimal
    lines: tuple[LineRecord, ...]
    payments: tuple[PaymentRecord, ...]
    shipping_insurance: bool = False
    address: str = ""
    delivery: DeliveryRecord | None = None

    def content_hash(self) -> str:
        """sha256 of the order's canonical form; equal hashes mean an identical order.

        Customer and seller details other than their ids are left out: an import never changes
        an existing customer or seller, so they must not make an order look changed.
        """
        canonical = json.dumps(_canonical(self), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _canonical(order: OrderRecord) -> list[object]:
    d = order.delivery
    return [
        order.id, order.customer.id, order.seller.id, order.status.value, _moment(order.paid_at),
        str(order.total_paid), order.shipping_insurance, order.address,
        [[ln.sku, ln.name, ln.category.value, ln.quantity, str(ln.unit_price), str(ln.paid_amount),
          ln.warranty_days, list(ln.services), ln.price_protection_days, ln.non_returnable_confirmed,
          [[g.name, str(g.value)] for g in ln.gifts]] for ln in order.lines],
        [[p.method, str(p.amount)] for p in order.payments],
        None if d is None else [
            d.carrier.value, d.status.value, d.carrier_name, d.tracking_no, _moment(d.shipped_at),
            _moment(d.signed_at), _moment(d.arrived_at),
            [[_moment(e.at), e.location, e.description] for e in d.events]],
    ]


E = TypeVar("E", bound=StrEnum)


class _Reader:
    """Reads typed values out of a raw mapping, collecting problems instead of raising."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, field: str, zh: str, en: str) -> None:
        self.problems.append(Problem(field, zh, en))

    def missing(self, field: str) -> None:
        self.fail(field, f"缺少必填字段 {field}", f"{field} is required")

    @staticmethod
    def absent(value: object) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())

    def text(self, data: Mapping[str, object], key: str, field: str, *, required: bool = True,
             max_len: int = 200) -> str | None:
        value = data.get(key)
        if isinstance(value, str):
            value = value.strip()
            if value:
                if len(value) > max_len:
                    self.fail(field, f"{field} 超过 {max_len} 个字符",
                              f"{field} is longer than {max_len} characters")
                    return None
                return value
            value = None
        if value is None:
            if required:
                self.missing(field)
            return None
        self.fail(field, f"{field} 应为文本", f"{field} must be text")
        return None

    def identifier(self, data: Mapping[str, object], key: str, field: str, *,
                   max_len: int = 64) -> str | None:
        value = self.text(data, key, field, max_len=max_len)
        if value is not None and not _ID.match(value):
            self.fail(field, f"{field} 只能包含字母、数字和 _ . : -",
                      f"{field} may only contain letters, digits and _ . : -")
            return None
        return value

    def enum(self, data: Mapping[str, object], key: str, field: str, kind: type[E], *,
             required: bool = True) -> E | None:
        value = self.text(data, key, field, required=required, max_len=32)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            self.fail(field, f"{field} 的值 {value} 不在允许范围内（{allowed}）",
                      f"{field}: unknown value {value!r}; expected one of {allowed}")
            return None

    def money(self, data: Mapping[str, object], key: str, field: str, *,
              required: bool = True) -> Decimal | None:
        value = data.get(key)
        if self.absent(value):
            if required:
                self.missing(field)
            return None
        amount = _decimal(value)
        if (amount is None or not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT
                or amount != amount.quantize(CENT)):
            self.fail(field, f"{field} 应为不小于 0、最多两位小数的金额，收到 {value!r}",
                      f"{field} must be an amount ≥ 0 with at most two decimals, got {value!r}")
            return None
        return amount.quantize(CENT)

    def integer(self, data: Mapping[str, object], key: str, field: str, *, minimum: int,
                required: bool = True) -> int | None:
        value = data.get(key)
        if self.absent(value):
            if required:
                self.missing(field)
            return None
        number = _integer(value)
        if number is None or number < minimum or number > 2**31 - 1:
            self.fail(field, f"{field} 应为不小于 {minimum} 的整数，收到 {value!r}",
                      f"{field} must be an integer ≥ {minimum}, got {value!r}")
            return None
        return number

    def boolean(self, data: Mapping[str, object], key: str, field: str) -> bool:
        value = data.get(key)
        if self.absent(value):
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        self.fail(field, f"{field} 应为 true 或 false，收到 {value!r}",
                  f"{field} must be true or false, got {value!r}")
        return False

    def moment(self, data: Mapping[str, object], key: str, field: str, *,
               required: bool = True) -> datetime | None:
        value = data.get(key)
        if self.absent(value):
            if required:
                self.missing(field)
            return None
        parsed: datetime | None = None
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.fail(field, f"{field} 应为带时区偏移的 ISO 8601 时间（如 2024-05-01T10:00:00+08:00），"
                             f"收到 {value!r}",
                      f"{field} must be an ISO 8601 timestamp with a UTC offset "
                      f"(e.g. 2024-05-01T10:00:00+08:00), got {value!r}")
            return None
        return parsed.astimezone(UTC)

    def items(self, data: Mapping[str, object], key: str, field: str, *,
              required: bool = False) -> Sequence[Mapping[str, object]]:
        value = data.get(key)
        if value is None or value == []:
            if required:
                self.missing(field)
            return ()
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            self.fail(field, f"{field} 应为对象列表", f"{field} must be a list of objects")
            return ()
        return value

    def codes(self, data: Mapping[str, object], key: str, field: str) -> tuple[str, ...]:
        value = data.get(key)
        if self.absent(value) or value == []:
            return ()
        raw: list[object]
        if isinstance(value, str):
            raw = [part.strip() for part in value.split("|") if part.strip()]
        elif isinstance(value, list):
            raw = [part.strip() if isinstance(part, str) else part for part in value]
        else:
            raw = [value]
        if not all(isinstance(code, str) and _CODE.match(code) for code in raw):
            self.fail(field, f"{field} 应为服务代码列表（小写字母、数字、下划线），收到 {value!r}",
                      f"{field} must be a list of service codes (lower-case letters, digits, _), "
                      f"got {value!r}")
            return ()
        return tuple(dict.fromkeys(code for code in raw if isinstance(code, str)))


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, float):
        # repr gives the shortest text that reads back as this float: 19.9 stays 19.9
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, Decimal | float):
        number = _decimal(value)
        if number is not None and number.is_finite() and number == number.to_integral_value():
            return int(number)
    return None


def _party(r: _Reader, raw: Mapping[str, object], key: str) -> Mapping[str, object] | None:
    """The ``customer`` / ``seller`` object, or one made from ``customer_id`` / ``seller_id``."""
    nested = raw.get(key)
    flat_id = raw.get(f"{key}_id")
    if nested is None:
        if r.absent(flat_id):
            r.missing(f"{key}_id")
            return None
        return {"id": flat_id}
    if not isinstance(nested, Mapping):
        r.fail(key, f"{key} 应为对象", f"{key} must be an object")
        return None
    if not r.absent(flat_id) and flat_id != nested.get("id"):
        r.fail(f"{key}_id", f"{key}_id 与 {key}.id 不一致", f"{key}_id differs from {key}.id")
        return None
    return nested


def _customer(r: _Reader, raw: Mapping[str, object]) -> CustomerInfo | None:
    data = _party(r, raw, "customer")
    if data is None:
        return None
    cid = r.identifier(data, "id", "customer.id", max_len=32)
    name = r.text(data, "name", "customer.name", required=False, max_len=100)
    phone = r.text(data, "phone", "customer.phone", required=False, max_len=32)
    if phone is not None and not _PHONE.match(phone):
        r.fail("customer.phone", f"customer.phone 不是有效的电话号码：{phone!r}",
               f"customer.phone is not a phone number: {phone!r}")
    email = r.text(data, "email", "customer.email", required=False, max_len=254)
    if email is not None and "@" not in email:
        r.fail("customer.email", f"customer.email 不是有效的邮箱：{email!r}",
               f"customer.email is not an e-mail address: {email!r}")
    level = r.enum(data, "level", "customer.level", CustomerLevel, required=False)
    if cid is None:
        return None
    return CustomerInfo(cid, name, phone, email, level)


def _seller(r: _Reader, raw: Mapping[str, object]) -> SellerInfo | None:
    data = _party(r, raw, "seller")
    if data is None:
        return None
    sid = r.identifier(data, "id", "seller.id", max_len=32)
    name = r.text(data, "name", "seller.name", required=False, max_len=100)
    kind = r.enum(data, "type", "seller.type", SellerType, required=False)
    if sid is None:
        return None
    return SellerInfo(sid, name, kind)


def _line(r: _Reader, data: Mapping[str, object], at: str) -> LineRecord | None:
    sku = r.identifier(data, "sku", f"{at}.sku")
    name = r.text(data, "name", f"{at}.name")
    category = r.enum(data, "category", f"{at}.category", Category)
    quantity = r.integer(data, "quantity", f"{at}.quantity", minimum=1)
    unit_price = r.money(data, "unit_price", f"{at}.unit_price")
    paid_amount = r.money(data, "paid_amount", f"{at}.paid_amount")
    warranty = r.integer(data, "warranty_days", f"{at}.warranty_days", minimum=0, required=False)
    services = r.codes(data, "services", f"{at}.services")
    protection = r.integer(data, "price_protection_days", f"{at}.price_protection_days", minimum=0,
                           required=False)
    confirmed = r.boolean(data, "non_returnable_confirmed", f"{at}.non_returnable_confirmed")
    gifts: list[GiftRecord] = []
    for j, gift in enumerate(r.items(data, "gifts", f"{at}.gifts")):
        gift_name = r.text(gift, "name", f"{at}.gifts[{j}].name")
        value = r.money(gift, "value", f"{at}.gifts[{j}].value")
        if gift_name is not None and value is not None:
            gifts.append(GiftRecord(gift_name, value))
    if (sku is None or name is None or category is None or quantity is None or unit_price is None
            or paid_amount is None):
        return None
    return LineRecord(sku, name, category, quantity, unit_price, paid_amount, warranty, services,
                      protection or 0, confirmed, tuple(gifts))


def _delivery(r: _Reader, raw: Mapping[str, object]) -> DeliveryRecord | None:
    data = raw.get("delivery")
    if data is None:
        return None
    if not isinstance(data, Mapping):
        r.fail("delivery", "delivery 应为对象", "delivery must be an object")
        return None
    carrier = r.enum(data, "carrier", "delivery.carrier", Carrier)
    status = r.enum(data, "status", "delivery.status", DeliveryStatus)
    carrier_name = r.text(data, "carrier_name", "delivery.carrier_name", required=False, max_len=64)
    tracking_no = r.text(data, "tracking_no", "delivery.tracking_no", required=False, max_len=64)
    shipped_at = r.moment(data, "shipped_at", "delivery.shipped_at", required=False)
    signed_at = r.moment(data, "signed_at", "delivery.signed_at", required=False)
    arrived_at = r.moment(data, "arrived_at", "delivery.arrived_at", required=False)
    events: list[TrackingRecord] = []
    for k, event in enumerate(r.items(data, "events", "delivery.events")):
        at = r.moment(event, "at", f"delivery.events[{k}].at")
        location = r.text(event, "location", f"delivery.events[{k}].location", required=False, max_len=100)
        description = r.text(event, "description", f"delivery.events[{k}].description", max_len=1000)
        if at is not None and description is not None:
            events.append(TrackingRecord(at, description, location or ""))
    if carrier is None or status is None:
        return None
    return DeliveryRecord(carrier, status, carrier_name or "", tracking_no, shipped_at, signed_at,
                          arrived_at, tuple(events))


def validate_order(raw: object) -> OrderRecord | list[Problem]:
    """Check one raw order record (JSON shape, see the module docstring) and parse it.

    Returns the clean :class:`OrderRecord`, or every problem found, each naming its field. The
    payments must add up to the lines' paid amounts (and to ``total_paid`` when given): refunds
    are split back over the payments, so a mismatch would refund money never paid or keep money
    that was.
    """
    if not isinstance(raw, Mapping):
        return [Problem("", "订单记录应为 JSON 对象", "an order record must be a JSON object")]
    r = _Reader()
    order_id = r.identifier(raw, "id", "id")
    customer = _customer(r, raw)
    seller = _seller(r, raw)
    status = r.enum(raw, "status", "status", OrderStatus)
    paid_at = r.moment(raw, "paid_at", "paid_at")
    insurance = r.boolean(raw, "shipping_insurance", "shipping_insurance")
    address = r.text(raw, "address", "address", required=False, max_len=500) or ""
    total_paid = r.money(raw, "total_paid", "total_paid", required=False)

    raw_lines = r.items(raw, "lines", "lines", required=True)
    if len(raw_lines) > MAX_LINES:
        r.fail("lines", f"一个订单最多 {MAX_LINES} 行", f"an order has at most {MAX_LINES} lines")
        raw_lines = ()
    lines = [_line(r, line, f"lines[{i}]") for i, line in enumerate(raw_lines)]

    payments: list[PaymentRecord] = []
    for k, payment in enumerate(r.items(raw, "payments", "payments", required=True)):
        method = r.text(payment, "method", f"payments[{k}].method", max_len=32)
        if method is not None and not _CODE.match(method):
            r.fail(f"payments[{k}].method", f"payments[{k}].method 应为小写代码，如 card、wechat",
                   f"payments[{k}].method must be a lower-case code such as card or wechat")
            method = None
        amount = r.money(payment, "amount", f"payments[{k}].amount")
        if method is not None and amount is not None:
            payments.append(PaymentRecord(method, amount))
    delivery = _delivery(r, raw)

    if not r.problems:
        paid = sum((p.amount for p in payments), ZERO)
        lines_paid = sum((ln.paid_amount for ln in lines if ln is not None), ZERO)
        if paid != lines_paid:
            r.fail("payments", f"支付合计 {paid} 与各行实付合计 {lines_paid} 不一致",
                   f"payments add up to {paid} but the lines' paid amounts add up to {lines_paid}")
        if total_paid is not None and total_paid != paid:
            r.fail("total_paid", f"total_paid {total_paid} 与支付合计 {paid} 不一致",
                   f"total_paid {total_paid} differs from the payments' sum {paid}")
        total_paid = paid

    if r.problems:
        return r.problems
    assert order_id and customer and seller and status and paid_at and total_paid is not None
    return OrderRecord(
        id=order_id, customer=customer, seller=seller, status=status, paid_at=paid_at,
        total_paid=total_paid, lines=tuple(ln for ln in lines if ln is not None),
        payments=tuple(payments), shipping_insurance=insurance, address=address, delivery=delivery)


def masked_address(address: str) -> str:
    """Keep the first six characters (province and city) and hide the rest: 北京市朝阳区****."""
    if len(address) <= 6:
        return "****" if address else ""
    return address[:6] + "****"
