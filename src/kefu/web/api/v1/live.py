"""Live updates over Server-Sent Events (JSON): a ticket's new messages and status changes, and
the agents' desk (tickets arriving, moving, changing).

Events carry what changed; each stream reads, for its own viewer, what that viewer may see —
a customer's stream never carries an internal note. With ``KEFU_REDIS_URL`` the events come
from any app process (Redis pub/sub); otherwise from this process.

``GET /api/v1/tickets/{number}/events`` — ``event: message`` (data: the message as in
``GET /tickets/{number}``) and ``event: status`` (data: ``{ticket, status}``).
``GET /api/v1/desk/events`` — ``event: ticket`` (data: ``{ticket, status, queue_id, assignee_id}``).
Both send a comment every 15 s to keep proxies from closing an idle stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends
from sse_starlette.sse import EventSourceResponse

from kefu.domain.actors import Actor
from kefu.services import tickets as svc
from kefu.services.uow import Database
from kefu.web.api.v1.tickets import _message_out
from kefu.web.deps import current_actor, db_dep
from kefu.web.errors import error_responses
from kefu.web.runtime import Runtime, runtime_dep

router = APIRouter(tags=["live"])

PING_S = 15


def _dump(data: Any) -> str:
    return orjson.dumps(data).decode()


@router.get("/tickets/{number}/events", responses=error_responses(401, 404),
            response_class=EventSourceResponse)
async def ticket_events(number: str, actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
                        runtime: Runtime = Depends(runtime_dep)) -> EventSourceResponse:
    """A ticket's live stream for anyone who may read the ticket."""
    await anyio.to_thread.run_sync(svc.get_ticket, db, actor, number)      # 404 unless visible

    async def stream() -> AsyncIterator[dict[str, str]]:
        async with runtime.live.subscribe([f"ticket:{number}"]) as events:
            yield {"event": "ready", "data": _dump({"ticket": number})}
            async for event in events:
                if event.get("type") == "overflow":
                    return
                if event.get("type") == "message":
                    message = await anyio.to_thread.run_sync(svc.get_message, db, actor, number,
                                                              int(event["message_id"]))
                    if message is not None:
                        yield {"event": "message", "data": _message_out(message).model_dump_json()}
                else:
                    yield {"event": "status", "data": _dump({"ticket": number, "status": event.get("status")})}

    return EventSourceResponse(stream(), ping=PING_S)


@router.get("/desk/events", responses=error_responses(401, 403), response_class=EventSourceResponse)
async def desk_events(actor: Actor = Depends(current_actor), db: Database = Depends(db_dep),
                      runtime: Runtime = Depends(runtime_dep)) -> EventSourceResponse:
    """The desk's live stream: every queue for supervisors, an agent's own queues and tickets."""
    scope = await anyio.to_thread.run_sync(svc.desk_scope, db, actor)

    async def stream() -> AsyncIterator[dict[str, str]]:
        async with runtime.live.subscribe(["desk"]) as events:
            yield {"event": "ready", "data": "{}"}
            async for event in events:
                if event.get("type") == "overflow":
                    return
                if scope.admits(event):
                    yield {"event": "ticket", "data": _dump({k: event.get(k) for k in (
                        "ticket", "status", "queue_id", "assignee_id")})}

    return EventSourceResponse(stream(), ping=PING_S)
