"""The outbox relay at volume: the longest-waiting messages first, through ``ix_outbox_due`` (which
holds only the messages still to deliver), each outcome recorded — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text

from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.domain.clock import FixedClock
from kefu.services.notifications import _INSERT_MESSAGE, _RELAY, relay_outbox
from kefu.services.ports import OutgoingMessage
from kefu.services.uow import Database

from .factories import NOW


def _queue(db: Database, count: int, *, minutes_ago: int = 0) -> None:
    at = NOW - timedelta(minutes=minutes_ago)
    with db.write_connection() as conn:
        conn.execute(_INSERT_MESSAGE, [
            {"created_at": at, "channel": "email", "event": "ticket_opened", "customer_id": None,
             "recipient": f"c{i}@example.cn", "subject": f"工单 {minutes_ago}-{i}", "body": "已受理", "link": None,
             "data": {"en": "received"}, "status": "pending", "attempts": 0, "available_at": at, "read": False}
            for i in range(count)])


class FailsFor:
    """Refuses the messages whose subject ends with one of ``endings``; keeps the others."""

    def __init__(self, *endings: str) -> None:
        self.endings, self.sent = endings, []

    def send(self, message: OutgoingMessage) -> None:
        if message.subject.endswith(self.endings):
            raise ConnectionError("mail server said no")
        self.sent.append(message.subject)


def test_the_longest_waiting_go_first_and_every_outcome_is_recorded(db: Database) -> None:
    _queue(db, 5)
    _queue(db, 3, minutes_ago=10)                         # older: these are due first
    clock = FixedClock(NOW)
    sender = FailsFor("-1")
    assert relay_outbox(db, sender, clock, batch=4) == 3            # the 3 older ones and the first newer one
    assert sender.sent == ["工单 0-0", "工单 10-0", "工单 10-2"]      # sent in the order they were written
    assert relay_outbox(db, sender, clock, batch=100) == 3          # the rest; the failed ones wait
    with db.read() as uow:
        rows = {r.subject: r for r in uow.session.scalars(select(OutboxMessage))}
    failed = {k for k, r in rows.items() if r.status == "pending"}
    assert failed == {"工单 10-1", "工单 0-1"}
    assert all(rows[k].last_error == "ConnectionError: mail server said no" and rows[k].attempts == 1 and
               rows[k].available_at == NOW + timedelta(seconds=30) for k in failed)
    assert all(r.status == "sent" and r.sent_at == NOW and r.attempts == 1 for k, r in rows.items() if k not in failed)
    assert relay_outbox(db, sender, clock) == 0                     # not due before their retry time
    clock.advance(seconds=30)
    assert relay_outbox(db, FailsFor(), clock) == 2


def test_the_relay_reads_the_due_index_which_holds_only_undelivered_messages(db: Database) -> None:
    if not db.is_sqlite:
        return
    _queue(db, 4)
    relay_outbox(db, FailsFor("-3"), FixedClock(NOW))
    with db.read_connection() as conn:
        claim = _RELAY.of(conn)["claim"]
        params = [{"now": NOW.isoformat(), "batch": 10, "lease_until": NOW.isoformat(), **claim.defaults}[name]
                  for name in claim.names]
        plan = " ".join(str(row[3]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + claim.sql, tuple(params)))
        assert "USING INDEX ix_outbox_due" in plan and "TEMP B-TREE" not in plan
        in_index = conn.execute(text("SELECT count(*) FROM outbox_messages INDEXED BY ix_outbox_due "
                                     "WHERE status IN ('pending', 'sending') AND available_at > ''")).scalar()
    assert in_index == 1                                            # only the one that failed
