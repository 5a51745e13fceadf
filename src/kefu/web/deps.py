"""FastAPI dependencies shared by every route: database, settings, who is acting, CSRF.

    @router.post("/things", responses=error_responses(401, 403))
    def add_thing(body: NewThing, actor: Actor = Depends(require_roles(Role.AGENT, Role.ADMIN)),
                  db: Database = Depends(db_dep)) -> ThingOut: ...

    @router.post("/things/{id}/cancel", dependencies=[Depends(csrf_protect)])   # a page form
    def cancel_page(id: str, actor: Actor = Depends(page_actor)) -> Response: ...

An actor comes from the ``Authorization: Bearer <token>`` header, else the ``kefu_session``
cookie; it is resolved once per request and kept on ``request.state``. Without one,
:func:`current_actor` raises ``401 not_authenticated`` (a page GET is redirected to ``/login``
by the error handler). Page POST routes add ``Depends(csrf_protect)``; it accepts the token from
the ``csrf_token`` form field or the ``X-CSRF-Token`` header (htmx).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kefu.config import Settings
from kefu.domain.actors import Actor, Role
from kefu.domain.errors import NotAuthenticated, PermissionDenied
from kefu.services import accounts
from kefu.services.uow import Database

SESSION_COOKIE = "kefu_session"
CSRF_COOKIE = "kefu_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# FastAPI runs a plain ``def`` dependency in the thread pool, a hop that costs more than these
# attribute reads; routes depend on the ``async`` twins, other code calls the functions above.
async def db_dep(request: Request) -> Database:
    return get_db(request)


async def settings_dep(request: Request) -> Settings:
    return get_settings(request)


@dataclass(frozen=True, slots=True)
class Auth:
    """Who sent the request and, for a browser session, that session's CSRF token."""

    actor: Actor | None
    session_csrf: str | None = None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def resolve_auth(request: Request) -> Auth:
    """Resolve the bearer token or session cookie once per request (cached on ``request.state``)."""
    cached: Auth | None = getattr(request.state, "kefu_auth", None)
    if cached is not None:
        return cached
    db = get_db(request)
    token = bearer_token(request)
    if token is not None:
        auth = Auth(actor=accounts.actor_for_token(db, token))
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        found = accounts.actor_for_session(db, cookie) if cookie else None
        auth = Auth(actor=found.actor, session_csrf=found.csrf_token) if found else Auth(actor=None)
    request.state.kefu_auth = auth
    return auth


def resolved_actor(request: Request) -> Actor | None:
    return resolve_auth(request).actor


async def optional_actor(request: Request) -> Actor | None:
    """The actor, or None for an anonymous request."""
    return (await _auth(request)).actor


_NOT_SIGNED_IN = ("not_authenticated", "请先登录。", "Please sign in first.")


async def _auth(request: Request) -> Auth:
    """:func:`resolve_auth` without a thread hop when the answer is already known in memory."""
    cached: Auth | None = getattr(request.state, "kefu_auth", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    if token is not None:
        actor = accounts.cached_actor_for_token(get_db(request), token)
        if actor is not None:
            request.state.kefu_auth = auth = Auth(actor=actor)
            return auth
    return await run_in_threadpool(resolve_auth, request)


async def current_actor(request: Request) -> Actor:
    """The actor, or ``401 not_authenticated``."""
    actor = (await _auth(request)).actor
    if actor is None:
        raise NotAuthenticated(*_NOT_SIGNED_IN)
    return actor


async def page_actor(request: Request) -> Actor:
    """For pages: the signed-in actor; a GET without one is redirected to ``/login?next=…``."""
    return await current_actor(request)


def require_roles(*roles: Role | str) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency admitting only actors with one of ``roles`` (401 if anonymous, 403 otherwise)."""
    allowed = frozenset(Role(r) for r in roles)

    async def dependency(request: Request) -> Actor:
        actor = await current_actor(request)
        if actor.role not in allowed:
            names = ", ".join(sorted(allowed))
            raise PermissionDenied("forbidden", "当前账号无权进行此操作。",
                                   "This account may not do this.", allowed_roles=names)
        return actor

    dependency.__name__ = f"require_roles_{'_'.join(sorted(allowed))}"
    return dependency


@dataclass(frozen=True, slots=True)
class CsrfToken:
    token: str
    #: a pre-session nonce the response must set as the ``kefu_csrf`` cookie (first visit)
    new_nonce: str | None = None


def _signed(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def csrf_token_for(request: Request) -> CsrfToken:
    """The CSRF token forms on this page must carry.

    Signed in: the token bound to the server-side session. Not yet (the login form): an HMAC of
    a random nonce kept in the ``kefu_csrf`` cookie, so a forged cross-site login fails too.
    """
    cached: CsrfToken | None = getattr(request.state, "kefu_csrf", None)
    if cached is not None:
        return cached
    auth = resolve_auth(request)
    if auth.session_csrf is not None:
        csrf = CsrfToken(auth.session_csrf)
    else:
        nonce = request.cookies.get(CSRF_COOKIE)
        fresh = None
        if not nonce or len(nonce) > 128:
            nonce = fresh = secrets.token_urlsafe(32)
        csrf = CsrfToken(_signed(get_settings(request).secret_key, nonce), fresh)
    request.state.kefu_csrf = csrf
    return csrf


def set_csrf_cookie(request: Request, response: Response, csrf: CsrfToken) -> None:
    if csrf.new_nonce is not None:
        response.set_cookie(CSRF_COOKIE, csrf.new_nonce, httponly=True, samesite="lax", path="/",
                            secure=get_settings(request).env == "production")


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing page request without the right CSRF token: ``403 csrf_failed``."""
    if request.method in _SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    auth = await run_in_threadpool(resolve_auth, request)
    if auth.session_csrf is not None:
        expected: str | None = auth.session_csrf
    else:
        nonce = request.cookies.get(CSRF_COOKIE)
        expected = _signed(get_settings(request).secret_key, nonce) if nonce else None
    if not sent or expected is None or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise PermissionDenied("csrf_failed", "页面已过期或请求来源无效，请刷新后重试。",
                               "The form expired or did not come from this site; reload and try again.")
