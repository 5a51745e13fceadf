"""The after-sales API over real HTTP handling (TestClient): bad input gets a clear 4xx and writes nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from kefu.adapters.db.tables.aftersales import Application, EvidenceFile
from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.adapters.storage.files import MemoryStorage
from kefu.config import Settings
from kefu.domain.actors import Role
from kefu.domain.clock import FixedClock
from kefu.services import accounts
from kefu.services.uow import Database
from kefu.web.app import create_app
from kefu.web.runtime import Runtime

from .factories import NOW, make_order, seed_parties

CASES = Path(__file__).resolve().parents[3] / "shared" / "cases" / "aftersales"


@pytest.fixture
def api(db: Database, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], Database]]:
    seed_parties(db)
    make_order(db, "O1")
    settings = Settings(database_url=db.url, storage_dir=tmp_path / "up", outbox_file=tmp_path / "out.log",
                        max_upload_bytes=2 * 1024 * 1024, background_jobs=False)
    app = create_app(settings, db=db)
    runtime = Runtime.from_settings(settings)
    runtime.clock = FixedClock(NOW)
    runtime.storage = MemoryStorage()
    app.state.runtime = runtime
    user = accounts.create_user(db, username="zhangsan", password="pw-123456", role=Role.CUSTOMER,
                                customer_id="C1")
    actor = accounts.authenticate(db, "zhangsan", "pw-123456")
    token = accounts.issue_api_token(db, actor, "test")
    assert user.username == "zhangsan"
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}, db


def count(db: Database, table: type) -> int:
    with db.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def good_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {"order_id": "O1", "line": 0, "type": "return", "reason": "no_reason", "quantity": 1}
    body.update(changes)
    return body


def test_evaluate_speaks_the_case_format(api) -> None:
    client, _, _ = api
    raw = (CASES / "pub-001.json").read_bytes()
    res = client.post("/api/v1/aftersales/evaluate", content=raw, headers={"content-type": "application/json"})
    assert res.status_code == 200
    got = res.json()
    assert got["id"] == "pub-001" and got["outcome"] == "approved" and got["refund_amount"] == "4100.00"
    data = json.loads(raw)
    data["order"]["seller"] = "marketplace"
    bad = client.post("/api/v1/aftersales/evaluate", json=data)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    assert "order.seller" in bad.json()["message"]["en"]


def test_submit_answers_with_the_decision_and_is_idempotent(api) -> None:
    client, auth, db = api
    headers = {**auth, "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/aftersales/applications", json=good_body(), headers=headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "approved" and body["decision"]["rules"] == ["N1"]
    assert body["decision"]["reasons"][0]["zh"]
    again = client.post("/api/v1/aftersales/applications", json=good_body(), headers=headers)
    assert again.status_code == 201 and again.json()["number"] == body["number"]
    assert count(db, Application) == 1
    detail = client.get(f"/api/v1/aftersales/applications/{body['number']}", headers=auth).json()
    assert [e["action"] for e in detail["events"]] == ["submit"]
    assert "cancel" in detail["actions"]
    cancelled = client.post(f"/api/v1/aftersales/applications/{body['number']}/cancel", headers=auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    illegal = client.post(f"/api/v1/aftersales/applications/{body['number']}/cancel", headers=auth)
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
    assert illegal.json()["message"]["zh"] and illegal.json()["message"]["en"]


BAD_BODIES = [
    ("malformed json", b'{"order_id": "O1", ', 400, "malformed_json"),
    ("unknown type", good_body(type="swap"), 422, "invalid_input"),
    ("unknown reason", good_body(reason="bored"), 422, "invalid_input"),
    ("negative quantity", good_body(quantity=-1), 422, "invalid_input"),
    ("line out of range", good_body(line=5), 422, "line_out_of_range"),
    ("too many units", good_body(quantity=3), 422, "invalid_quantity"),
    ("unknown condition", good_body(condition=["sparkly"]), 422, "invalid_input"),
    ("reason does not fit", good_body(reason="not_received"), 422, "reason_does_not_fit_type"),
    ("unknown order", good_body(order_id="NOPE"), 404, "order_not_found"),
    ("customer declares damage", good_body(damage=["liquid"]), 403, "staff_only_facts"),
]


@pytest.mark.parametrize(("label", "body", "status", "code"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_gets_a_clear_4xx_and_writes_nothing(api, label, body, status, code) -> None:
    client, auth, db = api
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    res = client.post("/api/v1/aftersales/applications", content=content,
                      headers={**auth, "content-type": "application/json"})
    assert res.status_code == status, res.text
    err = res.json()
    assert err["code"] == code and err["message"]["zh"] and err["message"]["en"]
    assert count(db, Application) == 0 and count(db, OutboxMessage) == 0


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(buf, format="PNG")
    return buf.getvalue()


def test_uploads_are_checked_by_size_and_content(api) -> None:
    client, auth, db = api
    big = b"\xff\xd8\xff" + b"0" * (50 * 1024 * 1024)
    res = client.post("/api/v1/evidence", files={"file": ("huge.jpg", big, "image/jpeg")}, headers=auth)
    assert res.status_code == 413 and res.json()["code"] == "upload_too_large"
    fake = client.post("/api/v1/evidence", files={"file": ("photo.jpg", b"MZ\x90\x00 not a jpeg", "image/jpeg")},
                       headers=auth)
    assert fake.status_code == 422 and fake.json()["code"] == "unsupported_file_type"
    liar = client.post("/api/v1/evidence", files={"file": ("photo.jpg", _png(), "image/jpeg")}, headers=auth)
    assert liar.status_code == 422 and liar.json()["code"] == "file_type_mismatch"
    broken = client.post("/api/v1/evidence", files={"file": ("x.jpg", b"\xff\xd8\xff\xe0garbage", "image/jpeg")},
                         headers=auth)
    assert broken.status_code == 422 and broken.json()["code"] == "corrupt_file"
    assert count(db, EvidenceFile) == 0
    ok = client.post("/api/v1/evidence", files={"file": ("crack.png", _png(), "image/png")}, headers=auth)
    assert ok.status_code == 201 and ok.json()["content_type"] == "image/png"
    fault = client.post("/api/v1/aftersales/applications", headers=auth,
                        json=good_body(reason="quality", evidence_ids=[ok.json()["id"]]))
    assert fault.status_code == 201 and fault.json()["status"] == "approved"
    assert fault.json()["decision"]["rules"] == ["Q1"]
    got = client.get(ok.json()["url"], headers=auth)
    assert got.status_code == 200 and got.content == _png()


def test_anonymous_and_other_customers_are_kept_out(api) -> None:
    client, auth, db = api
    number = client.post("/api/v1/aftersales/applications", json=good_body(), headers=auth).json()["number"]
    assert client.get(f"/api/v1/aftersales/applications/{number}").status_code == 401
    accounts.create_user(db, username="lisi", password="pw-654321", role=Role.CUSTOMER, customer_id="C2")
    other = accounts.issue_api_token(db, accounts.authenticate(db, "lisi", "pw-654321"), "t")
    res = client.get(f"/api/v1/aftersales/applications/{number}", headers={"Authorization": f"Bearer {other}"})
    assert res.status_code == 404 and res.json()["code"] == "application_not_found"


def test_the_app_relays_the_outbox_by_itself(db: Database, tmp_path: Path) -> None:
    import time

    seed_parties(db)
    make_order(db, "O1")
    settings = Settings(database_url=db.url, storage_dir=tmp_path / "up", outbox_file=tmp_path / "out.log",
                        background_jobs=True, background_interval_s=0.1)
    app = create_app(settings, db=db)
    accounts.create_user(db, username="zhangsan", password="pw-123456", role=Role.CUSTOMER, customer_id="C1")
    token = accounts.issue_api_token(db, accounts.authenticate(db, "zhangsan", "pw-123456"), "t")
    with TestClient(app) as client:
        res = client.post("/api/v1/aftersales/applications", json=good_body(),
                          headers={"Authorization": f"Bearer {token}"})
        assert res.status_code == 201
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with db.read() as uow:
                pending = uow.session.scalar(select(func.count()).select_from(OutboxMessage)
                                             .where(OutboxMessage.status == "pending"))
            if pending == 0:
                break
            time.sleep(0.1)
    assert pending == 0
    lines = (tmp_path / "out.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(res.json()["number"] in line for line in lines)
