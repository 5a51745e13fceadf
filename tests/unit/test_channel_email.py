"""Email in: RFC 5322 bytes → InboundMessage (Chinese headers, bodies, quoted history, attachments); replies."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from kefu.adapters.channels import email_in
from kefu.domain.service.channels import InboundMessage, MalformedPayload, OversizePayload

CRLF = b"\r\n"


def mail(text: str) -> bytes:
    """A mail written out in the test (UTF-8 where 8-bit), with the CRLF line ends of the wire."""
    return text.strip("\n").replace("\n", "\r\n").encode("utf-8") + CRLF


# A reply from a Foxmail-style client: Chinese name and subject in encoded words, text and HTML
# alternatives, a PDF attached with an encoded-word filename.
MULTIPART = mail("""
Received: from smtp.example.com (smtp.example.com [203.0.113.5]) by mx.shop.example
From: =?utf-8?B?5byg5LiJ?= <ZhangSan@Example.COM>
To: kefu@shop.example
Subject: =?utf-8?B?6YCA6LSn55Sz6K+377ya6ICz5py65bem6ICz5peg5aOw6Z+zIFsjVDIwMjYxMTIzXQ==?=
Date: Mon, 23 Nov 2026 16:10:00 +0800
Message-ID: <20261123161000.4f1e@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="----=_Part_0"

------=_Part_0
Content-Type: multipart/alternative; boundary="----=_Part_1"

------=_Part_1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

您好：
耳机左耳没有声音，发票附上，请尽快处理。

张三
------=_Part_1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<html><body><p>HTML 版本：耳机左耳没有声音</p></body></html>
------=_Part_1--
------=_Part_0
Content-Type: application/pdf; name="=?utf-8?B?5Y+R56WoLnBkZg==?="
Content-Disposition: attachment; filename="=?utf-8?B?5Y+R56WoLnBkZg==?="
Content-Transfer-Encoding: base64

JVBERi0xLjQK
------=_Part_0--
""")

# The customer answers the desk's reply from Apple Mail (Chinese): history quoted below.
REPLY = mail("""
From: "Zhang San" <zhangsan@example.com>
To: =?utf-8?B?5a6i5pyN?= <kefu@shop.example>
Subject: =?utf-8?B?UmU6IOmAgOi0p+eUs+ivtyBbI1QyMDI2MTEyM10=?=
Date: Tue, 24 Nov 2026 09:30:00 +0800
Message-ID: <B7E1C0DE-1111-4A2B-9C3D-000000000002@example.com>
In-Reply-To: <desk.42.1763885400@shop.example>
References: <20261123161000.4f1e@example.com>
 <desk.42.1763885400@shop.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

好的，快递单号是 SF1234567890。

