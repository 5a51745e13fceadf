"""``Idempotency-Key`` for every API write, as ASGI middleware: routes need do nothing.

How to use it: nothing to do in a route. Any ``POST``/``PUT``/``PATCH``/``DELETE`` under
``/api/v1`` that carries an ``Idempotency-Key: <up to 255 printable characters>`` header is
handled here; document the header on a route with ``openapi_extra=IDEMPOTENCY_OPENAPI`` if you
like (the app adds it to every write in the schema anyway).

What it does:

1. The key is scoped to the actor (``user:<id>``; ``anonymous`` without credentials) and to the
   method and path. A request fingerprint (sha256 of query string, content type and body) is
   kept with it.
2. Before the route runs, a row is inserted into ``idempotency_keys``; its unique constraint is
   the lock. Only the request that inserted it runs the route.
3. A request whose key is already there:
   * with a stored answer → that answer again (status, headers, body), plus the header
     ``Idempotent-Replayed: true``; nothing runs, nothing is written;
   * with a different fingerprint → ``422 idempotency_key_reused``;
   * still running → it waits up to ``wait_s`` for the answer, then ``409 idempotency_in_progress``.
4. Answers below 500 are stored (a 4xx is an answer too: the retry gets the same refusal). On a
   5xx or a crash the row is released so that the client's retry runs afresh. A row left
   unfinished by a dead process is taken over after ``stale_after``; keys are kept for
   ``retention`` (24 h), after which the key may be used again.

The answer is stored after the route has committed: a process that dies in between leaves the
key unfinished, and the retry after ``stale_after`` runs the route again. Service functions stay
guarded by their own state checks (an illegal transition is a 409), so this window cannot refund
twice; it only narrows what a retry can see.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi.responses import JSONResponse
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kefu.adapters.db.tables.auth import IdempotencyKey
from kefu.domain.clock import Clock, system_clock
from kefu.services.uow import Database
from kefu.web.deps import SESSION_COOKIE, bearer_token, resolve_auth
from kefu.web.errors import error_body

HEADER = "idempotency-key"
REPLAYED_HEADER = "idempotent-replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
#: headers never replayed: cookies belong to the first client's session, length is recomputed
_NOT_STORED = frozenset({"set-cookie", "content-length", "date", "server"})

IDEMPOTENCY_OPENAPI: dict[str, Any] = {
    "parameters": [{
        "name": "Idempotency-Key", "in": "header", "required": False,
        "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
        "description": "重试同一请求时带上相同的键，只会执行一次并返回第一次的结果。 "
                       "Send the same key when retrying: the write happens once and the retry "
                       "gets the first answer.",
    }],
}


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: Literal["run", "replay", "reused", "in_progress"]
    row_id: int | None = None
    status: int | None = None
    headers: list[list[str]] | None = None
    body: bytes | None = None


class IdempotencyStore:
    """The ``idempotency_keys`` table: claim a key, store or release its answer."""

    def __init__(self, db: Database, *, clock: Clock = system_clock,
                 stale_after: timedelta = timedelta(minutes=10),
                 retention: timedelta = timedelta(hours=24)) -> None:
        self.db = db
        self.clock = clock
        self.stale_after = stale_after
        self.retention = retention

    def claim(self, scope: str, method: str, path: str, key: str, request_hash: str) -> Claim:
        """Insert the key (the right to run), or say what is already there."""
        for _attempt in range(3):
            now = self.clock()
            try:
                with self.db.uow() as uow:
                    row = IdempotencyKey(scope=scope, method=method, path=path, key=key,
                                         request_hash=request_hash, created_at=now)
                    uow.session.add(row)
                    uow.session.flush()
                    row_id = row.id
                    uow.commit()
                return Claim("run", row_id=row_id)
            except IntegrityError:
                claim = self._existing(scope, method, path, key, request_hash)
                if claim is not None:
                    return claim
            # the row was expired and removed, or vanished (released): try to insert again
        return Claim("in_progress")

    def _existing(self, scope: str, method: str, path: str, key: str, request_hash: str) -> Claim | None:
        now = self.clock()
        with self.db.uow() as uow:
            row = uow.session.scalars(select(IdempotencyKey).where(
                IdempotencyKey.scope == scope, IdempotencyKey.method == method,
                IdempotencyKey.path == path, IdempotencyKey.key == key)).one_or_none()
            if row is None:
                return None
            if row.created_at < now - self.retention:
                uow.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
                uow.commit()
                return None
            if row.request_hash != request_hash:
                return Claim("reused")
            if row.status is not None:
                return Claim("replay", row_id=row.id, status=row.status, headers=row.response_headers,
                             body=row.response_body)
            if row.created_at < now - self.stale_after:
                # Its process died before answering: take the row over, atomically.
                taken = uow.session.execute(
                    update(IdempotencyKey)
                    .where(IdempotencyKey.id == row.id, IdempotencyKey.status.is_(None),
                           IdempotencyKey.created_at == row.created_at)
                    .values(created_at=now))
                uow.commit()
                if getattr(taken, "rowcount", 0) == 1:
                    return Claim("run", row_id=row.id)
            return Claim("in_progress")

    def lookup(self, scope: str, method: str, path: str, key: str, request_hash: str) -> Claim:
        return self._existing(scope, method, path, key, request_hash) or Claim("in_progress")

    def store(self, row_id: int, status: int, headers: list[list[str]], body: bytes) -> None:
        with self.db.uow() as uow:
            uow.session.execute(update(IdempotencyKey).where(IdempotencyKey.id == row_id).values(
                status=status, response_headers=headers, response_body=body,
                completed_at=self.clock()))
            uow.commit()

    def release(self, row_id: int) -> None:
        with self.db.uow() as uow:
            uow.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id,
                                                             IdempotencyKey.status.is_(None)))
            uow.commit()

    def purge(self, older_than: datetime | None = None) -> int:
        """Delete keys past retention (for a periodic sweep); returns how many went."""
        cutoff = older_than or self.clock() - self.retention
        with self.db.uow() as uow:
            result = uow.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
            uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(33 <= ord(c) <= 126 for c in key)


class IdempotencyMiddleware:
    """Pure ASGI middleware implementing the module docstring for writes under ``prefix``."""

    def __init__(self, app: ASGIApp, *, prefix: str = "/api/v1", wait_s: float = 5.0,
                 max_body_bytes: int = 16 * 1024 * 1024, store: IdempotencyStore | None = None) -> None:
        self.app = app
        self.prefix = prefix
        self.wait_s = wait_s
        self.max_body_bytes = max_body_bytes
        self._store = store

    def store_for(self, scope: Scope) -> IdempotencyStore:
        if self._store is None:
            self._store = IdempotencyStore(scope["app"].state.db)
        return self._store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] not in WRITE_METHODS
                or not scope["path"].startswith(self.prefix)):
            await self.app(scope, receive, send)
            return
        raw_key = next((v for k, v in scope["headers"] if k == HEADER.encode()), None)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not _valid_key(key):
            await self._error(scope, receive, send, 422, "invalid_idempotency_key",
                              "Idempotency-Key 须为 1–255 个可见 ASCII 字符。",
                              "An Idempotency-Key is 1–255 printable ASCII characters.")
            return

        request = Request(scope)
        auth = await run_in_threadpool(resolve_auth, request)
        if auth.actor is None and (bearer_token(request) or request.cookies.get(SESSION_COOKIE)):
            # Credentials that do not resolve: the route answers 401; nothing to remember.
            await self.app(scope, receive, send)
            return
        actor_scope = f"user:{auth.actor.user_id}" if auth.actor is not None else "anonymous"

        body = await self._read_body(receive)
        if body == "disconnected":
            return  # the client left before sending its request: run nothing, remember nothing
        if body == "too_large":
            await self._error(scope, receive, send, 413, "payload_too_large", "请求体过大。",
                              "The request body is too large.")
            return
        assert isinstance(body, bytes)
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        fingerprint = hashlib.sha256(
            scope.get("query_string", b"") + b"\0" + content_type + b"\0" + body).hexdigest()

        store = self.store_for(scope)
        method, path = scope["method"], scope["path"]
        claim = await run_in_threadpool(store.claim, actor_scope, method, path, key, fingerprint)
        deadline = time.monotonic() + self.wait_s
        while claim.outcome == "in_progress" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            claim = await run_in_threadpool(store.lookup, actor_scope, method, path, key, fingerprint)

        if claim.outcome == "reused":
            await self._error(scope, receive, send, 422, "idempotency_key_reused",
                              "该 Idempotency-Key 已用于另一个请求。",
                              "This Idempotency-Key was already used for a different request.")
        elif claim.outcome == "in_progress":
            await self._error(scope, receive, send, 409, "idempotency_in_progress",
                              "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试。",
                              "A request with this Idempotency-Key is still being processed; retry later.")
        elif claim.outcome == "replay":
            await self._replay(send, claim)
        else:
            assert claim.row_id is not None
            await self._run(scope, receive, send, body, store, claim.row_id)

    async def _read_body(self, receive: Receive) -> bytes | Literal["too_large", "disconnected"]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return "disconnected"
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return "too_large"
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _run(self, scope: Scope, receive: Receive, send: Send, body: bytes,
                   store: IdempotencyStore, row_id: int) -> None:
        body_sent = False

        async def replay_receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status: int | None = None
        headers: list[list[str]] = []
        chunks: list[bytes] = []
        complete = False

        async def capture(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers.extend([k.decode("latin-1"), v.decode("latin-1")] for k, v in message.get("headers", [])
                               if k.decode("latin-1").lower() not in _NOT_STORED)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await run_in_threadpool(store.release, row_id)
            raise
        if status is not None and status < 500 and complete:
            await run_in_threadpool(store.store, row_id, status, headers, b"".join(chunks))
        else:
            await run_in_threadpool(store.release, row_id)

    async def _replay(self, send: Send, claim: Claim) -> None:
        body = claim.body or b""
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in claim.headers or []]
        raw_headers += [(b"content-length", str(len(body)).encode()), (REPLAYED_HEADER.encode(), b"true")]
        await send({"type": "http.response.start", "status": claim.status or 200, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _error(self, scope: Scope, receive: Receive, send: Send, status: int, code: str,
                     zh: str, en: str) -> None:
        await JSONResponse(error_body(code, zh, en), status_code=status)(scope, receive, send)
