"""The FAQ knowledge base (常见问题, issue 5 §3): articles in Chinese and English that supervisors
and admins edit, retrieved for the smart assistant with BM25 over jieba tokens, and cited by slug.

Writes — one transaction each, supervisors and admins only, each with an audit row (DESIGN.md
conventions 4–5): :func:`create_article`, :func:`update_article`, :func:`delete_article`, and
:func:`import_articles` (an upsert by slug from a TOML file such as ``data/faq/articles.toml``;
running it again changes nothing). :func:`seed_default_articles` imports the defaults into an
empty table (a fresh database).

Reads: :func:`list_articles` and :func:`get_article` (staff also see unpublished articles),
:func:`search_faq` (the best published articles for a question, in the asked language) and
:func:`find_for_intent` / :func:`cite_for_intent` (the published article the assistant cites for
an intent).

Searching is on the assistant's hot path, so the index (:class:`kefu.adapters.search.faq_index.
FaqIndex`) lives in memory, one per :class:`Database` in this process. A write in this process
makes the next search rebuild it; otherwise a search checks at most every
:data:`REFRESH_SECONDS` whether the articles' count or latest ``updated_at`` changed (another
process wrote) with one small query. Between checks a search touches no database: about 0.1–0.2 ms.

Input errors (422): ``invalid_slug``, ``invalid_title``, ``invalid_body``, ``invalid_keywords``,
``invalid_intent``, ``faq_file_invalid``; ``faq_file_missing`` (404), ``faq_not_found`` (404),
``faq_slug_taken`` (409), ``not_allowed`` (403).
"""

from __future__ import annotations

import re
import threading
import time
import tomllib
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kefu.adapters.db.tables.bot import FaqArticle
from kefu.adapters.search.faq_index import FaqDocument, FaqIndex
from kefu.domain.actors import SYSTEM, Actor, Role
from kefu.domain.bot.intents import INTENTS
from kefu.domain.clock import Clock, system_clock
from kefu.domain.errors import Conflict, InputError, NotFound, PermissionDenied
from kefu.services.audit import record_audit
from kefu.services.uow import Database

#: a slug: lower-case letters, digits and hyphens, 2–64 long, not starting with a hyphen
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
#: slugs the admin pages use as paths (``/desk/faq/new``)
RESERVED_SLUGS = frozenset({"new"})
MAX_TITLE = 200
MAX_BODY = 5000
MAX_KEYWORDS = 50
MAX_KEYWORD = 40
#: the longest a search may serve articles another process has since changed
REFRESH_SECONDS = 10.0
#: the default articles `kefu demo`, `kefu faq import` and a fresh `kefu serve` load
DEFAULT_ARTICLES_FILE = Path(__file__).resolve().parents[3] / "data" / "faq" / "articles.toml"
LANGS = ("zh", "en")
_EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM})
_FIELDS = ("slug", "title_zh", "title_en", "body_zh", "body_en", "keywords", "intent", "published")


@dataclass(frozen=True, slots=True)
class ArticleInput:
    """An article as a form, the API or the import file gives it."""

    slug: str
    title_zh: str
    body_zh: str
    title_en: str = ""
    body_en: str = ""
    keywords: tuple[str, ...] = ()
    intent: str | None = None
    published: bool = True


@dataclass(frozen=True, slots=True)
class FaqHit:
    """One retrieved article in the asked language (Chinese when it has no English text); the
    assistant cites ``slug``. ``score`` is the BM25 score (0.0 when cited by intent alone)."""

    slug: str
    title: str
    body: str
    score: float
    intent: str | None


@dataclass(frozen=True, slots=True)
class ImportCounts:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


# ── validation and permissions ─────────────────────────────────────────────────────────────


def _editors_only(actor: Actor) -> None:
    if actor.role not in _EDITORS:
        raise PermissionDenied("not_allowed", "只有客服主管和管理员可以编辑常见问题。",
                               "Only supervisors and admins edit the FAQ.")


