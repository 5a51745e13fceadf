"""Channel endpoints the outside world calls: WeChat Official Account's server callback, the Weibo
webhook, raw e-mail from a mail gateway, and the IVR interface a PBX drives — including the
smart assistant answering the caller's speech (``POST /channels/ivr/ask``).

Each is off (404 ``channel_not_configured``) until its secret is set (``KEFU_WECHAT_TOKEN``,
``KEFU_WEIBO_APP_SECRET``, ``KEFU_PBX_SECRET``); a bad signature answers 403
``bad_signature``. Each message opens a ticket or joins its thread
(:mod:`kefu.services.inbound`); a platform retrying a delivery changes nothing twice.
"""

from __future__ import annotations

import hmac

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from kefu.adapters.channels import email_in, wechat, weibo
from kefu.adapters.db.tables.service_desk import CallRecord
from kefu.adapters.ivr_files import load_ivr_menu
from kefu.domain.errors import NotFound, PayloadTooLarge, PermissionDenied
from kefu.domain.service.channels import NotAMessage
from kefu.services import assistant_channels, calls
from kefu.services.assistant import MAX_TEXT
from kefu.services.inbound import receive_message
from kefu.services.uow import Database
from kefu.web.deps import db_dep
from kefu.web.errors import error_responses
from kefu.web.runtime import Runtime, runtime_dep

router = APIRouter(tags=["channels"])

MAX_BODY = 1024 * 1024


def _off(name: str) -> NotFound:
    return NotFound("channel_not_configured", f"{name}接入未开启。", f"The {name} channel is not configured.")


def _bad_signature() -> PermissionDenied:
    return PermissionDenied("bad_signature", "签名校验失败。", "The signature does not match.")


async def _body(request: Request) -> bytes:
    data = await request.body()
    if len(data) > MAX_BODY:
        raise PayloadTooLarge("channel_payload_too_large", "消息过大。", "The message is too large.")
    return data


# ── WeChat Official Account ────────────────────────────────────────────────────────────────


def _wechat_token(runtime: Runtime) -> str:
    token = runtime.settings.wechat_token
    if not token:
        raise _off("微信公众号")
    return token


@router.get("/channels/wechat", response_class=PlainTextResponse, responses=error_responses(403, 404))
def wechat_verify(signature: str = Query(""), timestamp: str = Query(""), nonce: str = Query(""),
                  echostr: str = Query(""), runtime: Runtime = Depends(runtime_dep)) -> PlainTextResponse:
    """WeChat's server-address check: echo ``echostr`` when the signature matches."""
    if not wechat.verify_signature(_wechat_token(runtime), signature, timestamp, nonce):
        raise _bad_signature()
    return PlainTextResponse(echostr)


@router.post("/channels/wechat", responses=error_responses(400, 403, 404, 413))
async def wechat_message(request: Request, signature: str = Query(""), timestamp: str = Query(""),
                         nonce: str = Query(""), db: Database = Depends(db_dep),
                         runtime: Runtime = Depends(runtime_dep)) -> Response:
    """A user's message (XML): it opens or joins a ticket, and the passive reply tells them so.
    Events (subscribe, menu clicks) are acknowledged with ``success``."""
    if not wechat.verify_signature(_wechat_token(runtime), signature, timestamp, nonce, now=runtime.clock()):
        raise _bad_signature()
    message = wechat.parse_message(await _body(request))
    try:
        inbound = wechat.to_inbound(message)
    except NotAMessage:
        return PlainTextResponse(wechat.ACK.decode())
    received = await anyio.to_thread.run_sync(lambda: receive_message(
        db, inbound, runtime.desk, runtime.clock, storage=runtime.storage, live=runtime.live))
    text = (f"您好，已收到您的消息（工单号 {received.ticket_number}），客服会尽快回复您。"
            if received.created else "已收到，客服会尽快回复您。")
    if received.duplicate:
        text = "已收到，客服会尽快回复您。"
    reply = wechat.passive_text_reply(message.from_user, message.to_user, text, runtime.clock())
    return Response(reply, media_type="application/xml")


# ── Weibo ──────────────────────────────────────────────────────────────────────────────────


def _weibo_secret(runtime: Runtime) -> str:
    secret = runtime.settings.weibo_app_secret
    if not secret:
        raise _off("微博")
    return secret


@router.get("/channels/weibo", response_class=PlainTextResponse, responses=error_responses(403, 404))
def weibo_verify(signature: str = Query(""), timestamp: str = Query(""), nonce: str = Query(""),
                 echostr: str = Query(""), runtime: Runtime = Depends(runtime_dep)) -> PlainTextResponse:
    """The callback URL check of Weibo's fans-service platform."""
    if not weibo.verify_signature(_weibo_secret(runtime), signature, timestamp, nonce):
        raise _bad_signature()
    return PlainTextResponse(echostr)


