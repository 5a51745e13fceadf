"""API v1: every router listed in ``ROUTERS`` is mounted under ``/api/v1`` by ``create_app``."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.web.api.v1 import aftersales, auth, bot, channels, compliance, faq, live, orders, tickets

ROUTERS: list[APIRouter] = [
    aftersales.router,
    auth.router,
    bot.router,
    channels.router,
    compliance.router,
    faq.router,
    live.router,
    orders.router,
    tickets.router,
]