def clean_article(data: ArticleInput) -> ArticleInput:
    """The article trimmed and checked: slug pattern, title 1–200 and body 1–5000 characters
    (Chinese required, English optional), up to 50 keywords of up to 40 characters, a known
    intent or none."""
    slug = (data.slug or "").strip().lower()
    if not SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise InputError("invalid_slug", "标识须为 2–64 位小写字母、数字或连字符，以字母或数字开头（不能用 new）。",
                         "A slug is 2–64 lower-case letters, digits or hyphens, starting with a letter or digit "
                         "(not 'new').", slug=data.slug)
    title_zh, title_en = (data.title_zh or "").strip(), (data.title_en or "").strip()
    if not title_zh or len(title_zh) > MAX_TITLE or len(title_en) > MAX_TITLE:
        raise InputError("invalid_title", f"请填写中文标题（{MAX_TITLE} 字以内），英文标题也不超过 {MAX_TITLE} 字。",
                         f"Give a Chinese title of up to {MAX_TITLE} characters; the English title is also "
                         f"at most {MAX_TITLE}.", slug=slug)
    body_zh, body_en = (data.body_zh or "").strip(), (data.body_en or "").strip()
    if not body_zh or len(body_zh) > MAX_BODY or len(body_en) > MAX_BODY:
        raise InputError("invalid_body", f"请填写中文正文（{MAX_BODY} 字以内），英文正文也不超过 {MAX_BODY} 字。",
                         f"Give a Chinese body of up to {MAX_BODY} characters; the English body is also "
                         f"at most {MAX_BODY}.", slug=slug)
    words = [k.strip() if isinstance(k, str) else None for k in data.keywords]
    keywords = tuple(dict.fromkeys(k for k in words if k))
    if None in words or len(keywords) > MAX_KEYWORDS or any(len(k) > MAX_KEYWORD for k in keywords):
        raise InputError("invalid_keywords", f"关键词最多 {MAX_KEYWORDS} 个，每个不超过 {MAX_KEYWORD} 字。",
                         f"At most {MAX_KEYWORDS} keywords of up to {MAX_KEYWORD} characters each.", slug=slug)
    intent = (data.intent or "").strip() or None
    if intent is not None and intent not in INTENTS:
        raise InputError("invalid_intent", "意图无效。", "Unknown intent.", intent=intent, slug=slug)
    return ArticleInput(slug=slug, title_zh=title_zh, body_zh=body_zh, title_en=title_en, body_en=body_en,
                        keywords=keywords, intent=intent, published=bool(data.published))


def _values(data: ArticleInput) -> dict[str, Any]:
    return {"slug": data.slug, "title_zh": data.title_zh, "title_en": data.title_en, "body_zh": data.body_zh,
            "body_en": data.body_en, "keywords": list(data.keywords), "intent": data.intent,
            "published": data.published}


def _assign(row: FaqArticle, data: ArticleInput, actor: Actor, now: datetime) -> None:
    for name, value in _values(data).items():
        setattr(row, name, value)
    row.updated_at = now
    row.updated_by = (actor.display_name or actor.role.value)[:100]


def _same(row: FaqArticle, data: ArticleInput) -> bool:
    return all(getattr(row, name) == value for name, value in _values(data).items())


# ── reads ──────────────────────────────────────────────────────────────────────────────────


def list_articles(db: Database, actor: Actor | None = None) -> list[FaqArticle]:
    """Every article in the order they were added; staff also see unpublished ones."""
    with db.read() as uow:
        query = select(FaqArticle).order_by(FaqArticle.id)
        if actor is None or not actor.is_staff:
            query = query.where(FaqArticle.published.is_(True))
        return list(uow.session.scalars(query))


def get_article(db: Database, slug: str, actor: Actor | None = None) -> FaqArticle:
    """One article by slug (404 ``faq_not_found``; an unpublished one only for staff)."""
    with db.read() as uow:
        row = uow.session.scalar(select(FaqArticle).where(FaqArticle.slug == slug))
    if row is None or (not row.published and (actor is None or not actor.is_staff)):
        raise NotFound("faq_not_found", "常见问题不存在。", "FAQ article not found.", slug=slug)
    return row


