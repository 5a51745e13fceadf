"""The web entrypoint's one handler per kind of error (DESIGN.md convention 6).

* :class:`~kefu.domain.errors.KefuError` → its status, with JSON ``{"code", "message": {"zh",
  "en"}, "detail"}`` under ``/api/`` and the error page (or a redirect to ``/login`` when the
  person is not signed in) everywhere else.
* Input that does not fit a route's schema → ``422 invalid_input`` naming every member that is
  wrong (its ``loc`` path, e.g. ``body.lines.0.quantity``); a body that is not JSON at all →
  ``400 malformed_json``. Bad input is never a 500.
* Starlette's own HTTP errors (unknown path, wrong method) → the same JSON shape.
* Anything else → logged with its traceback, answered ``500 internal_error`` without one.

Routes document their error answers in OpenAPI with ``responses=error_responses(404, 409)``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.domain.errors import KefuError, NotAuthenticated

log = logging.getLogger("kefu.web")


class ErrorMessage(BaseModel):
    zh: str = Field(description="说明（中文）")
    en: str = Field(description="Explanation in English")


class ErrorResponse(BaseModel):
    """Every error answer of the API has this shape; ``code`` is stable and safe to branch on."""

    code: str = Field(description="stable machine-readable error code", examples=["invalid_input"])
    message: ErrorMessage
    detail: dict[str, Any] | None = Field(default=None, description="what exactly was wrong")


_STATUS_TEXT: dict[int, str] = {
    400: "Malformed request (code `malformed_json` and others)",
    401: "Not signed in: no valid session or bearer token (`not_authenticated`)",
    403: "Not allowed for this account (`forbidden`, `csrf_failed`)",
    404: "Not found, or not visible to this account (`not_found`)",
    409: "The current state does not allow this (illegal transition, duplicate, "
    "`idempotency_in_progress`)",
    413: "Payload too large (`payload_too_large`)",
    422: "Input does not fit the schema or the rules (`invalid_input`, `idempotency_key_reused`)",
    500: "Unexpected server error (`internal_error`)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the given error statuses with :class:`ErrorResponse`.

    422 is always included, since every route with input can answer ``invalid_input``.
    """
    wanted = sorted({*statuses, 422})
    return {
        status: {"model": ErrorResponse, "description": _STATUS_TEXT.get(status, "Error")}
        for status in wanted
    }


def is_api_request(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_body(code: str, zh: str, en: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": {"zh": zh, "en": en}}
    if detail:
        body["detail"] = detail
    return body


def _render_error_page(request: Request, status: int, body: dict[str, Any]) -> Response:
    # Imported late: templating pulls in Jinja2 and the catalogs, which the API path never needs.
    from kefu.web.templating import render

    return render(request, "error.html", {"error": body, "status": status}, status_code=status)


def _respond(request: Request, status: int, body: dict[str, Any],
             headers: dict[str, str] | None = None) -> Response:
    if is_api_request(request):
        return JSONResponse(body, status_code=status, headers=headers)
    return _render_error_page(request, status, body)


async def handle_kefu_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KefuError)
    if isinstance(exc, NotAuthenticated) and not is_api_request(request) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
    return _respond(request, exc.status, exc.as_dict(), headers)


def _loc_text(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        first = next(err for err in errors if err.get("type") == "json_invalid")
        reason = str(first.get("ctx", {}).get("error", "")) or "invalid JSON"
        body = error_body("malformed_json", "请求体不是合法的 JSON。", "The request body is not valid JSON.",
                          {"reason": reason})
        return _respond(request, 400, body)
    members: list[dict[str, Any]] = []
    for err in errors:
        member: dict[str, Any] = {"loc": _loc_text(err.get("loc", ())), "type": err.get("type"),
                                  "msg": err.get("msg")}
        expected = err.get("ctx", {}).get("expected")
        if expected is not None:
            member["expected"] = str(expected)
        members.append(member)
    names = "、".join(dict.fromkeys(m["loc"] for m in members))
    names_en = ", ".join(dict.fromkeys(m["loc"] for m in members))
    body = error_body("invalid_input", f"输入有误：{names}", f"Invalid input: {names_en}", {"errors": members})
    return _respond(request, 422, body)


_HTTP_CODES: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "页面或资源不存在。", "Not found."),
    405: ("method_not_allowed", "不支持该请求方法。", "Method not allowed."),
    400: ("bad_request", "请求有误。", "Bad request."),
}


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, zh, en = _HTTP_CODES.get(exc.status_code, ("http_error", "请求未能完成。", str(exc.detail)))
    return _respond(request, exc.status_code, error_body(code, zh, en), dict(exc.headers or {}) or None)


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    body = error_body("internal_error", "服务器内部错误，请稍后重试。",
                      "Internal server error; please try again later.")
    if is_api_request(request):
        return JSONResponse(body, status_code=500)
    try:
        return _render_error_page(request, 500, body)
    except Exception:  # the error page itself failed: answer in plain JSON rather than nothing
        log.exception("error page failed to render")
        return JSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(KefuError, handle_kefu_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