class ReceivedOut(BaseModel):
    ticket: str
    created: bool
    duplicate: bool


@router.post("/channels/weibo", response_model=ReceivedOut, responses=error_responses(400, 403, 404, 413))
async def weibo_message(request: Request, signature: str = Query(""), timestamp: str = Query(""),
                        nonce: str = Query(""), db: Database = Depends(db_dep),
                        runtime: Runtime = Depends(runtime_dep)) -> Response:
    """A private message or an @mention (JSON): it opens or joins a ticket."""
    if not weibo.verify_signature(_weibo_secret(runtime), signature, timestamp, nonce, now=runtime.clock()):
        raise _bad_signature()
    try:
        inbound = weibo.parse_event(await _body(request))
    except NotAMessage:
        return Response(b'{"ticket": null, "created": false, "duplicate": false}', media_type="application/json")
    received = await anyio.to_thread.run_sync(lambda: receive_message(
        db, inbound, runtime.desk, runtime.clock, storage=runtime.storage, live=runtime.live))
    out = ReceivedOut(ticket=received.ticket_number, created=received.created, duplicate=received.duplicate)
    return Response(out.model_dump_json(), media_type="application/json", status_code=201 if received.created else 200)


# ── e-mail from a gateway ──────────────────────────────────────────────────────────────────


def _pbx_or_gateway(runtime: Runtime, secret: str | None) -> None:
    expected = runtime.settings.pbx_secret
    if not expected:
        raise _off("网关")
    if not secret or not hmac.compare_digest(expected.encode(), secret.encode()):
        raise _bad_signature()


@router.post("/channels/email", response_model=ReceivedOut, responses=error_responses(400, 403, 404, 413))
async def email_message(request: Request, x_pbx_secret: str | None = Header(None), db: Database = Depends(db_dep),
                        runtime: Runtime = Depends(runtime_dep)) -> Response:
    """A raw RFC 5322 message (``message/rfc822``) forwarded by a mail gateway, signed with the
    gateway secret (``X-PBX-Secret``); ``kefu mail receive`` is the SMTP way in. A mail opening a
    new ticket gets the smart assistant's answer by return when it has one (``KEFU_EMAIL_AUTO_REPLY``)."""
    _pbx_or_gateway(runtime, x_pbx_secret)
    inbound = email_in.parse_email(await _body(request), received_at=runtime.clock())
    auto_reply = (assistant_channels.email_auto_reply(db, runtime.assistant) if runtime.settings.email_auto_reply
                  else None)
    received = await anyio.to_thread.run_sync(lambda: receive_message(
        db, inbound, runtime.desk, runtime.clock, storage=runtime.storage, live=runtime.live, auto_reply=auto_reply))
    out = ReceivedOut(ticket=received.ticket_number, created=received.created, duplicate=received.duplicate)
    return Response(out.model_dump_json(), media_type="application/json", status_code=201 if received.created else 200)


# ── the PBX's IVR interface ────────────────────────────────────────────────────────────────


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=64)
    caller: str = Field(min_length=1, max_length=32)
    dialled: str = Field("", max_length=32)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field("", max_length=1, description="the DTMF key; empty when the caller pressed nothing in time")


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    employee_no: str = Field(min_length=1, max_length=32)


class HangupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recording: str | None = Field(None, max_length=255, description="the recording's file or URL on the PBX")
    notes: str = Field("", max_length=4000)
    duration_s: int | None = Field(None, ge=0)


class CallStepOut(BaseModel):
    """What the PBX does next: ``prompt`` is played; ``collect`` says whether to wait for a key
    (one of ``valid_keys``, within ``timeout_s``); otherwise the call waits in ``queue``."""

    call_id: str
    action: str
    prompt: str
    collect: bool
    valid_keys: list[str]
    timeout_s: int
    queue: str | None
    ticket: str | None


def _step_out(runtime: Runtime, step: calls.CallStep) -> CallStepOut:
    menu = load_ivr_menu(runtime.settings.policy_dir)
    collect = step.step.kind.value in ("prompt", "repeat")
    return CallStepOut(call_id=step.call_id, action=step.step.kind.value, prompt=step.step.prompt, collect=collect,
                       valid_keys=list(step.step.valid_keys), timeout_s=menu.settings.timeout_seconds,
                       queue=step.step.queue, ticket=step.ticket_number)


