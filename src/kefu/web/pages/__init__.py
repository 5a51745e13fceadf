"""Server-rendered pages: every router listed in ``PAGE_ROUTERS`` is mounted by ``create_app``.

A page route renders with :func:`kefu.web.templating.render`, takes its actor from
``Depends(page_actor)`` or ``Depends(require_roles(...))`` and, for a POST, adds
``dependencies=[Depends(csrf_protect)]``. Where each role lands after signing in is
``kefu.web.pages.auth.HOME_BY_ROLE``.
"""

from __future__ import annotations

from fastapi import APIRouter

from kefu.web.pages import admin, auth, bot_metrics, chat, customer, desk, desk_admin, faq_admin, tickets

PAGE_ROUTERS: list[APIRouter] = [
    auth.router,
    customer.router,
    desk.router,
    admin.router,
    tickets.router,
    chat.router,
    desk_admin.router,
    faq_admin.router,
    bot_metrics.router,
]
