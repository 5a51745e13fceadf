"""Translations and local time for the pages: Chinese (zh, Simplified) first, English second.

Message ids are the Chinese text itself. Templates are written in Chinese —
``{{ _("申请售后") }}`` — so a page reads naturally in the source, Chinese needs no lookup, and a
string nobody has translated yet still shows in Chinese rather than as a bare key. The English
catalog ``locale/en/LC_MESSAGES/messages.po`` maps each Chinese msgid to English; the zh catalog
exists for wording overrides (an empty ``msgstr`` means "use the msgid"). Placeholders use
``%(name)s``: ``_("你好，%(name)s", name=user)``.

When you add ``_("…")`` to a template or page, add its English to the en catalog in the same
commit; ``tests/unit/test_i18n.py`` fails on any msgid in the templates that has no English.

Catalogs are read from the ``.po`` files with Babel at start-up — no compile step, nothing
generated to commit. The locale of a request comes from ``?lang=zh|en`` (remembered in the
``kefu_lang`` cookie), then that cookie, then the default ``zh``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCALES: tuple[str, ...] = ("zh", "en")
DEFAULT_LOCALE = "zh"
LANG_COOKIE = "kefu_lang"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SHANGHAI = ZoneInfo("Asia/Shanghai")

#: The locale of the page being rendered; set by :func:`kefu.web.templating.render`.
current_locale: ContextVar[str] = ContextVar("kefu_locale", default=DEFAULT_LOCALE)


class Translations:
    """A gettext-like lookup over one ``.po`` catalog, read with Babel."""

    def __init__(self, messages: Mapping[str, str]) -> None:
        self._messages = dict(messages)

    @classmethod
    def load(cls, locale: str, locale_dir: Path = LOCALE_DIR) -> Translations:
        path = locale_dir / locale / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            return cls({})
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        messages: dict[str, str] = {}
        for message in catalog:
            # Fuzzy entries are guesses awaiting review; showing the Chinese is the safer fallback.
            if message.id and isinstance(message.id, str) and isinstance(message.string, str) \
                    and message.string and not message.fuzzy:
                messages[message.id] = message.string
        return cls(messages)

    def gettext(self, msgid: str, **params: Any) -> str:
        text = self._messages.get(msgid, msgid)
        return text % params if params else text

    def __contains__(self, msgid: str) -> bool:
        return msgid in self._messages


@cache
def translations(locale: str) -> Translations:
    return Translations.load(locale if locale in LOCALES else DEFAULT_LOCALE)


def gettext(msgid: str, **params: Any) -> str:
    """Translate ``msgid`` (Chinese) into the locale of the page being rendered."""
    return translations(current_locale.get()).gettext(msgid, **params)


def pick_lang(message: Mapping[str, str] | None, locale: str | None = None) -> str:
    """Choose the text for the locale from a bilingual ``{"zh": …, "en": …}`` pair (errors, reasons)."""
    if not message:
        return ""
    loc = locale or current_locale.get()
    return message.get(loc) or message.get(DEFAULT_LOCALE) or next(iter(message.values()), "")


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Show an aware datetime in Asia/Shanghai; naive values are refused (DESIGN.md convention 3)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        raise ValueError("local_dt needs an aware datetime")
    return value.astimezone(SHANGHAI).strftime(fmt)


def negotiate_locale(query_lang: str | None, cookie_lang: str | None, default: str = DEFAULT_LOCALE) -> str:
    if query_lang in LOCALES:
        return query_lang
    if cookie_lang in LOCALES:
        return cookie_lang
    return default


class LocaleMiddleware:
    """Pure ASGI: put the request's locale in ``scope["state"]["locale"]``; remember ``?lang=``.

    API paths are skipped: API errors carry both languages and the API never renders pages.
    """

    def __init__(self, app: ASGIApp, default: str = DEFAULT_LOCALE, secure_cookie: bool = False) -> None:
        self.app = app
        self.default = default
        self.secure_cookie = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/api/", "/static/")):
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        query_lang = (query.get("lang") or [None])[-1]
        cookie_lang: str | None = None
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except CookieError:  # a malformed Cookie header is the client's problem, not a 500
                    continue
                if LANG_COOKIE in jar:
                    cookie_lang = jar[LANG_COOKIE].value
        locale = negotiate_locale(query_lang, cookie_lang, self.default)
        scope.setdefault("state", {})["locale"] = locale
        if query_lang not in LOCALES or query_lang == cookie_lang:
            await self.app(scope, receive, send)
            return

        cookie = f"{LANG_COOKIE}={locale}; Path=/; Max-Age=31536000; SameSite=Lax"
        if self.secure_cookie:
            cookie += "; Secure"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
