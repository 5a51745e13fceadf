"""A hot route (``kefu.web.hot_route``: a direct route reading its own body) answers exactly as a
route with a body declared to FastAPI: the same status, code and members for every kind of bad
input, the same schema in /openapi.json."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, Field

from kefu.web.errors import install_error_handlers
from kefu.web.hot_route import (
    DirectRoute,
    HotRoute,
    install_hot_routes,
    openapi_body,
    openapi_query,
    parse_body,
    parse_query,
)


class Kind(StrEnum):
    RETURN = "return"
    EXCHANGE = "exchange"


class Line(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1)


class Application(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    lines: list[Line] = Field(max_length=3)
    note: str | None = Field(None, max_length=10)
    first: Line | None = None


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/api/v1/declared")
    def declared(body: Application) -> dict[str, Any]:
        return body.model_dump(mode="json")

    async def parsed(request: Request) -> JSONResponse:
        return JSONResponse(parse_body(await request.body(), Application).model_dump(mode="json"))

    app.router.add_api_route("/api/v1/parsed", parsed, methods=["POST"], response_model=Application,
                             openapi_extra=openapi_body(Application), route_class_override=DirectRoute)
    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app(), raise_server_exceptions=False)


BODIES: list[bytes] = [
    b'{"kind": "return", "lines": [{"sku": "A", "quantity": 2}], "first": {"sku": "B", "quantity": 1}}',
    b'{"kind": "return", "lines": [',
    b"{kind: return}",
    b"\xff\xfe",
    b"",
    b"null",
    b"[1, 2]",
    b'"text"',
    b"42",
    b'{"kind": "teleport", "lines": []}',
    b'{"lines": [{"quantity": "many"}]}',
    b'{"kind": "return", "lines": [{"sku": "A", "quantity": 1}, {"sku": "", "quantity": -2}]}',
    b'{"kind": "exchange", "lines": [], "note": "much too long a note"}',
    b'{"kind": "exchange", "lines": [], "colour": "red"}',
    b'{"kind": "exchange", "lines": [{}, {}, {}, {}]}',
    b'{"kind": "exchange", "lines": [], "first": 7}',
]


@pytest.mark.parametrize("raw", BODIES)
def test_a_parsed_body_answers_as_a_declared_one(client: TestClient, raw: bytes) -> None:
    headers = {"content-type": "application/json"}
    declared = client.post("/api/v1/declared", content=raw, headers=headers)
    parsed = client.post("/api/v1/parsed", content=raw, headers=headers)
    assert declared.status_code in (200, 400, 422)
    assert parsed.status_code == declared.status_code
    if declared.status_code == 400:          # the parsers word their reasons differently (orjson, json)
        assert parsed.json()["detail"]["reason"]
        assert {**parsed.json(), "detail": None} == {**declared.json(), "detail": None}
    else:
        assert parsed.json() == declared.json()


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_is_read_whatever_its_declared_type(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    answer = client.post("/api/v1/parsed", content=BODIES[0], headers=headers)
    assert answer.status_code == 200 and answer.json()["lines"] == [{"sku": "A", "quantity": 2}]
    assert client.post("/api/v1/parsed", content=b"kind=return", headers=headers).json()["code"] == "malformed_json"


def test_the_cases_cover_success_malformed_json_and_invalid_input(client: TestClient) -> None:
    answers = {client.post("/api/v1/parsed", content=raw, headers={"content-type": "application/json"}).status_code
               for raw in BODIES}
    assert answers == {200, 400, 422}


def _resolved(node: Any, components: dict[str, Any]) -> Any:
    """``node`` with every ``#/components/schemas/…`` reference replaced by what it names."""
    if isinstance(node, list):
        return [_resolved(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**_resolved(components[ref.rsplit("/", 1)[1]], components), **_resolved(rest, components)}
    return {k: _resolved(v, components) for k, v in node.items()}


def test_the_openapi_document_shows_the_same_body_schema_standing_alone(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    declared = document["paths"]["/api/v1/declared"]["post"]["requestBody"]
    parsed = document["paths"]["/api/v1/parsed"]["post"]["requestBody"]
    assert parsed["required"] is True
    parsed_schema = parsed["content"]["application/json"]["schema"]
    assert "$ref" not in str(parsed_schema) and "$defs" not in parsed_schema
    assert parsed_schema["properties"]["kind"]["enum"] == ["return", "exchange"]
    assert parsed_schema == _resolved(declared["content"]["application/json"]["schema"], components)


def test_a_recursive_model_is_refused_when_the_route_is_defined() -> None:
    class Node(BaseModel):
        children: list[Node] = []

    with pytest.raises(ValueError, match="recursive"):
        openapi_body(Node)


def test_a_direct_route_must_take_the_request_alone_and_answer_a_response() -> None:
    app = FastAPI()

    async def with_body(request: Request, body: Application) -> JSONResponse:
        return JSONResponse({})

    async def answers_a_dict(request: Request) -> dict[str, Any]:
        return {}

    def not_async(request: Request) -> JSONResponse:
        return JSONResponse({})

    for endpoint in (with_body, answers_a_dict, not_async):
        with pytest.raises(TypeError, match="direct route"):
            app.router.add_api_route("/x", endpoint, methods=["POST"], route_class_override=DirectRoute)


def test_hot_routes_are_matched_first_and_leave_the_other_methods_of_their_path_alone() -> None:
    from fastapi import APIRouter

    app = FastAPI()
    install_error_handlers(app)
    router = APIRouter()

    @router.get("/items")
    def list_items() -> list[str]:
        return ["listed"]

    async def add_item(request: Request) -> JSONResponse:
        return JSONResponse(parse_body(await request.body(), Line).model_dump(), status_code=201)

    app.include_router(router, prefix="/api/v1")
    install_hot_routes(app, "/api/v1", [HotRoute("/items", add_item, {"methods": ["POST"], "status_code": 201})])
    assert isinstance(app.router.routes[0], DirectRoute) and app.router.routes[0].path == "/api/v1/items"
    client = TestClient(app)
    assert client.post("/api/v1/items", json={"sku": "A", "quantity": 1}).status_code == 201
    assert client.get("/api/v1/items").json() == ["listed"]
    assert client.put("/api/v1/items", json={}).status_code == 405
    assert set(client.get("/openapi.json").json()["paths"]["/api/v1/items"]) == {"get", "post"}


class Listing(BaseModel):
    queue: str | None = Field(None, max_length=8)
    mine: bool = False
    limit: int = Field(50, ge=1, le=200)


def make_listing_app() -> FastAPI:
    from fastapi import Query

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v1/declared")
    def declared(queue: str | None = Query(None, max_length=8), mine: bool = False,
                 limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
        return {"queue": queue, "mine": mine, "limit": limit}

    async def parsed(request: Request) -> JSONResponse:
        return JSONResponse(parse_query(request, Listing).model_dump())

    install_hot_routes(app, "/api/v1", [HotRoute("/parsed", parsed, {
        "methods": ["GET"], "openapi_extra": openapi_query(Listing)})])
    return app


QUERIES = ["", "queue=vip&mine=true&limit=25", "mine=1", "mine=yes", "mine=maybe", "limit=0", "limit=201",
           "limit=ten", "queue=much-too-long", "queue=a&queue=b", "other=1", "limit=0&mine=perhaps"]


@pytest.mark.parametrize("query", QUERIES)
def test_a_parsed_query_answers_as_declared_parameters(query: str) -> None:
    client = TestClient(make_listing_app(), raise_server_exceptions=False)
    declared = client.get(f"/api/v1/declared?{query}")
    parsed = client.get(f"/api/v1/parsed?{query}")
    assert declared.status_code in (200, 422)
    assert (parsed.status_code, parsed.json()) == (declared.status_code, declared.json())


def test_the_openapi_document_shows_the_same_query_parameters() -> None:
    document = TestClient(make_listing_app()).get("/openapi.json").json()["paths"]
    declared = {p["name"]: p for p in document["/api/v1/declared"]["get"]["parameters"]}
    parsed = {p["name"]: p for p in document["/api/v1/parsed"]["get"]["parameters"]}
    assert set(parsed) == {"queue", "mine", "limit"} == set(declared)
    for name, parameter in parsed.items():
        assert parameter["in"] == "query" and parameter["required"] is False
        assert parameter["schema"] == declared[name]["schema"]