> 2026年11月23日 16:30，客服 <kefu@shop.example> 写道：
在 2026年11月23日 16:30，客服 <kefu@shop.example> 写道：
> 您好，请提供寄回的快递单号。
>
> 客服小美
""")

NOW = datetime(2026, 11, 24, 1, 31, tzinfo=UTC)


def test_a_multipart_chinese_mail() -> None:
    inbound = email_in.parse_email(MULTIPART)
    assert inbound.channel == "email"
    assert (inbound.sender, inbound.sender_name) == ("zhangsan@example.com", "张三")
    assert inbound.subject == "退货申请：耳机左耳无声音 [#T20261123]"
    assert inbound.ticket_number == "T20261123"
    assert inbound.body == "您好：\n耳机左耳没有声音，发票附上，请尽快处理。\n\n张三"       # text/plain preferred
    assert inbound.external_id == "<20261123161000.4f1e@example.com>"
    assert inbound.thread_keys == ()
    assert inbound.received_at == datetime(2026, 11, 23, 8, 10, tzinfo=UTC)             # the Date header
    assert [(a.filename, a.content_type, a.data) for a in inbound.attachments] == [
        ("发票.pdf", "application/pdf", b"%PDF-1.4\n")]


def test_the_arrival_time_given_wins_over_the_date_header() -> None:
    assert email_in.parse_email(MULTIPART, received_at=NOW).received_at == NOW


def test_a_reply_threads_on_references_and_in_reply_to_and_drops_the_quoted_history() -> None:
    inbound = email_in.parse_email(REPLY, received_at=NOW)
    assert inbound == InboundMessage(
        channel="email", sender="zhangsan@example.com", sender_name="Zhang San",
        external_id="<B7E1C0DE-1111-4A2B-9C3D-000000000002@example.com>",
        thread_keys=("<20261123161000.4f1e@example.com>", "<desk.42.1763885400@shop.example>"),
        subject="Re: 退货申请 [#T20261123]", body="好的，快递单号是 SF1234567890。",
        received_at=NOW, ticket_number="T20261123")


def test_in_reply_to_alone_is_a_thread_key() -> None:
    raw = REPLY.replace(b"References: <20261123161000.4f1e@example.com>\r\n <desk.42.1763885400@shop.example>\r\n",
                        b"")
    assert email_in.parse_email(raw).thread_keys == ("<desk.42.1763885400@shop.example>",)


def test_gbk_text_labelled_gb2312_is_decoded_as_gb18030() -> None:
    # 镕 is not in GB2312, but Chinese mailers label GBK text gb2312 all the same
    subject = base64.b64encode("朱镕基的订单".encode("gbk")).decode()
    raw = (f"From: =?gb2312?B?{base64.b64encode('朱镕基'.encode('gbk')).decode()}?= <zhu@example.cn>\r\n"
           f"Subject: =?gb2312?B?{subject}?=\r\nMessage-ID: <1@example.cn>\r\n"
           "Content-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode()
    inbound = email_in.parse_email(raw + "镕字没有乱码".encode("gbk") + CRLF)
    assert inbound.subject == "朱镕基的订单"
    assert inbound.sender_name == "朱镕基"
    assert inbound.body == "镕字没有乱码"


def test_raw_8bit_headers_are_read_as_utf8_else_gb18030() -> None:
    for encoding in ("utf-8", "gbk"):
        raw = ("From: 李四 <lisi@example.cn>\r\nSubject: 发票抬头错了\r\n"
               "Content-Type: text/plain\r\n\r\n请重开发票\r\n").encode(encoding)
        inbound = email_in.parse_email(raw)
        assert (inbound.subject, inbound.sender_name, inbound.body) == ("发票抬头错了", "李四", "请重开发票")


def test_an_html_only_mail_is_turned_into_text_without_the_quoted_part() -> None:
    raw = mail("""
From: wangwu@example.com
Subject: =?utf-8?B?5Y+R6LSn?=
Message-ID: <html-1@example.com>
Content-Type: text/html; charset=utf-8

