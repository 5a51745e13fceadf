"""Sign-in over HTTP: bearer tokens for the API, sessions and CSRF for the pages, roles."""

from __future__ import annotations

import re

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from kefu.domain.actors import Actor, Role
from kefu.services import accounts
from kefu.services.uow import Database
from kefu.web.deps import SESSION_COOKIE, csrf_protect, require_roles


@pytest.fixture
def agent(db: Database) -> accounts.UserInfo:
    return accounts.create_user(db, username="agent01", password="s3cret-pass", role="agent",
                                display_name="客服小王")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, username: str = "agent01", password: str = "s3cret-pass") -> str:
    """Sign in through the login form; returns the session's CSRF token (from the next page)."""
    form = client.get("/login")
    done = client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    return csrf_of(client.get("/account").text)


# --------------------------------------------------------------------------- API


def test_a_token_is_issued_for_the_right_password_and_opens_the_api(
        client: TestClient, agent: accounts.UserInfo) -> None:
    issued = client.post("/api/v1/auth/token", json={"username": "agent01", "password": "s3cret-pass"})
    assert issued.status_code == 201
    body = issued.json()
    assert body["token_type"] == "bearer"
    assert body["actor"] == {"user_id": agent.id, "role": "agent", "display_name": "客服小王",
                             "customer_id": None, "seller_id": None}
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["user_id"] == agent.id


def test_a_wrong_password_gets_no_token(client: TestClient, agent: accounts.UserInfo) -> None:
    refused = client.post("/api/v1/auth/token", json={"username": "agent01", "password": "nope-nope"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_credentials"


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic YWdlbnQwMTpzM2NyZXQ=", "Bearer "])
def test_the_api_without_a_valid_token_is_401_not_authenticated(
        client: TestClient, agent: accounts.UserInfo, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_browser_session_also_opens_the_api(client: TestClient, agent: accounts.UserInfo) -> None:
    sign_in(client)
    assert client.get("/api/v1/auth/me").json()["display_name"] == "客服小王"


# --------------------------------------------------------------------------- pages


def test_signing_in_sets_a_protected_session_cookie(client: TestClient, agent: accounts.UserInfo) -> None:
    form = client.get("/login")
    assert form.status_code == 200
    done = client.post("/login", data={"username": "agent01", "password": "s3cret-pass",
                                       "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == "/desk"
    cookie = done.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()


def test_a_wrong_password_on_the_page_is_shown_in_chinese(client: TestClient, agent: accounts.UserInfo) -> None:
    form = client.get("/login")
    refused = client.post("/login", data={"username": "agent01", "password": "wrong-pass",
                                          "csrf_token": csrf_of(form.text)})
    assert refused.status_code == 401
    assert "用户名或密码错误。" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_login_post_without_the_csrf_token_is_403_csrf_failed(
        client: TestClient, agent: accounts.UserInfo, token: str | None) -> None:
    client.get("/login")
    data = {"username": "agent01", "password": "s3cret-pass"}
    if token is not None:
        data["csrf_token"] = token
    refused = client.post("/login", data=data, follow_redirects=False)
    assert refused.status_code == 403
    assert "csrf_failed" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")


def test_a_login_csrf_token_from_another_browser_does_not_work(
        app: FastAPI, agent: accounts.UserInfo) -> None:
    with TestClient(app) as attacker, TestClient(app) as victim:
        forged = csrf_of(attacker.get("/login").text)
        victim.get("/login")
        refused = victim.post("/login", data={"username": "agent01", "password": "s3cret-pass",
                                              "csrf_token": forged}, follow_redirects=False)
    assert refused.status_code == 403


def test_signing_out_needs_the_session_csrf_token_and_ends_the_session(
        client: TestClient, agent: accounts.UserInfo) -> None:
    csrf = sign_in(client)
    refused = client.post("/logout", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/account").status_code == 200
    done = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_the_session_csrf_token_is_accepted_as_a_header_for_htmx(
        app: FastAPI, client: TestClient, agent: accounts.UserInfo) -> None:
    @app.post("/test/ping", dependencies=[Depends(csrf_protect)])
    def ping() -> dict[str, bool]:
        return {"ok": True}

    csrf = sign_in(client)
    assert client.post("/test/ping").status_code == 403
    assert client.post("/test/ping", headers={"X-CSRF-Token": csrf}).json() == {"ok": True}


def test_an_anonymous_page_visit_is_redirected_to_sign_in(client: TestClient) -> None:
    response = client.get("/account?tab=a", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%3Ftab%3Da"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", ""])
def test_sign_in_never_redirects_off_site(client: TestClient, agent: accounts.UserInfo, target: str) -> None:
    form = client.get("/login")
    done = client.post("/login", data={"username": "agent01", "password": "s3cret-pass", "next": target,
                                       "csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert done.headers["location"] == "/desk"


def test_home_sends_each_person_to_their_start_page(client: TestClient, agent: accounts.UserInfo) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    sign_in(client)
    assert client.get("/", follow_redirects=False).headers["location"] == "/desk"


def test_an_error_page_is_html_in_the_chosen_language(client: TestClient) -> None:
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "text/html" in missing.headers["content-type"]
    assert "页面或资源不存在。" in missing.text
    english = client.get("/no-such-page?lang=en")
    assert "Not found." in english.text and "Something went wrong" in english.text


# --------------------------------------------------------------------------- roles


def test_require_roles_admits_only_the_named_roles(app: FastAPI, client: TestClient, db: Database,
                                                   agent: accounts.UserInfo) -> None:
    @app.get("/api/v1/test/admin-only")
    def admin_only(actor: Actor = Depends(require_roles(Role.ADMIN))) -> dict[str, str]:
        return {"hello": actor.display_name}

    accounts.create_user(db, username="boss", password="boss-pass", role="admin", display_name="老板")
    agent_token = accounts.issue_api_token(db, accounts.authenticate(db, "agent01", "s3cret-pass"), "t")
    admin_token = accounts.issue_api_token(db, accounts.authenticate(db, "boss", "boss-pass"), "t")
    assert client.get("/api/v1/test/admin-only").status_code == 401
    forbidden = client.get("/api/v1/test/admin-only", headers={"Authorization": f"Bearer {agent_token}"})
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    allowed = client.get("/api/v1/test/admin-only", headers={"Authorization": f"Bearer {admin_token}"})
    assert allowed.json() == {"hello": "老板"}


def test_health_answers_with_the_database(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"


def test_every_api_write_documents_idempotency_and_the_error_shape(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    writes = [(path, method, op) for path, ops in schema["paths"].items() if path.startswith("/api/v1")
              for method, op in ops.items() if method in {"post", "put", "patch", "delete"}]
    assert writes, "no API write routes found"
    for path, method, operation in writes:
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names, f"{method} {path}"
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), f"{method} {path} {status}"
    assert "HTTPValidationError" not in schema["components"]["schemas"]
