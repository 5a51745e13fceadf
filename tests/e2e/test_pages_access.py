"""Who may open which after-sales page, over HTTP (FastAPI's TestClient, SQLite and PostgreSQL).

A customer never sees another customer's application, a seller never another seller's (404, as
if it did not exist), an anonymous visitor is sent to the login page, and a page POST without
the CSRF token is refused with 403 and changes nothing.
"""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient

from kefu.adapters.policy_files import load_policy_book
from kefu.config import Settings
from kefu.domain.aftersales.model import Reason, RequestType
from kefu.services import accounts
from kefu.services import aftersales as svc
from kefu.services.uow import Database
from tests.integration.factories import NOW, customer_actor, make_order, seed_parties

PASSWORD = "s3cret-pass"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> None:
    form = client.get("/login")
    done = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert done.status_code == 303, done.text


@pytest.fixture
def numbers(db: Database, settings: Settings) -> dict[str, str]:
    """One application each: C1 on the self-operated shop, C1 on seller S3P, C2 on seller S3Q."""
    seed_parties(db)
    make_order(db, "O-SELF", customer="C1", seller="SELF")
    make_order(db, "O-S3P", customer="C1", seller="S3P")
    make_order(db, "O-S3Q", customer="C2", seller="S3Q")
    book = load_policy_book(settings.policy_dir)
    out: dict[str, str] = {}
    for key, order_id, customer in (("self", "O-SELF", "C1"), ("s3p", "O-S3P", "C1"), ("s3q", "O-S3Q", "C2")):
        app = svc.submit_application(
            db, customer_actor(customer), svc.ApplicationRequest(
                order_id=order_id, line=0, type=RequestType.RETURN, reason=Reason.NO_REASON),
            book, lambda: NOW)
        out[key] = app.number
    users = (("cust1", "customer", {"customer_id": "C1"}), ("cust2", "customer", {"customer_id": "C2"}),
             ("seller3p", "seller", {"seller_id": "S3P"}), ("seller3q", "seller", {"seller_id": "S3Q"}),
             ("agent", "agent", {}), ("admin", "admin", {}))
    for username, role, extra in users:
        accounts.create_user(db, username=username, password=PASSWORD, role=role, **extra)
    return out


def test_a_customer_cannot_open_another_customers_application(
        client: TestClient, numbers: dict[str, str]) -> None:
    sign_in(client, "cust2")
    assert client.get(f"/aftersales/{numbers['s3q']}").status_code == 200
    other = client.get(f"/aftersales/{numbers['self']}")
    assert other.status_code == 404
    assert "售后申请不存在" in other.text
    assert numbers["self"] not in client.get("/aftersales").text
    assert client.get("/orders/O-SELF").status_code == 404
    assert client.get("/orders/O-SELF/lines/0/apply").status_code == 404
    assert client.get("/desk").status_code == 403


def test_a_seller_sees_only_their_own_applications(client: TestClient, numbers: dict[str, str]) -> None:
    sign_in(client, "seller3p")
    mine = client.get(f"/desk/aftersales/{numbers['s3p']}")
    assert mine.status_code == 200
    assert "138****1234" in mine.text and "13800001234" not in mine.text
    assert client.get(f"/desk/aftersales/{numbers['s3q']}").status_code == 404
    assert client.get(f"/desk/aftersales/{numbers['self']}").status_code == 404
    queue = client.get("/desk").text
    assert numbers["s3q"] not in queue and numbers["self"] not in queue
    assert client.get("/orders").status_code == 403
    assert client.get("/admin/rules").status_code == 403


def test_staff_land_on_their_pages_and_see_everything(client: TestClient, numbers: dict[str, str]) -> None:
    sign_in(client, "agent")
    assert client.get("/", follow_redirects=False).headers["location"] == "/desk"
    queue = client.get("/desk").text
    assert all(n in queue for n in numbers.values())
    assert client.get(f"/desk/aftersales/{numbers['s3q']}").status_code == 200


def test_the_admin_sees_the_rules_of_every_category(client: TestClient, numbers: dict[str, str]) -> None:
    sign_in(client, "admin")
    assert client.get("/", follow_redirects=False).headers["location"] == "/admin/rules"
    page = client.get("/admin/rules?seller_type=third_party")
    assert page.status_code == 200
    assert page.text.count('data-testid="rule-row"') >= 20
    assert 'data-category="virtual"' in page.text
    assert "虚拟商品" in page.text          # categories are named in Chinese, with their code


@pytest.mark.parametrize("path", ["/orders", "/aftersales", "/inbox", "/desk", "/admin/rules"])
def test_an_anonymous_visitor_is_sent_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"].startswith("/login")


