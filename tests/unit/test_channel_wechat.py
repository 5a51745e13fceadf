"""WeChat Official Account callback: signature, safe XML parsing, inbound mapping, passive reply."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from kefu.adapters.channels import wechat
from kefu.domain.service.channels import InboundMessage, MalformedPayload, NotAMessage, OversizePayload

# A vector worked out outside Python: printf of the three values sorted and joined, through sha1sum.
TOKEN, TIMESTAMP, NONCE = "kefu_wechat_token", "1763885400", "8327164"
SIGNATURE = "a267c0a5c2bf0a05b4346aef3f8e98017ca928fc"

# The samples of WeChat's "接收普通消息" / "接收事件推送" documentation.
TEXT = b"""<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[this is a test]]></Content>
  <MsgId>1234567890123456</MsgId>
  <MsgDataId>xxxx</MsgDataId>
  <Idx>xxxx</Idx>
</xml>"""

IMAGE = b"""<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[image]]></MsgType>
  <PicUrl><![CDATA[this is a url]]></PicUrl>
  <MediaId><![CDATA[media_id]]></MediaId>
  <MsgId>1234567890123456</MsgId>
</xml>"""

VOICE = """<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1357290913</CreateTime>
  <MsgType><![CDATA[voice]]></MsgType>
  <MediaId><![CDATA[media_id]]></MediaId>
  <Format><![CDATA[Format]]></Format>
  <Recognition><![CDATA[腾讯微信团队]]></Recognition>
  <MsgId>1234567890123456</MsgId>
