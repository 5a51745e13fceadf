"""The smart assistant's API: ``POST /api/v1/bot/messages`` (shared/eval/bot/README.md).

``{"session_id": "...", "text": "..."}`` → ``{"intent", "confidence", "slots", "reply",
"handoff", …}``. With a customer's bearer token (or page session) the answers are grounded in
that shopper's orders; without one the assistant answers in general and asks the visitor to log in
for anything about an order. ``lang`` (``zh`` default, ``en``) picks the reply's language, else
the request's locale. Error codes: ``bot_session_invalid``, ``bot_text_missing``,
``bot_text_too_long`` (422), ``invalid_input`` (422: wrong JSON shape), ``malformed_json`` (400).
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from kefu.services.assistant import MAX_TEXT, BotAnswer, PendingTurn, prepare_turn, write_turns
from kefu.web.deps import get_db, optional_actor
from kefu.web.errors import error_responses
from kefu.web.group_commit import Done, GroupCommit, group_commit
from kefu.web.hot_route import HotRoute, openapi_body, parse_body
from kefu.web.runtime import get_runtime


class BotMessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(max_length=128, description="the client's conversation id (1–128 of A–Z a–z 0–9 _.:@-)",
                            examples=["web-5f2c"])
    text: str = Field(max_length=MAX_TEXT * 4, description="what the customer typed", examples=["我的订单到哪了"])
    lang: Literal["zh", "en"] | None = Field(default=None, description="reply language (default: the request's)")


class BotMessageOut(BaseModel):
    session_id: str
    intent: str = Field(description="one of the 16 intents of shared/eval/bot/README.md")
    confidence: float
    slots: dict[str, str]
    reply: str = Field(description="the answer; empty when a person has the conversation")
    handoff: bool = Field(description="the conversation is with a person (a web-chat ticket)")
    handoff_reason: str | None
    ticket: str | None
    agent_online: bool | None
    topic: str = Field(description="the intent the answer is about (a bare order pick continues the last one)")
    buttons: list[dict[str, str | None]]
    source: str | None
    cites: list[dict[str, str]]
    data: dict[str, object]
    alternatives: list[dict[str, object]]


async def bot_message(request: Request) -> Response:
    """The intent, confidence and slots of the message and the assistant's answer to it.

    Body: ``{"session_id": "…", "text": "…", "lang": "zh"|"en"}`` (``BotMessageIn``)."""
    body = parse_body(await request.body(), BotMessageIn)
    actor = await optional_actor(request)
    runtime = get_runtime(request)
    deps = runtime.assistant() if runtime.assistant_ready else await run_in_threadpool(runtime.assistant)
    db = get_db(request)

    def prepare() -> PendingTurn | Done[BotAnswer]:
        prepared = prepare_turn(db, actor, body.session_id, body.text, deps, channel="api")
        return prepared if isinstance(prepared, PendingTurn) else Done(prepared)

    # group commit (kefu.web.group_commit): the turns this process answers at once are stored
    # in one write transaction
    turns: GroupCommit[PendingTurn, BotAnswer] = group_commit(db, "bot_turns", partial(write_turns, db))
    answer = await turns.run(prepare)
    return Response(orjson.dumps(answer.as_dict(body.lang or "zh")), media_type="application/json")


#: registered on the app ahead of every router (kefu.web.hot_route)
HOT_ROUTES = [HotRoute("/bot/messages", bot_message, {
    "methods": ["POST"], "response_model": BotMessageOut, "tags": ["assistant"], "responses": error_responses(400, 422),
    "summary": "Ask the smart assistant one message of a conversation", "openapi_extra": openapi_body(BotMessageIn)})]
