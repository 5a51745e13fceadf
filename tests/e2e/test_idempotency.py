"""``Idempotency-Key`` on API writes: one execution, the first answer replayed, reuse refused."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select

from kefu.adapters.db.tables.auth import IdempotencyKey
from kefu.adapters.db.tables.catalog import Customer
from kefu.domain.actors import Actor
from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict
from kefu.services import accounts
from kefu.services.uow import Database
from kefu.web.deps import current_actor
from kefu.web.idempotency import IdempotencyMiddleware, IdempotencyStore

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
T = TypeVar("T")


class NewCustomer(BaseModel):
    id: str
    name: str


class Gate:
    """Holds a write open until released, so that a second request arrives mid-flight."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0


def add_write_routes(app: FastAPI, db: Database, gate: Gate | None = None) -> None:
    """Tiny real write routes: insert a customer row, as an authenticated actor."""

    @app.post("/api/v1/test/customers", status_code=201)
    def add_customer(body: NewCustomer, actor: Actor = Depends(current_actor)) -> dict[str, object]:
        if gate is not None:
            gate.calls += 1
            gate.entered.set()
            gate.release.wait(10)
        with db.uow() as uow:
            uow.session.add(Customer(id=body.id, name=body.name, level="regular", created_at=NOW))
            uow.commit()
        return {"id": body.id, "by": actor.user_id, "at": time.monotonic_ns()}

    @app.post("/api/v1/test/refuse")
    def refuse(actor: Actor = Depends(current_actor)) -> None:
        raise Conflict("illegal_transition", "状态不允许", "Illegal transition", calls=time.monotonic_ns())

    @app.post("/api/v1/test/crash")
    def crash(body: NewCustomer, actor: Actor = Depends(current_actor)) -> None:
        with db.uow() as uow:
            uow.session.add(Customer(id=body.id, name=body.name, level="regular", created_at=NOW))
            uow.commit()
        raise RuntimeError("crashed after writing")


def customers(db: Database) -> int:
    with db.read() as ro:
        return int(ro.session.scalar(select(func.count()).select_from(Customer)) or 0)


def token_for(db: Database, username: str) -> str:
    accounts.create_user(db, username=username, password="pass-word", role="agent")
    return accounts.issue_api_token(db, accounts.authenticate(db, username, "pass-word"), "t")


@pytest.fixture
def token(db: Database) -> str:
    return token_for(db, "agent01")


@pytest.fixture
def writes(app: FastAPI, db: Database) -> FastAPI:
    add_write_routes(app, db)
    return app


def post(client: TestClient, token: str, key: str | None, body: dict[str, str],
         path: str = "/api/v1/test/customers") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    response: httpx.Response = client.post(path, json=body, headers=headers)
    return response


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing(
        writes: FastAPI, client: TestClient, db: Database, token: str) -> None:
    first = post(client, token, "key-1", {"id": "C1", "name": "张三"})
    assert first.status_code == 201
    again = post(client, token, "key-1", {"id": "C1", "name": "张三"})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert "idempotent-replayed" not in first.headers
    assert customers(db) == 1


def test_the_same_key_for_a_different_body_is_422_idempotency_key_reused(
        writes: FastAPI, client: TestClient, db: Database, token: str) -> None:
    assert post(client, token, "key-1", {"id": "C1", "name": "张三"}).status_code == 201
    reused = post(client, token, "key-1", {"id": "C2", "name": "李四"})
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert customers(db) == 1


def test_without_a_key_every_request_runs(writes: FastAPI, client: TestClient, db: Database, token: str) -> None:
    assert post(client, token, None, {"id": "C1", "name": "张三"}).status_code == 201
    assert post(client, token, None, {"id": "C2", "name": "李四"}).status_code == 201
    assert customers(db) == 2


def test_keys_are_scoped_to_the_actor_and_the_path(writes: FastAPI, client: TestClient, db: Database,
                                                   token: str) -> None:
    other = token_for(db, "agent02")
    assert post(client, token, "shared", {"id": "C1", "name": "张三"}).status_code == 201
    assert post(client, other, "shared", {"id": "C2", "name": "李四"}).status_code == 201
    refused = post(client, token, "shared", {"id": "C1", "name": "张三"}, path="/api/v1/test/refuse")
    assert refused.json()["code"] == "illegal_transition"
    assert customers(db) == 2


def test_a_refusal_is_an_answer_and_is_replayed(writes: FastAPI, client: TestClient, token: str) -> None:
    first = post(client, token, "k", {}, path="/api/v1/test/refuse")
    again = post(client, token, "k", {}, path="/api/v1/test/refuse")
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


