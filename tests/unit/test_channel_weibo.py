"""Weibo fans-service push and @mention payloads → InboundMessage; signature; refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kefu.adapters.channels import weibo
from kefu.domain.service.channels import InboundMessage, MalformedPayload, NotAMessage, OversizePayload

# A vector worked out outside Python: printf of the three values sorted and joined, through sha1sum.
APP_SECRET, TIMESTAMP, NONCE = "3f9c0b2e7a1d4c56", "1763885400", "51623"
SIGNATURE = "80401f37f81597bdcaca5e4c71152f9cdbdd8925"

# A private message to the brand account, as the fans-service platform pushes it.
TEXT_PUSH = """{
  "type": "text",
  "receiver_id": 5566778899,
  "sender_id": 1234567890,
  "created_at": "Mon Nov 23 16:10:00 +0800 2026",
  "text": "你好，我的耳机 [#T20261123] 还没有修好",
  "data": {}
}""".encode()

MENTION_PUSH = {
    "type": "mention", "receiver_id": "5566778899", "sender_id": "1234567890",
    "created_at": "Mon Nov 23 16:12:30 +0800 2026", "text": "@品牌客服 我的快递三天没动了",
    "data": {"subtype": "status", "key": "4975311234567890"},
}

# An @brand post, as the statuses API returns it (fields we do not read left in).
MENTION_STATUS = """{
  "created_at": "Mon Nov 23 16:10:00 +0800 2026",
  "id": 4975311234567890,
  "idstr": "4975311234567890",
  "mid": "4975311234567890",
  "text": "@品牌客服 耳机用了一周就坏了，求处理",
  "source": "<a href=\\"https://weibo.com/\\" rel=\\"nofollow\\">iPhone客户端</a>",
  "in_reply_to_status_id": "4975300000000001",
  "in_reply_to_user_id": "5566778899",
  "in_reply_to_screen_name": "品牌客服",
  "user": {"id": 1234567890, "idstr": "1234567890", "screen_name": "小明爱购物", "verified": false},
  "reposts_count": 0, "comments_count": 0, "attitudes_count": 0
}""".encode()

COMMENT_MENTION = {
    "created_at": "Mon Nov 23 17:00:00 +0800 2026", "id": 4975319999999999, "mid": "4975319999999999",
    "text": "回复@品牌客服:还是没人联系我", "user": {"id": "1234567890", "screen_name": "小明爱购物"},
    "status": {"id": 4975300000000001, "mid": "4975300000000001", "text": "新品发布"},
    "reply_comment": {"id": 4975318888888888, "mid": "4975318888888888", "text": "已私信您"},
}


def push(**changes: Any) -> bytes:
    payload = json.loads(TEXT_PUSH)
    payload.update(changes)
    return json.dumps({k: v for k, v in payload.items() if v is not ...}, ensure_ascii=False).encode()


# --- signature ---------------------------------------------------------------------------------

def test_the_signature_is_sha1_of_the_sorted_secret_timestamp_and_nonce() -> None:
    assert weibo.verify_signature(APP_SECRET, SIGNATURE, TIMESTAMP, NONCE)


@pytest.mark.parametrize(("secret", "signature", "timestamp", "nonce"), [
    (APP_SECRET, SIGNATURE.replace("8", "9", 1), TIMESTAMP, NONCE),
    ("wrong-secret", SIGNATURE, TIMESTAMP, NONCE),
    (APP_SECRET, SIGNATURE, TIMESTAMP, "51624"),
    (APP_SECRET, "", TIMESTAMP, NONCE),
    ("", SIGNATURE, TIMESTAMP, NONCE),
])
def test_a_wrong_signature_is_refused(secret: str, signature: str, timestamp: str, nonce: str) -> None:
    assert not weibo.verify_signature(secret, signature, timestamp, nonce)


def test_given_now_a_stale_signature_is_refused() -> None:
    signed_at = datetime.fromtimestamp(int(TIMESTAMP), UTC)
    assert weibo.verify_signature(APP_SECRET, SIGNATURE, TIMESTAMP, NONCE, now=signed_at)
    assert not weibo.verify_signature(APP_SECRET, SIGNATURE, TIMESTAMP, NONCE, now=signed_at + timedelta(hours=1))


# --- fans-service push -------------------------------------------------------------------------

def test_a_private_message_push() -> None:
    inbound = weibo.parse_event(TEXT_PUSH)
    assert inbound.channel == "weibo"
    assert inbound.sender == "1234567890" and inbound.sender_name == ""
    assert inbound.thread_keys == ("1234567890",)
    assert inbound.body == "你好，我的耳机 [#T20261123] 还没有修好"
    assert inbound.ticket_number == "T20261123"
    assert inbound.received_at == datetime(2026, 11, 23, 8, 10, tzinfo=UTC)
    assert inbound.received_at.tzinfo is UTC
    assert inbound.external_id.startswith("push:1234567890:5566778899:")


def test_the_derived_id_is_stable_for_a_retried_push_and_differs_for_another_message() -> None:
    assert weibo.parse_event(TEXT_PUSH).external_id == weibo.parse_event(TEXT_PUSH).external_id
    assert weibo.parse_event(push(text="第二条")).external_id != weibo.parse_event(TEXT_PUSH).external_id
    assert weibo.parse_event(push(sender_id=42)).external_id != weibo.parse_event(TEXT_PUSH).external_id


def test_a_mention_push_threads_on_the_status_it_names() -> None:
    inbound = weibo.parse_event(json.dumps(MENTION_PUSH, ensure_ascii=False).encode())
    assert inbound.thread_keys == ("4975311234567890", "1234567890")
    assert inbound.body == "@品牌客服 我的快递三天没动了"
    assert inbound.received_at == datetime(2026, 11, 23, 8, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(("kind", "text", "data", "body"), [
    ("image", "", {"vfid": 821804459, "tovfid": 821804469}, "[图片]"),
    ("voice", "", {"vfid": 821804459, "tovfid": 821804469}, "[语音]"),
    ("position", "我在这里", {"longitude": "116.308586", "latitude": "39.982525"},
     "[位置] 我在这里 (39.982525, 116.308586)"),
    ("text", "只有文字", "", "只有文字"),
])
def test_media_pushes_are_described_in_the_body(kind: str, text: str, data: Any, body: str) -> None:
    assert weibo.parse_event(push(type=kind, text=text, data=data)).body == body


@pytest.mark.parametrize("subtype", ["follow", "unfollow", "subscribe", "unsubscribe", "scan", "scan_follow"])
def test_events_are_not_customer_messages(subtype: str) -> None:
    with pytest.raises(NotAMessage) as caught:
        weibo.parse_event(push(type="event", text="", data={"subtype": subtype, "key": "", "ticket": ""}))
    assert caught.value.event == subtype and caught.value.channel == "weibo"


# --- mention statuses and comments -------------------------------------------------------------

def test_a_mention_status() -> None:
    assert weibo.parse_event(MENTION_STATUS) == InboundMessage(
        channel="weibo", sender="1234567890", sender_name="小明爱购物", external_id="4975311234567890",
        thread_keys=("4975300000000001",), subject="", body="@品牌客服 耳机用了一周就坏了，求处理",
        received_at=datetime(2026, 11, 23, 8, 10, tzinfo=UTC), ticket_number=None)


def test_a_mention_without_a_parent_has_no_thread_keys() -> None:
    payload = json.loads(MENTION_STATUS)
    payload["in_reply_to_status_id"] = ""
    assert weibo.parse_event(json.dumps(payload).encode()).thread_keys == ()
    payload["in_reply_to_status_id"] = 0
    payload.pop("mid")
    inbound = weibo.parse_event(json.dumps(payload).encode())
    assert inbound.thread_keys == () and inbound.external_id == "4975311234567890"   # falls back to id


def test_a_comment_mention_threads_on_the_comment_and_the_status() -> None:
    inbound = weibo.parse_event(json.dumps(COMMENT_MENTION, ensure_ascii=False).encode())
    assert inbound.external_id == "4975319999999999"
    assert inbound.thread_keys == ("4975318888888888", "4975300000000001")


def test_a_repost_threads_on_the_reposted_status() -> None:
    payload = json.loads(MENTION_STATUS)
    payload["in_reply_to_status_id"] = ""
    payload["retweeted_status"] = {"id": 4975000000000002, "mid": "4975000000000002"}
    assert weibo.parse_event(json.dumps(payload).encode()).thread_keys == ("4975000000000002",)


# --- created_at --------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("Mon Nov 23 16:10:00 +0800 2026", datetime(2026, 11, 23, 8, 10, tzinfo=UTC)),
    ("Thu Jan 01 07:59:59 +0800 2026", datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("Sun Mar  1 00:00:00 -0130 2026", datetime(2026, 3, 1, 1, 30, tzinfo=UTC)),
])
def test_created_at_is_read_whatever_the_locale(value: str, expected: datetime) -> None:
    assert weibo.parse_created_at(value) == expected


@pytest.mark.parametrize("value", ["2026-11-23T16:10:00+08:00", "Mon Nov 31 16:10:00 +0800 2026",
                                   "Mon Nov 23 16:10:00 2026", "", None, 1763885400])
def test_a_bad_created_at_is_malformed(value: Any) -> None:
    with pytest.raises(MalformedPayload, match="created_at"):
        weibo.parse_created_at(value)


# --- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("payload", "reason"), [
    (b"", "not valid JSON"),
    (b"{\"type\": \"text\",", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"type": "text", "sender_id": NaN}', "not valid JSON"),
    (b"{}", "neither"),
    (push(type="gift"), "unknown push type"),
    (push(sender_id=...), "sender_id"),
    (push(receiver_id=None), "receiver_id"),
    (push(sender_id=True), "sender_id"),
    (push(sender_id=12.5), "sender_id"),
    (push(sender_id="12ab"), "sender_id"),
    (push(text=""), "text"),
    (push(text=["hi"]), "text"),
    (push(created_at=...), "created_at"),
    (push(data=[1]), "data"),
    (push(type="mention", data={"subtype": "status"}), "data.key"),
    (json.dumps({**json.loads(MENTION_STATUS), "user": "小明"}).encode(), "user"),
    (json.dumps({**json.loads(MENTION_STATUS), "user": {"screen_name": "小明"}}).encode(), "user.id"),
    (json.dumps({k: v for k, v in json.loads(MENTION_STATUS).items() if k not in {"mid", "id"}}).encode(), "mid"),
    (json.dumps({**json.loads(MENTION_STATUS), "text": " "}).encode(), "text"),
])
def test_malformed_payloads_are_refused_with_a_clear_error(payload: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        weibo.parse_event(payload)
    assert reason in caught.value.en
    assert isinstance(caught.value, ValueError) and caught.value.status == 400


def test_an_oversize_payload_is_refused() -> None:
    with pytest.raises(OversizePayload):
        weibo.parse_event(push(text="长" * weibo.MAX_JSON_BYTES))
    with pytest.raises(OversizePayload):
        weibo.parse_event(TEXT_PUSH, max_bytes=10)