</xml>""".encode()

SUBSCRIBE = b"""<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe]]></Event>
</xml>"""

SCAN_SUBSCRIBE = (b"<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>"
                  b"<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                  b"<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey>"
                  b"<Ticket><![CDATA[TICKET]]></Ticket></xml>")

CLICK = (b"<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>"
         b"<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType>"
         b"<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[CONTACT_AGENT]]></EventKey></xml>")

# A follower writing in Chinese and quoting a ticket number.
CHINESE_TEXT = """<xml><ToUserName><![CDATA[gh_4f1e2a3b5c6d]]></ToUserName>
<FromUserName><![CDATA[oKefu0a1B2c3D4e5F6g7H8i9J0k]]></FromUserName>
<CreateTime>1763885400</CreateTime><MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[你好，[#T20261123] 的退货还没人处理]]></Content>
<MsgId>24571234567890123</MsgId></xml>""".encode()


# --- signature ---------------------------------------------------------------------------------

def test_the_documented_signature_scheme_verifies() -> None:
    assert wechat.signature_for(TOKEN, TIMESTAMP, NONCE) == SIGNATURE
    assert wechat.verify_signature(TOKEN, SIGNATURE, TIMESTAMP, NONCE)


@pytest.mark.parametrize(("token", "signature", "timestamp", "nonce"), [
    (TOKEN, SIGNATURE[:-1] + "0", TIMESTAMP, NONCE),        # one digit off
    ("another_token", SIGNATURE, TIMESTAMP, NONCE),          # wrong token
    (TOKEN, SIGNATURE, "1763885401", NONCE),                 # timestamp changed
    (TOKEN, SIGNATURE, TIMESTAMP, "8327165"),                # nonce changed
    (TOKEN, "", TIMESTAMP, NONCE),                           # no signature
    ("", wechat.signature_for("", TIMESTAMP, NONCE), TIMESTAMP, NONCE),   # an empty token never verifies
    (TOKEN, "签名", TIMESTAMP, NONCE),                       # non-ASCII does not crash the compare
])
def test_a_wrong_signature_is_refused(token: str, signature: str, timestamp: str, nonce: str) -> None:
    assert not wechat.verify_signature(token, signature, timestamp, nonce)


def test_given_now_a_stale_or_odd_timestamp_is_refused() -> None:
    signed_at = datetime.fromtimestamp(int(TIMESTAMP), UTC)
    assert wechat.verify_signature(TOKEN, SIGNATURE, TIMESTAMP, NONCE, now=signed_at + timedelta(minutes=4))
    assert not wechat.verify_signature(TOKEN, SIGNATURE, TIMESTAMP, NONCE, now=signed_at + timedelta(minutes=6))
    assert not wechat.verify_signature(TOKEN, SIGNATURE, TIMESTAMP, NONCE, now=signed_at - timedelta(minutes=6))
    odd = wechat.signature_for(TOKEN, "abc", NONCE)
    assert wechat.verify_signature(TOKEN, odd, "abc", NONCE)              # no clock: signature only
    assert not wechat.verify_signature(TOKEN, odd, "abc", NONCE, now=signed_at)


# --- parsing -----------------------------------------------------------------------------------

def test_the_documented_text_message() -> None:
    msg = wechat.parse_message(TEXT)
    assert (msg.to_user, msg.from_user, msg.msg_type, msg.msg_id) == ("toUser", "fromUser", "text", "1234567890123456")
    assert msg.content == "this is a test"
    assert msg.created_at == datetime(2012, 9, 28, 11, 31, tzinfo=UTC)
    assert not msg.is_event and msg.event is None
    assert msg.fields["MsgDataId"] == "xxxx"


def test_a_text_message_becomes_an_inbound_message_with_its_ticket_number() -> None:
    inbound = wechat.to_inbound(wechat.parse_message(CHINESE_TEXT))
    assert inbound == InboundMessage(
        channel="wechat", sender="oKefu0a1B2c3D4e5F6g7H8i9J0k", sender_name="", external_id="24571234567890123",
        thread_keys=("oKefu0a1B2c3D4e5F6g7H8i9J0k",), subject="", body="你好，[#T20261123] 的退货还没人处理",
        received_at=datetime(2025, 11, 23, 8, 10, tzinfo=UTC), ticket_number="T20261123")


def test_a_configured_ticket_pattern_is_used() -> None:
    xml = CHINESE_TEXT.replace(b"[#T20261123]", "工单号 T555".encode())
    assert wechat.to_inbound(wechat.parse_message(xml), ticket_pattern=r"工单号\s*(T\d+)").ticket_number == "T555"
    assert wechat.to_inbound(wechat.parse_message(xml)).ticket_number is None


def test_image_and_voice_messages_are_described_in_the_body() -> None:
    image = wechat.to_inbound(wechat.parse_message(IMAGE))
    assert image.body == "[图片] this is a url"
    assert image.external_id == "1234567890123456"
    assert wechat.parse_message(IMAGE).fields["MediaId"] == "media_id"
    assert wechat.to_inbound(wechat.parse_message(VOICE)).body == "[语音] 腾讯微信团队"


def test_location_and_link_messages() -> None:
    location = (b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
                b"<MsgType>location</MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y>"
                b"<Scale>20</Scale><Label><![CDATA[\xe4\xbd\x8d\xe7\xbd\xae\xe4\xbf\xa1\xe6\x81\xaf]]></Label>"
                b"<MsgId>1</MsgId></xml>")
    assert wechat.to_inbound(wechat.parse_message(location)).body == "[位置] 位置信息 (23.134521, 113.358803)"
    link = (b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
            b"<MsgType>link</MsgType><Title>Order</Title><Description>mine</Description>"
            b"<Url>https://example.com/o/1</Url><MsgId>2</MsgId></xml>")
    assert wechat.to_inbound(wechat.parse_message(link)).body == "[链接] Order\nmine\nhttps://example.com/o/1"


@pytest.mark.parametrize(("xml", "event", "key"), [
    (SUBSCRIBE, "subscribe", ""),
    (SCAN_SUBSCRIBE, "subscribe", "qrscene_123123"),
    (CLICK, "CLICK", "CONTACT_AGENT"),
])
def test_events_are_recognised_and_are_not_customer_messages(xml: bytes, event: str, key: str) -> None:
    msg = wechat.parse_message(xml)
    assert msg.is_event and msg.event == event and msg.event_key == key and msg.msg_id is None
    assert msg.dedup_key == "FromUser:123456789"       # WeChat: de-duplicate events on FromUserName + CreateTime
    with pytest.raises(NotAMessage) as caught:
        wechat.to_inbound(msg)
    assert caught.value.event == event


# --- refusals ----------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""

BARE_DOCTYPE = b'<!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml><MsgType>text</MsgType></xml>'


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, XXE, BARE_DOCTYPE], ids=["entity-bomb", "xxe", "doctype"])
def test_dtds_and_entities_are_refused(xml: bytes) -> None:
    with pytest.raises(MalformedPayload) as caught:
        wechat.parse_message(xml)
    assert caught.value.code == "channel_payload_malformed"
    assert isinstance(caught.value, ValueError)


def test_an_oversize_body_is_refused_before_parsing() -> None:
    big = TEXT.replace(b"this is a test", b"x" * wechat.MAX_XML_BYTES)
    with pytest.raises(OversizePayload) as caught:
        wechat.parse_message(big)
    assert caught.value.status == 413 and isinstance(caught.value, ValueError)
    assert wechat.parse_message(TEXT, max_bytes=len(TEXT)).msg_id == "1234567890123456"
    with pytest.raises(OversizePayload):
        wechat.parse_message(TEXT, max_bytes=len(TEXT) - 1)


@pytest.mark.parametrize(("xml", "reason"), [
    (b"", "not well-formed"),
    (b"not xml at all", "not well-formed"),
    (b"<xml><ToUserName>gh</ToUserName>", "not well-formed"),
    (b"<message><MsgType>text</MsgType></message>", "<message>"),
    (TEXT.replace(b"<MsgId>1234567890123456</MsgId>", b""), "MsgId"),
    (TEXT.replace(b"<FromUserName><![CDATA[fromUser]]></FromUserName>", b""), "FromUserName"),
    (TEXT.replace(b"<CreateTime>1348831860</CreateTime>", b"<CreateTime>yesterday</CreateTime>"), "CreateTime"),
    (SUBSCRIBE.replace(b"<Event><![CDATA[subscribe]]></Event>", b""), "Event"),
    (b"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[bG9yZW0=]]></Encrypt></xml>", "safe-mode"),
])
def test_malformed_pushes_are_refused_with_a_reason(xml: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        wechat.parse_message(xml)
    assert reason in caught.value.en


def test_compatible_mode_reads_the_plaintext_and_ignores_the_ciphertext() -> None:
    both = TEXT.replace(b"</xml>", b"<Encrypt><![CDATA[bG9yZW0=]]></Encrypt></xml>")
    assert wechat.parse_message(both).content == "this is a test"


# --- passive reply -----------------------------------------------------------------------------

NOW = datetime(2026, 11, 23, 8, 10, tzinfo=UTC)


def test_the_passive_text_reply_is_the_xml_wechat_expects() -> None:
    body = wechat.passive_text_reply("oKefu0a1", "gh_4f1e2a3b5c6d", "您好，已为您登记工单 [#T1]。", NOW)
    assert body == ("<xml><ToUserName><![CDATA[oKefu0a1]]></ToUserName>"
                    "<FromUserName><![CDATA[gh_4f1e2a3b5c6d]]></FromUserName>"
                    f"<CreateTime>{int(NOW.timestamp())}</CreateTime>"
                    "<MsgType><![CDATA[text]]></MsgType>"
                    "<Content><![CDATA[您好，已为您登记工单 [#T1]。]]></Content></xml>").encode()


@pytest.mark.parametrize("content", [
    "a]]>b", "]]>", "]]]]>", "<b>&amp;</b>", "多行\n文本\r\n", "",
])
def test_a_passive_reply_round_trips_any_text(content: str) -> None:
    root = ET.fromstring(wechat.passive_text_reply("o1", "gh", content, NOW))
    assert root.findtext("Content") == content.replace("\r\n", "\n")
    assert root.findtext("CreateTime") == str(int(NOW.timestamp()))
    # and our own parser reads it back
    assert wechat.parse_message(wechat.passive_text_reply("o1", "gh", content, NOW).replace(
        b"</xml>", b"<MsgId>1</MsgId></xml>")).content == content.replace("\r\n", "\n").strip()


def test_characters_xml_cannot_carry_are_dropped_from_a_reply() -> None:
    root = ET.fromstring(wechat.passive_text_reply("o1", "gh", "a\x00b\x07c\x1fd\ufffee", NOW))
    assert root.findtext("Content") == "abcde"


def test_a_reply_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        wechat.passive_text_reply("o1", "gh", "hi", datetime(2026, 11, 23, 8, 10))
