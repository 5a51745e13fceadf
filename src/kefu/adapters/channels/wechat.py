"""WeChat Official Account (微信公众号) server callback, plaintext mode.

The protocol, as WeChat's developer documentation defines it:

- **URL check** (GET): the query carries ``signature``, ``timestamp``, ``nonce`` and ``echostr``.
  ``signature`` is the hex SHA-1 of the three strings token, timestamp and nonce sorted and
  concatenated; when it matches, the server answers ``echostr`` as the body.
- **Message push** (POST): the same three query parameters (plus ``openid``) and an XML body::

      <xml>
        <ToUserName><![CDATA[gh_官方账号原始ID]]></ToUserName>
        <FromUserName><![CDATA[用户OpenID]]></FromUserName>
        <CreateTime>1348831860</CreateTime>
        <MsgType><![CDATA[text]]></MsgType>      text|image|voice|video|shortvideo|location|link|event
        <Content><![CDATA[你好]]></Content>
        <MsgId>1234567890123456</MsgId>
      </xml>

  Events (``MsgType`` ``event``) carry ``Event`` (subscribe, unsubscribe, SCAN, LOCATION, CLICK,
  VIEW …) and often ``EventKey`` instead of ``MsgId``; WeChat documents ``FromUserName`` +
  ``CreateTime`` as their de-duplication key.
- **Passive reply**: the POST's response body, within 5 seconds, either an XML reply (see
  :func:`passive_text_reply`) or ``success`` / an empty body for "no reply".

Only plaintext (明文) and compatible (兼容) mode are read: a safe-mode (安全模式) body that carries
only ``<Encrypt>`` is refused with :class:`MalformedPayload`, because decrypting it needs an AES
library the project does not ship. In compatible mode the plaintext fields are read and the
ciphertext is ignored.

The plaintext signature covers the token, timestamp and nonce but not the body: pass ``now`` to
:func:`verify_signature` so a captured request cannot be replayed long after.

XML is parsed with defusedxml: a DTD, entity declaration or external reference is refused, and
so is a body over :data:`MAX_XML_BYTES`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from kefu.domain.service.channels import (
    DEFAULT_TICKET_PATTERN,
    InboundMessage,
    MalformedPayload,
    NotAMessage,
    OversizePayload,
    find_ticket_number,
)

CHANNEL = "wechat"
#: WeChat pushes are a few hundred bytes; anything near this is not a WeChat push
MAX_XML_BYTES = 64 * 1024
#: the body that tells WeChat "received, no reply"
ACK = b"success"
#: how far a signed timestamp may be from the receiver's clock when ``now`` is given
DEFAULT_MAX_SKEW = timedelta(minutes=5)

#: characters XML 1.0 does not allow anywhere, not even inside CDATA
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class WechatMessage:
    """One pushed message or event, as WeChat sent it (top-level fields in ``fields``)."""

    to_user: str           # the official account's original id (gh_…)
    from_user: str         # the follower's OpenID
    created_at: datetime   # CreateTime, UTC
    msg_type: str          # text, image, voice, video, shortvideo, location, link, event
    msg_id: str | None     # None for events
    content: str           # Content for text messages, '' otherwise
    event: str | None      # subscribe, unsubscribe, SCAN, CLICK, VIEW, LOCATION …; None for messages
    event_key: str         # EventKey ('qrscene_…' for a subscribe by QR code, a menu key for CLICK)
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; ``FromUserName:CreateTime`` for events, as WeChat recommends."""
        return self.msg_id or f"{self.from_user}:{int(self.created_at.timestamp())}"


