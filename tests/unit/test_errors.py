"""The web error handlers: one JSON shape with a stable code, 4xx for every kind of bad input."""

from __future__ import annotations

from enum import StrEnum

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from kefu.domain.errors import Conflict, InputError, KefuError, NotAuthenticated, NotFound, PermissionDenied
from kefu.web.errors import ErrorResponse, error_responses, install_error_handlers


class Kind(StrEnum):
    RETURN = "return"
    EXCHANGE = "exchange"


class Line(BaseModel):
    sku: str
    quantity: int = Field(ge=1)


class Application(BaseModel):
    kind: Kind
    lines: list[Line]


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/api/v1/applications", responses=error_responses(409))
    def submit(body: Application) -> dict[str, int]:
        return {"lines": len(body.lines)}

    @app.get("/api/v1/items")
    def items(limit: int = Query(10, ge=1, le=100)) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/api/v1/raise/{kind}")
    def raise_kefu(kind: str) -> None:
        errors: dict[str, KefuError] = {
            "input": InputError("line_out_of_range", "行号超出范围", "Line index out of range", index=7),
            "missing": NotFound("not_found", "不存在", "Not found"),
            "forbidden": PermissionDenied("forbidden", "无权操作", "Forbidden"),
            "anon": NotAuthenticated("not_authenticated", "请先登录", "Sign in"),
            "state": Conflict("illegal_transition", "状态不允许", "Illegal transition"),
        }
        raise errors[kind]

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app(), raise_server_exceptions=False)


def assert_error_shape(body: dict[str, object], code: str) -> None:
    ErrorResponse.model_validate(body)
    assert body["code"] == code
    message = body["message"]
    assert isinstance(message, dict) and message["zh"] and message["en"]


@pytest.mark.parametrize(("kind", "status", "code"), [
    ("input", 422, "line_out_of_range"),
    ("missing", 404, "not_found"),
    ("forbidden", 403, "forbidden"),
    ("anon", 401, "not_authenticated"),
    ("state", 409, "illegal_transition"),
])
def test_a_kefu_error_answers_its_status_and_code(client: TestClient, kind: str, status: int, code: str) -> None:
    response = client.get(f"/api/v1/raise/{kind}")
    assert response.status_code == status
    assert_error_shape(response.json(), code)


def test_the_error_detail_is_kept(client: TestClient) -> None:
    assert client.get("/api/v1/raise/input").json()["detail"] == {"index": 7}


def test_an_unauthenticated_api_answer_names_the_bearer_scheme(client: TestClient) -> None:
    assert client.get("/api/v1/raise/anon").headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("raw", [b'{"kind": "return", "lines": [', b"{kind: return}", b"\xff\xfe", b"[1,"])
def test_malformed_json_is_400_malformed_json(client: TestClient, raw: bytes) -> None:
    response = client.post("/api/v1/applications", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert_error_shape(response.json(), "malformed_json")


def test_an_unknown_enum_value_is_422_naming_the_member_and_the_allowed_values(client: TestClient) -> None:
    response = client.post("/api/v1/applications", json={"kind": "teleport", "lines": []})
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "invalid_input")
    assert "body.kind" in body["message"]["en"] and "body.kind" in body["message"]["zh"]
    (member,) = body["detail"]["errors"]
    assert member["loc"] == "body.kind"
    assert "return" in member["expected"] and "exchange" in member["expected"]


def test_a_negative_quantity_is_422_naming_the_nested_member(client: TestClient) -> None:
    response = client.post("/api/v1/applications",
                           json={"kind": "return", "lines": [{"sku": "A", "quantity": 1},
                                                             {"sku": "B", "quantity": -2}]})
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["detail"]["errors"]]
    assert locs == ["body.lines.1.quantity"]


def test_every_wrong_member_is_named(client: TestClient) -> None:
    response = client.post("/api/v1/applications", json={"lines": [{"quantity": "many"}]})
    assert response.status_code == 422
    locs = {e["loc"] for e in response.json()["detail"]["errors"]}
    assert locs == {"body.kind", "body.lines.0.sku", "body.lines.0.quantity"}


@pytest.mark.parametrize("payload", [[1, 2], "text", 42, None])
def test_a_body_of_the_wrong_type_is_422(client: TestClient, payload: object) -> None:
    response = client.post("/api/v1/applications", json=payload)
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")


def test_an_out_of_range_query_parameter_is_422_naming_it(client: TestClient) -> None:
    response = client.get("/api/v1/items", params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["detail"]["errors"][0]["loc"] == "query.limit"


def test_an_unexpected_exception_is_500_internal_error_without_internals(client: TestClient) -> None:
    response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert_error_shape(response.json(), "internal_error")
    assert "hunter2" not in response.text and "Traceback" not in response.text


def test_unknown_paths_and_methods_answer_in_the_same_shape(client: TestClient) -> None:
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert_error_shape(missing.json(), "not_found")
    wrong_method = client.delete("/api/v1/items")
    assert wrong_method.status_code == 405
    assert_error_shape(wrong_method.json(), "method_not_allowed")


def test_error_responses_documents_the_statuses_and_always_422() -> None:
    documented = error_responses(404, 409)
    assert set(documented) == {404, 409, 422}
    assert all(entry["model"] is ErrorResponse and entry["description"] for entry in documented.values())


def test_openapi_uses_the_error_model_for_documented_errors() -> None:
    schema = make_app().openapi()
    responses = schema["paths"]["/api/v1/applications"]["post"]["responses"]
    assert responses["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert "ErrorResponse" in schema["components"]["schemas"]