@router.post("/ivr/calls", response_model=CallStepOut, responses=error_responses(403, 404, 422))
def ivr_start(body: CallIn, x_pbx_secret: str | None = Header(None), db: Database = Depends(db_dep),
              runtime: Runtime = Depends(runtime_dep)) -> CallStepOut:
    """A call came in on ``dialled`` from ``caller``: the first prompt (or, on a member hotline,
    straight to the member queue)."""
    _pbx_or_gateway(runtime, x_pbx_secret)
    menu = load_ivr_menu(runtime.settings.policy_dir)
    return _step_out(runtime, calls.start_call(db, body.call_id, body.caller, body.dialled, menu, runtime.desk,
                                               runtime.clock, live=runtime.live))


@router.post("/ivr/calls/{call_id}/keys", response_model=CallStepOut, responses=error_responses(403, 404, 409, 422))
def ivr_key(call_id: str, body: KeyIn, x_pbx_secret: str | None = Header(None), db: Database = Depends(db_dep),
            runtime: Runtime = Depends(runtime_dep)) -> CallStepOut:
    """The caller pressed a key (or none before the timeout)."""
    _pbx_or_gateway(runtime, x_pbx_secret)
    menu = load_ivr_menu(runtime.settings.policy_dir)
    return _step_out(runtime, calls.press_key(db, call_id, body.key, menu, runtime.desk, runtime.clock,
                                              live=runtime.live))


class CallRecordOut(BaseModel):
    call_id: str
    caller: str
    dialled: str
    status: str
    menu_path: str
    queue: str | None
    ticket: str | None
    agent_id: int | None
    duration_s: int | None
    recording: str | None
    notes: str


def _record_out(db: Database, record: CallRecord) -> CallRecordOut:
    return CallRecordOut(call_id=record.call_id, caller=record.caller, dialled=record.dialled, status=record.status,
                         menu_path=record.menu_path, queue=record.queue_code,
                         ticket=calls.ticket_number(db, record.ticket_id), agent_id=record.agent_id,
                         duration_s=record.duration_s, recording=record.recording_key, notes=record.notes)


@router.post("/ivr/calls/{call_id}/answer", response_model=CallRecordOut, responses=error_responses(403, 404))
def ivr_answer(call_id: str, body: AnswerIn, x_pbx_secret: str | None = Header(None),
               db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> CallRecordOut:
    """An agent (by employee number) picked the call up."""
    _pbx_or_gateway(runtime, x_pbx_secret)
    return _record_out(db, calls.answer_call(db, call_id, body.employee_no, runtime.clock))


@router.post("/ivr/calls/{call_id}/hangup", response_model=CallRecordOut, responses=error_responses(403, 404))
def ivr_hangup(call_id: str, body: HangupIn, x_pbx_secret: str | None = Header(None),
               db: Database = Depends(db_dep), runtime: Runtime = Depends(runtime_dep)) -> CallRecordOut:
    """The call ended: its recording and notes are kept on the call record and the ticket."""
    _pbx_or_gateway(runtime, x_pbx_secret)
    return _record_out(db, calls.end_call(db, call_id, runtime.clock, recording=body.recording, notes=body.notes,
                                          duration_s=body.duration_s, rules=runtime.desk))


# ── the smart assistant on the phone (issue 5 §6) ──────────────────────────────────────────


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str = Field(min_length=1, max_length=64)
    caller: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=MAX_TEXT,
                      description="what the caller said, as the PBX's speech recognition heard it")


class TransferOut(BaseModel):
    queue: str
    ticket: str | None


class AskOut(BaseModel):
    """``say`` is played (speakable Chinese). With ``transfer`` the call then waits in
    ``transfer.queue`` for a person; otherwise the PBX listens for the caller's next question."""

    call_id: str
    say: str
    transfer: TransferOut | None
    intent: str
    confidence: float


@router.post("/channels/ivr/ask", response_model=AskOut, responses=error_responses(403, 404, 409, 422))
def ivr_ask(body: AskIn, x_pbx_secret: str | None = Header(None), db: Database = Depends(db_dep),
            runtime: Runtime = Depends(runtime_dep)) -> AskOut:
    """The caller of a call still in the IVR asked a question by voice: the smart assistant's
    answer for the caller identified by their number, or a transfer to a person."""
    _pbx_or_gateway(runtime, x_pbx_secret)
    menu = load_ivr_menu(runtime.settings.policy_dir)
    answer = assistant_channels.ask_by_phone(db, body.call_id, body.caller, body.text, runtime.assistant(), menu,
                                             live=runtime.live)
    transfer = TransferOut(queue=answer.transfer_queue, ticket=answer.ticket) if answer.transfer_queue else None
    return AskOut(call_id=answer.call_id, say=answer.say, transfer=transfer, intent=answer.intent.value,
                  confidence=round(answer.confidence, 4))