def signature_for(token: str, timestamp: str, nonce: str) -> str:
    """The hex SHA-1 of token, timestamp and nonce sorted and concatenated (WeChat's signature)."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode("utf-8")).hexdigest()


def verify_signature(token: str, signature: str, timestamp: str, nonce: str, *,
                     now: datetime | None = None, max_skew: timedelta = DEFAULT_MAX_SKEW) -> bool:
    """Whether a callback's ``signature`` matches (constant-time), and, given ``now``, is fresh.

    An empty token never verifies: it would make every signature forgeable.
    """
    if not token or not signature:
        return False
    expected = signature_for(token, timestamp, nonce).encode("ascii")
    if not hmac.compare_digest(expected, signature.strip().lower().encode("utf-8")):
        return False
    return now is None or timestamp_is_fresh(timestamp, now, max_skew)


def timestamp_is_fresh(timestamp: str, now: datetime, max_skew: timedelta = DEFAULT_MAX_SKEW) -> bool:
    """Whether a Unix-seconds ``timestamp`` lies within ``max_skew`` of ``now``."""
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    sent = datetime.fromtimestamp(int(timestamp), UTC)
    return abs(now - sent) <= max_skew


def parse_message(xml_bytes: bytes, *, max_bytes: int = MAX_XML_BYTES) -> WechatMessage:
    """A WeChat push body read safely; :class:`MalformedPayload` or :class:`OversizePayload` if not."""
    if len(xml_bytes) > max_bytes:
        raise OversizePayload(CHANNEL, len(xml_bytes), max_bytes)
    try:
        root = SafeET.fromstring(xml_bytes, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedPayload(CHANNEL, "XML 含有 DTD 或实体声明", f"DTDs and entities are refused ({exc!r})") from exc
    except ParseError as exc:
        raise MalformedPayload(CHANNEL, "不是合法的 XML", f"not well-formed XML ({exc})") from exc
    if root.tag != "xml":
        raise MalformedPayload(CHANNEL, "根元素须为 <xml>", f"the root element is <{root.tag}>, not <xml>")
    values = {child.tag: (child.text or "").strip() for child in root if isinstance(child.tag, str)}
    if "MsgType" not in values and "Encrypt" in values:
        raise MalformedPayload(CHANNEL, "不支持安全模式（加密）消息，请使用明文或兼容模式",
                               "safe-mode (encrypted) messages are not supported; use plaintext or compatible mode")
    missing = [name for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType") if not values.get(name)]
    msg_type = values.get("MsgType", "")
    if msg_type == "event" and not values.get("Event"):
        missing.append("Event")
    if msg_type and msg_type != "event" and not values.get("MsgId"):
        missing.append("MsgId")
    if missing:
        raise MalformedPayload(CHANNEL, f"缺少字段 {', '.join(missing)}", f"missing {', '.join(missing)}")
    create_time = values["CreateTime"]
    if not create_time.isascii() or not create_time.isdigit():
        raise MalformedPayload(CHANNEL, "CreateTime 须为整数秒", f"CreateTime {create_time!r} is not Unix seconds")
    return WechatMessage(
        to_user=values["ToUserName"],
        from_user=values["FromUserName"],
        created_at=datetime.fromtimestamp(int(create_time), UTC),
        msg_type=msg_type,
        msg_id=values.get("MsgId") or None,
        content=values.get("Content", "") if msg_type == "text" else "",
        event=values["Event"] if msg_type == "event" else None,
        event_key=values.get("EventKey", ""),
        fields=MappingProxyType(values),
    )


def message_text(msg: WechatMessage) -> str:
    """The message as plain text for an agent: the text itself, or a tagged summary of media."""
    f = msg.fields
    match msg.msg_type:
        case "text":
            return msg.content
        case "image":
            return f"[图片] {f.get('PicUrl', '')}".rstrip()
        case "voice":
            recognised = f.get("Recognition", "")
            return f"[语音] {recognised}".rstrip()
        case "video" | "shortvideo":
            return "[视频]"
        case "location":
            where = f"({f.get('Location_X', '')}, {f.get('Location_Y', '')})"
            return " ".join(part for part in ("[位置]", f.get("Label", ""), where) if part)
        case "link":
            return "\n".join(part for part in (f"[链接] {f.get('Title', '')}".rstrip(),
                                                 f.get("Description", ""), f.get("Url", "")) if part)
        case other:
            return f"[{other}]"


def to_inbound(msg: WechatMessage, *, ticket_pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN) -> InboundMessage:
    """The desk's :class:`InboundMessage` for a WeChat message; events raise :class:`NotAMessage`.

    The follower's OpenID is both the sender and the thread key (a WeChat chat is one thread per
    follower); media are described in the body (downloading them needs an access token, which is
    the ticket service's concern, using ``msg.fields['MediaId']``).
    """
    if msg.is_event:
        raise NotAMessage(CHANNEL, msg.event or "")
    body = message_text(msg)
    return InboundMessage(
        channel=CHANNEL,
        sender=msg.from_user,
        sender_name="",
        external_id=msg.dedup_key,
        thread_keys=(msg.from_user,),
        subject="",
        body=body,
        received_at=msg.created_at,
        ticket_number=find_ticket_number(body, ticket_pattern),
    )


def cdata(text: str) -> str:
    """``text`` as one or more CDATA sections: ``]]>`` is split across two, illegal characters dropped."""
    return "<![CDATA[" + _XML_ILLEGAL.sub("", text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def passive_text_reply(to_user: str, from_user: str, content: str, now: datetime) -> bytes:
    """The XML body of a passive text reply (被动回复文本消息), UTF-8.

    ``to_user`` is the follower's OpenID (the push's FromUserName), ``from_user`` the account's
    original id (the push's ToUserName); ``now`` must be aware.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    xml = (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(now.timestamp())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )
    return xml.encode("utf-8")
