"""Email in (RFC 5322 bytes → :class:`InboundMessage`) and replies out (:func:`build_reply`).

What :func:`parse_email` reads:

- **sender**: the first From address, lower-cased, and its display name;
- **subject**: RFC 2047 encoded words decoded. Chinese mail often labels GBK text as
  ``gb2312`` (or sends raw 8-bit GBK): GB2312-family labels are decoded as GB18030, their
  superset, and unlabelled 8-bit text as UTF-8, else GB18030;
- **body**: the text/plain part, else the text/html part turned into text; then the quoted
  reply history is cut (a line like ``在 2026年11月23日 16:10，张三 写道：``, ``张三 于…写道：``,
  ``On … wrote:`` (also wrapped over two lines), ``----- Original Message -----`` /
  ``------------------ 原始邮件 ------------------``, an Outlook ``From:``/``发件人:`` header
  block) and lines starting with ``>`` are dropped. If nothing is left the whole text stays;
- **external_id**: the Message-ID (``<…>``); a mail without one gets ``sha256:<digest of the
  raw bytes>``, so the same mail delivered twice gets the same id;
- **thread_keys**: the References ids in order, then the In-Reply-To id if References lacked it;
- **attachments**: every leaf part that is not the body (an attached mail as ``.eml``);
- **ticket_number**: the first match of the ticket pattern in the subject (``[#T12345]``);
- **received_at**: the caller's arrival time, else the Date header, else now.

Forwarded content is kept: a customer who forwards an order mail wants it read. A mail whose
subject starts ``Fw:``/``Fwd:``/``转发:`` keeps its whole body, and a header block right under a
``---------- Forwarded message ----------`` line is not taken for reply history.
"""

from __future__ import annotations

import codecs
import hashlib
import mimetypes
import re
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from kefu.domain.clock import system_clock
from kefu.domain.service.channels import (
    DEFAULT_TICKET_PATTERN,
    InboundAttachment,
    InboundMessage,
    MalformedPayload,
    OversizePayload,
    find_ticket_number,
)

CHANNEL = "email"
#: the usual ceiling of mail providers (25 MiB) including the encoding overhead
MAX_MAIL_BYTES = 25 * 1024 * 1024
#: how many ids an outgoing References header keeps (RFC 5322 §3.6.4 allows trimming)
MAX_REFERENCES = 20

#: charset labels whose text is really GBK (or GB18030): decode with the superset
_GB_LABELS = frozenset({"gb2312", "gb_2312-80", "gbk", "x-gbk", "cp936", "ms936", "euc-cn", "x-euc-cn", "csgb2312"})
_MSG_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|回复|答复)\s*[:：]", re.IGNORECASE)

# quoted-history markers, each matched against a whole line (or two lines joined when wrapped)
_ZH_WROTE = re.compile(r"^.{0,300}(?:在|于).{0,300}写道\s*[:：]\s*$")
_EN_WROTE = re.compile(r"^\s*On\b.{1,300}\bwrote\s*:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(?:original message|原始邮件|原邮件|回复的原邮件)\s*-{2,}\s*$", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^\s*\**(?:from|发件人)\**\s*[:：]", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*\**(?:sent|date|发送时间|时间|日期)\**\s*[:：]", re.IGNORECASE)
_TIME = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}")
_RULE = re.compile(r"^\s*_{10,}\s*$")
_FORWARDED = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|转发邮件|转发的邮件)\s*-{2,}|begin forwarded message:)\s*$", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*(?:fw|fwd|转发)\s*[:：]", re.IGNORECASE)


def parse_email(raw: bytes, *, received_at: datetime | None = None,
                ticket_pattern: str | re.Pattern[str] = DEFAULT_TICKET_PATTERN,
                max_bytes: int = MAX_MAIL_BYTES) -> InboundMessage:
    """An RFC 5322 mail as the desk's :class:`InboundMessage` (what is read: the module doc).

    Raises :class:`OversizePayload` over ``max_bytes`` and :class:`MalformedPayload` for bytes
    that are not a mail with a From address.
    """
    if len(raw) > max_bytes:
        raise OversizePayload(CHANNEL, len(raw), max_bytes)
    if not raw.strip():
        raise MalformedPayload(CHANNEL, "邮件为空", "the mail is empty")
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    sender, sender_name = _sender(mail)
    subject = " ".join(decode_header_text(_raw_header(mail, "Subject")).split())
    body_part = mail.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        text = part_text(body_part)
        if body_part.get_content_subtype() == "html":
            text = html_to_text(text)
        # a forward is meant to be read whole; a reply's history is not
        body = text.strip() if _FORWARD_PREFIX.match(subject) else strip_quoted_reply(text)
    references = message_ids(_raw_header(mail, "References"))
    in_reply_to = message_ids(_raw_header(mail, "In-Reply-To"))
    own_ids = message_ids(_raw_header(mail, "Message-ID"))
    external_id = own_ids[0] if own_ids else "sha256:" + hashlib.sha256(raw).hexdigest()
    thread_keys = tuple(key for key in dict.fromkeys(references + in_reply_to[:1]) if key != external_id)
    return InboundMessage(
        channel=CHANNEL,
        sender=sender,
        sender_name=sender_name,
        external_id=external_id,
        thread_keys=thread_keys,
        subject=subject,
        body=body,
        received_at=received_at or _date(mail) or system_clock(),
        attachments=tuple(_attachments(mail, body_part)),
        ticket_number=find_ticket_number(subject, ticket_pattern),
    )