# ── writes ─────────────────────────────────────────────────────────────────────────────────


def _taken(session: Session, slug: str) -> int | None:
    return session.scalar(select(FaqArticle.id).where(FaqArticle.slug == slug))


def _slug_taken(slug: str) -> Conflict:
    return Conflict("faq_slug_taken", "该标识已被其他文章使用。", "Another article has that slug.", slug=slug)


def create_article(db: Database, actor: Actor, data: ArticleInput, clock: Clock = system_clock) -> FaqArticle:
    """Add an article (supervisors and admins); a slug is unique (409 ``faq_slug_taken``)."""
    _editors_only(actor)
    clean = clean_article(data)
    with db.uow() as uow:
        s = uow.session
        if _taken(s, clean.slug) is not None:
            raise _slug_taken(clean.slug)
        now = clock()
        row = FaqArticle()
        _assign(row, clean, actor, now)
        s.add(row)
        s.flush()
        record_audit(s.connection(), actor, "faq.create", "faq", clean.slug, _audit_data(clean), now)
        uow.commit()
    _changed(db)
    return row


def update_article(db: Database, actor: Actor, slug: str, data: ArticleInput,
                   clock: Clock = system_clock) -> FaqArticle:
    """Replace article ``slug`` with ``data`` (which may carry a new, unused slug)."""
    _editors_only(actor)
    clean = clean_article(data)
    with db.uow() as uow:
        s = uow.session
        row = s.scalar(select(FaqArticle).where(FaqArticle.slug == slug))
        if row is None:
            raise NotFound("faq_not_found", "常见问题不存在。", "FAQ article not found.", slug=slug)
        if clean.slug != slug and _taken(s, clean.slug) is not None:
            raise _slug_taken(clean.slug)
        now = clock()
        _assign(row, clean, actor, now)
        record_audit(s.connection(), actor, "faq.update", "faq", slug,
                     {**_audit_data(clean), **({"renamed_to": clean.slug} if clean.slug != slug else {})}, now)
        uow.commit()
    _changed(db)
    return row


def delete_article(db: Database, actor: Actor, slug: str, clock: Clock = system_clock) -> None:
    """Remove article ``slug`` for good (to hide it for a while, unpublish it instead)."""
    _editors_only(actor)
    with db.uow() as uow:
        s = uow.session
        row = s.scalar(select(FaqArticle).where(FaqArticle.slug == slug))
        if row is None:
            raise NotFound("faq_not_found", "常见问题不存在。", "FAQ article not found.", slug=slug)
        title = row.title_zh
        s.execute(delete(FaqArticle).where(FaqArticle.id == row.id))
        record_audit(s.connection(), actor, "faq.delete", "faq", slug, {"title_zh": title}, clock())
        uow.commit()
    _changed(db)


def _audit_data(data: ArticleInput) -> dict[str, Any]:
    return {"title_zh": data.title_zh, "title_en": data.title_en, "intent": data.intent,
            "published": data.published, "keywords": list(data.keywords)}


