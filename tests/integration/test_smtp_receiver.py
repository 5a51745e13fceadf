"""A real aiosmtpd receiver on a free loopback port, fed by smtplib: mails in, InboundMessages out."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from kefu.adapters.channels.smtp_server import start_smtp_receiver
from kefu.domain.clock import FixedClock
from kefu.domain.service.channels import InboundMessage
from tests.ports import free_port

ARRIVAL = datetime(2026, 11, 23, 8, 10, 5, tzinfo=UTC)
DESK = "kefu@shop.example"


@dataclass
class Inbox:
    """The on_message callback: collects messages; ``fail`` makes it raise once."""

    messages: list[InboundMessage] = field(default_factory=list)
    arrived: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    fail: bool = False

    def __call__(self, message: InboundMessage) -> None:
        if self.fail:
            self.fail = False
            raise RuntimeError("database is down")
        self.messages.append(message)
        self.arrived.release()

    def wait(self, count: int) -> list[InboundMessage]:
        for _ in range(count):
            assert self.arrived.acquire(timeout=10), "the receiver did not hand the mail over"
        return self.messages


@dataclass
class Receiver:
    controller: Controller
    inbox: Inbox
    port: int

    def client(self) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.port, timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    inbox = Inbox()
    port = free_port()
    controller = start_smtp_receiver("127.0.0.1", port, inbox, recipients=[DESK, "Service@Shop.Example"],
                                     clock=FixedClock(ARRIVAL), max_bytes=512 * 1024)
    try:
        yield Receiver(controller, inbox, port)
    finally:
        controller.stop()


def customer_mail() -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = Address("张三", addr_spec="ZhangSan@Example.com")
    mail["To"] = Address("客服中心", addr_spec=DESK)
    mail["Subject"] = "退货申请：耳机左耳无声音 [#T20261123]"
    mail["Date"] = "Mon, 23 Nov 2026 16:10:00 +0800"
    mail["Message-ID"] = "<first.20261123@example.com>"
    mail.set_content("您好：\n耳机左耳没有声音，发票和照片附上。\n\n张三\n")
    mail.add_alternative("<p>您好：</p><p>耳机左耳没有声音，发票和照片附上。</p>", subtype="html")
    mail.add_attachment(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", maintype="application", subtype="pdf", filename="发票.pdf")
    mail.add_attachment(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", maintype="image", subtype="png",
                        filename="耳机照片.png")
    return mail


def test_a_chinese_multipart_mail_with_attachments_and_then_a_reply(receiver: Receiver) -> None:
    with receiver.client() as smtp:
        refused = smtp.send_message(customer_mail())
        assert refused == {}
        reply = EmailMessage()
        reply["From"] = "Zhang San <zhangsan@example.com>"
        reply["To"] = DESK
        reply["Subject"] = "Re: 退货申请：耳机左耳无声音 [#T20261123]"
        reply["Message-ID"] = "<second.20261124@example.com>"
        reply["In-Reply-To"] = "<desk.1.1763885400@shop.example>"
        reply["References"] = "<first.20261123@example.com> <desk.1.1763885400@shop.example>"
        reply.set_content("快递单号 SF1234567890。\n\n在 2026年11月23日 16:30，客服中心 <kefu@shop.example> 写道：\n"
                          "> 请提供寄回的快递单号。\n")
        smtp.send_message(reply)

    first, second = receiver.inbox.wait(2)
    assert first.channel == "email"
    assert (first.sender, first.sender_name) == ("zhangsan@example.com", "张三")
    assert first.subject == "退货申请：耳机左耳无声音 [#T20261123]"
    assert first.ticket_number == "T20261123"
    assert first.body == "您好：\n耳机左耳没有声音，发票和照片附上。\n\n张三"
    assert first.external_id == "<first.20261123@example.com>"
    assert first.thread_keys == ()
    assert first.received_at == ARRIVAL                                  # the receiver's clock, not the Date header
    assert [(a.filename, a.content_type, a.data) for a in first.attachments] == [
        ("发票.pdf", "application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
        ("耳机照片.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ]

    assert second == InboundMessage(
        channel="email", sender="zhangsan@example.com", sender_name="Zhang San",
        external_id="<second.20261124@example.com>",
        thread_keys=("<first.20261123@example.com>", "<desk.1.1763885400@shop.example>"),
        subject="Re: 退货申请：耳机左耳无声音 [#T20261123]", body="快递单号 SF1234567890。",
        received_at=ARRIVAL, ticket_number="T20261123")


def test_recipients_outside_the_desk_are_refused_at_rcpt(receiver: Receiver) -> None:
    with receiver.client() as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            smtp.sendmail("a@example.com", ["someone@elsewhere.example"], b"From: a@example.com\r\n\r\nhi\r\n")
        assert caught.value.recipients["someone@elsewhere.example"][0] == 550
        # recipient matching ignores case
        assert smtp.sendmail("a@example.com", ["service@shop.example"], b"From: a@example.com\r\n\r\nhi\r\n") == {}
    assert receiver.inbox.wait(1)[0].body == "hi"


def test_an_unreadable_mail_is_refused_with_a_5xx(receiver: Receiver) -> None:
    with receiver.client() as smtp, pytest.raises(smtplib.SMTPDataError) as caught:
        smtp.sendmail("a@example.com", [DESK], b"Subject: who am I\r\n\r\nno From header\r\n")
    assert caught.value.smtp_code == 554
    assert b"From" in caught.value.smtp_error
    assert receiver.inbox.messages == []


def test_an_oversize_mail_is_refused(receiver: Receiver) -> None:
    big = b"From: a@example.com\r\nSubject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 600
    with receiver.client() as smtp, pytest.raises(smtplib.SMTPException) as caught:
        smtp.sendmail("a@example.com", [DESK], big)
    assert "552" in str(caught.value) or getattr(caught.value, "smtp_code", None) == 552
    assert receiver.inbox.messages == []


def test_a_failing_callback_asks_the_sender_to_retry_and_the_retry_lands(receiver: Receiver) -> None:
    receiver.inbox.fail = True
    raw = b"From: a@example.com\r\nMessage-ID: <retry@example.com>\r\n\r\nplease\r\n"
    with receiver.client() as smtp:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            smtp.sendmail("a@example.com", [DESK], raw)
        assert caught.value.smtp_code == 451
        smtp.sendmail("a@example.com", [DESK], raw)
    assert [m.external_id for m in receiver.inbox.wait(1)] == ["<retry@example.com>"]
