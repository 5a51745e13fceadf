"""Order import against SQLite and PostgreSQL: idempotency, in-place updates, bad rows, CLI."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from kefu.adapters.db import catalog_repository as repo
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
from kefu.adapters.order_files import CSV_COLUMNS
from kefu.cli import app as cli
from kefu.domain.clock import FixedClock
from kefu.domain.orders import OrderRecord, SourceRecord
from kefu.services import orders_import
from kefu.services.orders_import import ImportReport, import_orders
from kefu.services.uow import Database

from ..unit.import_builders import line, order, second_line

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
TABLES = (Customer, Seller, Order, OrderLine, OrderGift, OrderPayment, Delivery, TrackingEvent)


def sources(*raws: Any) -> Iterator[SourceRecord]:
    return (SourceRecord(i + 1, raw) for i, raw in enumerate(raws))


def counts(db: Database) -> dict[str, int]:
    with db.read() as uow:
        return {t.__tablename__: int(uow.session.scalar(select(func.count()).select_from(t)) or 0)
                for t in TABLES}


@contextmanager
def writes(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def three_orders() -> list[dict[str, Any]]:
    return [
        order("O1"),
        order("O2", customer={"id": "C00002", "name": "李四", "level": "regular"}, delivery=None,
              status="paid"),
        order("O3", seller={"id": "S0101", "name": "优衣库官方旗舰店", "type": "third_party"},
              lines=[second_line()], payments=[{"method": "alipay", "amount": "378.10"}]),
    ]


def test_new_orders_are_created_with_their_customers_and_sellers(db: Database) -> None:
    report = import_orders(db, sources(*three_orders()), FixedClock(T0))
    assert (report.created, report.updated, report.unchanged, report.failed) == (3, 0, 0, 0)
    assert report.ok and report.errors == []
    assert counts(db) == {"customers": 2, "sellers": 2, "orders": 3, "order_lines": 5, "order_gifts": 2,
                          "payments": 5, "deliveries": 2, "tracking_events": 4}
    with db.read() as uow:
        customer = repo.get_customer(uow.session, "C00001")
        assert customer is not None and customer.level == "plus" and customer.phone == "13800001234"
        assert customer.created_at == T0
        seller = repo.get_seller(uow.session, "S0101")
        assert seller is not None and seller.type == "third_party"


def test_importing_the_same_orders_twice_touches_nothing(db: Database) -> None:
    import_orders(db, sources(*three_orders()), FixedClock(T0))
    with db.read() as uow:
        before = {o.id: (o.updated_at, [ln.id for ln in o.lines])
                  for o in repo.get_orders(uow.session, ["O1", "O2", "O3"]).values()}
    rows_before = counts(db)

    with writes(db) as statements:
        report = import_orders(db, sources(*three_orders()), FixedClock(datetime(2024, 7, 1, tzinfo=UTC)))
    assert (report.created, report.updated, report.unchanged, report.failed) == (0, 0, 3, 0)
    assert statements == []
    assert counts(db) == rows_before
    with db.read() as uow:
        after = {o.id: (o.updated_at, [ln.id for ln in o.lines])
                 for o in repo.get_orders(uow.session, ["O1", "O2", "O3"]).values()}
    assert after == before


def test_changed_content_updates_the_order_in_place(db: Database) -> None:
    import_orders(db, sources(order("O1")), FixedClock(T0))
    with db.read() as uow:
        original = repo.get_order(uow.session, "O1")
        assert original is not None
        line_ids = [ln.id for ln in original.lines]
        delivery_id = original.delivery.id if original.delivery else None

    changed = order("O1", status="completed",
                    lines=[line(gifts=[]), second_line(quantity=1, paid_amount="199.00"),
                           line(sku="100013248921", name="《三体》全集", category="book", unit_price="93.00",
                                paid_amount="93.00", services=[], gifts=[])],
                    payments=[{"method": "card", "amount": "7091.00"}])
    changed["delivery"]["events"] = [{"at": "2024-05-03T15:30:00+08:00", "description": "已签收"}]
    later = datetime(2024, 6, 2, tzinfo=UTC)
    report = import_orders(db, sources(changed), FixedClock(later))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)

    with db.read() as uow:
        updated = repo.get_order(uow.session, "O1")
        assert updated is not None
        assert updated.status == "completed" and updated.total_paid == Decimal("7091.00")
        assert updated.created_at == T0 and updated.updated_at == later
        # lines keep their ids by position, so references from after-sales stay valid
        assert [ln.id for ln in updated.lines][:2] == line_ids
        assert [(ln.line_no, ln.sku, ln.quantity) for ln in updated.lines] == [
            (0, "100012043978", 1), (1, "100009464799", 1), (2, "100013248921", 1)]
        assert updated.lines[0].gifts == []
        assert [(p.method, p.amount) for p in updated.payments] == [("card", Decimal("7091.00"))]
        assert updated.delivery is not None and updated.delivery.id == delivery_id
        assert [e.description for e in updated.delivery.events] == ["已签收"]
    assert counts(db)["order_gifts"] == 0 and counts(db)["tracking_events"] == 1

    # and back to two lines, no delivery: the third line and the delivery go away
    report = import_orders(db, sources(order("O1", delivery=None, status="paid")), FixedClock(later))
    assert report.updated == 1
    with db.read() as uow:
        reverted = repo.get_order(uow.session, "O1")
        assert reverted is not None
        assert [ln.id for ln in reverted.lines] == line_ids and reverted.delivery is None
    assert counts(db)["tracking_events"] == 0 and counts(db)["order_lines"] == 2


def test_bad_records_are_reported_with_their_row_and_good_ones_land(db: Database) -> None:
    raws = [order("O1"), order("O2", status="lost"), ["not", "an", "order"],
            order("O4", lines=[line(quantity=-1)], payments=[{"method": "card", "amount": "6799.00"}]),
            order("O5")]
    report = import_orders(db, sources(*raws), FixedClock(T0))
    assert (report.created, report.failed) == (2, 3)
    assert not report.ok
    assert [(e.row, e.order_id, e.field) for e in report.errors] == [
        (2, "O2", "status"), (3, None, ""), (4, "O4", "lines[0].quantity")]
    assert "unknown value 'lost'" in report.errors[0].en and report.errors[0].zh
    with db.read() as uow:
        assert set(uow.session.scalars(select(Order.id))) == {"O1", "O5"}


def test_an_unknown_customer_without_details_is_refused_and_existing_ones_are_not_changed(
        db: Database) -> None:
    import_orders(db, sources(order("O1")), FixedClock(T0))
    anonymous = {k: v for k, v in order("O2").items() if k != "customer"} | {"customer_id": "C404"}
    unknown_seller = order("O3", seller={"id": "S404", "name": "某店"})
    renamed = order("O4", customer={"id": "C00001", "name": "改名", "level": "regular"})
    report = import_orders(db, sources(anonymous, unknown_seller, renamed), FixedClock(T0))
    assert (report.created, report.failed) == (1, 2)
    assert [(e.row, e.field) for e in report.errors] == [(1, "customer"), (2, "seller")]
    assert "unknown customer C404" in report.errors[0].en
    with db.read() as uow:
        customer = repo.get_customer(uow.session, "C00001")
        assert customer is not None and (customer.name, customer.level) == ("张三", "plus")
        assert repo.get_customer(uow.session, "C404") is None


def test_a_record_the_database_refuses_fails_alone(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    real = orders_import.validate_order

    def sneak_past_validation(raw: object) -> Any:
        result = real(raw)
        if isinstance(result, OrderRecord) and result.id == "O2":
            # quantity 0 cannot come out of validation; the CHECK constraint is the last guard
            return dataclasses.replace(result, lines=(dataclasses.replace(result.lines[0], quantity=0),
                                                      *result.lines[1:]))
        return result

    monkeypatch.setattr(orders_import, "validate_order", sneak_past_validation)
    report = import_orders(db, sources(order("O1"), order("O2"), order("O3")), FixedClock(T0))
    assert (report.created, report.failed) == (2, 1)
    assert report.errors[0].row == 2 and "database refused" in report.errors[0].en
    with db.read() as uow:
        assert set(uow.session.scalars(select(Order.id))) == {"O1", "O3"}


def test_batches_commit_separately_and_report_progress(db: Database) -> None:
    seen: list[int] = []
    raws = [order(f"O{n}") for n in range(7)] + [order("O3", status="completed"), order("bad id")]
    report = import_orders(db, sources(*raws), FixedClock(T0), batch_size=3,
                           progress=lambda r: seen.append(r.processed))
    # the same id twice in a file: the later copy wins, as it would in two imports
    assert (report.created, report.updated, report.failed) == (7, 1, 1)
    # called every 3 records read with the outcomes so far (the open batch not yet counted)
    assert seen == [3, 6, 7, 9]
    with db.read() as uow:
        assert uow.session.scalar(select(Order.status).where(Order.id == "O3")) == "completed"


def test_the_error_list_is_capped_but_failures_are_all_counted(db: Database) -> None:
    report = import_orders(db, sources(*[order(f"O{n}", status="x") for n in range(5)]), FixedClock(T0),
                           max_errors=2)
    assert report.failed == 5 and len(report.errors) == 2
    assert isinstance(report, ImportReport) and report.processed == 5


# --------------------------------------------------------------------------- CLI


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def csv_rows(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The CSV rows of a builder order (delivery events left out)."""
    delivery = raw.get("delivery") or {}
    head = {"order_id": raw["id"], "customer_id": raw["customer"]["id"],
            "customer_name": raw["customer"]["name"], "customer_level": raw["customer"].get("level", ""),
            "seller_id": raw["seller"]["id"], "seller_name": raw["seller"]["name"],
            "seller_type": raw["seller"]["type"], "status": raw["status"], "paid_at": raw["paid_at"],
            "shipping_insurance": str(raw["shipping_insurance"]).lower(), "address": raw["address"],
            "payments": ";".join(f"{p['method']}:{p['amount']}" for p in raw["payments"]),
            "carrier": delivery.get("carrier", ""), "delivery_status": delivery.get("status", ""),
            "signed_at": delivery.get("signed_at", "")}
    return [{**head, **{k: v for k, v in ln.items() if k not in ("gifts", "services")},
             "services": "|".join(ln["services"]),
             "gifts": ";".join(f"{g['name']}:{g['value']}" for g in ln["gifts"])} for ln in raw["lines"]]


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["import", "orders", *args])


