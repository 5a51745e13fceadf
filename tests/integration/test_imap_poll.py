"""poll_imap against a small fake IMAP4rev1 server on the loopback (enough of RFC 3501 for imaplib).

The fake speaks the commands poll_imap sends — LOGIN, SELECT, UID SEARCH UNSEEN, UID FETCH,
UID STORE, CLOSE, LOGOUT — and keeps each message's flags, so the tests see what was marked.
"""

from __future__ import annotations

import imaplib
import re
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from kefu.adapters.channels.imap_poll import ImapError, parse_internaldate, poll_imap
from kefu.domain.service.channels import InboundMessage
from tests.ports import free_port

USER, PASSWORD = "kefu@shop.example", 'p"ss word'


@dataclass
class FakeMessage:
    raw: bytes
    internaldate: str
    flags: set[str] = field(default_factory=set)


@dataclass
class Mailbox:
    messages: dict[int, FakeMessage]
    commands: list[str] = field(default_factory=list)


class FakeImapHandler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def send(self, line: str | bytes) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        self.send("* OK [CAPABILITY IMAP4rev1] fake IMAP ready")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            self.server_mailbox.commands.append(f"{command} {args}".strip())
            if not self.dispatch(tag, command.upper(), args):
                return

    @property
    def server_mailbox(self) -> Mailbox:
        mailbox: Mailbox = self.server.mailbox  # type: ignore[attr-defined]
        return mailbox

    def dispatch(self, tag: str, command: str, args: str) -> bool:
        box = self.server_mailbox
        if command == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1")
        elif command == "LOGIN":
            user, password = re.fullmatch(r'(\S+) "((?:[^"\\]|\\.)*)"', args).groups()  # type: ignore[union-attr]
            if (user, re.sub(r"\\(.)", r"\1", password)) != (USER, PASSWORD):
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                return True
        elif command == "SELECT":
            self.send(f"* {len(box.messages)} EXISTS")
            self.send(r"* FLAGS (\Seen \Flagged)")
            self.send(f"{tag} OK [READ-WRITE] SELECT completed")
            return True
        elif command == "UID":
            self.uid(tag, args)
            return True
        elif command == "LOGOUT":
            self.send("* BYE fake IMAP logging out")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        self.send(f"{tag} OK {command} completed")
        return True

    def uid(self, tag: str, args: str) -> None:
        box = self.server_mailbox
        sub, _, rest = args.partition(" ")
        sequence = {uid: number for number, uid in enumerate(sorted(box.messages), start=1)}
        if sub.upper() == "SEARCH":
            assert rest == "UNSEEN"
            unseen = [str(uid) for uid, msg in sorted(box.messages.items()) if "\\Seen" not in msg.flags]
            self.send("* SEARCH" + "".join(f" {uid}" for uid in unseen))
        elif sub.upper() == "FETCH":
            uid_text, items = rest.split(" ", 1)
            assert items == "(INTERNALDATE BODY.PEEK[])"          # PEEK: fetching must not set \Seen
            msg = box.messages[int(uid_text)]
            self.send(f'* {sequence[int(uid_text)]} FETCH (UID {uid_text} INTERNALDATE "{msg.internaldate}" '
                      f"BODY[] {{{len(msg.raw)}}}")
            self.wfile.write(msg.raw)
            self.send(")")
        elif sub.upper() == "STORE":
            uid_text, operation, flags = rest.split(" ", 2)
            assert operation == "+FLAGS"
            msg = box.messages[int(uid_text)]
            msg.flags.update(flags.strip("()").split())
            self.send(f"* {sequence[int(uid_text)]} FETCH (UID {uid_text} FLAGS ({' '.join(sorted(msg.flags))}))")
        self.send(f"{tag} OK UID {sub} completed")


@dataclass
class Server:
    port: int
    mailbox: Mailbox


