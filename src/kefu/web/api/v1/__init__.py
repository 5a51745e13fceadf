"""API v1: every router listed in ``ROUTERS`` is mounted under ``/api/v1`` by ``create_app``, after
the ``HOT_ROUTES`` (kefu.web.hot_route: the assistant's messages, opening a ticket), which are
registered on the app itself and matched before anything else.

The order is the order in which a request's path is matched, and FastAPI tries the routes one
after the other (each try costs a few microseconds, twice for a route inside an included router):
the busiest routes come first — the live streams, then the desk's tickets (the live stream's
``/tickets/{number}/events`` before the tickets router's own ``/tickets/…`` paths).
"""

from __future__ import annotations

from fastapi import APIRouter

from kefu.web.api.v1 import aftersales, auth, bot, channels, compliance, faq, live, orders, tickets
from kefu.web.hot_route import HotRoute

ROUTERS: list[APIRouter] = [
    live.router,
    tickets.router,
    aftersales.router,
    orders.router,
    compliance.router,
    channels.router,
    faq.router,
    auth.router,
]

HOT_ROUTES: list[HotRoute] = [*bot.HOT_ROUTES, *tickets.HOT_ROUTES]
