"""``POST /api/v1/compliance/check`` over the real app: allowed, blocked with reasons, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kefu.config import Settings
from kefu.services.uow import Database
from kefu.web.app import create_app

URL = "/api/v1/compliance/check"


@pytest.fixture
def client(sqlite_db: Database, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=sqlite_db.url, storage_dir=tmp_path / "up", outbox_file=tmp_path / "out.log",
                        background_jobs=False)
    with TestClient(create_app(settings, db=sqlite_db)) as test_client:
        yield test_client


def test_an_allowed_reply(client: TestClient) -> None:
    res = client.post(URL, json={"text": "退款进度可以在 mall.example.com/refund 查看，或拨打平台热线 950618。"})
    assert res.status_code == 200
    assert res.json() == {"allowed": True, "violations": []}


def test_a_blocked_reply_names_each_violation_with_reasons(client: TestClient) -> None:
    res = client.post(URL, json={"text": "亲，加我微信 abc_123，或者打 138 0013 8000，私下给您退"})
    assert res.status_code == 200
    body = res.json()
    assert body["allowed"] is False
    kinds = [v["kind"] for v in body["violations"]]
    assert {"im_account", "phone", "payment_account"} <= set(kinds)
    phone = next(v for v in body["violations"] if v["kind"] == "phone")
    assert phone["match"] == "138 0013 8000"
    assert phone["reason_zh"] and phone["reason_en"].startswith("The reply contains a phone number")


def test_no_sign_in_is_needed(client: TestClient) -> None:
    """Open like /aftersales/evaluate: a dry run over the caller's own text."""
    assert client.post(URL, json={"text": "你好"}).status_code == 200


@pytest.mark.parametrize("body", [{}, {"text": 12}, {"text": "x" * 10_001}, {"text": "hi", "extra": 1}])
def test_bad_input_is_422_invalid_input(client: TestClient, body: dict[str, object]) -> None:
    res = client.post(URL, json=body)
    assert res.status_code == 422
    assert res.json()["code"] == "invalid_input"


def test_a_body_that_is_not_json_is_400(client: TestClient) -> None:
    res = client.post(URL, content=b"{not json", headers={"content-type": "application/json"})
    assert res.status_code == 400
    assert res.json()["code"] == "malformed_json"


def test_the_endpoint_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "post" in spec["paths"][URL]