def test_a_customer_lands_on_their_orders(client: TestClient, numbers: dict[str, str]) -> None:
    sign_in(client, "cust1")
    assert client.get("/", follow_redirects=False).headers["location"] == "/orders"
    orders = client.get("/orders").text
    assert "O-SELF" in orders and "O-S3P" in orders and "O-S3Q" not in orders


def test_a_post_without_the_csrf_token_is_refused(client: TestClient, db: Database, numbers: dict[str, str]) -> None:
    sign_in(client, "cust1")
    number = numbers["self"]
    before = svc.get_application(db, customer_actor("C1"), number).status
    refused = client.post(f"/aftersales/{number}/do/cancel", data={"note": "不要了"}, follow_redirects=False)
    assert refused.status_code == 403
    assert "csrf_failed" in refused.text
    wrong = client.post(f"/aftersales/{number}/do/cancel", data={"csrf_token": "forged"}, follow_redirects=False)
    assert wrong.status_code == 403
    apply = client.post("/orders/O-SELF/lines/0/apply", data={"type": "return", "reason": "no_reason"},
                        follow_redirects=False)
    assert apply.status_code == 403
    assert svc.get_application(db, customer_actor("C1"), number).status == before

    token = csrf_of(client.get(f"/aftersales/{number}").text)
    done = client.post(f"/aftersales/{number}/do/cancel", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert svc.get_application(db, customer_actor("C1"), number).status == "cancelled"


def test_an_illegal_step_shows_the_chinese_message_not_a_500(client: TestClient, numbers: dict[str, str]) -> None:
    sign_in(client, "cust1")
    number = numbers["self"]
    token = csrf_of(client.get(f"/aftersales/{number}").text)
    response = client.post(f"/aftersales/{number}/do/refund", data={"csrf_token": token})
    assert response.status_code in (403, 409)
    assert 'data-testid="error-message"' in response.text
    bad = client.post("/orders/O-SELF/lines/0/apply", data={"csrf_token": token, "type": "return",
                                                           "reason": "no_reason", "quantity": "99"})
    assert bad.status_code == 422
    assert "申请数量须在 1 到 2 之间" in bad.text


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_evidence_uploaded_with_the_form_is_shown_only_to_who_may_see_it(
        client: TestClient, numbers: dict[str, str]) -> None:
    sign_in(client, "cust1")
    token = csrf_of(client.get("/orders/O-SELF/lines/0/apply").text)
    done = client.post("/orders/O-SELF/lines/0/apply", follow_redirects=False,
                       data={"csrf_token": token, "type": "return", "reason": "quality", "quantity": "1",
                             "condition": ["packaging_opened", "used"], "description": "开机黑屏"},
                       files=[("evidence", ("photo.png", _png(), "image/png"))])
    assert done.status_code == 303, done.text
    page = client.get(done.headers["location"]).text
    found = re.search(r'href="(/api/v1/evidence/\d+)"', page)
    assert found, "no evidence thumbnail on the application page"
    image = client.get(found.group(1))
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/png")

    client.cookies.clear()
    sign_in(client, "cust2")
    assert client.get(found.group(1)).status_code == 404
    assert client.get(done.headers["location"]).status_code == 404


def test_a_fake_image_is_refused_on_the_page_with_its_reason(client: TestClient, numbers: dict[str, str]) -> None:
    sign_in(client, "cust1")
    token = csrf_of(client.get("/orders/O-SELF/lines/0/apply").text)
    refused = client.post("/orders/O-SELF/lines/0/apply",
                          data={"csrf_token": token, "type": "return", "reason": "quality", "quantity": "1"},
                          files=[("evidence", ("photo.jpg", b"not a jpeg at all", "image/jpeg"))])
    assert refused.status_code == 422
    assert "只支持 JPEG、PNG、WebP、GIF 图片或 PDF 文件" in refused.text
    assert numbers["self"] in client.get("/aftersales").text
    assert client.get("/aftersales").text.count('data-testid="application-row"') == 2


def test_the_desk_queue_costs_the_same_queries_for_3_or_30_applications(
        client: TestClient, numbers: dict[str, str], db: Database, settings: Settings) -> None:
    """DESIGN.md convention 8: list pages assert their query counts, so N+1 cannot creep in."""
    from sqlalchemy import event

    sign_in(client, "agent")
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    def queries_for_desk() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/desk").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    few = queries_for_desk()
    book = load_policy_book(settings.policy_dir)
    for i in range(27):
        make_order(db, f"O-MORE-{i}", customer="C1", seller="SELF")
        svc.submit_application(db, customer_actor("C1"), svc.ApplicationRequest(
            order_id=f"O-MORE-{i}", line=0, type=RequestType.RETURN, reason=Reason.NO_REASON), book, lambda: NOW)
    many = queries_for_desk()
    page = client.get("/desk").text
    assert page.count('href="/desk/aftersales/') >= 30
    assert many == few, f"{few} queries for 3 applications, {many} for 30"