def read_articles_file(path: Path) -> list[ArticleInput]:
    """The ``[[articles]]`` of a TOML file, each checked like a form (``faq_file_invalid`` names
    the article that is wrong)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFound("faq_file_missing", "找不到常见问题文件。", "The FAQ file was not found.",
                       path=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise InputError("faq_file_invalid", "常见问题文件无法读取。", "The FAQ file cannot be read.",
                         path=str(path), error=str(exc)) from None
    entries = raw.get("articles")
    if not isinstance(entries, list):
        raise InputError("faq_file_invalid", "常见问题文件须包含 [[articles]] 列表。",
                         "The FAQ file must hold an [[articles]] list.", path=str(path))
    articles: list[ArticleInput] = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or set(entry) - set(_FIELDS):
            raise InputError("faq_file_invalid", f"第 {n} 篇文章的字段无效。",
                             f"Article {n} has unknown or misplaced members.", article=n,
                             unknown=sorted(set(entry) - set(_FIELDS)) if isinstance(entry, dict) else [])
        text = {k: entry.get(k, "") for k in ("slug", "title_zh", "title_en", "body_zh", "body_en")}
        keywords, intent, published = entry.get("keywords", []), entry.get("intent"), entry.get("published", True)
        if not all(isinstance(v, str) for v in text.values()) or not isinstance(keywords, list) \
                or not (intent is None or isinstance(intent, str)) or not isinstance(published, bool):
            raise InputError("faq_file_invalid", f"第 {n} 篇文章的字段类型不对。",
                             f"Article {n} has a member of the wrong type.", article=n)
        articles.append(clean_article(ArticleInput(keywords=tuple(keywords), intent=intent, published=published,
                                                   **text)))
    slugs = [a.slug for a in articles]
    repeated = sorted({s for s in slugs if slugs.count(s) > 1})
    if repeated:
        raise InputError("faq_file_invalid", "文件中有重复的标识。", "The file repeats a slug.", slugs=repeated)
    return articles


def import_articles(db: Database, path: Path = DEFAULT_ARTICLES_FILE, *, actor: Actor = SYSTEM,
                    clock: Clock = system_clock) -> ImportCounts:
    """Upsert the file's articles by slug in one transaction: new slugs are added, changed
    articles updated, identical ones left alone (so importing twice changes nothing). Articles
    that are not in the file stay as they are."""
    _editors_only(actor)
    articles = read_articles_file(path)
    created: list[str] = []
    updated: list[str] = []
    with db.uow() as uow:
        s = uow.session
        existing = {r.slug: r for r in s.scalars(
            select(FaqArticle).where(FaqArticle.slug.in_([a.slug for a in articles])))}
        now = clock()
        for article in articles:
            row = existing.get(article.slug)
            if row is None:
                row = FaqArticle()
                _assign(row, article, actor, now)
                s.add(row)
                created.append(article.slug)
            elif not _same(row, article):
                _assign(row, article, actor, now)
                updated.append(article.slug)
        if created or updated:
            s.flush()
            record_audit(s.connection(), actor, "faq.import", "faq", path.name,
                         {"created": created, "updated": updated}, now)
            uow.commit()
    if created or updated:
        _changed(db)
    return ImportCounts(created=len(created), updated=len(updated),
                        unchanged=len(articles) - len(created) - len(updated))


def seed_default_articles(db: Database, path: Path = DEFAULT_ARTICLES_FILE,
                          clock: Clock = system_clock) -> ImportCounts | None:
    """Import the default articles when the table is empty (a fresh database); None otherwise,
    or when the file is not there (an installation without the data folder)."""
    with db.read() as uow:
        if uow.session.scalar(select(FaqArticle.id).limit(1)) is not None:
            return None
    if not path.is_file():
        return None
    return import_articles(db, path, clock=clock)


# ── the in-memory index ────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class _Entry:
    """A published article as the index serves it (plain values, no session)."""

    slug: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    intent: str | None

    def hit(self, score: float, lang: str) -> FaqHit:
        english = lang == "en" and bool(self.body_en)
        return FaqHit(slug=self.slug, title=(self.title_en or self.title_zh) if english else self.title_zh,
                      body=self.body_en if english else self.body_zh, score=score, intent=self.intent)


_Stamp = tuple[int, datetime | None]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    index: FaqIndex
    entries: Mapping[str, _Entry]
    #: published slugs per intent, oldest first
    by_intent: Mapping[str, tuple[str, ...]]
    stamp: _Stamp
    generation: int
    checked_at: float


_lock = threading.Lock()
_snapshots: weakref.WeakKeyDictionary[Database, _Snapshot] = weakref.WeakKeyDictionary()
#: writes made in this process, per database URL (any Database object on it)
_generations: dict[str, int] = {}


def _changed(db: Database) -> None:
    with _lock:
        _generations[db.url] = _generations.get(db.url, 0) + 1


def _stamp(session: Session) -> _Stamp:
    count, latest = session.execute(select(func.count(FaqArticle.id), func.max(FaqArticle.updated_at))).one()
    return int(count or 0), latest


def _build(db: Database, generation: int, now: float) -> _Snapshot:
    with db.read() as uow:
        s = uow.session
        stamp = _stamp(s)
        rows = list(s.scalars(select(FaqArticle).order_by(FaqArticle.id)))
        docs = [FaqDocument(key=r.slug, title_zh=r.title_zh, body_zh=r.body_zh, title_en=r.title_en or "",
                            body_en=r.body_en or "", keywords=tuple(r.keywords or ()), published=r.published)
                for r in rows]
        entries = {r.slug: _Entry(r.slug, r.title_zh, r.title_en or "", r.body_zh, r.body_en or "", r.intent)
                   for r in rows if r.published}
    by_intent: dict[str, list[str]] = {}
    for entry in entries.values():
        if entry.intent:
            by_intent.setdefault(entry.intent, []).append(entry.slug)
    return _Snapshot(index=FaqIndex(docs), entries=MappingProxyType(entries),
                     by_intent=MappingProxyType({k: tuple(v) for k, v in by_intent.items()}),
                     stamp=stamp, generation=generation, checked_at=now)


def _snapshot(db: Database) -> _Snapshot:
    """The current index of ``db``'s published articles (see the module docstring)."""
    now = time.monotonic()
    snap = _snapshots.get(db)
    if snap is not None and snap.generation == _generations.get(db.url, 0) \
            and now - snap.checked_at < REFRESH_SECONDS:
        return snap
    with _lock:
        generation = _generations.get(db.url, 0)
        snap = _snapshots.get(db)
        if snap is not None and snap.generation == generation:
            if now - snap.checked_at < REFRESH_SECONDS:
                return snap
            with db.read() as uow:
                stamp = _stamp(uow.session)
            if stamp == snap.stamp:
                snap = replace(snap, checked_at=now)
                _snapshots[db] = snap
                return snap
        snap = _build(db, generation, now)
        _snapshots[db] = snap
        return snap


