"""Import orders from the shop: idempotent on order id, batch by batch, bad records reported.

Each record is validated on its own (:func:`kefu.domain.orders.validate_order`); a bad one is
reported with its row and reason and the good ones still land. Valid records are written in
batches of ``batch_size`` orders, one transaction per batch, so memory and transaction size stay
bounded whatever the file size. (This is the one service that commits more than once: a batch is
its unit of work.)

Per order id:

- new → inserted (``created``);
- present with the same content hash → not touched at all, ``updated_at`` included
  (``unchanged``); importing the same file twice therefore changes nothing;
- present with different content → updated in place (``updated``): lines keep their row ids by
  ``line_no`` so that after-sales applications referencing them stay valid; lines, payments and
  gifts beyond the new count are removed; tracking events are replaced.

A customer or seller not yet known is created from the record (name required; a seller also
needs its type); an existing one is never changed by an import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kefu.adapters.db.base import Base
from kefu.adapters.db.catalog_repository import get_orders
from kefu.adapters.db.tables.catalog import (
    Customer,
    Delivery,
    Order,
    OrderGift,
    OrderLine,
    OrderPayment,
    Seller,
    TrackingEvent,
)
from kefu.domain.actors import SYSTEM, Actor, Role
from kefu.domain.aftersales.model import CustomerLevel
from kefu.domain.clock import Clock
from kefu.domain.errors import PermissionDenied
from kefu.domain.orders import (
    DeliveryRecord,
    LineRecord,
    OrderRecord,
    Problem,
    SourceRecord,
    validate_order,
)
from kefu.services.uow import Database

DEFAULT_BATCH = 500
IMPORTERS = frozenset({Role.ADMIN, Role.SYSTEM})
#: Rows per multi-row INSERT … RETURNING. Each distinct row count is a distinct statement that
#: the driver prepares and caches; small pages keep those cached statements small, so memory
#: stays flat over a long import.
RETURNING_PAGE = 100
DEFAULT_MAX_ERRORS = 1000


@dataclass(frozen=True, slots=True)
class ImportFailure:
    """One reason a record did not land: its row, the order id if readable, field and message."""

    row: int
    order_id: str | None
    field: str
    zh: str
    en: str


@dataclass(slots=True)
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    #: the first ``max_errors`` failures (``failed`` counts them all)
    errors: list[ImportFailure] = field(default_factory=list)
    max_errors: int = DEFAULT_MAX_ERRORS

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def fail(self, source: SourceRecord, problems: Sequence[Problem]) -> None:
        self.failed += 1
        for problem in problems:
            if len(self.errors) >= self.max_errors:
                break
            self.errors.append(ImportFailure(source.row_of(problem.field), source.order_id,
                                             problem.field, problem.zh, problem.en))


Progress = Callable[[ImportReport], None]
_Item = tuple[SourceRecord, OrderRecord]


def import_orders(db: Database, records: Iterable[SourceRecord], clock: Clock, *,
                  actor: Actor = SYSTEM, progress: Progress | None = None,
                  batch_size: int = DEFAULT_BATCH, max_errors: int = DEFAULT_MAX_ERRORS) -> ImportReport:
    """Import order records idempotently (created / updated / unchanged / failed).

    Only an admin (or the system: the CLI, an integration) may import. ``records`` is consumed
    lazily, so a streamed file is never held in memory; ``progress`` is called with the outcomes
    so far after every ``batch_size`` records read and once at the end.
    """
    if actor.role not in IMPORTERS:
        raise PermissionDenied("not_allowed", "只有管理员可以导入订单。", "Only an admin may import orders.")
    report = ImportReport(max_errors=max_errors)
    batch: list[_Item] = []
    batch_ids: set[str] = set()

    def flush() -> None:
        if batch:
            _write_batch(db, list(batch), clock(), report)
            batch.clear()
            batch_ids.clear()

    for seen, source in enumerate(records, start=1):
        if source.problems:
            report.fail(source, source.problems)
        else:
            result = validate_order(source.data)
            if isinstance(result, list):
                report.fail(source, result)
            else:
                if result.id in batch_ids:
                    # the same order twice in a file: the earlier copy lands first, then this one
                    flush()
                batch.append((source, result))
                batch_ids.add(result.id)
                if len(batch) >= batch_size:
                    flush()
        if progress is not None and seen % batch_size == 0:
            progress(report)
    flush()
    if progress is not None:
        progress(report)
    return report


def _write_batch(db: Database, batch: list[_Item], now: datetime, report: ImportReport) -> None:
    """Write one batch in one transaction; if the database refuses it, retry order by order so
    that only the offending records fail."""
    try:
        with db.uow() as uow:
            outcome = _apply(uow.session, batch, now)
            uow.commit()
    except SQLAlchemyError as exc:
        if len(batch) > 1:
            for item in batch:
                _write_batch(db, [item], now, report)
            return
        source, _record = batch[0]
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
        report.fail(source, [Problem("", f"数据库拒绝写入：{reason}", f"the database refused the order: {reason}")])
        return
    report.created += outcome.created
    report.updated += outcome.updated
    report.unchanged += outcome.unchanged
    for source, problems in outcome.failures:
        report.fail(source, problems)


@dataclass(slots=True)
class _Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failures: list[tuple[SourceRecord, list[Problem]]] = field(default_factory=list)


def _apply(session: Session, batch: list[_Item], now: datetime) -> _Outcome:
    outcome = _Outcome()
    refused = _ensure_parties(session, batch, now)
    writable: list[_Item] = []
    for item in batch:
        problems = refused.get(item[1].id)
        if problems:
            outcome.failures.append((item[0], problems))
        else:
            writable.append(item)

    hashes = {item[1].id: item[1].content_hash() for item in writable}
    existing: dict[str, str] = {
        row.id: row.content_hash
        for row in session.execute(select(Order.id, Order.content_hash).where(Order.id.in_(list(hashes))))
    }
    new: list[OrderRecord] = []
    changed: list[OrderRecord] = []
    for _source, record in writable:
        known = existing.get(record.id)
        if known is None:
            new.append(record)
        elif known == hashes[record.id]:
            outcome.unchanged += 1
        else:
            changed.append(record)

    _insert_orders(session, new, hashes, now)
    outcome.created = len(new)
    if changed:
        loaded = get_orders(session, (record.id for record in changed))
        for record in changed:
            _update_order(loaded[record.id], record, hashes[record.id], now)
        session.flush()
    outcome.updated = len(changed)
    return outcome


def _ensure_parties(session: Session, batch: list[_Item], now: datetime) -> dict[str, list[Problem]]:
    """Create the batch's unknown customers and sellers; name the orders that cannot be written."""
    refused: dict[str, list[Problem]] = {}
    customer_ids = {record.customer.id for _s, record in batch}
    seller_ids = {record.seller.id for _s, record in batch}
    known_customers = set(session.scalars(select(Customer.id).where(Customer.id.in_(list(customer_ids)))))
    known_sellers = set(session.scalars(select(Seller.id).where(Seller.id.in_(list(seller_ids)))))

    new_customers: dict[str, dict[str, Any]] = {}
    new_sellers: dict[str, dict[str, Any]] = {}
    for _source, record in batch:
        customer, seller = record.customer, record.seller
        if customer.name and customer.id not in known_customers and customer.id not in new_customers:
            new_customers[customer.id] = {
                "id": customer.id, "name": customer.name, "phone": customer.phone,
                "email": customer.email, "level": (customer.level or CustomerLevel.REGULAR).value,
                "created_at": now}
        if seller.name and seller.type and seller.id not in known_sellers and seller.id not in new_sellers:
            new_sellers[seller.id] = {"id": seller.id, "name": seller.name,
                                      "type": seller.type.value, "created_at": now}
    for _source, record in batch:
        problems: list[Problem] = []
        cid, sid = record.customer.id, record.seller.id
        if cid not in known_customers and cid not in new_customers:
            problems.append(Problem(
                "customer", f"未知顾客 {cid}：需提供 customer.name 才能新建",
                f"unknown customer {cid}: give customer.name to create it"))
        if sid not in known_sellers and sid not in new_sellers:
            problems.append(Problem(
                "seller", f"未知商家 {sid}：需提供 seller.name 和 seller.type 才能新建",
                f"unknown seller {sid}: give seller.name and seller.type to create it"))
        if problems:
            refused[record.id] = problems
    if new_customers:
        session.execute(insert(_table(Customer)), list(new_customers.values()))
    if new_sellers:
        session.execute(insert(_table(Seller)), list(new_sellers.values()))
    return refused


