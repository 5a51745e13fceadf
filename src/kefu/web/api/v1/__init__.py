"""API v1: every router listed in ``ROUTERS`` is mounted under ``/api/v1`` by ``create_app``.

The order is the order in which a request's path is matched, and FastAPI tries the routes one
after the other (each try costs a few microseconds, twice for a route inside an included router):
the busiest routes come first — the assistant's messages, then the desk's tickets (the live
stream's ``/tickets/{number}/events`` before the tickets router's own ``/tickets/…`` paths).
"""

from __future__ import annotations

from fastapi import APIRouter

from kefu.web.api.v1 import aftersales, auth, bot, channels, compliance, faq, live, orders, tickets

ROUTERS: list[APIRouter] = [
    bot.router,
    live.router,
    tickets.router,
    aftersales.router,
    orders.router,
    compliance.router,
    channels.router,
    faq.router,
    auth.router,
]