<html><head><style>p {color: red}</style><title>t</title></head><body>
<div dir="ltr">什么时候发货？<br>订单号&nbsp;J2026&amp;1<br><br>谢谢</div>
<script>alert(1)</script>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">
On Mon, Nov 23, 2026 at 4:10 PM Shop &lt;kefu@shop.example&gt; wrote:<br></div>
<blockquote class="gmail_quote"><div>已收到您的订单。</div><blockquote>更早的内容</blockquote></blockquote></div>
</body></html>
""")
    assert email_in.parse_email(raw).body == "什么时候发货？\n订单号 J2026&1\n\n谢谢"


def test_html_to_text_keeps_structure() -> None:
    html = ("<h1>标题</h1><p>第一段</p><p>第二段</p><ul><li>一</li><li>二</li></ul>"
            "<table><tr><td>单号</td><td>J1</td></tr></table><pre>a\n  b</pre>"
            "<blockquote>引用</blockquote>")
    assert email_in.html_to_text(html) == "标题\n\n第一段\n\n第二段\n\n- 一\n- 二\n单号 J1\na\n  b\n> 引用"


@pytest.mark.parametrize(("text", "expected"), [
    # Apple Mail (zh) and Gmail (zh) attributions
    ("收到，谢谢\n\n在 2026年11月23日，16:30，客服 <kefu@shop.example> 写道：\n\n旧内容", "收到，谢谢"),
    ("收到\n\n客服 <kefu@shop.example> 于2026年11月23日周一 16:30写道：\n> 旧内容", "收到"),
    # the Gmail zh attribution wrapped over two lines
    ("收到\n\n客服 <kefu@shop.example> 于2026年11月23日周一\n下午4:30写道：\n> 旧内容", "收到"),
    # English, plain and wrapped
    ("Thanks!\n\nOn Mon, Nov 23, 2026 at 4:30 PM Shop <kefu@shop.example> wrote:\n> old", "Thanks!"),
    ("Thanks!\n\nOn Mon, Nov 23, 2026 at 4:30 PM Shop <\nkefu@shop.example> wrote:\n\n> old", "Thanks!"),
    # QQ mail and Outlook
    ("好的\n\n------------------ 原始邮件 ------------------\n发件人: 客服\n发送时间: 2026年11月23日\n旧内容", "好的"),
    ("OK\n\n-----Original Message-----\nFrom: Shop\nSent: Monday\nold", "OK"),
    ("好的\n\n________________________________\n发件人: 客服 <kefu@shop.example>\n发送时间: 2026年11月23日 16:30\n"
     "收件人: 张三\n主题: 退货\n\n旧内容", "好的"),
    ("OK\nFrom: Shop <kefu@shop.example>\nSent: Monday, November 23, 2026 4:30 PM\nTo: me\n\nold", "OK"),
    # inline answers: only the '>' lines go
    ("> 请提供单号\nSF123\n> 请提供照片\n见附件", "SF123\n见附件"),
    # a customer's own sentences are not history
    ("我在订单备注里写道：\n请放门口", "我在订单备注里写道：\n请放门口"),
    ("From: 北京\nTo: 上海\n运单 SF1", "From: 北京\nTo: 上海\n运单 SF1"),
    ("请看转发的订单\n\n---------- Forwarded message ---------\nFrom: Shop <a@b.c>\nDate: Mon\n订单 J1",
     "请看转发的订单\n\n---------- Forwarded message ---------\nFrom: Shop <a@b.c>\nDate: Mon\n订单 J1"),
    # a reply that is all quote keeps the text rather than nothing
    ("> 旧内容", "> 旧内容"),
])
def test_quoted_reply_history_is_stripped(text: str, expected: str) -> None:
    assert email_in.strip_quoted_reply(text) == expected


def test_a_forwarded_mail_keeps_its_whole_body() -> None:
    body = ("请看下面的订单\n\n________________________________\n发件人: 商城 <shop@example.com>\n"
            "发送时间: 2026年11月23日\n订单 J1")
    raw = ("From: a@example.com\r\nSubject: 转发: 订单确认\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           + body.replace("\n", "\r\n")).encode()
    assert email_in.parse_email(raw).body == body
    assert email_in.parse_email(raw.replace("转发: ".encode(), b"")).body == "请看下面的订单"


def test_a_mail_without_message_id_gets_a_stable_digest_id() -> None:
    raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    first = email_in.parse_email(raw).external_id
    assert first.startswith("sha256:") and first == email_in.parse_email(raw).external_id
    assert email_in.parse_email(raw + b"more\r\n").external_id != first


def test_attached_mails_and_unnamed_inline_images_are_attachments() -> None:
    raw = mail("""
From: c@example.com
Subject: fw
Message-ID: <fw@example.com>
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: multipart/related; boundary="b2"

--b2
Content-Type: text/html; charset=utf-8

