"""The FAQ knowledge base through the service layer, on SQLite and PostgreSQL: writing articles and
who may, validation codes, the TOML import (idempotent), search in both languages, citing by
intent, and the in-memory index following writes — this process's at once, another process's
within the refresh interval — without a database query on each search."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from kefu.adapters.db.tables.audit import AuditEvent
from kefu.adapters.db.tables.bot import FaqArticle
from kefu.domain.actors import Actor, Role
from kefu.domain.clock import FixedClock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.services import faq
from kefu.services.uow import Database

from .factories import NOW

ADMIN = Actor(user_id=1, role=Role.ADMIN, display_name="管理员")
SUPERVISOR = Actor(user_id=2, role=Role.SUPERVISOR, display_name="主管老周")
AGENT = Actor(user_id=3, role=Role.AGENT, display_name="客服小王")
CUSTOMER = Actor(user_id=4, role=Role.CUSTOMER, customer_id="C1", display_name="张三")
SELLER = Actor(user_id=5, role=Role.SELLER, seller_id="S1", display_name="商家")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def invoice(**changes: object) -> faq.ArticleInput:
    base: dict[str, object] = {
        "slug": "invoice-help", "title_zh": "怎么开发票", "title_en": "How to get an invoice",
        "body_zh": "订单完成后在订单详情下载电子发票；抬头写错可以申请换开。",
        "body_en": "Download the electronic invoice from the order details once the order completes.",
        "keywords": ("开票", "电子发票"), "intent": "invoice"}
    return faq.ArticleInput(**{**base, **changes})  # type: ignore[arg-type]


def plus(**changes: object) -> faq.ArticleInput:
    base: dict[str, object] = {
        "slug": "plus-help", "title_zh": "PLUS 会员权益", "title_en": "PLUS membership",
        "body_zh": "PLUS 会员退货上门取件即退款，会员专线 950616。", "body_en": "",
        "keywords": ("会员", "续费"), "intent": "membership"}
    return faq.ArticleInput(**{**base, **changes})  # type: ignore[arg-type]


def returns(**changes: object) -> faq.ArticleInput:
    base: dict[str, object] = {
        "slug": "returns-help", "title_zh": "七天无理由退货", "title_en": "7-day returns",
        "body_zh": "签收后 7 天内可以无理由退货，寄回运费由您承担。",
        "body_en": "Return within 7 days of receipt; you pay the return shipping.", "intent": "return_policy"}
    return faq.ArticleInput(**{**base, **changes})  # type: ignore[arg-type]


def count_queries(db: Database) -> list[str]:
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


# ── writes, permissions, validation ──────────────────────────────────────────────────────


def test_supervisors_and_admins_write_articles_with_an_audit_trail(db: Database, clock: FixedClock) -> None:
    made = faq.create_article(db, ADMIN, invoice(), clock)
    assert (made.slug, made.updated_by, made.published, made.keywords) == ("invoice-help", "管理员", True,
                                                                            ["开票", "电子发票"])
    clock.advance(minutes=5)
    changed = faq.update_article(db, SUPERVISOR, "invoice-help", invoice(title_zh="开发票与换开", published=False),
                                 clock)
    assert (changed.title_zh, changed.published, changed.updated_by) == ("开发票与换开", False, "主管老周")
    assert changed.updated_at == NOW + timedelta(minutes=5)
    faq.delete_article(db, ADMIN, "invoice-help", clock)
    with db.read() as uow:
        assert uow.session.scalar(select(FaqArticle).where(FaqArticle.slug == "invoice-help")) is None
        actions = list(uow.session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "faq")
                                           .order_by(AuditEvent.id)))
    assert actions == ["faq.create", "faq.update", "faq.delete"]


@pytest.mark.parametrize("actor", [AGENT, CUSTOMER, SELLER])
def test_others_may_not_write_articles(db: Database, clock: FixedClock, actor: Actor) -> None:
    faq.create_article(db, ADMIN, invoice(), clock)
    for attempt in (lambda: faq.create_article(db, actor, plus(), clock),
                    lambda: faq.update_article(db, actor, "invoice-help", invoice(title_zh="改了"), clock),
                    lambda: faq.delete_article(db, actor, "invoice-help", clock),
                    lambda: faq.import_articles(db, faq.DEFAULT_ARTICLES_FILE, actor=actor, clock=clock)):
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.code == "not_allowed"
    assert faq.get_article(db, "invoice-help").title_zh == "怎么开发票"


@pytest.mark.parametrize(("changes", "code"), [
    ({"slug": "Invoice Help"}, "invalid_slug"),
    ({"slug": "-invoice"}, "invalid_slug"),
    ({"slug": "x"}, "invalid_slug"),
    ({"slug": "a" * 65}, "invalid_slug"),
    ({"slug": "new"}, "invalid_slug"),
    ({"title_zh": "  "}, "invalid_title"),
    ({"title_zh": "题" * 201}, "invalid_title"),
    ({"title_en": "t" * 201}, "invalid_title"),
    ({"body_zh": ""}, "invalid_body"),
    ({"body_zh": "文" * 5001}, "invalid_body"),
    ({"body_en": "w" * 5001}, "invalid_body"),
    ({"keywords": tuple(f"词{i}" for i in range(51))}, "invalid_keywords"),
    ({"keywords": ("词" * 41,)}, "invalid_keywords"),
    ({"intent": "weather"}, "invalid_intent"),
])
def test_invalid_articles_are_refused_with_a_stable_code(db: Database, clock: FixedClock,
                                                         changes: dict[str, object], code: str) -> None:
    with pytest.raises(InputError) as refused:
        faq.create_article(db, ADMIN, invoice(**changes), clock)
    assert refused.value.code == code and refused.value.status == 422
    assert refused.value.zh and refused.value.en
    assert faq.list_articles(db, ADMIN) == []


def test_input_is_trimmed_and_a_slug_lower_cased(db: Database, clock: FixedClock) -> None:
    made = faq.create_article(db, ADMIN, invoice(slug=" Invoice-Help ", title_zh=" 怎么开发票 ",
                                                 keywords=(" 开票 ", "", "开票", "报销"), intent=""), clock)
    assert (made.slug, made.title_zh, made.keywords, made.intent) == ("invoice-help", "怎么开发票", ["开票", "报销"],
                                                                      None)


def test_a_slug_is_unique(db: Database, clock: FixedClock) -> None:
    faq.create_article(db, ADMIN, invoice(), clock)
    faq.create_article(db, ADMIN, plus(), clock)
    with pytest.raises(Conflict) as taken:
        faq.create_article(db, ADMIN, invoice(title_zh="另一篇"), clock)
    assert (taken.value.code, taken.value.status) == ("faq_slug_taken", 409)
    with pytest.raises(Conflict):
        faq.update_article(db, ADMIN, "plus-help", plus(slug="invoice-help"), clock)
    renamed = faq.update_article(db, ADMIN, "plus-help", plus(slug="plus-benefits"), clock)
    assert renamed.slug == "plus-benefits"
    with pytest.raises(NotFound) as missing:
        faq.get_article(db, "plus-help")
    assert missing.value.code == "faq_not_found"
    for attempt in (lambda: faq.update_article(db, ADMIN, "nope", invoice(slug="nope"), clock),
                    lambda: faq.delete_article(db, ADMIN, "nope", clock)):
        with pytest.raises(NotFound):
            attempt()


def test_unpublished_articles_are_for_staff_only(db: Database, clock: FixedClock) -> None:
    faq.create_article(db, ADMIN, invoice(published=False), clock)
    faq.create_article(db, ADMIN, plus(), clock)
    assert [a.slug for a in faq.list_articles(db, ADMIN)] == ["invoice-help", "plus-help"]
    assert [a.slug for a in faq.list_articles(db, AGENT)] == ["invoice-help", "plus-help"]
    assert [a.slug for a in faq.list_articles(db, CUSTOMER)] == ["plus-help"]
    assert [a.slug for a in faq.list_articles(db, None)] == ["plus-help"]
    assert faq.get_article(db, "invoice-help", AGENT).published is False
    for reader in (CUSTOMER, None):
        with pytest.raises(NotFound):
            faq.get_article(db, "invoice-help", reader)
    assert faq.search_faq(db, "怎么开发票", min_score=0.0) == []
    assert faq.find_for_intent(db, "invoice") is None


# ── import ───────────────────────────────────────────────────────────────────────────────


def test_importing_the_default_file_twice_changes_nothing_the_second_time(db: Database, clock: FixedClock) -> None:
    first = faq.import_articles(db, faq.DEFAULT_ARTICLES_FILE, clock=clock)
    assert first.created >= 30 and first.updated == 0 and first.unchanged == 0
    clock.advance(hours=1)
    again = faq.import_articles(db, faq.DEFAULT_ARTICLES_FILE, clock=clock)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    with db.read() as uow:
        assert {a.updated_at for a in uow.session.scalars(select(FaqArticle))} == {NOW}
        imports = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "faq.import")).all()
    assert len(imports) == 1
    assert faq.seed_default_articles(db, clock=clock) is None      # not empty: the defaults are not loaded again


def test_import_updates_changed_articles_and_keeps_others(db: Database, clock: FixedClock, tmp_path: Path) -> None:
    faq.create_article(db, ADMIN, plus(), clock)
    faq.create_article(db, ADMIN, invoice(), clock)
    file = tmp_path / "faq.toml"
    file.write_text('''
[[articles]]
slug = "invoice-help"
intent = "invoice"
title_zh = "怎么开发票（新版）"
body_zh = "订单完成后可下载电子发票。"
keywords = ["开票"]

[[articles]]
slug = "contact-help"
intent = "contact_channels"
title_zh = "客服电话"
title_en = "Hotline"
body_zh = "客服热线 950618，7×24 小时。"
body_en = "Hotline 950618, 7×24."
published = false
''', encoding="utf-8")
    counts = faq.import_articles(db, file, actor=SUPERVISOR, clock=clock)
    assert (counts.created, counts.updated, counts.unchanged, counts.total) == (1, 1, 0, 2)
    assert faq.get_article(db, "invoice-help").title_zh == "怎么开发票（新版）"
    assert faq.get_article(db, "invoice-help").updated_by == "主管老周"
    assert faq.get_article(db, "contact-help", ADMIN).published is False
    assert faq.get_article(db, "plus-help").title_zh == "PLUS 会员权益"


@pytest.mark.parametrize(("text", "code"), [
    ("this is = not [toml", "faq_file_invalid"),
    ('title = "no articles list"', "faq_file_invalid"),
    ('[[articles]]\nslug = "ok-slug"\ntitle_zh = "标题"\nbody_zh = "正文"\ncolour = "red"\n', "faq_file_invalid"),
    ('[[articles]]\nslug = "ok-slug"\ntitle_zh = "标题"\nbody_zh = "正文"\nkeywords = "一个词"\n', "faq_file_invalid"),
    ('[[articles]]\nslug = "ok-slug"\ntitle_zh = "标题"\nbody_zh = "正文"\n'
     '[[articles]]\nslug = "ok-slug"\ntitle_zh = "标题2"\nbody_zh = "正文2"\n', "faq_file_invalid"),
    ('[[articles]]\nslug = "ok-slug"\ntitle_zh = "标题"\nbody_zh = "正文"\nintent = "weather"\n', "invalid_intent"),
])
def test_a_bad_file_imports_nothing(db: Database, clock: FixedClock, tmp_path: Path, text: str, code: str) -> None:
    file = tmp_path / "bad.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as refused:
        faq.import_articles(db, file, clock=clock)
    assert refused.value.code == code
    with pytest.raises(NotFound) as missing:
        faq.import_articles(db, tmp_path / "absent.toml", clock=clock)
    assert missing.value.code == "faq_file_missing"
    assert faq.list_articles(db, ADMIN) == []


def test_an_empty_database_is_seeded_with_the_defaults(db: Database, clock: FixedClock) -> None:
    counts = faq.seed_default_articles(db, clock=clock)
    assert counts is not None and counts.created == len(faq.list_articles(db, ADMIN)) >= 30


# ── search and citing ─────────────────────────────────────────────────────────────────────


def test_search_answers_in_the_asked_language_falling_back_to_chinese(db: Database, clock: FixedClock) -> None:
    faq.import_articles(db, faq.DEFAULT_ARTICLES_FILE, clock=clock)
    faq.create_article(db, ADMIN, plus(slug="plus-zh-only", title_zh="PLUS 会员年卡续费优惠",
                                       keywords=("年卡续费优惠",)), clock)
    hits = faq.search_faq(db, "发票抬头写错了怎么改")
    assert hits[0].slug == "invoice-change-title" and hits[0].intent == "invoice"
    assert "换开" in hits[0].body and hits[0].title.startswith("发票抬头")
    english = faq.search_faq(db, "How do I get an invoice?", lang="en")
    assert english[0].slug == "invoice-electronic" and english[0].title.startswith("Getting an invoice")
    zh_only = faq.search_faq(db, "年卡续费优惠", lang="en", limit=1)[0]
    assert zh_only.slug == "plus-zh-only" and zh_only.title == "PLUS 会员年卡续费优惠"
    assert len(faq.search_faq(db, "退货", limit=2, min_score=0.0)) == 2
    assert faq.search_faq(db, "今天北京天气怎么样") == []
    assert faq.search_faq(db, "   ") == []


def test_find_for_intent_cites_the_best_fitting_article_of_the_intent(db: Database, clock: FixedClock) -> None:
    faq.import_articles(db, faq.DEFAULT_ARTICLES_FILE, clock=clock)
    first = faq.find_for_intent(db, "invoice")
    assert first is not None and (first.slug, first.score) == ("invoice-electronic", 0.0)
    fitting = faq.find_for_intent(db, "invoice", "en", text="税号填错了要重开")
    assert fitting is not None and fitting.slug == "invoice-change-title" and fitting.score > 0
    assert fitting.title.startswith("Wrong invoice title")
    unrelated = faq.find_for_intent(db, "invoice", text="今天天气")
    assert unrelated is not None and unrelated.slug == "invoice-electronic"
    assert faq.find_for_intent(db, "greeting") is None
    assert faq.find_for_intent(db, "no-such-intent") is None
    assert faq.cite_for_intent(db, "invoice", "税号填错了要重开") == (
        "invoice-change-title", "发票抬头、税号填错了怎么改（换开、重开）",
        "Wrong invoice title or tax number: changing or reissuing an invoice")
    assert faq.cite_for_intent(db, "greeting") is None


def test_the_index_follows_writes_and_searches_without_a_query(db: Database, clock: FixedClock) -> None:
    faq.create_article(db, ADMIN, invoice(), clock)
    faq.create_article(db, ADMIN, returns(), clock)
    assert [h.slug for h in faq.search_faq(db, "怎么开发票")] == ["invoice-help"]
    queries = count_queries(db)
    for _ in range(20):
        assert faq.search_faq(db, "怎么开发票")[0].slug == "invoice-help"
        faq.find_for_intent(db, "return_policy")
    assert queries == []
    faq.update_article(db, ADMIN, "invoice-help", invoice(published=False), clock)
    assert faq.search_faq(db, "怎么开发票") == []
    faq.update_article(db, ADMIN, "invoice-help", invoice(title_zh="开具增值税专用发票", keywords=("专票",)), clock)
    assert faq.search_faq(db, "增值税专用发票怎么开")[0].title == "开具增值税专用发票"
    faq.delete_article(db, ADMIN, "returns-help", clock)
    assert faq.find_for_intent(db, "return_policy") is None


def test_another_processs_write_is_seen_after_the_refresh_interval(db: Database, clock: FixedClock,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    faq.create_article(db, ADMIN, invoice(), clock)
    assert faq.search_faq(db, "七天无理由退货") == []
    # another process: a write this process's index is not told about
    other = Database.from_url(db.url)
    try:
        with other.uow() as uow:
            uow.session.add(FaqArticle(slug="returns-help", title_zh="七天无理由退货",
                                       body_zh="签收后 7 天内可以退货。", keywords=[], intent="return_policy",
                                       published=True, updated_at=NOW + timedelta(minutes=1), updated_by="其他进程"))
            uow.commit()
    finally:
        other.dispose()
    assert faq.search_faq(db, "七天无理由退货") == []            # within the interval: the cached index
    later = faq.time.monotonic() + faq.REFRESH_SECONDS + 1
    monkeypatch.setattr(faq.time, "monotonic", lambda: later)
    assert [h.slug for h in faq.search_faq(db, "七天无理由退货")] == ["returns-help"]


# ── the command ──────────────────────────────────────────────────────────────────────────


def test_kefu_faq_import_loads_a_file_once_and_searches(sqlite_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kefu.cli import app

    runner = CliRunner()
    n = len(faq.read_articles_file(faq.DEFAULT_ARTICLES_FILE))
    first = runner.invoke(app, ["faq", "import", "--database-url", sqlite_url])
    assert first.exit_code == 0, first.output
    assert f"created {n} " in first.output
    again = runner.invoke(app, ["faq", "import", str(faq.DEFAULT_ARTICLES_FILE), "--database-url", sqlite_url])
    assert again.exit_code == 0 and "created 0 " in again.output and f"unchanged {n}" in again.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[articles]]\nslug = "x"\ntitle_zh = "标题"\nbody_zh = "正文"\n', encoding="utf-8")
    refused = runner.invoke(app, ["faq", "import", str(bad), "--database-url", sqlite_url])
    assert refused.exit_code == 2 and "invalid_slug" in refused.output
    missing = runner.invoke(app, ["faq", "import", str(tmp_path / "absent.toml"), "--database-url", sqlite_url])
    assert missing.exit_code == 2 and "faq_file_missing" in missing.output
