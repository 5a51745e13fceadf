"""The reply compliance check (售后回复合规, shared/eval/compliance/README.md).

A reply is normalised (:mod:`kefu.domain.compliance.normalise`), then each kind has a detector
made of lexicons, patterns and context rules:

* numbers are read as whole runs (``138 0013 8000``) and judged by what introduces them: an
  order, waybill or code is not a phone; a payment service's login is a payment account, not a
  phone or an e-mail; a long number near bank words is a bank account;
* channels named without details are fine when the clause negates or the sentence warns
  ("平台不会让您加微信或扫码转账"); details (an account, a number, a link) are never excused;
* the platform's own domains and hotlines (:class:`ComplianceRules`) are allowed.

Detectors that own a piece of text "claim" it, so one account is reported once under its most
specific kind (an Alipay login that looks like an e-mail is a payment account).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from kefu.domain.compliance import lexicon as lx
from kefu.domain.compliance.model import KINDS, ComplianceResult, ComplianceRules, Violation
from kefu.domain.compliance.normalise import View, normalise

DEFAULT_RULES = ComplianceRules()


def check_reply(text: str, rules: ComplianceRules | None = None) -> ComplianceResult:
    """Whether a seller's or agent's reply may be sent, and every violation found in it.

    Rule: shared/eval/compliance/README.md (kinds ``phone`` … ``abusive`` and where they meet).
    A "no" is a value: ``allowed=False`` with the violations in text order.
    """
    scan = _Scan(normalise(text), rules or DEFAULT_RULES)
    for detector in _DETECTORS:
        detector(scan)
    return scan.result()


# ── the scan: normalised text, sentence structure, claims, hits ─────────────────────────────


@dataclass(frozen=True, slots=True)
class _Run:
    """A run of digits in the text (separators allowed between digits)."""

    start: int
    end: int
    digits: str
    groups: tuple[str, ...]


@dataclass
class _Scan:
    view: View
    rules: ComplianceRules
    hits: list[tuple[int, int, str]] = field(default_factory=list)
    claims: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.text = self.view.text
        self.sentence_ends = [m.start() for m in lx.SENTENCE_END.finditer(self.text)]
        self.clause_ends = [m.start() for m in lx.CLAUSE_END.finditer(self.text)]
        self.runs = [_Run(m.start(), m.end(), "".join(lx.DIGIT_GROUP.findall(m.group())),
                          tuple(lx.DIGIT_GROUP.findall(m.group())))
                     for m in lx.DIGIT_RUN.finditer(self.text)]

    # structure
    @staticmethod
    def _span(ends: list[int], pos: int, size: int) -> tuple[int, int]:
        i = bisect.bisect_right(ends, pos - 1) if pos else 0
        start = ends[i - 1] + 1 if i else 0
        end = ends[i] if i < len(ends) else size
        return start, end

    def sentence(self, pos: int) -> tuple[int, int]:
        return self._span(self.sentence_ends, pos, len(self.text))

    def clause(self, pos: int) -> tuple[int, int]:
        return self._span(self.clause_ends, pos, len(self.text))

    def negated(self, pos: int) -> bool:
        """A warning or a "no" governs the mention at ``pos``: a negation or the customer's own
        words quoted back shortly before it in the same clause, or fraud-warning words anywhere
        in the sentence."""
        c0, _ = self.clause(pos)
        for neg in lx.NEGATION.finditer(self.text, max(c0, pos - 12), pos):
            # "没有问题的话加我微信": the "no" governs something else when a condition or a new
            # step stands between it and the mention
            if not lx.NEGATION_BROKEN.search(self.text, neg.end(), pos):
                return True
        if lx.REPORTED_BEFORE.search(self.text, max(c0, pos - 10), pos):
            return True         # the customer's words quoted back: 您说的「加微信返现」…
        s0, s1 = self.sentence(pos)
        return lx.WARNING.search(self.text, s0, s1) is not None

    # claims and hits
    def claim(self, start: int, end: int) -> None:
        self.claims.append((start, end))

    def claimed(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.claims)

    def add(self, kind: str, start: int, end: int) -> None:
        self.hits.append((start, end, kind))

    def result(self) -> ComplianceResult:
        """Violations in text order; overlapping matches of one kind are quoted once."""
        merged: list[tuple[int, int, str]] = []
        for start, end, kind in sorted(self.hits, key=lambda h: (h[2], h[0], h[1])):
            if merged and merged[-1][2] == kind and start < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]), kind)
            else:
                merged.append((start, end, kind))
        seen: set[tuple[str, str]] = set()
        out: list[Violation] = []
        for start, end, kind in sorted(merged):
            v = Violation(kind, self.view.quote(start, end))
            if (v.kind, v.match) not in seen:
                seen.add((v.kind, v.match))
                out.append(v)
        return ComplianceResult(allowed=not out, violations=tuple(out))

    # numbers
    def number_context(self, run_start: int) -> str | None:
        """What introduces the number at ``run_start``: ``order``, ``phone``, ``bank`` or None
        (the nearest such word within the sentence, up to 14 characters before)."""
        s0, _ = self.sentence(run_start)
        best: str | None = None
        for m in lx.NUMBER_CONTEXT.finditer(self.text, max(s0, run_start - 14), run_start):
            best = m.lastgroup
        return best

    def glued_to_letters(self, run: _Run) -> bool:
        """The number is part of a code like SF1234…, RF2024…, i7-13700K."""
        before = self.text[max(0, run.start - 8):run.start]
        m = re.search(r"[a-z]+$", before)
        if m and m.group() not in lx.CONTACT_PREFIXES:
            return True
        return run.end < len(self.text) and self.text[run.end].isascii() and self.text[run.end].isalpha()

    def is_money(self, run: _Run) -> bool:
        return bool(lx.MONEY_BEFORE.search(self.text[max(0, run.start - 4):run.start])
                    or lx.MONEY_AFTER.match(self.text, run.end))


# ── detectors, in the order they claim text ─────────────────────────────────────────────────


def _payment_accounts(scan: _Scan) -> None:
    """An account on a payment service (even an e-mail or phone), paying outside the platform,
    asking for the customer's account or payment code."""
    text = scan.text
    for m in lx.PAY_SERVICE.finditer(text):
        _, s1 = scan.sentence(m.start())
        window_end = min(s1, m.end() + 24)
        for acct in lx.PAY_ACCOUNT.finditer(text, m.end(), window_end):
            token = acct.group()
            if token in lx.ACCOUNT_STOPWORDS:
                continue
            if token[0].isdigit() and (scan.number_context(acct.start()) == "order"
                                       or lx.MONEY_AFTER.match(text, acct.end())):
                continue
            if not token[0].isdigit() and not re.search(r"[\d_.@\-]", token):
                continue
            scan.add("payment_account", m.start(), acct.end())
            scan.claim(acct.start(), acct.end())
            break
    for pattern in (lx.PAY_TO_ME, lx.PRIVATE_DEAL):
        for m in pattern.finditer(text):
            if not scan.negated(m.start()):
                scan.add("payment_account", m.start(), m.end())
    for m in lx.ASK_ACCOUNT.finditer(text):
        if scan.negated(m.start()):
            continue
        scan.add("payment_account", m.start(), m.end())
        asked = next(g for g in m.groups() if g)
        if "银行" in asked or "卡号" in asked:
            scan.add("bank_account", m.start(), m.end())
        if asked.startswith("微信"):
            scan.add("im_account", m.start(), m.end())