@pytest.fixture
def imap_server() -> Iterator[Server]:
    mailbox = Mailbox(messages={
        3: FakeMessage(b"From: =?utf-8?B?5byg5LiJ?= <zhangsan@example.com>\r\nSubject: =?utf-8?B?5ZKo6K+i?=\r\n"
                       b"Message-ID: <m3@example.com>\r\n\r\nhello\r\n", "23-Nov-2026 16:10:00 +0800"),
        5: FakeMessage(b"Subject: no sender here\r\n\r\nbody\r\n", " 1-Dec-2026 09:00:00 +0000"),
        7: FakeMessage(b"From: lisi@example.com\r\nMessage-ID: <m7@example.com>\r\n\r\nsecond\r\n",
                       "24-Nov-2026 09:30:00 +0800"),
        9: FakeMessage(b"From: old@example.com\r\n\r\nalready read\r\n", "20-Nov-2026 09:30:00 +0800", {"\\Seen"}),
    })

    class ThreadedServer(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    port = free_port()
    server = ThreadedServer(("127.0.0.1", port), FakeImapHandler)
    server.mailbox = mailbox  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(port, mailbox)
    finally:
        server.shutdown()
        server.server_close()


def test_unseen_mail_is_handed_over_and_marked_seen_afterwards(imap_server: Server) -> None:
    received: list[InboundMessage] = []
    flags_during_callback: list[set[str]] = []

    def on_message(message: InboundMessage) -> None:
        received.append(message)
        uid = 3 if message.external_id == "<m3@example.com>" else 7
        flags_during_callback.append(set(imap_server.mailbox.messages[uid].flags))

    count = poll_imap("127.0.0.1", imap_server.port, USER, PASSWORD, "INBOX", on_message, ssl=False)

    assert count == 2
    assert [(m.sender, m.sender_name, m.subject, m.body) for m in received] == [
        ("zhangsan@example.com", "张三", "咨询", "hello"), ("lisi@example.com", "", "", "second")]
    assert received[0].received_at == datetime(2026, 11, 23, 8, 10, tzinfo=UTC)      # INTERNALDATE
    assert flags_during_callback == [set(), set()]                                  # \Seen only after the callback
    messages = imap_server.mailbox.messages
    assert messages[3].flags == {"\\Seen"} and messages[7].flags == {"\\Seen"}
    assert messages[5].flags == {"\\Seen", "\\Flagged"}                              # unreadable: flagged for a person
    assert messages[9].flags == {"\\Seen"}
    # a second poll finds nothing new
    assert poll_imap("127.0.0.1", imap_server.port, USER, PASSWORD, "INBOX", on_message, ssl=False) == 0


def test_a_failing_callback_leaves_that_mail_and_the_rest_unseen(imap_server: Server) -> None:
    def on_message(message: InboundMessage) -> None:
        raise RuntimeError("database is down")

    with pytest.raises(RuntimeError, match="database is down"):
        poll_imap("127.0.0.1", imap_server.port, USER, PASSWORD, "INBOX", on_message, ssl=False)
    messages = imap_server.mailbox.messages
    assert messages[3].flags == set() and messages[7].flags == set()
    assert "LOGOUT" in imap_server.mailbox.commands                                 # the session still closed


def test_a_refused_login_is_an_error(imap_server: Server) -> None:
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        poll_imap("127.0.0.1", imap_server.port, USER, "wrong", "INBOX", lambda m: None, ssl=False)


def test_a_mailbox_name_with_a_space_is_quoted(imap_server: Server) -> None:
    poll_imap("127.0.0.1", imap_server.port, USER, PASSWORD, "Customer Mail", lambda m: None, ssl=False)
    assert 'SELECT "Customer Mail"' in imap_server.mailbox.commands


@pytest.mark.parametrize(("line", "expected"), [
    (b'1 (UID 3 INTERNALDATE "23-Nov-2026 16:10:00 +0800" BODY[] {5}', datetime(2026, 11, 23, 8, 10, tzinfo=UTC)),
    (b'1 (INTERNALDATE " 1-Dec-2026 09:00:00 -0500")', datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),
    (b"1 (UID 3 BODY[] {5}", None),
    (b'1 (INTERNALDATE "31-Feb-2026 09:00:00 +0000")', None),
])
def test_internaldate(line: bytes, expected: datetime | None) -> None:
    assert parse_internaldate(line) == expected


def test_imap_error_is_a_runtime_error() -> None:
    assert issubclass(ImapError, RuntimeError)