def _table(model: type[Base]) -> Table:
    """The Core table of a model: Core inserts skip the ORM's per-row bookkeeping."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _order_values(record: OrderRecord) -> dict[str, Any]:
    return {"customer_id": record.customer.id, "seller_id": record.seller.id,
            "status": record.status.value, "paid_at": record.paid_at,
            "shipping_insurance": record.shipping_insurance, "total_paid": record.total_paid,
            "address": record.address}


def _line_values(line: LineRecord) -> dict[str, Any]:
    return {"sku": line.sku, "name": line.name, "category": line.category.value,
            "quantity": line.quantity, "unit_price": line.unit_price, "paid_amount": line.paid_amount,
            "warranty_days": line.warranty_days, "services": list(line.services),
            "price_protection_days": line.price_protection_days,
            "non_returnable_confirmed": line.non_returnable_confirmed}


def _delivery_values(delivery: DeliveryRecord) -> dict[str, Any]:
    return {"carrier": delivery.carrier.value, "carrier_name": delivery.carrier_name,
            "tracking_no": delivery.tracking_no, "status": delivery.status.value,
            "shipped_at": delivery.shipped_at, "signed_at": delivery.signed_at,
            "arrived_at": delivery.arrived_at}


def _insert_orders(session: Session, records: list[OrderRecord], hashes: dict[str, str],
                   now: datetime) -> None:
    """Insert new orders with set-based statements: a handful of round trips per batch; the
    generated ids of lines and deliveries are read back (RETURNING) to link gifts and events."""
    if not records:
        return
    session.execute(insert(_table(Order)), [
        {"id": r.id, **_order_values(r), "content_hash": hashes[r.id], "created_at": now,
         "updated_at": now} for r in records])

    line_rows = [{"order_id": r.id, "line_no": i, **_line_values(line)}
                 for r in records for i, line in enumerate(r.lines)]
    # RETURNING the natural key as well lets the database send rows back in any order, which
    # keeps the statements multi-row on every dialect
    line_ids = {(row.order_id, row.line_no): row.id for row in session.execute(
        insert(_table(OrderLine)).returning(OrderLine.id, OrderLine.order_id, OrderLine.line_no)
        .execution_options(insertmanyvalues_page_size=RETURNING_PAGE), line_rows)}
    gift_rows = [{"line_id": line_ids[(r.id, i)], "name": gift.name, "value": gift.value}
                 for r in records for i, line in enumerate(r.lines) for gift in line.gifts]
    if gift_rows:
        session.execute(insert(_table(OrderGift)), gift_rows)

    payment_rows = [{"order_id": r.id, "method": p.method, "amount": p.amount}
                    for r in records for p in r.payments]
    if payment_rows:
        session.execute(insert(_table(OrderPayment)), payment_rows)

    shipped = [(r.id, r.delivery) for r in records if r.delivery is not None]
    if shipped:
        delivery_ids = {row.order_id: row.id for row in session.execute(
            insert(_table(Delivery)).returning(Delivery.id, Delivery.order_id)
            .execution_options(insertmanyvalues_page_size=RETURNING_PAGE),
            [{"order_id": order_id, **_delivery_values(delivery)} for order_id, delivery in shipped])}
        event_rows = [{"delivery_id": delivery_ids[order_id], "at": e.at, "location": e.location,
                       "description": e.description}
                      for order_id, delivery in shipped for e in delivery.events]
        if event_rows:
            session.execute(insert(_table(TrackingEvent)), event_rows)


def _update_order(order: Order, record: OrderRecord, content_hash: str, now: datetime) -> None:
    """Bring a loaded order to ``record`` in place, keeping row ids where positions match."""
    for key, value in _order_values(record).items():
        setattr(order, key, value)
    order.content_hash = content_hash
    order.updated_at = now

    for i, line in enumerate(record.lines):
        if i < len(order.lines):
            row = order.lines[i]
            for key, value in _line_values(line).items():
                setattr(row, key, value)
        else:
            row = OrderLine(line_no=i, **_line_values(line))
            row.gifts = []
            order.lines.append(row)
        _sync_gifts(row, line)
    del order.lines[len(record.lines):]

    for i, payment in enumerate(record.payments):
        if i < len(order.payments):
            order.payments[i].method = payment.method
            order.payments[i].amount = payment.amount
        else:
            order.payments.append(OrderPayment(method=payment.method, amount=payment.amount))
    del order.payments[len(record.payments):]

    if record.delivery is None:
        order.delivery = None
        return
    if order.delivery is None:
        order.delivery = Delivery(**_delivery_values(record.delivery))
        order.delivery.events = []
    else:
        for key, value in _delivery_values(record.delivery).items():
            setattr(order.delivery, key, value)
    order.delivery.events = [TrackingEvent(at=e.at, location=e.location, description=e.description)
                             for e in record.delivery.events]


def _sync_gifts(row: OrderLine, line: LineRecord) -> None:
    for j, gift in enumerate(line.gifts):
        if j < len(row.gifts):
            row.gifts[j].name = gift.name
            row.gifts[j].value = gift.value
        else:
            row.gifts.append(OrderGift(name=gift.name, value=gift.value))
    del row.gifts[len(line.gifts):]