def _emails(scan: _Scan) -> None:
    """E-mail addresses, also with the @ and dots written out; the platform's own are fine."""
    if not lx.AT_HINT.search(scan.text):
        return
    for pattern in (lx.EMAIL_PLAIN, lx.EMAIL_OBFUSCATED):
        for m in pattern.finditer(scan.text):
            if scan.claimed(m.start(), m.end()):
                continue
            scan.claim(m.start(), m.end())
            domain = re.split(lx.AT, m.group(), maxsplit=1)[-1]
            if not scan.rules.domain_allowed(lx.OBFUSCATED_DOT.sub(".", domain)):
                scan.add("email", m.start(), m.end())


def _bank_accounts(scan: _Scan) -> None:
    """A long number near bank words, or a card number (16–19 digits passing the Luhn check)."""
    for run in scan.runs:
        n = len(run.digits)
        if n < 12 or scan.claimed(run.start, run.end) or scan.glued_to_letters(run):
            continue
        context = scan.number_context(run.start)
        if context == "order":
            continue
        s0, s1 = scan.sentence(run.start)
        near_bank = lx.BANK_CONTEXT.search(scan.text, s0, s1) is not None
        if (near_bank and n <= 25) or (16 <= n <= 19 and run.digits[0] in "3456" and _luhn(run.digits)):
            scan.add("bank_account", run.start, run.end)
            scan.claim(run.start, run.end)


