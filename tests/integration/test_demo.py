"""The demo data set: loads on SQLite and PostgreSQL, covers every status, and loads only once."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.adapters.db.tables.aftersales import Application, EvidenceFile
from kefu.adapters.db.tables.catalog import Delivery, Order, OrderLine, OrderPayment, TrackingEvent
from kefu.adapters.policy_files import load_policy_book
from kefu.adapters.storage.files import LocalFolderStorage
from kefu.config import PROJECT_ROOT
from kefu.domain.aftersales.lifecycle import Action, Status
from kefu.domain.clock import FixedClock
from kefu.services.accounts import authenticate
from kefu.services.aftersales import TransitionInput, list_review_queue, transition_application
from kefu.services.demo import ACCOUNTS, DEMO_CUSTOMER, DEMO_PASSWORD, load_demo, summarize
from kefu.services.uow import Database

from .factories import NOW

BOOK = load_policy_book(PROJECT_ROOT / "policies")


def _load(db: Database, tmp_path: Path, scale: float) -> None:
    load_demo(db, LocalFolderStorage(tmp_path / "uploads"), BOOK, clock=FixedClock(NOW), scale=scale)


def test_full_demo_on_sqlite(sqlite_db: Database, tmp_path: Path) -> None:
    _load(sqlite_db, tmp_path, 1.0)
    summary = summarize(sqlite_db, loaded=True)
    assert summary.customers == 200 and summary.orders == 2000 and summary.products >= 40
    assert set(summary.statuses) == {s.value for s in Status}
    with sqlite_db.read() as uow:
        s = uow.session
        # every order's lines and payments add up to what was paid
        paid: dict[str, Decimal] = defaultdict(Decimal)
        for order_id, amount in s.execute(select(OrderLine.order_id, OrderLine.paid_amount)):
            paid[order_id] += amount
        payments: dict[str, Decimal] = defaultdict(Decimal)
        for order_id, amount in s.execute(select(OrderPayment.order_id, OrderPayment.amount)):
            payments[order_id] += amount
        totals = {order_id: total for order_id, total in s.execute(select(Order.id, Order.total_paid))}
        assert paid == totals == payments
        first = s.scalar(select(func.min(Order.paid_at)))
        assert first is not None and first >= NOW - timedelta(days=61)
        assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "lost"))
        # tracking never reports the future
        assert s.scalar(select(func.max(TrackingEvent.at))) <= NOW


@pytest.mark.parametrize("scale", [0.1])
def test_demo_on_both_databases(db: Database, tmp_path: Path, scale: float) -> None:
    _load(db, tmp_path, scale)
    summary = summarize(db, loaded=True)
    assert summary.customers == 20 and summary.orders >= 100
    assert set(summary.statuses) == {s.value for s in Status}
    for acc in ACCOUNTS:
        actor = authenticate(db, acc.username, DEMO_PASSWORD)
        assert actor.role.value == acc.role

    # the demo customer can try a no-reason return at once: signed in the last 5 days, untouched
    with db.read() as uow:
        s = uow.session
        applied = select(Application.order_id)
        recent = s.scalar(select(func.count()).select_from(Order).join(Delivery).where(
            Order.customer_id == DEMO_CUSTOMER, Delivery.status == "signed",
            Delivery.signed_at >= NOW - timedelta(days=5), Order.id.not_in(applied)))
        assert recent is not None and recent >= 3
        assert s.scalar(select(func.count()).select_from(EvidenceFile)) > 0

    # the agent takes the customer's laptop fault return from manual review to a refund
    agent = authenticate(db, "agent", DEMO_PASSWORD)
    queue = list_review_queue(db, agent, statuses=(Status.MANUAL_REVIEW,))
    laptop = next(a for a in queue if a.customer_id == DEMO_CUSTOMER and a.category == "laptop")
    overdue = [a for a in queue if a.due_at is not None and a.due_at < NOW]
    assert overdue
    clock = FixedClock(NOW)
    steps = [(Action.APPROVE, TransitionInput(note="照片显示屏幕故障")),
             (Action.SHIP_BACK, TransitionInput(waybill="SF1234567890", carrier="顺丰速运")),
             (Action.RECEIVE, TransitionInput()), (Action.INSPECT, TransitionInput(passed=True)),
             (Action.REFUND, TransitionInput())]
    for action, details in steps:
        app = transition_application(db, agent, laptop.number, action, details, BOOK, clock)
    assert app.status == "refunded" and app.refund_amount is not None and app.refund_amount > 5000

    seller = authenticate(db, "seller", DEMO_PASSWORD)
    assert list_review_queue(db, seller, statuses=(Status.SELLER_REVIEW,))


def test_if_empty_twice_changes_nothing(sqlite_url: str) -> None:
    from kefu.cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--if-empty", "--database-url", sqlite_url, "--scale", "0.1"])
    assert first.exit_code == 0, first.output
    assert "customer" in first.output and DEMO_PASSWORD in first.output
    db = Database.from_url(sqlite_url)
    try:
        before = summarize(db, loaded=True)
        second = runner.invoke(app, ["demo", "--if-empty", "--database-url", sqlite_url])
        assert second.exit_code == 0, second.output
        assert "nothing changed" in second.output and "agent" in second.output
        assert summarize(db, loaded=True) == before
        third = runner.invoke(app, ["demo", "--database-url", sqlite_url])
        assert third.exit_code == 1
    finally:
        db.dispose()


def test_the_service_desk_demo_shows_every_kind_of_ticket(db: Database, tmp_path: Path) -> None:
    from kefu.adapters.db.tables.service_desk import SatisfactionSurvey, Ticket
    from kefu.services.demo_desk import desk_demo_loaded, load_desk_demo
    from tests.integration.desk_factories import RULES

    _load(db, tmp_path, 0.1)
    assert not desk_demo_loaded(db)
    made = load_desk_demo(db, RULES, clock=FixedClock(NOW))
    assert desk_demo_loaded(db)
    with db.read() as uow:
        s = uow.session
        kinds = set(s.execute(select(Ticket.kind, Ticket.status)).all())
        assert s.scalar(select(func.count()).select_from(Ticket)) == made
        assert {("complaint", "processing"), ("complaint", "new"), ("consultation", "resolved"),
                ("consultation", "closed")} <= kinds
        assert s.scalar(select(func.count()).select_from(SatisfactionSurvey)
                        .where(SatisfactionSurvey.answered_at.is_not(None))) >= 10
        named = s.scalars(select(Ticket).where(Ticket.named_employee_no == "KF0002")).one()
        supervisor = authenticate(db, "supervisor", DEMO_PASSWORD)
        assert named.assignee_id == supervisor.user_id
