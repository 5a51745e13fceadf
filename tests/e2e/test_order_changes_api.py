"""Cancel an order and change its address over HTTP (issue 5 §2), SQLite and PostgreSQL: the API
answers, its error codes, idempotent retries, and the forms on the customer's order page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.adapters.db.tables.bot import OrderChange
from kefu.adapters.db.tables.outbox import OutboxMessage
from kefu.domain.actors import Actor
from kefu.services import accounts
from kefu.services.uow import Database
from tests.e2e.test_pages_access import PASSWORD, csrf_of, sign_in
from tests.integration.desk_factories import DeskPeople, seed_desk
from tests.integration.test_order_changes import ADDRESS, NEW_ADDRESS, paid_order


@pytest.fixture
def people(db: Database) -> DeskPeople:
    found = seed_desk(db)
    paid_order(db, "O-PAID", customer="C1", seller="S3P")
    paid_order(db, "O-SHIPPED", customer="C1", seller="S3P", delivery="in_transit", shipped=True)
    return found


def auth(db: Database, actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_api_token(db, actor, 'test')}"}


def count(db: Database, table: type) -> int:
    with db.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


# ── API ──────────────────────────────────────────────────────────────────────────────────────


def test_the_customer_cancels_over_the_api_and_sees_the_change(client: TestClient, db: Database,
                                                               people: DeskPeople) -> None:
    c1 = auth(db, people.c1)
    r = client.post("/api/v1/orders/O-PAID/cancel", json={"reason": "买错了"}, headers=c1)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["order_id"], body["action"], body["status"]) == ("O-PAID", "cancel", "cancelled")
    assert body["refund"] == [{"method": "card", "amount": "800.00"}, {"method": "balance", "amount": "200.00"}]
    assert body["refund_total"] == "1000.00" and body["address"] == ADDRESS and body["change_id"] > 0

    assert client.get("/api/v1/orders/O-PAID", headers=c1).json()["status"] == "cancelled"
    history = client.get("/api/v1/orders/O-PAID/changes", headers=c1)
    assert history.status_code == 200
    [change] = history.json()
    assert (change["action"], change["actor_role"], change["note"]) == ("cancel", "customer", "买错了")
    assert change["before"] == {"status": "paid"} and change["after"]["refund_total"] == "1000.00"

    again = client.post("/api/v1/orders/O-PAID/cancel", headers=c1)           # no body at all is fine too
    assert again.status_code == 409
    assert again.json()["code"] == "order_not_cancellable"
    assert again.json()["detail"]["reason"] == "already_cancelled"
    assert again.json()["message"]["zh"] and again.json()["message"]["en"]


def test_a_shipped_order_is_refused_with_409_and_why(client: TestClient, db: Database, people: DeskPeople) -> None:
    agent = auth(db, people.agent1)
    for path, body, code in (("cancel", {}, "order_not_cancellable"),
                             ("address", {"address": NEW_ADDRESS}, "address_not_changeable")):
        r = client.post(f"/api/v1/orders/O-SHIPPED/{path}", json=body, headers=agent)
        assert r.status_code == 409 and r.json()["code"] == code
        assert r.json()["detail"]["reason"] == "already_shipped"
        assert "已发货" in r.json()["message"]["zh"] and "shipped" in r.json()["message"]["en"]
    assert count(db, OrderChange) == 0 and count(db, OutboxMessage) == 0


def test_an_agent_changes_the_address_for_the_customer(client: TestClient, db: Database, people: DeskPeople) -> None:
    r = client.post("/api/v1/orders/O-PAID/address", json={"address": NEW_ADDRESS, "phone": "139 0000 1111"},
                    headers=auth(db, people.agent1))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["action"], body["status"], body["address"], body["recipient_phone"], body["refund"]) == (
        "change_address", "paid", NEW_ADDRESS, "13900001111", [])
    c1 = auth(db, people.c1)
    assert client.get("/api/v1/orders/O-PAID", headers=c1).json()["address"] == NEW_ADDRESS
    [change] = client.get("/api/v1/orders/O-PAID/changes", headers=c1).json()
    assert (change["actor_role"], change["actor_name"]) == ("agent", "客服小王")
    # the shop sees that the address changed, but masked like every address it is shown
    [seen] = client.get("/api/v1/orders/O-PAID/changes", headers=auth(db, people.seller_a)).json()
    assert seen["after"] == {"address": "北京市朝阳区****", "recipient_phone": "139****1111"}


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"address": "北京"}, 422, "invalid_address"),
    ({"address": "北京市朝阳区\u0000建国路"}, 422, "invalid_address"),
    ({"address": NEW_ADDRESS, "phone": "110"}, 422, "invalid_phone"),
    ({"address": ADDRESS}, 422, "address_unchanged"),
    ({"phone": "13900001111"}, 422, "invalid_input"),
    ({"address": NEW_ADDRESS, "city": "北京"}, 422, "invalid_input"),
])
def test_bad_address_bodies_are_422_with_a_code(client: TestClient, db: Database, people: DeskPeople,
                                                 body: dict[str, str], status: int, code: str) -> None:
    r = client.post("/api/v1/orders/O-PAID/address", json=body, headers=auth(db, people.c1))
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert count(db, OrderChange) == 0


def test_who_may_act_over_the_api(client: TestClient, db: Database, people: DeskPeople) -> None:
    c2, seller = auth(db, people.c2), auth(db, people.seller_a)
    for path, body in (("cancel", {}), ("address", {"address": NEW_ADDRESS})):
        hidden = client.post(f"/api/v1/orders/O-PAID/{path}", json=body, headers=c2)
        assert hidden.status_code == 404 and hidden.json()["code"] == "order_not_found"
        denied = client.post(f"/api/v1/orders/O-PAID/{path}", json=body, headers=seller)
        assert denied.status_code == 403 and denied.json()["code"] == "not_allowed"
        assert client.post(f"/api/v1/orders/O-PAID/{path}", json=body).status_code == 401
    assert client.get("/api/v1/orders/O-PAID/changes", headers=c2).status_code == 404
    assert client.get("/api/v1/orders/NOPE/changes", headers=auth(db, people.sup)).status_code == 404
    malformed = client.post("/api/v1/orders/O-PAID/cancel", content=b"{oops",
                            headers={**auth(db, people.c1), "Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_json"
    too_long = client.post("/api/v1/orders/O-PAID/cancel", json={"reason": "长" * 501}, headers=auth(db, people.c1))
    assert too_long.status_code == 422
    assert count(db, OrderChange) == 0
    assert client.get("/api/v1/orders/O-PAID", headers=seller).json()["status"] == "paid"


def test_a_retried_cancel_with_the_same_idempotency_key_gets_the_first_answer(
        client: TestClient, db: Database, people: DeskPeople) -> None:
    headers = {**auth(db, people.c1), "Idempotency-Key": "cancel-O-PAID-1"}
    first = client.post("/api/v1/orders/O-PAID/cancel", json={"reason": "重复提交"}, headers=headers)
    retry = client.post("/api/v1/orders/O-PAID/cancel", json={"reason": "重复提交"}, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert count(db, OrderChange) == 1


# ── the customer's order page ────────────────────────────────────────────────────────────────


@pytest.fixture
def shopper(client: TestClient, db: Database, people: DeskPeople) -> TestClient:
    accounts.create_user(db, username="shopper1", password=PASSWORD, role="customer", customer_id="C1")
    sign_in(client, "shopper1")
    return client


def test_the_order_page_offers_the_forms_only_before_shipment(shopper: TestClient) -> None:
    paid = shopper.get("/orders/O-PAID")
    assert paid.status_code == 200
    assert 'data-testid="cancel-form"' in paid.text and 'data-testid="address-form"' in paid.text
    assert ADDRESS in paid.text and "已付款，待发货" in paid.text
    shipped = shopper.get("/orders/O-SHIPPED")
    assert 'data-testid="cancel-form"' not in shipped.text and 'data-testid="address-form"' not in shipped.text
    english = shopper.get("/orders/O-PAID?lang=en")
    assert "Cancel order" in english.text and "Change delivery address" in english.text


def test_the_shopper_cancels_from_the_page_after_confirming(shopper: TestClient, db: Database) -> None:
    token = csrf_of(shopper.get("/orders/O-PAID").text)
    unconfirmed = shopper.post("/orders/O-PAID/cancel", data={"csrf_token": token, "reason": "不要了"})
    assert unconfirmed.status_code == 422 and 'data-testid="change-error"' in unconfirmed.text
    assert "请勾选确认" in unconfirmed.text and count(db, OrderChange) == 0

    done = shopper.post("/orders/O-PAID/cancel", data={"csrf_token": token, "reason": "不要了", "confirm": "yes"},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/orders/O-PAID?done=cancel"
    after = shopper.get(done.headers["location"]).text
    assert 'data-testid="change-done"' in after and "已取消" in after
    assert 'data-testid="cancel-form"' not in after and 'data-testid="address-form"' not in after
    assert 'data-action="cancel"' in after and "银行卡 ¥800.00" in after and "不要了" in after

    # a stale page posting again is refused on the page, with the reason, never a 500
    stale = shopper.post("/orders/O-PAID/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert stale.status_code == 409 and "订单已取消" in stale.text
    assert count(db, OrderChange) == 1


def test_the_shopper_changes_the_address_from_the_page(shopper: TestClient, db: Database) -> None:
    token = csrf_of(shopper.get("/orders/O-PAID").text)
    bad = shopper.post("/orders/O-PAID/address", data={"csrf_token": token, "address": "北京市朝阳区建国路",
                                                       "phone": "12345"})
    assert bad.status_code == 422 and "手机号码" in bad.text
    assert "北京市朝阳区建国路" in bad.text and 'value="12345"' in bad.text      # what was typed is kept
    done = shopper.post("/orders/O-PAID/address", data={"csrf_token": token, "address": NEW_ADDRESS,
                                                        "phone": "13900001111"}, follow_redirects=False)
    assert done.status_code == 303
    after = shopper.get(done.headers["location"]).text
    assert "收货地址已修改" in after and f'data-testid="order-address">{NEW_ADDRESS}<' in after
    assert "139****1111" in after and "13900001111" not in after
    assert 'data-action="change_address"' in after
    refused = shopper.post("/orders/O-SHIPPED/address", data={"csrf_token": token, "address": NEW_ADDRESS})
    assert refused.status_code == 409 and "已发货" in refused.text


def test_a_page_post_for_another_shoppers_order_is_404(client: TestClient, db: Database, people: DeskPeople) -> None:
    accounts.create_user(db, username="shopper2", password=PASSWORD, role="customer", customer_id="C2")
    sign_in(client, "shopper2")
    token = csrf_of(client.get("/orders").text)                 # the sign-out form carries one
    r = client.post("/orders/O-PAID/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert r.status_code == 404
    assert count(db, OrderChange) == 0
