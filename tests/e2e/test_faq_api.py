"""The FAQ API over HTTP (in-process app, SQLite and PostgreSQL): anonymous search in both
languages, reading articles by role, writes by supervisors and admins only, and bad input
answered with a stable code, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kefu.domain.actors import Actor
from kefu.services import accounts, faq
from kefu.services.uow import Database
from tests.integration.desk_factories import DeskPeople, seed_desk

ARTICLE = {"slug": "gift-card", "title_zh": "礼品卡怎么用", "title_en": "Using a gift card",
           "body_zh": "结算时选择礼品卡抵扣，礼品卡余额不能提现。", "body_en": "Choose the gift card at checkout; "
           "its balance cannot be withdrawn as cash.", "keywords": ["礼品卡", "购物卡"], "intent": "payment_issue"}


@pytest.fixture
def people(db: Database) -> DeskPeople:
    people = seed_desk(db)
    faq.import_articles(db, faq.DEFAULT_ARTICLES_FILE)
    return people


def auth(db: Database, actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_api_token(db, actor, 'test')}"}


def test_anyone_searches_in_chinese_and_english(client: TestClient, people: DeskPeople) -> None:
    found = client.get("/api/v1/faq", params={"q": "发票抬头写错了怎么改"})
    assert found.status_code == 200
    hits = found.json()
    assert hits[0]["slug"] == "invoice-change-title" and hits[0]["intent"] == "invoice"
    assert hits[0]["title"].startswith("发票抬头") and hits[0]["score"] > 0
    english = client.get("/api/v1/faq", params={"q": "how long does a refund take", "lang": "en", "limit": 1}).json()
    assert [h["slug"] for h in english] == ["refund-timing"]
    assert english[0]["title"] == "How long a refund takes" and "working days" in english[0]["body"]
    assert client.get("/api/v1/faq", params={"q": "今天北京天气怎么样"}).json() == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "发票", "lang": "fr"}, {"q": "发票", "limit": 0},
                                    {"q": "发票", "limit": "many"}, {"q": "x" * 501}])
def test_a_bad_search_is_a_422(client: TestClient, people: DeskPeople, params: dict[str, object]) -> None:
    answer = client.get("/api/v1/faq", params=params)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_input"


def test_staff_see_unpublished_articles_and_others_do_not(client: TestClient, db: Database,
                                                          people: DeskPeople) -> None:
    admin = auth(db, people.admin)
    created = client.post("/api/v1/faq/articles", json={**ARTICLE, "published": False}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["updated_by"] == "管理员" and created.json()["published"] is False
    for headers in ({}, auth(db, people.c1)):
        slugs = [a["slug"] for a in client.get("/api/v1/faq/articles", headers=headers).json()]
        assert "gift-card" not in slugs and "invoice-electronic" in slugs
        assert client.get("/api/v1/faq/articles/gift-card", headers=headers).json()["code"] == "faq_not_found"
    slugs = [a["slug"] for a in client.get("/api/v1/faq/articles", headers=auth(db, people.agent1)).json()]
    assert slugs[-1] == "gift-card"
    one = client.get("/api/v1/faq/articles/gift-card", headers=auth(db, people.agent1))
    assert one.status_code == 200 and one.json()["keywords"] == ["礼品卡", "购物卡"]
    assert "gift-card" not in [h["slug"] for h in client.get("/api/v1/faq", params={"q": "礼品卡怎么用"}).json()]


def test_supervisors_edit_and_delete_and_search_follows(client: TestClient, db: Database,
                                                        people: DeskPeople) -> None:
    sup = auth(db, people.sup)
    assert client.post("/api/v1/faq/articles", json=ARTICLE, headers=sup).status_code == 201
    assert client.get("/api/v1/faq", params={"q": "礼品卡怎么用"}).json()[0]["slug"] == "gift-card"
    changed = client.put("/api/v1/faq/articles/gift-card",
                         json={**ARTICLE, "slug": "gift-cards", "title_zh": "礼品卡与购物卡"}, headers=sup)
    assert changed.status_code == 200 and changed.json()["slug"] == "gift-cards"
    assert client.get("/api/v1/faq", params={"q": "礼品卡怎么用"}).json()[0]["title"] == "礼品卡与购物卡"
    assert client.delete("/api/v1/faq/articles/gift-cards", headers=sup).status_code == 204
    assert "gift-cards" not in [h["slug"] for h in client.get("/api/v1/faq", params={"q": "礼品卡怎么用"}).json()]
    assert client.delete("/api/v1/faq/articles/gift-cards", headers=sup).json()["code"] == "faq_not_found"


def test_only_supervisors_and_admins_write(client: TestClient, db: Database, people: DeskPeople) -> None:
    assert client.post("/api/v1/faq/articles", json=ARTICLE).json()["code"] == "not_authenticated"
    for actor in (people.agent1, people.c1, people.seller_a):
        headers = auth(db, actor)
        for answer in (client.post("/api/v1/faq/articles", json=ARTICLE, headers=headers),
                       client.put("/api/v1/faq/articles/invoice-electronic", json=ARTICLE, headers=headers),
                       client.delete("/api/v1/faq/articles/invoice-electronic", headers=headers)):
            assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    assert client.get("/api/v1/faq/articles/invoice-electronic").status_code == 200


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"slug": "Bad Slug!"}, 422, "invalid_slug"),
    ({"title_zh": ""}, 422, "invalid_title"),
    ({"body_zh": "正" * 5001}, 422, "invalid_body"),
    ({"keywords": ["很长的词" * 11]}, 422, "invalid_keywords"),
    ({"intent": "weather"}, 422, "invalid_intent"),
    ({"slug": "invoice-electronic"}, 409, "faq_slug_taken"),
    ({"colour": "red"}, 422, "invalid_input"),
    ({"keywords": "礼品卡"}, 422, "invalid_input"),
    ({"published": "maybe"}, 422, "invalid_input"),
])
def test_bad_articles_are_refused_with_a_stable_code(client: TestClient, db: Database, people: DeskPeople,
                                                     change: dict[str, object], status: int, code: str) -> None:
    answer = client.post("/api/v1/faq/articles", json={**ARTICLE, **change}, headers=auth(db, people.admin))
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert set(answer.json()["message"]) == {"zh", "en"}


def test_malformed_json_and_unknown_articles(client: TestClient, db: Database, people: DeskPeople) -> None:
    admin = auth(db, people.admin)
    broken = client.post("/api/v1/faq/articles", content=b"{not json",
                         headers={**admin, "content-type": "application/json"})
    assert (broken.status_code, broken.json()["code"]) == (400, "malformed_json")
    missing = client.put("/api/v1/faq/articles/no-such-article", json=ARTICLE, headers=admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "faq_not_found")
    assert client.get("/api/v1/faq/articles/no-such-article").status_code == 404