def _raw_header(mail: Message, name: str) -> str:
    """A header's source text (unfolded), before the email package interprets it."""
    for key, value in mail.raw_items():
        if key.lower() == name.lower():
            return re.sub(r"\r?\n(?=[ \t])", "", str(value))
    return ""


def _sender(mail: Message) -> tuple[str, str]:
    name, address = parseaddr(_raw_header(mail, "From"))
    address = address.strip().lower()
    if not address:  # an 8-bit or odd From that parseaddr gives up on: ask the email package
        try:
            found = getattr(mail["From"], "addresses", ())
        except Exception:  # the stdlib's header parser has raised assorted errors on crafted input
            found = ()
        if found:
            name, address = found[0].display_name, found[0].addr_spec.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in address):
        raise MalformedPayload(CHANNEL, "缺少有效的发件人地址", "no valid From address")
    return address, " ".join(decode_header_text(name).split()).strip("\"' ")


def _date(mail: Message) -> datetime | None:
    value = _raw_header(mail, "Date").strip()
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label (GB2312 family → GB18030), or None if unknown."""
    if not charset:
        return None
    label = charset.strip().strip('"').lower()
    if label in _GB_LABELS:
        return "gb18030"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text in a declared charset; undeclared or unknown: UTF-8 if it is valid, else GB18030."""
    codec = codec_for(charset)
    if codec:
        return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def decode_header_text(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded (and raw 8-bit text recovered)."""
    if not value:
        return ""
    if any("\udc80" <= ch <= "\udcff" for ch in value):  # raw 8-bit bytes the parser escaped
        value = decode_bytes(value.encode("ascii", errors="surrogateescape"), None)
    if "=?" not in value:
        return value
    try:
        chunks = decode_header(value)
    except (HeaderParseError, ValueError):
        return value
    return "".join(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset)
                   for chunk, charset in chunks)


def part_text(part: Message) -> str:
    """A text part's content decoded by its charset, newlines normalised to ``\\n``."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return decode_bytes(data, part.get_content_charset()).replace("\r\n", "\n").replace("\r", "\n")


def message_ids(value: str) -> tuple[str, ...]:
    """The ``<…>`` message ids in a Message-ID, In-Reply-To or References value, in order."""
    return tuple(dict.fromkeys(_MSG_ID.findall(value)))


def strip_quoted_reply(text: str) -> str:
    """The new part of a reply: quoted history cut, ``>`` lines dropped (markers: the module doc)."""
    lines = text.replace("\r\n", "\n").split("\n")
    cut = _history_start(lines)
    kept = [line.rstrip() for line in lines[:cut] if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip("\n")
    result = re.sub(r"\n{3,}", "\n\n", result).strip()
    return result or text.strip()


def _attribution(line: str) -> bool:
    """A "<someone> wrote:" line; it names a time or an address, which a customer's sentence rarely does."""
    return bool((_ZH_WROTE.match(line) or _EN_WROTE.match(line)) and (_TIME.search(line) or "@" in line))


def _history_start(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        if _attribution(line) or _ORIGINAL.match(line):
            return i
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and following.strip() and not _attribution(following) \
                and _attribution(f"{line.rstrip()} {following.strip()}"):
            return i  # a client wrapped the attribution over two lines
        if (_HEADER_FROM.match(line) and any(_HEADER_NEXT.match(nxt) for nxt in lines[i + 1:i + 5])
                and not any(_FORWARDED.match(above) for above in lines[max(0, i - 2):i])):
            return i - 1 if i and _RULE.match(lines[i - 1]) else i
    return len(lines)


class _TextExtractor(HTMLParser):
    """HTML to plain text: blocks become lines, ``<blockquote>`` lines get a ``> `` prefix."""

    SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
    BLOCK = frozenset({"div", "table", "tr", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
                       "h6", "pre", "section", "article", "header", "footer", "blockquote", "hr", "address"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.line_depth = 0
        self.skipping = 0
        self.pre = 0

    def flush(self) -> None:
        """End the current line if it has text."""
        line = "".join(self.current)
        line = line.rstrip() if self.pre else line.strip()
        if line.strip():
            self.lines.append("> " * self.line_depth + line)
        self.current = []
        self.line_depth = self.quote_depth

    def blank(self) -> None:
        """End the current line and leave one empty line."""
        self.flush()
        if self.lines and self.lines[-1]:
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "br":
            if "".join(self.current).strip():
                self.flush()
            else:
                self.blank()
        elif tag == "li":
            self.flush()
            self.current.append("- ")
        elif tag == "p":
            self.blank()
        elif tag in self.BLOCK:
            self.flush()
            if tag == "blockquote":
                self.quote_depth += 1
                self.line_depth = self.quote_depth
            elif tag == "pre":
                self.pre += 1
        elif tag in {"td", "th"} and self.current:
            self.current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "p":
            self.blank()
        elif tag in self.BLOCK or tag == "li":
            self.flush()
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
                self.line_depth = self.quote_depth
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.pre:
            first, *rest = data.split("\n")
            self.current.append(first)
            for piece in rest:
                self.flush()
                self.current.append(piece)
            return
        text = re.sub(r"\s+", " ", data)
        if not "".join(self.current).strip() or "".join(self.current).endswith(" "):
            text = text.lstrip()
        self.current.append(text)


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML mail body (scripts and styles dropped, quotes ``>``-prefixed)."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    extractor.flush()
    return "\n".join(extractor.lines).strip()


def _attachments(mail: Message, body_part: Message | None) -> list[InboundAttachment]:
    found: list[InboundAttachment] = []

    def visit(part: Message) -> None:
        if part is body_part:
            return
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else None
            data = inner.as_bytes() if isinstance(inner, Message) else b""
            found.append(InboundAttachment(_safe_name(part.get_filename()) or f"message-{len(found) + 1}.eml",
                                           content_type, data))
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub)
            return
        filename = _safe_name(part.get_filename())
        disposition = part.get_content_disposition()
        if disposition != "attachment" and not filename and part.get_content_maintype() == "text":
            return  # the other alternative of the body, not a file
        payload = part.get_payload(decode=True)
        extension = mimetypes.guess_extension(content_type) or ".bin"
        found.append(InboundAttachment(filename or f"attachment-{len(found) + 1}{extension}", content_type,
                                       payload if isinstance(payload, bytes) else b""))

    visit(mail)
    return found


def _safe_name(filename: str | None) -> str:
    """The last path component of a filename, without control characters."""
    if not filename:
        return ""
    name = re.split(r"[\\/]", decode_header_text(filename))[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()


def build_reply(original: InboundMessage, body: str, *, desk_address: str, now: datetime, desk_name: str = "",
                ticket_number: str | None = None, ticket_tag: str = "[#{number}]") -> EmailMessage:
    """The desk's reply to an inbound mail: threaded, tagged with the ticket number, UTF-8.

    Subject ``Re: <original> [#T123]`` (no second ``Re:``, no second tag); In-Reply-To the
    original Message-ID; References the original's chain plus its id; From the desk address;
    ``ticket_tag`` must stay readable by the desk's ticket pattern.
    """
    if original.channel != CHANNEL:
        raise ValueError(f"build_reply answers email, not {original.channel}")
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    number = ticket_number or original.ticket_number
    subject = " ".join(original.subject.split())
    if not _REPLY_PREFIX.match(subject):
        subject = f"Re: {subject}".rstrip()
    if number:
        tag = ticket_tag.format(number=number)
        if tag not in subject:
            subject = f"{subject} {tag}"
    reply = EmailMessage()
    reply["From"] = Address(display_name=desk_name, addr_spec=desk_address)
    reply["To"] = Address(display_name=original.sender_name, addr_spec=original.sender)
    reply["Subject"] = subject
    reply["Date"] = format_datetime(now.astimezone(UTC))
    reply["Message-ID"] = make_msgid(domain=desk_address.rpartition("@")[2] or None)
    parent = original.external_id if _MSG_ID.fullmatch(original.external_id) else None
    if parent:
        reply["In-Reply-To"] = parent
    chain = [key for key in original.thread_keys if _MSG_ID.fullmatch(key)]
    chain = list(dict.fromkeys([*chain, *([parent] if parent else [])]))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    if chain:
        reply["References"] = " ".join(chain)
    # base64 for Chinese text: it passes relays without 8BITMIME and is shorter than quoted-printable
    reply.set_content(body, charset="utf-8", cte="7bit" if body.isascii() else "base64")
    return reply