def _links(scan: _Scan) -> None:
    """Links and bare domains off the platform; one to a marketplace or with shopping words is
    advertising too."""
    text = scan.text
    for pattern in (lx.URL, lx.DOMAIN):
        for m in pattern.finditer(text):
            if scan.claimed(m.start(), m.end()):
                continue
            scan.claim(m.start(), m.end())
            link = lx.OBFUSCATED_DOT.sub(".", m.group())
            host = re.sub(r"^[a-z][a-z0-9+.\-]*://", "", link)
            host = re.split(r"[/:?#]", host, maxsplit=1)[0]
            if scan.rules.domain_allowed(host):
                continue
            scan.add("external_link", m.start(), m.end())
            s0, s1 = scan.sentence(m.start())
            if (any(host == d or host.endswith("." + d) for d in lx.MARKETPLACE_DOMAINS)
                    or lx.SHOPPING_WORDS.search(text, s0, s1)):
                scan.add("advertising", m.start(), m.end())


def _phones(scan: _Scan) -> None:
    """Mobiles, landlines, 400/800 numbers; not orders, waybills, prices or the hotline."""
    for run in scan.runs:
        if scan.claimed(run.start, run.end) or scan.glued_to_letters(run) or scan.is_money(run):
            continue
        context = scan.number_context(run.start)
        if context == "order":
            continue
        if _phone_prefix(run, scan.rules, context == "phone"):
            scan.add("phone", run.start, run.end)


def _phone_prefix(run: _Run, rules: ComplianceRules, asked_to_call: bool) -> bool:
    """The run, or its first groups (a number and an extension), is a phone number."""
    digits = ""
    for group in run.groups:
        digits += group
        if len(digits) > 14:
            return False
        if rules.hotline_allowed(digits):
            return False        # the platform's number, followed by other figures (950618 24小时)
        if _is_phone(digits):
            return True
    # a local number without area code, after 电话/拨打…, written in phone-like groups
    return asked_to_call and 7 <= len(run.digits) <= 8 and all(len(g) >= 3 for g in run.groups)


def _is_phone(digits: str) -> bool:
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and lx.MOBILE.fullmatch(digits[len(prefix):]):
            return True
    return bool(lx.MOBILE.fullmatch(digits) or lx.LANDLINE.fullmatch(digits) or lx.SERVICE_NUMBER.fullmatch(digits))


def _im_accounts(scan: _Scan) -> None:
    """A messenger with an account after it, an invitation to add one, or joining a group."""
    text = scan.text
    for m in lx.IM_MARKER.finditer(text):
        if scan.claimed(m.start(), m.end()):
            continue
        _, s1 = scan.sentence(m.start())
        acct = lx.IM_ACCOUNT_AFTER.match(text, m.end(), min(s1, m.end() + 40))
        if acct and _plausible_account(scan, acct.start(1), acct.group(1)):
            scan.add("im_account", m.start(), acct.end(1))
            continue
        if m.lastgroup != "strong" or scan.negated(m.start()):
            continue
        c0, c1 = scan.clause(m.start())
        invited = (m.group().startswith(("加", "添", "+"))
                   or lx.IM_INVITE_BEFORE.search(text, max(c0, m.start() - 5), m.start())
                   or lx.IM_INVITE_AFTER.match(text[m.end():min(c1, m.end() + 6)]))
        if invited:
            scan.add("im_account", m.start(), m.end())
    for g in lx.GROUP.finditer(text):
        if scan.negated(g.start()):
            continue
        scan.add("im_account", g.start(), g.end())
        if g.group("promo"):
            scan.add("advertising", g.start(), g.end())


def _plausible_account(scan: _Scan, start: int, token: str) -> bool:
    if token in lx.ACCOUNT_STOPWORDS or scan.claimed(start, start + len(token)):
        return False
    digits = re.sub(r"[\s\-]", "", token)
    if digits.isdigit():
        return 5 <= len(digits) <= 13 and scan.number_context(start) != "order"
    return bool(re.search(r"[a-z]", token)) and (bool(re.search(r"[\d_\-.]", token)) or len(token) >= 6)


def _qr_codes(scan: _Scan) -> None:
    """QR and payment codes offered to scan (not lockers, waybills or the product's own code)."""
    text = scan.text
    for m in lx.QR.finditer(text):
        if lx.QR_NOT_AFTER.search(text, m.end(), m.end() + 10):
            continue
        if lx.QR_NOT_BEFORE.search(text, max(0, m.start() - 6), m.start()):
            continue
        if not scan.negated(m.start()):
            scan.add("qr_code", m.start(), m.end())


