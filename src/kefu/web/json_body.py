"""A route's JSON body read straight into its pydantic model, for the API's hottest writes.

FastAPI reads a body declared as a parameter through its dependency solver, which inspects the
route's parameters again on every request — about 0.1 ms of the event loop's time per request
(measured on ``POST /api/v1/tickets``: bench/README.md, service desk). A hot route instead takes
the ``Request``, calls :func:`parse_body` and documents its body with :func:`openapi_body`.
The same schema shows in ``/openapi.json`` and bad input gets the same answers as from a declared
body — ``400 malformed_json`` for text that is not JSON, ``422 invalid_input`` naming every
member that does not fit or a missing body (rendered by :mod:`kefu.web.errors` from FastAPI's
``RequestValidationError``, with ``body`` leading each member's location). One difference, on
purpose: the body is read as JSON whatever its ``Content-Type`` says (``curl -d`` sends a form
type), where FastAPI would refuse it as a body that is not an object.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


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
