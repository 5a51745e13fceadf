"""Weibo (微博) inbound: the fans-service platform's push, and @mention statuses and comments.

Accepted payloads (JSON objects, UTF-8; ids may be JSON numbers or digit strings):

1. **Fans-service push** (粉丝服务平台, developer mode): private messages and messages to the
   account, POSTed to the callback URL::

       {"type": "text", "receiver_id": 5566778899, "sender_id": 1234567890,
        "created_at": "Mon Nov 23 16:10:00 +0800 2026", "text": "我的订单还没到", "data": {}}

   ``type`` is one of ``text``, ``image`` and ``voice`` (``data.vfid``: the file id),
   ``position`` (``data.longitude``, ``data.latitude``), ``mention`` (``data.subtype``
   ``status`` or ``comment``, ``data.key``: the id of that status or comment), and ``event``
   (``data.subtype`` follow, unfollow, subscribe, unsubscribe, scan, scan_follow; raised as
   :class:`NotAMessage`). The push has no message id, so the external id is derived from
   sender, receiver, time and a digest of the content: a retried push gets the same id.
   The thread key is the sender's uid (one conversation per fan), or for a mention the id it
   names.

2. **Mention status** (an ``@品牌`` post, as the statuses API returns it) or **mention comment**::

       {"mid": "4975311234567890", "id": 4975311234567890, "text": "@品牌客服 耳机坏了",
        "created_at": "Mon Nov 23 16:10:00 +0800 2026",
        "user": {"id": 1234567890, "screen_name": "小明爱购物"},
        "in_reply_to_status_id": "4975300000000001"}

   A comment also carries ``status`` (the post it is on) and may carry ``reply_comment``.
   The external id is the ``mid`` (else ``id``); thread keys are, in this order, the status it
   replies to (``in_reply_to_status_id``), the retweeted status, the comment replied to and the
   status commented on, whichever are present.

Signature: the callback URL check (GET ``signature``, ``timestamp``, ``nonce``, ``echostr``) and
each push carry ``signature`` = hex SHA-1 of the app secret, timestamp and nonce sorted and
concatenated, the same scheme as WeChat with the app secret in place of the token.

Passive replies and downloading voice or image files (they need the API with an access token)
are not done here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from kefu.adapters.channels.wechat import signature_for, timestamp_is_fresh
from kefu.domain.service.channels import (
    DEFAULT_TICKET_PATTERN,
    InboundMessage,
    MalformedPayload,
    NotAMessage,
    OversizePayload,
    find_ticket_number,
)

CHANNEL = "weibo"
MAX_JSON_BYTES = 256 * 1024
DEFAULT_MAX_SKEW = timedelta(minutes=5)
PUSH_TYPES = frozenset({"text", "image", "voice", "position", "mention", "event"})

_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
#: Weibo's created_at, e.g. "Mon Nov 23 16:10:00 +0800 2026" (English names whatever the locale)
_CREATED_AT = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) "
    r"(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})")


def verify_signature(app_secret: str, signature: str, timestamp: str, nonce: str, *,
                     now: datetime | None = None, max_skew: timedelta = DEFAULT_MAX_SKEW) -> bool:
    """Whether a Weibo callback's ``signature`` matches (constant-time) and, given ``now``, is fresh."""
    if not app_secret or not signature:
        return False
    expected = signature_for(app_secret, timestamp, nonce).encode("ascii")
    if not hmac.compare_digest(expected, signature.strip().lower().encode("utf-8")):
        return False
    return now is None or timestamp_is_fresh(timestamp, now, max_skew)


def parse_created_at(value: object) -> datetime:
    """Weibo's ``created_at`` as an aware datetime; :class:`MalformedPayload` if it is not one."""
    found = _CREATED_AT.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise MalformedPayload(CHANNEL, "created_at 格式不对", f"created_at {value!r} is not like "
                               "'Mon Nov 23 16:10:00 +0800 2026'")
    month, day, hour, minute, second, sign, off_h, off_m, year = found.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    try:
        return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                        tzinfo=timezone(offset))
    except ValueError as exc:
        raise MalformedPayload(CHANNEL, "created_at 不是有效日期", f"created_at {value!r}: {exc}") from exc


