"""``POST /api/v1/bot/messages`` over HTTP (shared/eval/bot/README.md): the README's shape, the
same reading as ``kefu bot eval``, answers grounded in the token's shopper, stable error codes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from kefu.adapters.bot import load_or_train
from kefu.config import PROJECT_ROOT
from kefu.domain.actors import Actor
from kefu.services import accounts
from kefu.services.uow import Database
from tests.integration.desk_factories import DeskPeople
from tests.integration.test_assistant import ORDER_A, ORDER_C, _seed_orders, seed_desk

DEV = PROJECT_ROOT.parent / "shared" / "eval" / "bot" / "dev.jsonl"


@pytest.fixture
def people(db: Database) -> DeskPeople:
    found = seed_desk(db)
    _seed_orders(db)
    return found


def auth(db: Database, actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_api_token(db, actor, 'test')}"}


def post(client: TestClient, body: dict[str, object], headers: dict[str, str] | None = None) -> dict:
    response = client.post("/api/v1/bot/messages", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_readme_shape_and_the_same_reading_as_the_eval(client: TestClient, db: Database,
                                                          people: DeskPeople) -> None:
    lines = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()[:40]] if DEV.is_file() else [
        {"text": "我的订单202603051234到哪了", "intent": "order_status", "slots": {"order_id": "202603051234"}}]
    model = load_or_train()
    for n, case in enumerate(lines):
        got = post(client, {"session_id": f"eval-{n}", "text": case["text"]})   # a fresh conversation each
        assert {"intent", "confidence", "slots", "reply", "handoff"} <= set(got)
        expected = model.understand(case["text"])
        assert got["intent"] == expected.intent.value and got["slots"] == dict(expected.slots), case
        assert 0.0 <= got["confidence"] <= 1.0 and isinstance(got["reply"], str) and got["reply"]
        assert got["handoff"] is False                                         # a visitor is never handed over


def test_a_shopper_gets_answers_from_their_own_orders_only(client: TestClient, db: Database,
                                                          people: DeskPeople) -> None:
    mine = auth(db, people.c1)
    status = post(client, {"session_id": "a1", "text": f"订单{ORDER_A}到哪了"}, mine)
    assert status["intent"] == "order_status" and "您的快件已签收" in status["reply"]
    assert status["data"]["order_id"] == ORDER_A and status["buttons"]
    english = post(client, {"session_id": "a1", "text": "那退货呢", "lang": "en"}, mine)
    assert english["topic"] == "return_policy" and "Which one" in english["reply"]
    other = post(client, {"session_id": "a2", "text": f"订单{ORDER_C}到哪了"}, mine)
    assert "没有在您的账号下找到订单" in other["reply"] and "派送中" not in json.dumps(other, ensure_ascii=False)
    person = post(client, {"session_id": "a3", "text": "转人工"}, mine)
    assert person["handoff"] is True and person["handoff_reason"] == "request" and person["ticket"].startswith("T")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"session_id": "x", "text": ""}, 422, "bot_text_missing"),
    ({"session_id": "x", "text": "好" * 501}, 422, "bot_text_too_long"),
    ({"session_id": "bad id", "text": "你好"}, 422, "bot_session_invalid"),
    ({"text": "你好"}, 422, "invalid_input"),
    ({"session_id": "x", "text": "你好", "extra": 1}, 422, "invalid_input"),
])
def test_bad_input_has_a_stable_code_in_both_languages(client: TestClient, db: Database, people: DeskPeople,
                                                       body: dict[str, object], status: int, code: str) -> None:
    response = client.post("/api/v1/bot/messages", json=body)
    assert response.status_code == status
    error = response.json()
    assert error["code"] == code and error["message"]["zh"] and error["message"]["en"]


def test_malformed_json_is_a_400(client: TestClient, db: Database, people: DeskPeople) -> None:
    response = client.post("/api/v1/bot/messages", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "malformed_json"