def _lang(lang: str) -> str:
    return lang if lang in LANGS else "zh"


def search_faq(db: Database, query: str, lang: str = "zh", limit: int = 3, *,
               min_score: float | None = None) -> list[FaqHit]:
    """The published articles that answer ``query`` best, best first: at most ``limit`` (1–20),
    none below the index's minimum score (``min_score`` overrides it: the admin page shows the
    near misses too). Text is in ``lang`` (zh or en), Chinese when an article has no English."""
    text = (query or "").strip()
    if not text:
        return []
    snap = _snapshot(db)
    found = snap.index.search(text, max(1, min(limit, 20)), min_score=min_score)
    return [snap.entries[slug].hit(score, _lang(lang)) for slug, score in found]


def _for_intent(db: Database, intent: str, text: str) -> tuple[_Entry, float] | None:
    snap = _snapshot(db)
    slugs = snap.by_intent.get(str(intent))
    if not slugs:
        return None
    if text.strip():
        found = snap.index.search(text, 1, among=slugs, min_score=0.0)
        if found:
            slug, score = found[0]
            return snap.entries[slug], score
    return snap.entries[slugs[0]], 0.0


def find_for_intent(db: Database, intent: str, lang: str = "zh", text: str = "") -> FaqHit | None:
    """The published article the assistant cites for ``intent``: among that intent's articles the
    one that fits ``text`` best when it shares words with any, else the oldest; None when no
    published article has the intent."""
    found = _for_intent(db, intent, text)
    return found[0].hit(found[1], _lang(lang)) if found else None


def cite_for_intent(db: Database, intent: str, text: str = "") -> tuple[str, str, str] | None:
    """:func:`find_for_intent` as the assistant cites it: ``(slug, Chinese title, English title)``
    (the English title is the Chinese one when the article has none). Bind ``db`` with
    ``functools.partial`` for :data:`kefu.services.assistant.FaqLookup`."""
    found = _for_intent(db, intent, text)
    if found is None:
        return None
    entry = found[0]
    return entry.slug, entry.title_zh, entry.title_en or entry.title_zh


def cite_threshold(db: Database) -> float:
    """The score an article needs before :func:`search_faq` returns it (it follows the number of
    published articles, like every BM25 score)."""
    return _snapshot(db).index.min_score