<p>见图 <img src="cid:img1"></p>
--b2
Content-Type: image/png
Content-ID: <img1>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--b2--
--b1
Content-Type: message/rfc822
Content-Disposition: attachment; filename="order.eml"

From: shop@example.com
Subject: order

order body
--b1--
""")
    inbound = email_in.parse_email(raw)
    assert inbound.body == "见图"
    png, eml = inbound.attachments
    assert (png.filename, png.content_type, png.data) == ("attachment-1.png", "image/png", b"\x89PNG\r\n\x1a\n")
    assert (eml.filename, eml.content_type) == ("order.eml", "message/rfc822")
    assert b"Subject: order" in eml.data


def test_attachment_names_lose_their_path() -> None:
    raw = mail("""
From: c@example.com
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

hi
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="..\\\\..\\\\evil.exe"

x
--b--
""")
    assert [a.filename for a in email_in.parse_email(raw).attachments] == ["evil.exe"]


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "empty"),
    (b"   \r\n", "empty"),
    (b"hello there, this is not a mail\r\n", "From"),
    (b"Subject: no sender\r\n\r\nbody\r\n", "From"),
    (b"From: Zhang San\r\nSubject: x\r\n\r\nbody\r\n", "From"),
    (b"From: <@example.com>\r\nSubject: x\r\n\r\nbody\r\n", "From"),
])
def test_mail_without_a_sender_is_malformed(raw: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        email_in.parse_email(raw)
    assert reason in caught.value.en and isinstance(caught.value, ValueError)


def test_oversize_mail_is_refused() -> None:
    with pytest.raises(OversizePayload):
        email_in.parse_email(MULTIPART, max_bytes=len(MULTIPART) - 1)


def test_a_mail_with_no_date_falls_back_to_now() -> None:
    before = datetime.now(UTC)
    received = email_in.parse_email(b"From: a@example.com\r\n\r\nx\r\n").received_at
    assert before <= received <= datetime.now(UTC)


# --- replies -----------------------------------------------------------------------------------

def test_build_reply_threads_and_tags_the_subject() -> None:
    original = email_in.parse_email(MULTIPART)
    reply = email_in.build_reply(original, "您好，已为您安排换新。\n客服小美", desk_address="kefu@shop.example",
                                 desk_name="客服中心", now=NOW)
    assert reply["Subject"] == "Re: 退货申请：耳机左耳无声音 [#T20261123]"
    assert reply["From"].addresses[0].addr_spec == "kefu@shop.example"
    assert reply["From"].addresses[0].display_name == "客服中心"
    assert reply["To"].addresses[0].addr_spec == "zhangsan@example.com"
    assert reply["In-Reply-To"] == "<20261123161000.4f1e@example.com>"
    assert reply["References"] == "<20261123161000.4f1e@example.com>"
    assert reply["Message-ID"].endswith("@shop.example>")
    assert reply.get_content_charset() == "utf-8"
    wire = reply.as_bytes(policy=policy.SMTP)
    assert wire.isascii()                                     # headers encoded, body transfer-encoded
    back = message_from_bytes(wire, policy=policy.default)
    assert str(back["Subject"]) == "Re: 退货申请：耳机左耳无声音 [#T20261123]"
    assert back.get_content() == "您好，已为您安排换新。\n客服小美\n"


def test_a_reply_to_a_reply_extends_references_and_does_not_repeat_re_or_the_tag() -> None:
    original = email_in.parse_email(REPLY)
    reply = email_in.build_reply(original, "收到", desk_address="kefu@shop.example", now=NOW)
    assert reply["Subject"] == "Re: 退货申请 [#T20261123]"
    assert reply["In-Reply-To"] == "<B7E1C0DE-1111-4A2B-9C3D-000000000002@example.com>"
    assert reply["References"].split() == ["<20261123161000.4f1e@example.com>", "<desk.42.1763885400@shop.example>",
                                           "<B7E1C0DE-1111-4A2B-9C3D-000000000002@example.com>"]
    # the customer's next answer to it threads back to every one of them
    answer = email_in.parse_email(
        b"From: zhangsan@example.com\r\nMessage-ID: <next@example.com>\r\nIn-Reply-To: " + reply["Message-ID"].encode()
        + b"\r\nReferences: " + reply["References"].encode() + b" " + reply["Message-ID"].encode() + b"\r\n\r\nok\r\n")
    assert reply["Message-ID"] in answer.thread_keys and original.external_id in answer.thread_keys


def test_a_reply_tags_a_new_ticket_number_and_subjects_without_one() -> None:
    original = email_in.parse_email(b"From: a@example.com\r\nSubject: =?utf-8?B?5ZKo6K+i?=\r\n"
                                    b"Message-ID: <q@example.com>\r\n\r\nhi\r\n")
    assert email_in.build_reply(original, "x", desk_address="kefu@shop.example", now=NOW,
                                ticket_number="T7")["Subject"] == "Re: 咨询 [#T7]"
    assert email_in.build_reply(original, "x", desk_address="kefu@shop.example", now=NOW)["Subject"] == "Re: 咨询"
    no_id = email_in.parse_email(b"From: a@example.com\r\n\r\nhi\r\n")
    reply = email_in.build_reply(no_id, "x", desk_address="kefu@shop.example", now=NOW)
    assert reply["In-Reply-To"] is None and reply["References"] is None   # a digest id is not a Message-ID


def test_build_reply_answers_only_email_and_needs_an_aware_now() -> None:
    original = email_in.parse_email(MULTIPART)
    with pytest.raises(ValueError, match="timezone-aware"):
        email_in.build_reply(original, "x", desk_address="kefu@shop.example", now=datetime(2026, 11, 24))
    wechat = InboundMessage(channel="wechat", sender="o1", sender_name="", external_id="1", thread_keys=(),
                            subject="", body="hi", received_at=NOW)
    with pytest.raises(ValueError, match="email"):
        email_in.build_reply(wechat, "x", desk_address="kefu@shop.example", now=NOW)


# --- the normalised value itself ---------------------------------------------------------------

def test_inbound_message_normalises_to_utc_and_refuses_naive_times_and_unknown_channels() -> None:
    from zoneinfo import ZoneInfo

    shanghai = datetime(2026, 11, 23, 16, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    message = InboundMessage(channel="email", sender="a@b.c", sender_name="", external_id="<1@b.c>",
                             thread_keys=(), subject="", body="", received_at=shanghai)
    assert message.received_at == datetime(2026, 11, 23, 8, 10, tzinfo=UTC) and message.received_at.tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        InboundMessage(channel="email", sender="a@b.c", sender_name="", external_id="<1@b.c>", thread_keys=(),
                       subject="", body="", received_at=datetime(2026, 11, 23))
    with pytest.raises(ValueError, match="unknown channel"):
        InboundMessage(channel="fax", sender="a@b.c", sender_name="", external_id="<1@b.c>", thread_keys=(),
                       subject="", body="", received_at=NOW)


@pytest.mark.parametrize(("raw", "text"), [
    ("Re: =?utf-8?B?5ZKo6K+i?= [#T1]", "Re: 咨询 [#T1]"),                  # encoded word among plain text
    ("=?utf-8?B?5ZKo?= =?utf-8?B?6K+i?=", "咨询"),                          # adjacent words join without the space
    ("=?UTF-8?Q?=E5=92=A8=E8=AF=A2?=", "咨询"),                             # Q encoding
    ("=?x-unknown?B?5ZKo6K+i?=", "咨询"),                                   # unknown charset: UTF-8 if it is
    ("plain subject", "plain subject"),
])
def test_header_text_decoding(raw: str, text: str) -> None:
    assert email_in.decode_header_text(raw) == text
