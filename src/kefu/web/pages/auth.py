"""Pages: sign in, sign out, the home redirect and the account page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kefu.domain.actors import Actor, Role
from kefu.domain.errors import NotAuthenticated
from kefu.services import accounts
from kefu.web.deps import (
    SESSION_COOKIE,
    csrf_protect,
    get_db,
    get_settings,
    optional_actor,
    page_actor,
    resolve_auth,
)
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

#: where each role lands after signing in (the pages of each role replace ``/account``)
HOME_BY_ROLE: dict[Role, str] = {
    Role.CUSTOMER: "/orders",
    Role.AGENT: "/desk",
    Role.SUPERVISOR: "/desk",
    Role.SELLER: "/desk",
    Role.ADMIN: "/admin/rules",
}


def safe_next(target: str | None) -> str | None:
    """Only a path on this site may be a redirect target (no ``//host`` or ``/\\host``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    return target


def home_for(actor: Actor) -> str:
    return HOME_BY_ROLE.get(actor.role, "/account")


@router.get("/")
def home(actor: Actor | None = Depends(optional_actor)) -> Response:
    return RedirectResponse(home_for(actor) if actor else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None,
               actor: Actor | None = Depends(optional_actor)) -> Response:
    if actor is not None:
        return RedirectResponse(safe_next(next) or home_for(actor), status_code=303)
    return render(request, "login.html", {"next": safe_next(next) or "", "error": None, "username": ""})


@router.post("/login", dependencies=[Depends(csrf_protect)])
async def login_submit(request: Request, username: Annotated[str, Form(max_length=64)],
                       password: Annotated[str, Form(max_length=256)],
                       next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    db = get_db(request)
    settings = get_settings(request)
    try:
        actor = await run_in_threadpool(accounts.authenticate, db, username.strip(), password)
    except NotAuthenticated as exc:
        return render(request, "login.html", {"next": safe_next(next) or "", "error": exc.as_dict(),
                                              "username": username}, status_code=401)
    session = await run_in_threadpool(accounts.start_session, db, actor,
                                      max_age_s=settings.session_max_age_s)
    response = RedirectResponse(safe_next(next) or home_for(actor), status_code=303)
    response.set_cookie(SESSION_COOKIE, session.token, max_age=settings.session_max_age_s, path="/",
                        httponly=True, samesite="lax", secure=settings.env == "production")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    auth = await run_in_threadpool(resolve_auth, request)
    # An expired or unknown session has nothing to protect: just clear the cookie.
    if token and auth.session_csrf is not None:
        await csrf_protect(request)
        await run_in_threadpool(accounts.end_session, get_db(request), token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/account")
def account(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    user = accounts.get_user(get_db(request), actor.user_id) if actor.user_id is not None else None
    return render(request, "account.html", {"user": user})
