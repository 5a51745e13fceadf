"""Jinja2 rendering for the pages: one environment, one :func:`render` every page route calls.

Every template receives ``request``, ``actor`` (or None), ``locale``, ``csrf_token`` (put it in
every POST form as ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``; htmx
requests send it as the ``X-CSRF-Token`` header set on ``<body>`` by base.html), ``lang_url(code)``
for the language switch, and the globals ``_`` (see :mod:`kefu.web.i18n`) and ``pick_lang``, and
the filter ``local_dt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from kefu.web import deps
from kefu.web.i18n import DEFAULT_LOCALE, current_locale, gettext, local_dt, pick_lang

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.globals.update(_=gettext, pick_lang=pick_lang)
templates.env.filters["local_dt"] = local_dt
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def request_locale(request: Request) -> str:
    return str(request.scope.get("state", {}).get("locale", DEFAULT_LOCALE))


def lang_url(request: Request, code: str) -> str:
    """The current page's URL with ``lang`` set to ``code`` (other query parameters kept)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", code))
    return f"{request.url.path}?{urlencode(params)}"


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """Render ``name`` in the request's locale with the common context described above."""
    locale = request_locale(request)
    csrf = deps.csrf_token_for(request)
    full: dict[str, Any] = {
        "request": request,
        "actor": deps.resolved_actor(request),
        "locale": locale,
        "csrf_token": csrf.token,
        "lang_url": lambda code: lang_url(request, code),
    }
    full.update(context or {})
    # Templates render eagerly inside TemplateResponse, so the locale only has to hold for this call.
    token = current_locale.set(locale)
    try:
        response = templates.TemplateResponse(request, name, full, status_code=status_code, headers=headers)
    finally:
        current_locale.reset(token)
    deps.set_csrf_cookie(request, response, csrf)
    return response