def _offline_stores(scan: _Scan) -> None:
    """Inviting the customer to a physical shop, or giving its address (a return address for
    sending goods back is not an invitation)."""
    text = scan.text
    addresses = list(lx.ADDRESS.finditer(text)) if lx.ADDRESS_HINT.search(text) else []
    visits = [m for m in lx.VISIT.finditer(text) if not scan.negated(m.start())]
    strong = [m for m in lx.VISIT_STRONG.finditer(text) if not scan.negated(m.start())]
    for m in strong:
        scan.add("offline_store", m.start(), m.end())
    for m in lx.STORE.finditer(text):
        if scan.negated(m.start()):
            continue
        owned = lx.OWNED_BEFORE.search(text, max(0, m.start() - 6), m.start())
        if addresses or visits or strong or owned:
            scan.add("offline_store", m.start(), m.end())
            for a in addresses:
                scan.add("offline_store", a.start(), a.end())
    if addresses and (visits or strong):
        for a in addresses:
            scan.add("offline_store", a.start(), a.end())


def _advertising(scan: _Scan) -> None:
    """Sending the customer to another marketplace, shop, live stream or social account."""
    text = scan.text
    for m in lx.OTHER_PLATFORM.finditer(text):
        c0, c1 = scan.clause(m.start())
        acts = (lx.PLATFORM_ACTION_AFTER.match(text[m.end():c1])
                or lx.PLATFORM_ACTION_BEFORE.search(text[c0:m.start()]))
        if acts and not scan.negated(m.start()):
            scan.add("advertising", m.start(), m.end())
            if lx.SOCIAL_ACCOUNT.fullmatch(m.group()):
                scan.add("im_account", m.start(), m.end())
    for m in lx.PROMOTION.finditer(text):
        if not scan.negated(m.start()):
            scan.add("advertising", m.start(), m.end())
            if lx.SOCIAL_ACCOUNT.search(m.group()):
                scan.add("im_account", m.start(), m.end())
    for m in lx.BRACKET_SEARCH.finditer(text):
        s0, s1 = scan.sentence(m.start())
        on_platform = lx.ON_PLATFORM.search(text, s0, s1) and not lx.OTHER_PLATFORM.search(text, s0, s1)
        if not on_platform and not scan.negated(m.start()):
            scan.add("advertising", m.start(), m.end())


def _abuse(scan: _Scan) -> None:
    """Insults, pinyin initials, homophones and contempt; spaces and filler symbols inside a
    word (傻 逼, s.b) do not hide it."""
    squeezed = scan.view.squeeze(lx.ABUSE_FILLER)
    for pattern in (lx.ABUSE, lx.ABUSE_ANCHORED):
        for m in pattern.finditer(squeezed.text):
            start, end = squeezed.origin_span(m.start(), m.end())
            scan.add("abusive", _view_index(scan.view, start), _view_index(scan.view, end - 1) + 1)
    for m in lx.ABUSE_LATIN.finditer(scan.text):
        scan.add("abusive", m.start(), m.end())


def _view_index(view: View, source_index: int) -> int:
    """The first position of ``view`` whose origin is ``source_index``."""
    return bisect.bisect_left(view.origin, source_index)


def _extra_words(scan: _Scan) -> None:
    """The operator's extra phrases (``[extra_words]`` in policies/compliance.toml)."""
    for kind, pattern in _extra_patterns(tuple(sorted(
            (k, tuple(w)) for k, w in scan.rules.extra_words.items()))):
        for m in pattern.finditer(scan.text):
            if kind == "abusive" or not scan.negated(m.start()):
                scan.add(kind, m.start(), m.end())


@lru_cache(maxsize=16)
def _extra_patterns(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    out: list[tuple[str, re.Pattern[str]]] = []
    for kind, words in extra:
        assert kind in KINDS, kind
        cleaned = sorted({normalise(w).text.strip() for w in words} - {""}, key=len, reverse=True)
        if cleaned:
            out.append((kind, re.compile("|".join(re.escape(w) for w in cleaned))))
    return tuple(out)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_DETECTORS = (
    _payment_accounts, _emails, _bank_accounts, _links, _phones, _im_accounts, _qr_codes, _offline_stores,
    _advertising, _abuse, _extra_words,
)