def parse_event(json_bytes: bytes, *, ticket_pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN,
                max_bytes: int = MAX_JSON_BYTES) -> InboundMessage:
    """The desk's :class:`InboundMessage` for a Weibo push or mention (formats in the module doc).

    Raises :class:`MalformedPayload` for anything else, :class:`OversizePayload` over
    ``max_bytes`` and :class:`NotAMessage` for follow/subscribe-style events.
    """
    if len(json_bytes) > max_bytes:
        raise OversizePayload(CHANNEL, len(json_bytes), max_bytes)
    try:
        payload = json.loads(json_bytes, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(CHANNEL, "不是合法的 JSON", f"not valid JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise MalformedPayload(CHANNEL, "须为 JSON 对象", "the payload is not a JSON object")
    if "type" in payload:
        return _from_push(payload, ticket_pattern)
    if "mid" in payload or "user" in payload:
        return _from_status(payload, ticket_pattern)
    raise MalformedPayload(CHANNEL, "既不是粉丝服务推送也不是 @ 提及", "neither a fans-service push nor a mention "
                           "(no 'type', 'mid' or 'user')")


def _from_push(payload: dict[str, Any], ticket_pattern: str | re.Pattern[str]) -> InboundMessage:
    kind = payload["type"]
    if kind not in PUSH_TYPES:
        raise MalformedPayload(CHANNEL, f"未知的推送类型 {kind!r}", f"unknown push type {kind!r}")
    sender = _uid(payload, "sender_id")
    receiver = _uid(payload, "receiver_id")
    received_at = parse_created_at(payload.get("created_at"))
    text = _text(payload, "text", required=kind in {"text", "mention"})
    data = payload.get("data", {})
    if data in ("", None):  # the platform sends "" for an empty data on some types
        data = {}
    if not isinstance(data, dict):
        raise MalformedPayload(CHANNEL, "data 须为对象", "'data' is not an object")
    if kind == "event":
        raise NotAMessage(CHANNEL, str(data.get("subtype", "")))
    thread_keys: tuple[str, ...] = (sender,)
    if kind == "mention":
        key = data.get("key")
        if not isinstance(key, str | int) or isinstance(key, bool) or not str(key):
            raise MalformedPayload(CHANNEL, "mention 缺少 data.key", "a mention push needs data.key")
        thread_keys = (str(key), sender)
    body = _push_body(kind, text, data)
    digest = hashlib.sha1(json.dumps([kind, text, data], ensure_ascii=False, sort_keys=True)
                          .encode("utf-8")).hexdigest()[:16]
    return InboundMessage(
        channel=CHANNEL,
        sender=sender,
        sender_name="",
        external_id=f"push:{sender}:{receiver}:{int(received_at.timestamp())}:{digest}",
        thread_keys=thread_keys,
        subject="",
        body=body,
        received_at=received_at,
        ticket_number=find_ticket_number(body, ticket_pattern),
    )


def _push_body(kind: str, text: str, data: dict[str, Any]) -> str:
    match kind:
        case "image":
            return f"[图片] {text}".rstrip()
        case "voice":
            return f"[语音] {text}".rstrip()
        case "position":
            where = f"({data.get('latitude', '')}, {data.get('longitude', '')})"
            return " ".join(part for part in ("[位置]", text, where) if part)
        case _:
            return text


def _from_status(payload: dict[str, Any], ticket_pattern: str | re.Pattern[str]) -> InboundMessage:
    user = payload.get("user")
    if not isinstance(user, dict):
        raise MalformedPayload(CHANNEL, "缺少 user 对象", "a mention needs a 'user' object")
    sender = _uid(user, "id", where="user.id")
    screen_name = user.get("screen_name", "")
    if not isinstance(screen_name, str):
        raise MalformedPayload(CHANNEL, "user.screen_name 须为字符串", "user.screen_name is not a string")
    mid = _optional_id(payload, "mid") or _optional_id(payload, "id")
    if mid is None:
        raise MalformedPayload(CHANNEL, "缺少 mid", "a mention needs 'mid' or 'id'")
    text = _text(payload, "text", required=True)
    received_at = parse_created_at(payload.get("created_at"))
    keys = [_optional_id(payload, "in_reply_to_status_id")]
    for parent in ("retweeted_status", "reply_comment", "status"):
        nested = payload.get(parent)
        if isinstance(nested, dict):
            keys.append(_optional_id(nested, "mid") or _optional_id(nested, "id"))
    thread_keys = tuple(dict.fromkeys(key for key in keys if key and key != mid))
    return InboundMessage(
        channel=CHANNEL,
        sender=sender,
        sender_name=screen_name.strip(),
        external_id=mid,
        thread_keys=thread_keys,
        subject="",
        body=text,
        received_at=received_at,
        ticket_number=find_ticket_number(text, ticket_pattern),
    )


def _uid(payload: dict[str, Any], name: str, *, where: str | None = None) -> str:
    value = _optional_id(payload, name, where=where)
    if value is None:
        label = where or name
        raise MalformedPayload(CHANNEL, f"缺少 {label}", f"missing {label}")
    return value


def _optional_id(payload: dict[str, Any], name: str, *, where: str | None = None) -> str | None:
    """A Weibo id (a positive integer, as a number or a digit string); '', 0 and null mean none."""
    value = payload.get(name)
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedPayload(CHANNEL, f"{where or name} 须为数字 ID", f"{where or name} is not a numeric id")
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise MalformedPayload(CHANNEL, f"{where or name} 须为数字 ID",
                               f"{where or name} {value!r} is not a numeric id")
    return None if int(text) == 0 else text


def _text(payload: dict[str, Any], name: str, *, required: bool) -> str:
    value = payload.get(name, "")
    if not isinstance(value, str):
        raise MalformedPayload(CHANNEL, f"{name} 须为字符串", f"'{name}' is not a string")
    if required and not value.strip():
        raise MalformedPayload(CHANNEL, f"缺少 {name}", f"missing '{name}'")
    return value.strip()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
