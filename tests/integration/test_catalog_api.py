"""Orders API over HTTP (TestClient): import with row-numbered errors, list and detail by role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kefu.adapters.db.tables.catalog import Order
from kefu.config import Settings
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import FixedClock
from kefu.domain.orders import SourceRecord
from kefu.services import accounts
from kefu.services.orders_import import import_orders
from kefu.services.uow import Database
from kefu.web.app import create_app
from kefu.web.runtime import Runtime

from ..unit.import_builders import line, order

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
Headers = dict[str, str]


def seed(db: Database) -> None:
    raws = [
        order("O1"),
        order("O2", paid_at="2024-05-02T10:00:00+08:00"),
        order("O3", paid_at="2024-05-03T10:00:00+08:00",
              customer={"id": "C00002", "name": "李四"},
              seller={"id": "S0101", "name": "优衣库官方旗舰店", "type": "third_party"}),
    ]
    report = import_orders(db, (SourceRecord(i, r) for i, r in enumerate(raws, 1)), FixedClock(NOW))
    assert report.created == 3


@pytest.fixture
def api(db: Database, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, Callable[..., Headers]]]:
    # accounts are not under test here: a cheap argon2 cost keeps the many sign-ups fast
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    seed(db)
    settings = Settings(env="test", database_url=db.url, storage_dir=tmp_path / "up",
                        outbox_file=tmp_path / "out.log", background_jobs=False)
    app = create_app(settings, db=db)
    runtime = Runtime.from_settings(settings)
    runtime.clock = FixedClock(NOW)
    app.state.runtime = runtime

    def headers(username: str, role: Role, **links: Any) -> Headers:
        user = accounts.create_user(db, username=username, password="pw-123456", role=role, **links)
        actor = Actor(user_id=user.id, role=user.role, customer_id=user.customer_id,
                      seller_id=user.seller_id)
        return {"Authorization": f"Bearer {accounts.issue_api_token(db, actor, 'test')}"}

    with TestClient(app) as client:
        yield client, headers


def test_admin_imports_orders_and_gets_the_report_with_row_numbers(api: Any, db: Database) -> None:
    client, headers = api
    admin = headers("admin", Role.ADMIN)
    body = {"orders": [order("O1"), order("O9", status="lost"),
                       order("O10", lines=[line(quantity=0)], payments=[{"method": "card", "amount": 6799.0}]),
                       order("O11")]}
    answer = client.post("/api/v1/orders/import", json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert {k: report[k] for k in ("created", "updated", "unchanged", "failed")} == {
        "created": 1, "updated": 0, "unchanged": 1, "failed": 2}
    assert [(e["row"], e["order_id"], e["field"]) for e in report["errors"]] == [
        (2, "O9", "status"), (3, "O10", "lines[0].quantity")]
    assert report["errors"][0]["message"]["zh"] and "lost" in report["errors"][0]["message"]["en"]
    with db.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Order)) == 4

    again = client.post("/api/v1/orders/import", json={"orders": [order("O11")]}, headers=admin)
    assert again.json()["unchanged"] == 1


@pytest.mark.parametrize(("role", "links"), [(Role.AGENT, {}), (Role.CUSTOMER, {"customer_id": "C00001"})])
def test_only_admins_import(api: Any, db: Database, role: Role, links: dict[str, str]) -> None:
    client, headers = api
    answer = client.post("/api/v1/orders/import", json={"orders": [order("O7")]},
                         headers=headers("someone", role, **links))
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    assert client.post("/api/v1/orders/import", json={"orders": []}).status_code == 401
    with db.read() as uow:
        assert uow.session.get(Order, "O7") is None


@pytest.mark.parametrize("body", [{"orders": "O1"}, {"rows": []}, [order("O1")]])
def test_a_malformed_import_body_is_a_422_and_writes_nothing(api: Any, body: Any) -> None:
    client, headers = api
    answer = client.post("/api/v1/orders/import", json=body, headers=headers("admin", Role.ADMIN))
    assert answer.status_code == 422
    assert answer.json()["code"] in ("invalid_input", "malformed_json")


def test_a_customer_lists_only_their_own_orders_newest_first(api: Any) -> None:
    client, headers = api
    me = headers("zhangsan", Role.CUSTOMER, customer_id="C00001")
    page = client.get("/api/v1/orders", headers=me).json()
    assert [o["id"] for o in page["items"]] == ["O2", "O1"]
    assert page["total"] == 2 and page["limit"] == 20 and page["offset"] == 0
    first = page["items"][1]
    assert first["total_paid"] == "7177.10" and first["delivery_status"] == "signed"
    assert first["seller"] == {"id": "S0001", "name": "京东自营", "type": "self_operated"}
    assert [ln["sku"] for ln in first["lines"]] == ["100012043978", "100009464799"]
    assert client.get("/api/v1/orders?limit=1&offset=1", headers=me).json()["items"][0]["id"] == "O1"
    other = client.get("/api/v1/orders?customer_id=C00002", headers=me)
    assert other.status_code == 403 and other.json()["code"] == "not_allowed"


def test_a_seller_sees_only_orders_of_their_goods_with_the_address_masked(api: Any) -> None:
    client, headers = api
    shop = headers("uniqlo", Role.SELLER, seller_id="S0101")
    assert [o["id"] for o in client.get("/api/v1/orders", headers=shop).json()["items"]] == ["O3"]
    detail = client.get("/api/v1/orders/O3", headers=shop).json()
    assert detail["address"] == "北京市朝阳区****"
    assert client.get("/api/v1/orders/O1", headers=shop).status_code == 404


def test_staff_see_every_order_or_one_customers(api: Any) -> None:
    client, headers = api
    agent = headers("agent01", Role.AGENT)
    assert client.get("/api/v1/orders", headers=agent).json()["total"] == 3
    only = client.get("/api/v1/orders?customer_id=C00002", headers=agent).json()
    assert [o["id"] for o in only["items"]] == ["O3"]
    assert client.get("/api/v1/orders/O3", headers=agent).json()["address"].startswith("北京市朝阳区建国路")


def test_order_detail_carries_lines_gifts_payments_and_tracking(api: Any) -> None:
    client, headers = api
    me = headers("zhangsan", Role.CUSTOMER, customer_id="C00001")
    detail = client.get("/api/v1/orders/O1", headers=me)
    assert detail.status_code == 200
    body = detail.json()
    assert body["paid_at"] == "2024-05-01T02:00:00Z"
    assert body["address"] == "北京市朝阳区建国路88号SOHO现代城1号楼"
    assert body["lines"][0]["gifts"] == [{"name": "快充充电头", "value": "99.00"}]
    assert body["lines"][1] | {"gifts": None} == {
        "line_no": 1, "sku": "100009464799", "name": "优衣库 男装 摇粒绒拉链茄克", "category": "clothing",
        "quantity": 2, "unit_price": "199.00", "paid_amount": "378.10", "warranty_days": None,
        "services": ["size_exchange_90d"], "price_protection_days": 0, "non_returnable_confirmed": False,
        "gifts": None}
    assert body["payments"] == [{"method": "card", "amount": "7000.00"},
                                {"method": "balance", "amount": "177.10"}]
    assert body["delivery"]["signed_at"] == "2024-05-03T07:30:00Z"
    assert [e["description"] for e in body["delivery"]["events"]] == ["您的订单已出库", "已签收，签收人：本人"]
    # someone else's order and a missing one look the same
    assert client.get("/api/v1/orders/O3", headers=me).json()["code"] == "order_not_found"
    assert client.get("/api/v1/orders/nope", headers=me).status_code == 404
    assert client.get("/api/v1/orders/O1").status_code == 401


def test_the_openapi_schema_documents_the_orders_endpoints(api: Any) -> None:
    client, _headers = api
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/orders/import", "/api/v1/orders", "/api/v1/orders/{order_id}"} <= set(paths)
    assert {"401", "403", "422"} <= set(paths["/api/v1/orders/import"]["post"]["responses"])
