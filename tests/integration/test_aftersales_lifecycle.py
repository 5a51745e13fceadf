"""The after-sales lifecycle through the service layer, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kefu.adapters.db.tables.aftersales import Application, ApplicationEvent, Refund
from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.adapters.notify.senders import MemorySender
from kefu.adapters.policy_files import load_policy_book
from kefu.config import PROJECT_ROOT
from kefu.domain.aftersales.lifecycle import Action, Status
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.services.aftersales import (
    ApplicationRequest,
    TransitionInput,
    get_application,
    list_review_queue,
    submit_application,
    sweep_seller_reviews,
    transition_application,
)
from kefu.services.notifications import list_inbox, relay_outbox
from kefu.services.uow import Database

from .factories import NOW, agent_actor, customer_actor, make_order, seed_parties, seller_actor

BOOK = load_policy_book(PROJECT_ROOT / "policies")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def seeded(db: Database) -> Database:
    seed_parties(db)
    return db


def submit(db: Database, clock: FixedClock, order_id: str, *, actor=None, **kw) -> Application:
    req = ApplicationRequest(order_id=order_id, line=kw.pop("line", 0),
                             type=kw.pop("type", RequestType.RETURN), reason=kw.pop("reason", Reason.NO_REASON),
                             quantity=kw.pop("quantity", 1), **kw)
    return submit_application(db, actor or customer_actor(), req, BOOK, clock)


def step(db, clock, number, action, actor=None, **details) -> Application:
    return transition_application(db, actor or agent_actor(), number, action, TransitionInput(**details), BOOK,
                                  clock)


def test_no_reason_return_runs_to_a_split_refund(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O1")
    app = submit(seeded, clock, "O1")
    assert (app.status, app.decision["rules"], app.refund_amount) == ("approved", ["N1"], Decimal("500.00"))
    assert app.due_kind == "collect" and app.due_at == NOW + timedelta(hours=48)
    me = customer_actor()
    step(seeded, clock, app.number, Action.SHIP_BACK, me, waybill="SF123456", carrier="顺丰")
    clock.advance(days=1)
    step(seeded, clock, app.number, Action.RECEIVE)
    step(seeded, clock, app.number, Action.INSPECT, passed=True, note="包装完好")
    done = step(seeded, clock, app.number, Action.REFUND)
    assert done.status == "refunded" and done.refunded_at == clock()
    step(seeded, clock, app.number, Action.COMPLETE)
    step(seeded, clock, app.number, Action.RATE, me, rating=5, note="很快")
    full = get_application(seeded, me, app.number)
    assert [r.amount for r in full.refunds] == [Decimal("400.00"), Decimal("100.00")]
    assert [r.method for r in full.refunds] == ["card", "balance"]
    assert [e.action for e in full.events] == ["submit", "ship_back", "receive", "inspect", "refund", "complete",
                                               "rate"]
    assert [e.to_status for e in full.events][-2:] == ["completed", "completed"]
    assert all(e.at is not None and e.actor_role for e in full.events)
    assert full.rating == 5
    with pytest.raises(Conflict) as err:
        step(seeded, clock, app.number, Action.RATE, me, rating=4)
    assert err.value.code == "illegal_transition"


def test_customer_messages_are_written_with_the_change_and_relayed(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O1")
    app = submit(seeded, clock, "O1")
    with seeded.read() as uow:
        rows = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {r.channel for r in rows} == {"inapp", "sms", "email"}
    assert all(app.number in r.body and r.status == "pending" for r in rows)
    sender = MemorySender(fail_times=1)
    assert relay_outbox(seeded, sender, clock) == 2           # the first send failed and waits
    assert relay_outbox(seeded, sender, clock) == 0           # not due yet: nothing twice
    clock.advance(minutes=5)
    assert relay_outbox(seeded, sender, clock) == 1
    assert len({m.id for m in sender.sent}) == 3
    inbox = list_inbox(seeded, "C1")
    assert len(inbox) == 1 and "已同意" in inbox[0].zh and inbox[0].link == f"/aftersales/{app.number}"


def test_a_relay_that_dies_mid_batch_leaves_messages_to_be_sent_again(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O1")
    submit(seeded, clock, "O1")

    class Dies:
        def send(self, message) -> None:
            raise SystemExit("the relay process is killed")

    with pytest.raises(SystemExit):
        relay_outbox(seeded, Dies(), clock)
    with seeded.read() as uow:
        assert {r.status for r in uow.session.scalars(select(OutboxMessage))} == {"sending"}
    sender = MemorySender()
    assert relay_outbox(seeded, sender, clock) == 0            # still leased to the dead relay
    clock.advance(minutes=3)
    assert relay_outbox(seeded, sender, clock) == 3
    with seeded.read() as uow:
        rows = uow.session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"} and all(r.attempts == 2 for r in rows)


def test_plus_customer_is_refunded_at_pickup(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O2", customer="C2", payments=(("card", "1000.00"),))
    me = customer_actor("C2", 102)
    app = submit(seeded, clock, "O2", actor=me, reason=Reason.QUALITY, evidence_ids=())
    assert app.status == "needs_info"                        # Q5: no photo yet
    with pytest.raises(InputError):
        step(seeded, clock, app.number, Action.ADD_EVIDENCE, me)
    from kefu.adapters.storage.files import MemoryStorage
    from kefu.services.evidence import upload_evidence

    png = _png()
    ev = upload_evidence(seeded, MemoryStorage(), me, "crack.png", png, "image/png", 10_000_000, clock)
    app = step(seeded, clock, app.number, Action.ADD_EVIDENCE, me, evidence_ids=(ev.id,))
    assert (app.status, app.decision["rules"]) == ("approved", ["Q1"]) and app.free_pickup
    step(seeded, clock, app.number, Action.SCHEDULE_PICKUP, me)
    picked = step(seeded, clock, app.number, Action.COLLECT)
    assert picked.refunded_at is not None
    step(seeded, clock, app.number, Action.RECEIVE)
    step(seeded, clock, app.number, Action.INSPECT, passed=True)
    with pytest.raises(Conflict):
        step(seeded, clock, app.number, Action.REFUND)       # already refunded at pickup
    assert step(seeded, clock, app.number, Action.COMPLETE).status == "completed"
    with seeded.read() as uow:
        assert uow.session.scalar(select(func.sum(Refund.amount))) == Decimal("500.00")


def test_exchange_and_repair_and_refund_only_paths(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O3")
    ex = submit(seeded, clock, "O3", type=RequestType.EXCHANGE)
    for action in (Action.SHIP_BACK, Action.RECEIVE, Action.INSPECT, Action.SHIP_REPLACEMENT, Action.COMPLETE):
        ex = step(seeded, clock, ex.number, action, waybill="YT1", passed=True)
    assert ex.status == "completed" and ex.replacement_waybill == "YT1" and ex.refunded_at is None

    make_order(seeded, "O4", quantity=1)
    rep = submit(seeded, clock, "O4", type=RequestType.REPAIR, reason=Reason.NO_REASON)
    assert rep.repair_charge == "free"
    for action in (Action.SHIP_BACK, Action.RECEIVE, Action.INSPECT, Action.RETURN_REPAIRED, Action.COMPLETE):
        rep = step(seeded, clock, rep.number, action, waybill="YT2", passed=True)
    assert rep.status == "completed"

    make_order(seeded, "O5", status="lost", quantity=1)
    ro = submit(seeded, clock, "O5", type=RequestType.REFUND_ONLY, reason=Reason.NOT_RECEIVED)
    assert (ro.status, ro.decision["rules"], ro.due_kind) == ("approved", ["F1"], "refund")
    with pytest.raises(Conflict):
        step(seeded, clock, ro.number, Action.SHIP_BACK, waybill="X")
    assert step(seeded, clock, ro.number, Action.REFUND).status == "refunded"


def test_manual_review_and_rejection_need_a_reason(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O6", quantity=1, paid="7999.00", payments=(("card", "7999.00"),))
    app = submit(seeded, clock, "O6", reason=Reason.QUALITY, evidence_ids=())
    assert app.status == "needs_info"
    make_order(seeded, "O7", quantity=1, signed_days_ago=2, status="in_transit")
    review = submit(seeded, clock, "O7")
    assert review.status == "manual_review" and review.due_kind == "review"
    with pytest.raises(PermissionDenied):
        step(seeded, clock, review.number, Action.APPROVE, customer_actor())
    with pytest.raises(InputError) as err:
        step(seeded, clock, review.number, Action.REJECT, note="  ")
    assert err.value.code == "note_required"
    assert step(seeded, clock, review.number, Action.APPROVE, note="已核实签收").status == "approved"


def test_seller_reviews_own_goods_and_the_sweep_approves_late_ones_once(seeded: Database, clock: FixedClock,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    make_order(seeded, "O8", seller="S3P")
    make_order(seeded, "O9", seller="S3P")
    a = submit(seeded, clock, "O8")
    b = submit(seeded, clock, "O9", reason=Reason.QUALITY, evidence_ids=())
    assert a.status == "seller_review" and a.due_at == NOW + timedelta(hours=24)
    assert b.status == "needs_info"
    with pytest.raises(NotFound):
        step(seeded, clock, a.number, Action.APPROVE, seller_actor("S3Q"))
    queue = list_review_queue(seeded, seller_actor("S3P"))
    assert [x.number for x in queue] == [a.number]
    assert list_review_queue(seeded, seller_actor("S3Q")) == []
    clock.advance(hours=23)
    writes: list[int] = []
    real_uow = seeded.uow

    def counted_uow():
        writes.append(1)
        return real_uow()

    monkeypatch.setattr(seeded, "uow", counted_uow)
    assert sweep_seller_reviews(seeded, BOOK, clock) == 0
    assert writes == []                                       # nothing due: no write transaction
    clock.advance(hours=2)
    assert sweep_seller_reviews(seeded, BOOK, clock) == 1
    assert sweep_seller_reviews(seeded, BOOK, clock) == 0
    assert writes == [1]
    full = get_application(seeded, agent_actor(), a.number)
    assert full.status == "approved" and full.events[-1].action == "auto_approve"
    assert full.events[-1].actor_role == "system"


def test_cancel_only_before_pickup(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O10")
    me = customer_actor()
    a = submit(seeded, clock, "O10")
    assert step(seeded, clock, a.number, Action.CANCEL, me).status == "cancelled"
    b = submit(seeded, clock, "O10", reason=Reason.WRONG_ITEM, evidence_ids=())
    assert b.status == "needs_info"
    make_order(seeded, "O11")
    c = submit(seeded, clock, "O11")
    step(seeded, clock, c.number, Action.SHIP_BACK, me, waybill="SF9")
    with pytest.raises(Conflict):
        step(seeded, clock, c.number, Action.CANCEL, me)
    with pytest.raises(NotFound):
        step(seeded, clock, c.number, Action.CANCEL, customer_actor("C2", 102))


def test_units_cannot_be_claimed_twice(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O12", quantity=2)
    submit(seeded, clock, "O12", quantity=2)
    with pytest.raises(Conflict) as err:
        submit(seeded, clock, "O12", quantity=1)
    assert err.value.code == "quantity_already_claimed"
    with pytest.raises(InputError) as bad:
        submit(seeded, clock, "O12", line=3)
    assert bad.value.code == "line_out_of_range"
    with seeded.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Application)) == 1


def test_customers_cannot_declare_damage_or_touch_other_orders(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O13")
    with pytest.raises(PermissionDenied):
        submit(seeded, clock, "O13", damage=frozenset({"liquid"}))
    with pytest.raises(NotFound):
        submit(seeded, clock, "O13", actor=customer_actor("C2", 102))
    app = submit(seeded, clock, "O13", actor=agent_actor(), damage=frozenset({"liquid"}))
    assert app.status == "rejected" and app.decision["rules"] == ["X2"]


def test_two_concurrent_refunds_make_exactly_one(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O14")
    app = submit(seeded, clock, "O14")
    for action in (Action.SHIP_BACK, Action.RECEIVE, Action.INSPECT):
        step(seeded, clock, app.number, action, waybill="SF1", passed=True)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refund() -> None:
        barrier.wait()
        try:
            step(seeded, clock, app.number, Action.REFUND)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=refund) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["illegal_transition", "ok"]
    with seeded.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Refund)) == 2      # card + balance, once
        assert uow.session.scalar(select(func.sum(Refund.amount))) == Decimal("500.00")
        refunds = uow.session.scalar(select(func.count()).select_from(ApplicationEvent)
                                     .where(ApplicationEvent.action == "refund"))
        assert refunds == 1


def test_due_times_follow_the_lifecycle(seeded: Database, clock: FixedClock) -> None:
    make_order(seeded, "O15", category="fresh_food")
    app = submit(seeded, clock, "O15", reason=Reason.QUALITY, evidence_ids=())
    assert app.status == "needs_info" and app.due_at is None
    make_order(seeded, "O16")
    app = submit(seeded, clock, "O16")
    step(seeded, clock, app.number, Action.SHIP_BACK, customer_actor(), waybill="SF2")
    received = step(seeded, clock, app.number, Action.RECEIVE)
    assert (received.due_kind, received.due_at) == ("inspect", NOW + timedelta(hours=48))
    inspected = step(seeded, clock, app.number, Action.INSPECT, passed=True)
    assert (inspected.due_kind, inspected.due_at) == ("refund", NOW + timedelta(days=7))
    assert Status(step(seeded, clock, app.number, Action.REFUND).status) is Status.REFUNDED


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, format="PNG")
    return buf.getvalue()


def test_a_seller_lists_only_a_customers_applications_on_their_own_goods(seeded, clock):
    from kefu.services.aftersales import list_customer_applications

    make_order(seeded, "O-MINE", seller="S3P")
    make_order(seeded, "O-OTHER", seller="S3Q")
    mine, other = submit(seeded, clock, "O-MINE"), submit(seeded, clock, "O-OTHER")
    got = [a.number for a in list_customer_applications(seeded, seller_actor("S3P"), "C1")]
    assert got == [mine.number]
    assert {a.number for a in list_customer_applications(seeded, agent_actor(), "C1")} == {mine.number, other.number}