def test_a_server_error_is_not_remembered_so_the_retry_runs_again(
        writes: FastAPI, client: TestClient, db: Database, token: str) -> None:
    first = post(client, token, "k", {"id": "C1", "name": "张三"}, path="/api/v1/test/crash")
    assert first.status_code == 500
    second = post(client, token, "k", {"id": "C2", "name": "李四"}, path="/api/v1/test/crash")
    assert second.status_code == 500, "a released key may carry a corrected body"
    with db.read() as ro:
        assert ro.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_a_bad_key_is_422(writes: FastAPI, client: TestClient, db: Database, token: str) -> None:
    refused = post(client, token, "x" * 256, {"id": "C1", "name": "张三"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_idempotency_key"
    assert customers(db) == 0


def test_invalid_input_with_a_key_is_replayed_and_writes_nothing(
        writes: FastAPI, client: TestClient, db: Database, token: str) -> None:
    first = post(client, token, "k", {"id": "C1"})
    again = post(client, token, "k", {"id": "C1"})
    assert first.status_code == again.status_code == 422
    assert again.json()["code"] == "invalid_input"
    assert customers(db) == 0


def test_an_invalid_token_with_a_key_is_just_401(writes: FastAPI, client: TestClient, db: Database) -> None:
    response = post(client, "bogus", "k", {"id": "C1", "name": "张三"})
    assert response.status_code == 401
    with db.read() as ro:
        assert ro.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_the_token_route_itself_takes_a_key(client: TestClient, db: Database) -> None:
    accounts.create_user(db, username="agent01", password="pass-word", role="agent")
    body = {"username": "agent01", "password": "pass-word"}
    first = client.post("/api/v1/auth/token", json=body, headers={"Idempotency-Key": "login-1"})
    again = client.post("/api/v1/auth/token", json=body, headers={"Idempotency-Key": "login-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["token"] == again.json()["token"]


def run_in_own_loop(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run`` in a thread of its own: Playwright's sync API may own this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(scenario())).result(timeout=60)


async def two_at_once(app: FastAPI, token: str, key: str) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return list(await asyncio.gather(*[
            http.post("/api/v1/test/customers", json={"id": "C1", "name": "张三"}, headers=headers)
            for _ in range(2)]))


def test_two_concurrent_requests_with_one_key_execute_once_and_both_get_the_answer(
        app: FastAPI, db: Database, token: str) -> None:
    gate = Gate()
    add_write_routes(app, db, gate)

    async def scenario() -> list[httpx.Response]:
        task = asyncio.ensure_future(two_at_once(app, token, "concurrent"))
        await asyncio.to_thread(gate.entered.wait, 10)
        await asyncio.sleep(0.3)  # the second request is now waiting on the key
        gate.release.set()
        return await task

    responses = run_in_own_loop(scenario)
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert gate.calls == 1
    assert customers(db) == 1


def test_a_concurrent_request_that_waits_too_long_is_409_idempotency_in_progress(
        db: Database, token: str) -> None:
    app = FastAPI()
    app.state.db = db
    gate = Gate()
    add_write_routes(app, db, gate)
    from kefu.web.errors import install_error_handlers

    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware, wait_s=0.1)

    async def scenario() -> list[httpx.Response]:
        task = asyncio.ensure_future(two_at_once(app, token, "slow"))
        await asyncio.to_thread(gate.entered.wait, 10)
        await asyncio.sleep(0.5)
        gate.release.set()
        return await task

    statuses = sorted(r.status_code for r in run_in_own_loop(scenario))
    assert statuses == [201, 409]
    assert gate.calls == 1
    assert customers(db) == 1


def test_an_abandoned_key_is_taken_over_and_old_keys_expire(db: Database) -> None:
    clock = FixedClock(NOW)
    store = IdempotencyStore(db, clock=clock)
    first = store.claim("user:1", "POST", "/api/v1/x", "k", "hash")
    assert first.outcome == "run"
    assert store.claim("user:1", "POST", "/api/v1/x", "k", "hash").outcome == "in_progress"
    clock.advance(minutes=11)
    taken = store.claim("user:1", "POST", "/api/v1/x", "k", "hash")
    assert (taken.outcome, taken.row_id) == ("run", first.row_id)
    assert taken.row_id is not None
    store.store(taken.row_id, 201, [["content-type", "application/json"]], b"{}")
    assert store.claim("user:1", "POST", "/api/v1/x", "k", "hash").outcome == "replay"
    clock.advance(hours=25)
    assert store.claim("user:1", "POST", "/api/v1/x", "k", "other-hash").outcome == "run"
    clock.advance(hours=25)
    assert store.purge() == 1