def test_cli_imports_csv_reports_bad_rows_and_exits_1(db_url: str, tmp_path: Path) -> None:
    bad = order("O2")
    bad["lines"][1]["quantity"] = 0
    path = tmp_path / "orders.csv"
    write_csv(path, csv_rows(order("O1")) + csv_rows(bad) + csv_rows(order("O3")))

    result = run(str(path), "--database-url", db_url)
    assert result.exit_code == 1, result.output
    assert "created 2, updated 0, unchanged 0, failed 1" in result.output
    assert "row 5 · O2 · lines[1].quantity" in result.output

    fixed = tmp_path / "fixed.csv"
    write_csv(fixed, csv_rows(order("O1")) + csv_rows(order("O2")) + csv_rows(order("O3")))
    result = run(str(fixed), "--database-url", db_url)
    assert result.exit_code == 0, result.output
    assert "created 1, updated 0, unchanged 2, failed 0" in result.output


@pytest.mark.parametrize("kind", ["json", "wrapped", "jsonl"])
def test_cli_imports_json_formats_twice_idempotently(db_url: str, tmp_path: Path, kind: str) -> None:
    raws = three_orders()
    if kind == "jsonl":
        path = tmp_path / "orders.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in raws), encoding="utf-8")
    else:
        path = tmp_path / "orders.json"
        body: Any = raws if kind == "json" else {"orders": raws}
        path.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")

    first = run(str(path), "--database-url", db_url, "--batch-size", "2")
    assert first.exit_code == 0, first.output
    assert "3 orders" in first.output and "created 3" in first.output
    second = run(str(path), "--database-url", db_url)
    assert second.exit_code == 0 and "created 0, updated 0, unchanged 3, failed 0" in second.output


def test_cli_migrates_a_new_sqlite_database_and_refuses_unknown_formats(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text(json.dumps([order("O1")]), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'new' / 'kefu.db'}"
    result = run(str(path), "--database-url", url)
    assert result.exit_code == 0 and "created 1" in result.output
    assert run(str(path), "--database-url", url, "--format", "xml").exit_code == 2
    blob = tmp_path / "orders.bin"
    blob.write_bytes(io.BytesIO(b"\x00\x01").getvalue())
    assert run(str(blob), "--database-url", url).exit_code == 2
