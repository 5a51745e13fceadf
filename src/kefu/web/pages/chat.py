"""The chat widget's page, ``/chat``: the smart assistant first, a person when it hands over.

The conversation is named by a random id kept in the ``kefu_chat`` cookie (``/chat/new`` starts
another). Until the assistant hands over, ``/chat`` shows the turns and the last answer's quick
replies; a message (typed, or a quick reply) goes to ``POST /chat/send``, which answers with the
customer's and the assistant's bubbles (htmx appends them; without JavaScript the page reloads).
When the assistant hands over, the page becomes the web-chat ticket's live transcript (SSE), and
``/chat/send`` keeps going through the assistant, which joins each message to the ticket and
answers there only while no person has the conversation.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from kefu.domain.actors import Actor, Role
from kefu.domain.errors import KefuError
from kefu.services import assistant as bot
from kefu.services import tickets as svc
from kefu.web.deps import csrf_protect, get_db, require_roles
from kefu.web.pages.customer import error_of
from kefu.web.pages.tickets import _raw_text, is_htmx, tpage
from kefu.web.runtime import get_runtime
from kefu.web.templating import request_locale

router = APIRouter(include_in_schema=False)
customer_only = require_roles(Role.CUSTOMER)

COOKIE = "kefu_chat"
COOKIE_AGE_S = 7 * 24 * 3600


def _session_id(request: Request) -> tuple[str, bool]:
    """The conversation id from the cookie, or a new one (and whether it is new)."""
    found = request.cookies.get(COOKIE, "")
    if bot.SESSION_ID.match(found):
        return found, False
    return f"web-{secrets.token_urlsafe(12)}", True


def _remember(request: Request, response: Response, session_id: str) -> Response:
    response.set_cookie(COOKIE, session_id, max_age=COOKIE_AGE_S, path="/chat", httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return response


def _page(request: Request, actor: Actor, session_id: str, *, error: dict[str, object] | None = None,
          draft: str = "", status_code: int = 200) -> Response:
    db = get_db(request)
    talk = bot.conversation(db, actor, session_id)
    view = svc.get_ticket(db, actor, talk.ticket) if talk.ticket else None
    return tpage(request, "tickets/chat.html", {"talk": talk, "view": view, "t": view.ticket if view else None,
                                                "error": error, "draft": draft}, status_code=status_code)


@router.get("/chat")
def chat(request: Request, actor: Actor = Depends(customer_only)) -> Response:
    session_id, new = _session_id(request)
    response = _page(request, actor, session_id)
    return _remember(request, response, session_id) if new else response


@router.post("/chat/send", dependencies=[Depends(csrf_protect)])
async def chat_send(request: Request, actor: Actor = Depends(customer_only)) -> Response:
    """One message to the assistant (module docstring)."""
    raw = await request.form()
    text = _raw_text(raw, "body", bot.MAX_TEXT * 4)
    session_id, new = _session_id(request)
    runtime = get_runtime(request)
    try:
        deps = runtime.assistant() if runtime.assistant_ready else await run_in_threadpool(runtime.assistant)
        answer = await run_in_threadpool(bot.converse, get_db(request), actor, session_id, text, deps,
                                         channel="web_chat")
    except KefuError as exc:
        if exc.status == 404:
            raise
        if is_htmx(request):
            response = tpage(request, "tickets/_form_error.html", {"error": error_of(exc)})
            response.headers["HX-Retarget"] = "#chat-error"
            response.headers["HX-Reswap"] = "innerHTML"
            return response
        return await run_in_threadpool(_page, request, actor, session_id, error=error_of(exc), draft=text,
                                       status_code=exc.status)
    if not is_htmx(request):
        return _remember(request, RedirectResponse("/chat", status_code=303), session_id)
    if answer.ticket is not None and answer.handoff is not None:
        # handed over just now: the page becomes the ticket's live transcript
        return _remember(request, Response(status_code=200, headers={"HX-Redirect": "/chat"}), session_id)
    if answer.ticket is not None:
        # with a person: the message (and any answer) arrive through the ticket's live stream
        return Response(status_code=200, headers={"HX-Trigger": "kefu-sent"})
    response = tpage(request, "tickets/_bot_turn.html", {
        "text": text.strip(), "reply": answer.reply, "lang": request_locale(request), "answer": answer})
    response.headers["HX-Trigger"] = "kefu-sent"
    return _remember(request, response, session_id) if new else response


@router.post("/chat/new", dependencies=[Depends(csrf_protect)])
async def chat_new(request: Request, actor: Actor = Depends(customer_only)) -> Response:
    """Start another conversation with the assistant (the old one stays in the records)."""
    response = RedirectResponse("/chat", status_code=303)
    return _remember(request, response, f"web-{secrets.token_urlsafe(12)}")
