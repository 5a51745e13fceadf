"""The FAQ admin pages over HTTP (TestClient, SQLite and PostgreSQL): who may open them, the list
with unpublished articles, the search box showing what the assistant would cite with scores,
creating, editing and deleting through the forms with CSRF, errors on the form, English."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kefu.domain.actors import Actor, Role
from kefu.services import accounts, faq
from kefu.services.uow import Database
from tests.e2e.test_pages_access import PASSWORD, csrf_of, sign_in
from tests.integration.factories import seed_parties

STAFF = Actor(user_id=None, role=Role.ADMIN, display_name="test")


@pytest.fixture
def users(db: Database) -> None:
    faq.import_articles(db, faq.DEFAULT_ARTICLES_FILE)
    seed_parties(db)
    for username, role, extra in (("sup", "supervisor", {}), ("admin", "admin", {}), ("agent", "agent", {}),
                                  ("seller", "seller", {"seller_id": "S3P"}),
                                  ("cust", "customer", {"customer_id": "C1"})):
        accounts.create_user(db, username=username, password=PASSWORD, role=role, display_name=username, **extra)


def login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    sign_in(client, username)


def rows(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}" data-slug="([^"]+)"', html)


def form(client: TestClient, url: str, **fields: str) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.text
    base = {"slug": "", "title_zh": "", "title_en": "", "body_zh": "", "body_en": "", "keywords": "",
            "intent": "", "published": "1"}
    return {**base, **fields, "csrf_token": csrf_of(page.text)}


def test_only_supervisors_and_admins_see_the_faq_pages(client: TestClient, users: None) -> None:
    for username in ("sup", "admin"):
        login(client, username)
        page = client.get("/desk/faq")
        assert page.status_code == 200
        assert 'data-testid="nav-faq"' in page.text
        assert len(rows(page.text, "faq-row")) >= 30 and "invoice-electronic" in rows(page.text, "faq-row")
        assert client.get("/desk/faq/invoice-electronic").status_code == 200
    for username in ("agent", "seller", "cust"):
        login(client, username)
        assert 'data-testid="nav-faq"' not in client.get("/account").text
        for url in ("/desk/faq", "/desk/faq/new", "/desk/faq/invoice-electronic"):
            assert client.get(url).status_code == 403
    client.cookies.clear()
    assert client.get("/desk/faq", follow_redirects=False).status_code in (302, 303)


def test_the_search_box_shows_what_the_assistant_would_cite(client: TestClient, users: None) -> None:
    login(client, "sup")
    page = client.get("/desk/faq", params={"q": "发票抬头写错了怎么改"})
    hits = re.findall(r'data-testid="faq-hit" data-slug="([^"]+)" data-cited="(yes|no)"', page.text)
    assert hits[0] == ("invoice-change-title", "yes")
    assert ("invoice-change-title", "yes") in hits and any(cited == "no" for _slug, cited in hits)
    assert re.search(r"<td>\d+\.\d\d</td>", page.text)
    unrelated = client.get("/desk/faq", params={"q": "今天北京天气怎么样"})
    assert 'data-testid="faq-no-hits"' in unrelated.text and 'data-cited="yes"' not in unrelated.text
    assert 'data-testid="faq-no-hits"' not in page.text
    english = client.get("/desk/faq", params={"q": "how long does a refund take", "lang": "en"})
    assert re.findall(r'data-testid="faq-hit" data-slug="([^"]+)" data-cited="yes"', english.text)[0] == \
        "refund-timing"
    assert "How long a refund takes" in english.text


def test_create_edit_unpublish_and_delete_through_the_forms(client: TestClient, users: None, db: Database) -> None:
    login(client, "admin")
    fields = form(client, "/desk/faq/new", slug="gift-card", title_zh="礼品卡怎么用",
                  body_zh="结算时选择礼品卡抵扣，礼品卡余额不能提现。", keywords="礼品卡，购物卡、卡券",
                  intent="payment_issue")
    made = client.post("/desk/faq/new", data=fields, follow_redirects=False)
    assert (made.status_code, made.headers["location"]) == (303, "/desk/faq/gift-card?saved=1")
    article = faq.get_article(db, "gift-card")
    assert (article.keywords, article.intent, article.published, article.updated_by) == (
        ["礼品卡", "购物卡", "卡券"], "payment_issue", True, "admin")
    assert 'data-testid="faq-saved"' in client.get("/desk/faq/gift-card?saved=1").text
    assert "gift-card" in [h.slug for h in faq.search_faq(db, "礼品卡怎么用")]

    fields = form(client, "/desk/faq/gift-card", slug="gift-card", title_zh="礼品卡与购物卡",
                  body_zh="结算时选择礼品卡抵扣。", keywords="礼品卡", intent="payment_issue")
    del fields["published"]                                   # the box unticked
    saved = client.post("/desk/faq/gift-card", data=fields, follow_redirects=False)
    assert saved.status_code == 303
    assert faq.get_article(db, "gift-card", STAFF).published is False
    assert "gift-card" not in [h.slug for h in faq.search_faq(db, "礼品卡与购物卡", min_score=0.0)]
    listing = client.get("/desk/faq").text
    assert "gift-card" in rows(listing, "faq-row") and "未发布" in listing

    token = csrf_of(client.get("/desk/faq/gift-card").text)
    assert client.post("/desk/faq/gift-card/delete", data={}, follow_redirects=False).status_code == 403
    gone = client.post("/desk/faq/gift-card/delete", data={"csrf_token": token}, follow_redirects=False)
    assert (gone.status_code, gone.headers["location"]) == (303, "/desk/faq?deleted=gift-card")
    assert "gift-card" not in rows(client.get("/desk/faq").text, "faq-row")
    assert client.get("/desk/faq/gift-card").status_code == 404


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, users: None, db: Database) -> None:
    login(client, "sup")
    fields = form(client, "/desk/faq/new", slug="no-token", title_zh="标题", body_zh="正文")
    del fields["csrf_token"]
    assert client.post("/desk/faq/new", data=fields).status_code == 403
    assert "no-token" not in [a.slug for a in faq.list_articles(db, STAFF)]


def test_errors_show_on_the_form_with_what_was_typed(client: TestClient, users: None) -> None:
    login(client, "sup")
    fields = form(client, "/desk/faq/new", slug="Bad Slug", title_zh="我的标题", body_zh="我的正文")
    bad = client.post("/desk/faq/new", data=fields)
    assert bad.status_code == 422
    assert 'data-code="invalid_slug"' in bad.text and "我的正文" in bad.text and 'value="我的标题"' in bad.text
    fields = form(client, "/desk/faq/new", slug="invoice-electronic", title_zh="重复", body_zh="重复的标识")
    taken = client.post("/desk/faq/new", data=fields)
    assert taken.status_code == 409 and 'data-code="faq_slug_taken"' in taken.text
    fields = form(client, "/desk/faq/invoice-electronic?lang=en", slug="invoice-electronic", title_zh="发票",
                  body_zh="正文", intent="weather")
    english = client.post("/desk/faq/invoice-electronic", data=fields)
    assert english.status_code == 422 and "Unknown intent." in english.text and "Edit article" in english.text


def test_the_pages_read_in_english(client: TestClient, users: None) -> None:
    login(client, "admin")
    page = client.get("/desk/faq", params={"lang": "en"})
    assert "<h1>FAQ</h1>" in page.text and "Getting an invoice and downloading the electronic invoice" in page.text
    assert "常见问题" not in page.text.split("<main", 1)[1]
    edit = client.get("/desk/faq/new")
    assert "Chinese title" in edit.text and "Invoice (invoice)" in edit.text
