"""The web application: REST API under ``/api/v1``, server-rendered pages, static files.

``create_app()`` is the only way an app is made (``kefu serve`` runs it as a uvicorn factory;
tests call it with their own settings). API routers register themselves by being listed in
``kefu.web.api.v1.ROUTERS``, page routers in ``kefu.web.pages.PAGE_ROUTERS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sqlalchemy import text

import kefu
from kefu.config import Settings, get_settings
from kefu.services.uow import Database
from kefu.web.body_limit import BodyLimitMiddleware
from kefu.web.errors import ErrorResponse, install_error_handlers
from kefu.web.hot_route import install_hot_routes
from kefu.web.i18n import LocaleMiddleware
from kefu.web.idempotency import IDEMPOTENCY_OPENAPI, WRITE_METHODS, IdempotencyMiddleware

STATIC_DIR = Path(__file__).resolve().parent / "static"
API_PREFIX = "/api/v1"


class Health(BaseModel):
    status: str
    database: str
    version: str


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    """Build the app. ``db`` may be passed in (tests share theirs); otherwise it is made from settings."""
    settings = settings or get_settings()
    owns_db = db is None
    database = db if db is not None else Database.from_url(settings.database_url)

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        # On the embedded default the app itself relays the outbox and runs the sweeps; with a
        # separate worker (KEFU_REDIS_URL, or KEFU_BACKGROUND_JOBS=false) it leaves them to it.
        from kefu.web.runtime import background_loop, runtime_of

        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.thread_pool_size
        runtime = runtime_of(app_)
        await runtime.live.start()
        # load the assistant's classifier off the event loop, so the first chat message is quick
        warm = asyncio.get_running_loop().run_in_executor(None, _warm_assistant, runtime, settings.gc_freeze) \
            if settings.warm_assistant else None
        if warm is None and settings.gc_freeze:
            _freeze_startup_objects()
        task = None
        # With Redis the worker (`kefu worker`) runs the relay and the sweeps as Dramatiq tasks.
        if settings.background_jobs and not settings.redis_url:
            task = asyncio.create_task(background_loop(database, runtime, settings.background_interval_s))
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runtime.live.stop()
        if warm is not None and not warm.done():
            warm.cancel()
        if owns_db:
            database.dispose()

    app = FastAPI(
        title="kefu 客服 API",
        version=getattr(kefu, "__version__", "0.1.0"),
        description="客服与售后平台 · Customer service and after-sales platform for e-commerce.\n\n"
                    "Authenticate with `Authorization: Bearer <token>` (get one from "
                    "`POST /api/v1/auth/token`). Every write accepts an `Idempotency-Key` header. "
                    "Errors are JSON `{code, message: {zh, en}, detail}`.",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = database

    install_error_handlers(app)
    app.add_middleware(IdempotencyMiddleware, prefix=API_PREFIX,
                       max_body_bytes=settings.max_upload_bytes + 1024 * 1024)
    # the form overhead around the largest file a route accepts
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_upload_bytes + 256 * 1024)
    app.add_middleware(LocaleMiddleware, default=settings.default_locale,
                       secure_cookie=settings.env == "production")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    # Imported here so that the routers (and what they import) load after the settings exist.
    from kefu.web.api.v1 import HOT_ROUTES, ROUTERS
    from kefu.web.pages import PAGE_ROUTERS

    install_hot_routes(app, API_PREFIX, HOT_ROUTES)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router)

    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> Health:
        with database.read() as ro:
            ro.session.execute(text("SELECT 1"))
        return Health(status="ok", database="ok", version=app.version)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document_conventions(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _warm_assistant(runtime: Any, freeze: bool) -> None:
    try:
        runtime.assistant()
    except (OSError, ValueError) as exc:  # the first message reports it properly; the app still serves
        logging.getLogger("kefu.app").warning("could not load the assistant's model: %s", exc)
    if freeze:
        _freeze_startup_objects()


def _freeze_startup_objects() -> None:
    """Move what start-up built (modules, the policy book, the classifier, the FAQ index —
    a few hundred MB of long-lived objects) out of the garbage collector's sight: a full
    collection otherwise walks all of it, pausing every request of the process for tens of
    milliseconds (seen as the p99 under load). Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


def _document_conventions(schema: dict[str, Any]) -> dict[str, Any]:
    """Add what holds for every API route: bearer auth, Idempotency-Key, the error shape."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, definition in ErrorResponse.model_json_schema(
            ref_template="#/components/schemas/{model}").get("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault("ErrorResponse", {k: v for k, v in ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}").items() if k != "$defs"})
    components.setdefault("securitySchemes", {})["bearerAuth"] = {"type": "http", "scheme": "bearer"}
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    header = IDEMPOTENCY_OPENAPI["parameters"][0]
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(API_PREFIX):
            continue
        for method, operation in operations.items():
            operation.setdefault("security", [{"bearerAuth": []}, {}])
            responses = operation.get("responses", {})
            if "422" in responses:
                responses["422"]["content"] = error_content
                responses["422"].setdefault("description", "Invalid input (`invalid_input`)")
            if method.upper() in WRITE_METHODS:
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == header["name"] for p in params):
                    params.append(header)
                responses.setdefault("400", {"description": "Malformed JSON (`malformed_json`)",
                                             "content": error_content})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema
