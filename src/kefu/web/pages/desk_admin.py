"""Supervisor and admin pages of the service desk: queues and agents (``/desk/settings``), canned
replies and macros (``/desk/canned``), and satisfaction with the compliance record
(``/desk/satisfaction`` — a seller sees their own rows and record there).

Every write is one service call (:mod:`kefu.services.desk_admin`, :mod:`kefu.services.canned`);
errors are shown on the page in the reader's language.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from kefu.domain.actors import Actor, Role
from kefu.domain.errors import InputError, KefuError
from kefu.domain.service.sla import SellerBand
from kefu.domain.service.tickets import Action, Category
from kefu.services import canned as canned_svc
from kefu.services import desk_admin as admin_svc
from kefu.services import satisfaction as survey_svc
from kefu.web.deps import csrf_protect, get_db, require_roles
from kefu.web.i18n import pick_lang
from kefu.web.pages.customer import error_of
from kefu.web.pages.tickets import tpage
from kefu.web.runtime import get_runtime

router = APIRouter(include_in_schema=False)
managers_only = require_roles(Role.SUPERVISOR, Role.ADMIN)
report_readers = require_roles(Role.SUPERVISOR, Role.ADMIN, Role.SELLER)

GROUP_LABELS: dict[str, tuple[str, str]] = {
    "agent": ("客服", "Agent"), "queue": ("队列", "Queue"), "seller": ("商家", "Seller"),
}
BAND_LABELS: dict[str, tuple[str, str]] = {
    SellerBand.OK.value: ("正常", "OK"), SellerBand.WARNING.value: ("预警", "Warning"),
    SellerBand.REVIEW.value: ("售后入口复核", "Under review"),
    SellerBand.RESTRICTED.value: ("限制经营，待整改", "Restricted"),
}


def _text(form: FormData, name: str, limit: int = 5000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _words(value: str) -> tuple[str, ...]:
    return tuple(w for w in value.replace("，", ",").replace(" ", ",").split(",") if w.strip())


def _checked(form: FormData, name: str) -> tuple[str, ...]:
    return tuple(v for v in form.getlist(name) if isinstance(v, str) and v)


def _int(value: str, code: str, zh: str, en: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InputError(code, zh, en) from None


# ── /desk/settings ─────────────────────────────────────────────────────────────────────────


def _settings_page(request: Request, actor: Actor, error: dict[str, Any] | None = None,
                   status_code: int = 200, failed: str | None = None) -> Response:
    db = get_db(request)
    agents = admin_svc.list_agents(db, actor)
    return tpage(request, "desk/settings.html", {
        "queues": admin_svc.list_queues(db, actor), "agents": agents,
        "supervisors": [a for a in agents if a.role in (Role.SUPERVISOR.value, Role.ADMIN.value)],
        "categories": [c.value for c in Category], "strategies": list(admin_svc.STRATEGIES),
        "error": error, "failed": failed,
    }, status_code=status_code)


@router.get("/desk/settings")
def settings_page(request: Request, actor: Actor = Depends(managers_only)) -> Response:
    return _settings_page(request, actor)


def _queue_input(form: FormData) -> admin_svc.QueueInput:
    return admin_svc.QueueInput(code=_text(form, "code", 64), name_zh=_text(form, "name_zh", 100),
                                name_en=_text(form, "name_en", 100), categories=_checked(form, "categories"),
                                skill=_text(form, "skill", 64), strategy=_text(form, "strategy", 32),
                                is_active=_text(form, "is_active") in ("1", "on", "true"))


async def _save_queue(request: Request, actor: Actor, queue_id: int | None) -> Response:
    raw = await request.form()
    try:
        await run_in_threadpool(lambda: admin_svc.save_queue(get_db(request), actor, _queue_input(raw),
                                                             queue_id=queue_id, clock=get_runtime(request).clock))
    except KefuError as exc:
        return await run_in_threadpool(_settings_page, request, actor, error_of(exc), exc.status,
                                       f"queue-{queue_id or 'new'}")
    return RedirectResponse("/desk/settings", status_code=303)


@router.post("/desk/settings/queues", dependencies=[Depends(csrf_protect)])
async def create_queue(request: Request, actor: Actor = Depends(managers_only)) -> Response:
    return await _save_queue(request, actor, None)


@router.post("/desk/settings/queues/{queue_id}", dependencies=[Depends(csrf_protect)])
async def edit_queue(request: Request, queue_id: int, actor: Actor = Depends(managers_only)) -> Response:
    return await _save_queue(request, actor, queue_id)


@router.post("/desk/settings/agents/{user_id}", dependencies=[Depends(csrf_protect)])
async def edit_agent(request: Request, user_id: int, actor: Actor = Depends(managers_only)) -> Response:
    raw = await request.form()
    try:
        capacity = _int(_text(raw, "capacity", 6) or "0", "invalid_capacity", "接待上限须为整数。",
                        "The capacity must be a whole number.")
        boss = _text(raw, "supervisor_id", 12)
        supervisor = _int(boss, "invalid_supervisor", "主管无效。", "Unknown supervisor.") if boss else None
        settings = admin_svc.AgentSettings(queue_codes=_checked(raw, "queues"), capacity=capacity,
                                           skills=_words(_text(raw, "skills", 500)), supervisor_id=supervisor)
        await run_in_threadpool(admin_svc.set_agent, get_db(request), actor, user_id, settings,
                                get_runtime(request).clock)
    except KefuError as exc:
        return await run_in_threadpool(_settings_page, request, actor, error_of(exc), exc.status,
                                       f"agent-{user_id}")
    return RedirectResponse("/desk/settings", status_code=303)


# ── /desk/canned ───────────────────────────────────────────────────────────────────────────


def _canned_page(request: Request, actor: Actor, error: dict[str, Any] | None = None, status_code: int = 200,
                 draft: dict[str, Any] | None = None) -> Response:
    return tpage(request, "desk/canned.html", {
        "replies": canned_svc.list_canned(get_db(request), actor), "variables": canned_svc.VARIABLES,
        "categories": [c.value for c in Category], "steps": [a.value for a in Action if a is not Action.ACCEPT],
        "error": error, "draft": draft or {},
    }, status_code=status_code)


@router.get("/desk/canned")
def canned_page(request: Request, actor: Actor = Depends(managers_only)) -> Response:
    return _canned_page(request, actor)


async def _save_canned(request: Request, actor: Actor, reply_id: int | None) -> Response:
    raw = await request.form()
    title, body, category = _text(raw, "title", 200), _text(raw, "body", 6000), _text(raw, "category", 32)
    tags, step = _text(raw, "tags", 500), _text(raw, "step", 32)
    draft = {"id": reply_id, "title": title, "body": body, "category": category, "tags": tags, "step": step}
    actions: dict[str, Any] = {"tags": list(_words(tags))}
    if step:
        actions["step"] = step
    try:
        await run_in_threadpool(lambda: canned_svc.save_canned(
            get_db(request), actor, title, body, get_runtime(request).clock, category=category or None,
            actions=actions, reply_id=reply_id))
    except KefuError as exc:
        return await run_in_threadpool(_canned_page, request, actor, error_of(exc), exc.status, draft)
    return RedirectResponse("/desk/canned", status_code=303)


@router.post("/desk/canned", dependencies=[Depends(csrf_protect)])
async def create_canned(request: Request, actor: Actor = Depends(managers_only)) -> Response:
    return await _save_canned(request, actor, None)


@router.post("/desk/canned/{reply_id}", dependencies=[Depends(csrf_protect)])
async def edit_canned(request: Request, reply_id: int, actor: Actor = Depends(managers_only)) -> Response:
    return await _save_canned(request, actor, reply_id)


# ── /desk/satisfaction ─────────────────────────────────────────────────────────────────────


@router.get("/desk/satisfaction")
def satisfaction_page(request: Request, actor: Actor = Depends(report_readers), group: str = "") -> Response:
    """D7/D8 by agent, queue and seller and month; sellers see their own rows and their record."""
    db, runtime = get_db(request), get_runtime(request)
    rows = survey_svc.satisfaction_report(db, actor, runtime.desk)
    if group in GROUP_LABELS:
        rows = [r for r in rows if r.group == group]
    return tpage(request, "desk/satisfaction.html", {
        "rows": rows, "group": group if group in GROUP_LABELS else "", "groups": list(GROUP_LABELS),
        "violations": admin_svc.list_violations(db, actor),
        "group_label": lambda c: _label(GROUP_LABELS, c), "band_label": lambda c: _label(BAND_LABELS, c),
    })


def _label(table: dict[str, tuple[str, str]], code: str | None) -> str:
    if code is None:
        return ""
    pair = table.get(code)
    return pick_lang({"zh": pair[0], "en": pair[1]}) if pair else code
