"""Group commit of after-sales submissions (``write_submissions``): a batch is one transaction,
yet every draft is checked against what the batch wrote before it and fails alone."""

from __future__ import annotations

import asyncio
import io
from functools import partial

import pytest
from PIL import Image
from sqlalchemy import func, select

from kefu.adapters.db.tables.aftersales import Application, ApplicationEvent, EvidenceFile
from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.adapters.policy_files import load_policy_book
from kefu.adapters.storage.files import MemoryStorage
from kefu.config import PROJECT_ROOT
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict, PermissionDenied
from kefu.services import aftersales as svc
from kefu.services.evidence import upload_evidence
from kefu.services.uow import Database
from kefu.web.group_commit import group_commit

from .factories import NOW, customer_actor, make_order, seed_parties

BOOK = load_policy_book(PROJECT_ROOT / "policies")
CLOCK = FixedClock(NOW)


@pytest.fixture
def seeded(db: Database) -> Database:
    seed_parties(db)
    return db


def _draft(db: Database, order_id: str, *, actor=None, quantity: int = 1, evidence: tuple[int, ...] = (),
           reason: Reason = Reason.NO_REASON) -> svc.SubmissionDraft:
    req = svc.ApplicationRequest(order_id=order_id, line=0, type=RequestType.RETURN, reason=reason,
                                 quantity=quantity, evidence_ids=evidence)
    return svc.prepare_submission(db, actor or customer_actor(), req, BOOK, CLOCK)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buf, format="PNG")
    return buf.getvalue()


def _count(db: Database, table: type) -> int:
    with db.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_batch_checks_each_draft_against_the_ones_before_it(seeded: Database) -> None:
    make_order(seeded, "B1", quantity=2)
    make_order(seeded, "B2", quantity=1)
    make_order(seeded, "B3", quantity=1)
    mine = upload_evidence(seeded, MemoryStorage(), customer_actor(), "a.png", _png(), "image/png", 10**7, CLOCK)
    theirs = upload_evidence(seeded, MemoryStorage(), customer_actor("C2", 102), "b.png", _png(), "image/png",
                             10**7, CLOCK)
    drafts = [
        _draft(seeded, "B1", quantity=2),
        _draft(seeded, "B1", quantity=1),                 # the units the first draft just claimed
        _draft(seeded, "B2", evidence=(theirs.id,), reason=Reason.QUALITY),
        _draft(seeded, "B3", evidence=(mine.id,), reason=Reason.QUALITY),
    ]
    first, claimed, not_mine, with_photo = svc.write_submissions(seeded, drafts)

    assert isinstance(first, Application) and first.status == "approved" and first.quantity == 2
    assert isinstance(claimed, Conflict) and claimed.code == "quantity_already_claimed"
    assert isinstance(not_mine, PermissionDenied) and not_mine.code == "evidence_not_yours"
    assert isinstance(with_photo, Application) and with_photo.facts["evidence"] == [f"evidence:{mine.id}"]
    assert first.number.startswith("AS") and first.number != with_photo.number
    # exactly what the two accepted drafts wrote: their rows, their history, their messages
    assert _count(seeded, Application) == 2
    assert _count(seeded, ApplicationEvent) == 2
    with seeded.read() as uow:
        s = uow.session
        assert set(s.scalars(select(Application.number))) == {first.number, with_photo.number}
        rows = s.execute(select(EvidenceFile.id, EvidenceFile.application_id))
        attached = {row.id: row.application_id for row in rows}
        assert attached == {mine.id: with_photo.id, theirs.id: None}
        links = set(s.scalars(select(OutboxMessage.link)))
        assert links == {f"/aftersales/{first.number}", f"/aftersales/{with_photo.number}"}


def test_a_write_that_fails_rolls_the_batch_back_and_only_that_draft_fails(seeded: Database, monkeypatch) -> None:
    for order_id in ("W1", "W2", "W3"):
        make_order(seeded, order_id, quantity=1)
    drafts = [_draft(seeded, order_id) for order_id in ("W1", "W2", "W3")]
    write = svc._write_submission
    attempts: list[str] = []

    def failing_on_w2(conn, draft, *checked):
        attempts.append(draft.req.order_id)
        app = write(conn, draft, *checked)
        if draft.req.order_id == "W2":
            raise RuntimeError("disk full")               # after W2's rows went into the transaction
        return app

    monkeypatch.setattr(svc, "_write_submission", failing_on_w2)
    results = svc.write_submissions(seeded, drafts)

    assert attempts == ["W1", "W2", "W1", "W2", "W3"]       # the batch, then one transaction each
    assert isinstance(results[1], RuntimeError)
    assert [r.order_id for r in (results[0], results[2])] == ["W1", "W3"]  # type: ignore[union-attr]
    with seeded.read() as uow:
        assert sorted(uow.session.scalars(select(Application.order_id))) == ["W1", "W3"]
    assert _count(seeded, ApplicationEvent) == 2


def test_a_lone_submission_raises_its_own_error(seeded: Database) -> None:
    make_order(seeded, "L1", quantity=1)
    svc.submit_application(seeded, customer_actor(), svc.ApplicationRequest(
        order_id="L1", line=0, type=RequestType.RETURN, reason=Reason.NO_REASON), BOOK, CLOCK)
    with pytest.raises(Conflict):
        svc.submit_application(seeded, customer_actor(), svc.ApplicationRequest(
            order_id="L1", line=0, type=RequestType.RETURN, reason=Reason.NO_REASON), BOOK, CLOCK)
    assert _count(seeded, Application) == 1


def test_submissions_in_flight_together_share_one_transaction(seeded: Database, monkeypatch) -> None:
    for i in range(6):
        make_order(seeded, f"G{i}", quantity=1)
    batches: list[int] = []
    write = svc.write_submissions

    def recording(database, drafts):
        batches.append(len(drafts))
        return write(database, drafts)

    prepare = [partial(_draft, seeded, f"G{i}") for i in range(6)]
    prepare.append(partial(_draft, seeded, "G0"))            # the seventh claims G0's only unit again

    async def submit_all() -> list[object]:
        queue = group_commit(seeded, "submissions-test", partial(recording, seeded))
        return await asyncio.gather(*(queue.run(p) for p in prepare), return_exceptions=True)

    results = asyncio.run(submit_all())
    assert sum(batches) == 7 and len(batches) < 7           # written in fewer transactions than requests
    assert all(isinstance(r, Application) for r in results[:6])
    assert isinstance(results[6], Conflict)
    assert _count(seeded, Application) == 6
