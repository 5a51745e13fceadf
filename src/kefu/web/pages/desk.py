"""Agent and seller pages: the review queue by SLA due time, one application with its order,
evidence, decision and history, and a form per lifecycle step the actor may take.

The lifecycle step route ``POST /aftersales/{number}/do/{action}`` serves the customer's page
too: the service decides who may take which step, the route only parses the form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from kefu.domain.actors import Actor, Role
from kefu.domain.aftersales.lifecycle import Action
from kefu.domain.errors import InputError, KefuError, NotFound
from kefu.services import aftersales as svc
from kefu.services.uow import Database
from kefu.web.deps import csrf_protect, db_dep, get_db, page_actor, require_roles
from kefu.web.i18n import SHANGHAI
from kefu.web.pages.customer import application_context, page, store_upload, uploaded_files
from kefu.web.runtime import get_runtime

router = APIRouter(include_in_schema=False)
handler_only = require_roles(Role.AGENT, Role.SUPERVISOR, Role.SELLER, Role.ADMIN)

#: steps a person may take from a page (auto_approve is the sweep's)
PAGE_ACTIONS = frozenset(a for a in Action if a is not Action.AUTO_APPROVE)


@router.get("/desk")
def queue(request: Request, actor: Actor = Depends(handler_only), db: Database = Depends(db_dep)) -> Response:
    apps = svc.list_review_queue(db, actor, limit=100)
    return page(request, "desk/queue.html", {"apps": apps, "now": get_runtime(request).clock()})


@router.get("/desk/aftersales/{number}")
def desk_application(request: Request, number: str, actor: Actor = Depends(handler_only)) -> Response:
    return page(request, "desk/application.html", application_context(request, actor, number))


def _detail_page(actor: Actor) -> str:
    return "customer/application.html" if actor.role is Role.CUSTOMER else "desk/application.html"


def _detail_url(actor: Actor, number: str) -> str:
    return f"/aftersales/{number}" if actor.role is Role.CUSTOMER else f"/desk/aftersales/{number}"


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _details(form: FormData, evidence_ids: tuple[int, ...]) -> svc.TransitionInput:
    pickup_at: datetime | None = None
    if _text(form, "pickup_at"):
        try:
            pickup_at = datetime.fromisoformat(_text(form, "pickup_at")).replace(tzinfo=SHANGHAI)
        except ValueError:
            raise InputError("invalid_input", "取件时间格式不正确。", "The pickup time is not valid.") from None
    rating: int | None = None
    if _text(form, "rating"):
        try:
            rating = int(_text(form, "rating"))
        except ValueError:
            raise InputError("invalid_rating", "评分须为 1 到 5。", "The rating must be 1 to 5.") from None
    result = _text(form, "result")
    return svc.TransitionInput(
        note=_text(form, "note")[:2000], waybill=_text(form, "waybill")[:64] or None,
        carrier=_text(form, "carrier")[:64] or None, pickup_at=pickup_at,
        pickup_address=_text(form, "pickup_address")[:500] or None,
        passed=True if result == "pass" else False if result == "fail" else None,
        rating=rating, evidence_ids=evidence_ids)


@router.post("/aftersales/{number}/do/{action}", dependencies=[Depends(csrf_protect)])
async def take_action(request: Request, number: str, action: str, actor: Actor = Depends(page_actor)) -> Response:
    """One lifecycle step from a page form; errors are shown on the application page."""
    form = await request.form()
    try:
        try:
            step = Action(action)
        except ValueError:
            step = None
        if step not in PAGE_ACTIONS or step is None:
            raise NotFound("not_found", "没有这个操作。", "No such action.", action=action)
        ids = tuple([ev.id for ev in [await store_upload(request, actor, f) for f in uploaded_files(form)]])
        details = _details(form, ids)
        runtime = get_runtime(request)
        await run_in_threadpool(svc.transition_application, get_db(request), actor, number, step, details,
                                runtime.book, runtime.clock)
    except KefuError as exc:
        if exc.status == 404:
            raise
        context: dict[str, Any] = await run_in_threadpool(application_context, request, actor, number)
        return page(request, _detail_page(actor), {**context, "error": exc.as_dict(), "failed_action": action},
                    status_code=exc.status)
    return RedirectResponse(_detail_url(actor, number), status_code=303)
