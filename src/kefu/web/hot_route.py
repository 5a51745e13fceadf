"""The API's hottest routes (opening a ticket, the assistant's messages): their body read straight
into its pydantic model, and FastAPI's per-request parameter solving skipped.

FastAPI reads a body declared as a parameter through its dependency solver, which inspects the
route's parameters again on every request and builds the request's query, header and cookie
maps whether or not the route uses them — about 0.1 ms of the event loop's time per request
(measured on ``POST /api/v1/tickets``: bench/README.md, service desk), where the whole request
takes some 0.3 ms of it. A hot route instead is an ``async def route(request) -> Response``
declared as a :class:`HotRoute`; it calls :func:`parse_body` / :func:`parse_query` and documents
its body and query with :func:`openapi_body` / :func:`openapi_query`, and its response model is
documented as for any route. ``create_app``
registers the hot routes on the app itself, ahead of every other route
(:func:`install_hot_routes`): a path is matched against the routes in order, and a route inside
an included router costs FastAPI's matching twice over (the router, then its routes) — another
~0.03 ms per request.

The same schema shows in ``/openapi.json`` and bad input gets the same answers as from a declared
body — ``400 malformed_json`` for text that is not JSON, ``422 invalid_input`` naming every
member that does not fit or a missing body (rendered by :mod:`kefu.web.errors` from FastAPI's
``RequestValidationError``, with ``body`` leading each member's location). One difference, on
purpose: the body is read as JSON whatever its ``Content-Type`` says (``curl -d`` sends a form
type), where FastAPI would refuse it as a body that is not an object.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DirectRoute(APIRoute):
    """A route whose endpoint takes the ``Request`` alone and returns its ``Response``: FastAPI
    hands the request straight to it (no parameter solving, no response-model serialisation;
    the response model, the responses and ``openapi_extra`` still document it). Declare it as a
    :class:`HotRoute`; :func:`install_hot_routes` registers it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        signature = inspect.signature(endpoint, eval_str=True)
        parameters = list(signature.parameters.values())
        answers = signature.return_annotation
        if not (inspect.iscoroutinefunction(endpoint) and len(parameters) == 1 and parameters[0].annotation is Request
                and isinstance(answers, type) and issubclass(answers, Response)):
            raise TypeError(f"{endpoint.__name__}: a direct route is `async def route(request: Request) -> Response`")
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return handler


@dataclass(frozen=True, slots=True)
class HotRoute:
    """A direct route and how to document it: ``options`` are ``add_api_route``'s (``methods``,
    ``status_code``, ``response_model``, ``responses``, ``tags``, ``openapi_extra`` …)."""

    path: str
    endpoint: Callable[[Request], Coroutine[Any, Any, Response]]
    options: dict[str, Any] = field(default_factory=dict)


def install_hot_routes(app: FastAPI, prefix: str, routes: Sequence[HotRoute]) -> None:
    """Register ``routes`` (under ``prefix``) as :class:`DirectRoute` s at the head of the app's
    routes, in the order given, so they are matched first."""
    before = len(app.router.routes)
    for route in routes:
        app.router.add_api_route(prefix + route.path, route.endpoint, route_class_override=DirectRoute,
                                 **route.options)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added


def parse_body(raw: bytes, model: type[M]) -> M:
    """``raw`` parsed as JSON and validated as ``model``, or the ``RequestValidationError`` FastAPI
    would raise for it (``missing`` for an empty body; ``json_invalid`` with the offset of the
    error; the model's errors with ``body`` first in their location)."""
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": exc.msg}}]) from None
    try:
        # from_attributes: a body that is not an object is reported as FastAPI reports it
        return model.model_validate(data, from_attributes=True)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def parse_query(request: Request, model: type[M]) -> M:
    """The request's query string validated as ``model`` (a repeated name: its last value; names
    the model does not know: ignored, as FastAPI does), or the ``RequestValidationError`` FastAPI
    would raise for it (each member's location ``query.<name>``)."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None


def openapi_query(model: type[BaseModel]) -> dict[str, Any]:
    """The route's ``openapi_extra``: one query parameter per member of ``model`` (a flat model of
    scalars), with its schema, default and description."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = _inline(prop, definitions, ())
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return {"parameters": parameters}


def openapi_body(model: type[BaseModel]) -> dict[str, Any]:
    """The route's ``openapi_extra``: a required JSON body with ``model``'s schema, its
    definitions (enums, nested models) written in place, so that the schema stands alone in the
    OpenAPI document (a ``#/$defs/…`` reference would point at the document's root)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": _inline(schema, definitions, ())}}}}


def _inline(node: Any, definitions: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in seen:
            raise ValueError(f"recursive model {name!r}: give the route a declared body instead")
        rest = {key: value for key, value in node.items() if key != "$ref"}
        return {**_inline(definitions[name], definitions, (*seen, name)), **_inline(rest, definitions, seen)}
    return {key: _inline(value, definitions, seen) for key, value in node.items()}
