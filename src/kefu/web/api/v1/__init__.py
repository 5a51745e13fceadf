"""API v1: every router listed in ``ROUTERS`` is mounted under ``/api/v1`` by ``create_app``."""

from __future__ import annotations

from fastapi import APIRouter

from kefu.web.api.v1 import aftersales, auth, compliance, orders

ROUTERS: list[APIRouter] = [
    aftersales.router,
    auth.router,
    compliance.router,
    orders.router,
]
