"""Chinese first, English second: catalogs, locale choice, local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from kefu.web.i18n import (
    LANG_COOKIE,
    LOCALE_DIR,
    LocaleMiddleware,
    Translations,
    current_locale,
    gettext,
    local_dt,
    negotiate_locale,
    pick_lang,
    translations,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "kefu" / "web" / "templates"


def template_msgids() -> set[str]:
    found = extract_from_dir(str(TEMPLATES), method_map=[("**.html", "jinja2")],
                             options_map={"**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}})
    return {message if isinstance(message, str) else message[0] for _file, _line, message, *_ in found}


def test_the_templates_use_translatable_chinese_text() -> None:
    msgids = template_msgids()
    assert {"登录", "用户名", "密码", "退出登录"} <= msgids


def test_every_template_msgid_has_an_english_translation() -> None:
    english = Translations.load("en")
    missing = sorted(msgid for msgid in template_msgids() if msgid not in english)
    assert missing == [], f"add these to {LOCALE_DIR}/en/LC_MESSAGES/messages.po"


def test_chinese_is_the_msgid_itself_and_english_is_looked_up() -> None:
    assert translations("zh").gettext("登录") == "登录"
    assert translations("en").gettext("登录") == "Sign in"


def test_placeholders_are_filled_after_translation() -> None:
    assert translations("en").gettext("你好，%(name)s", name="王小明") == "Hello, 王小明"
    assert translations("zh").gettext("你好，%(name)s", name="王小明") == "你好，王小明"


def test_an_untranslated_msgid_falls_back_to_chinese() -> None:
    assert translations("en").gettext("这句还没有翻译") == "这句还没有翻译"


def test_an_unknown_locale_falls_back_to_chinese() -> None:
    assert translations("fr").gettext("登录") == "登录"


def test_gettext_follows_the_current_locale() -> None:
    token = current_locale.set("en")
    try:
        assert gettext("密码") == "Password"
        assert pick_lang({"zh": "错误", "en": "Error"}) == "Error"
    finally:
        current_locale.reset(token)
    assert gettext("密码") == "密码"
    assert pick_lang({"zh": "错误", "en": "Error"}) == "错误"


def test_pick_lang_falls_back_to_chinese_and_tolerates_nothing() -> None:
    assert pick_lang({"zh": "只有中文"}, "en") == "只有中文"
    assert pick_lang(None) == ""


def test_fuzzy_entries_are_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy\nmsgid "保存"\nmsgstr "Maybe save"\n\nmsgid "取消"\nmsgstr "Cancel"\n', encoding="utf-8")
    catalog = Translations.load("en", tmp_path)
    assert catalog.gettext("保存") == "保存"
    assert catalog.gettext("取消") == "Cancel"


@pytest.mark.parametrize(("query", "cookie", "expected"), [
    (None, None, "zh"),
    ("en", None, "en"),
    (None, "en", "en"),
    ("zh", "en", "zh"),
    ("fr", "en", "en"),
    ("fr", "xx", "zh"),
])
def test_the_locale_is_query_then_cookie_then_chinese(query: str | None, cookie: str | None,
                                                       expected: str) -> None:
    assert negotiate_locale(query, cookie) == expected


def test_local_dt_shows_shanghai_time() -> None:
    moment = datetime(2024, 11, 10, 16, 30, tzinfo=UTC)
    assert local_dt(moment) == "2024-11-11 00:30"
    assert local_dt(moment.astimezone(timezone(timedelta(hours=-5))), "%H:%M") == "00:30"
    assert local_dt(None) == ""


def test_local_dt_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_dt(datetime(2024, 1, 1, 12, 0))


def locale_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(LocaleMiddleware)

    @app.get("/page")
    def page(request: Request) -> dict[str, str]:
        return {"locale": request.state.locale}

    return app


def test_the_middleware_remembers_lang_in_a_cookie() -> None:
    client = TestClient(locale_app())
    assert client.get("/page").json() == {"locale": "zh"}
    switched = client.get("/page", params={"lang": "en"})
    assert switched.json() == {"locale": "en"}
    assert f"{LANG_COOKIE}=en" in switched.headers["set-cookie"]
    assert "samesite=lax" in switched.headers["set-cookie"].lower()
    again = client.get("/page")
    assert again.json() == {"locale": "en"}
    assert "set-cookie" not in again.headers


def test_the_middleware_ignores_an_unknown_lang_and_a_malformed_cookie() -> None:
    client = TestClient(locale_app())
    response = client.get("/page", params={"lang": "klingon"}, headers={"cookie": 'bad"cookie; ;;='})
    assert response.json() == {"locale": "zh"}
    assert "set-cookie" not in response.headers
