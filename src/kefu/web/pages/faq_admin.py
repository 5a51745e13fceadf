"""The FAQ knowledge-base pages for supervisors and admins (issue 5 §3):

- ``/desk/faq`` — every article (unpublished ones marked) and a search box that shows what the
  assistant would retrieve for a question: the articles it cites with their scores, and the
  near misses below the citing threshold, greyed;
- ``/desk/faq/new`` and ``/desk/faq/{slug}`` — the form: Chinese and English title and body,
  keywords, the intent it answers, published; delete from the edit page.

Every write is one service call (:mod:`kefu.services.faq`); errors are shown on the form in the
reader's language with what was typed kept.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from kefu.domain.actors import Actor, Role
from kefu.domain.bot.intents import INTENT_LABELS, Intent
from kefu.domain.errors import KefuError
from kefu.services import faq as faq_svc
from kefu.web.deps import csrf_protect, get_db, require_roles
from kefu.web.i18n import pick_lang
from kefu.web.pages.customer import error_of
from kefu.web.pages.tickets import tpage
from kefu.web.runtime import get_runtime

router = APIRouter(include_in_schema=False)
editors = require_roles(Role.SUPERVISOR, Role.ADMIN)
#: keywords are typed separated by commas (either width), 、, semicolons or new lines
_KEYWORD_SPLIT = re.compile(r"[,，、;；\n]+")
SEARCH_LIMIT = 8


def intent_label(code: str | None) -> str:
    if not code:
        return ""
    try:
        zh, en = INTENT_LABELS[Intent(code)]
    except ValueError:
        return code
    return pick_lang({"zh": zh, "en": en})


def _text(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _draft(form: FormData) -> dict[str, Any]:
    """What was typed, kept for the form when it comes back with an error."""
    return {"slug": _text(form, "slug", 200), "title_zh": _text(form, "title_zh", 1000),
            "title_en": _text(form, "title_en", 1000), "body_zh": _text(form, "body_zh", 20_000),
            "body_en": _text(form, "body_en", 20_000), "keywords": _text(form, "keywords", 5000),
            "intent": _text(form, "intent", 64), "published": _text(form, "published", 8) in ("1", "on", "true")}


def _input(draft: dict[str, Any]) -> faq_svc.ArticleInput:
    words = tuple(w.strip() for w in _KEYWORD_SPLIT.split(draft["keywords"]) if w.strip())
    return faq_svc.ArticleInput(slug=draft["slug"], title_zh=draft["title_zh"], body_zh=draft["body_zh"],
                                title_en=draft["title_en"], body_en=draft["body_en"], keywords=words,
                                intent=draft["intent"] or None, published=draft["published"])


# ── /desk/faq ──────────────────────────────────────────────────────────────────────────────


@router.get("/desk/faq")
def faq_page(request: Request, actor: Actor = Depends(editors), q: str = "", lang: str = "zh") -> Response:
    db = get_db(request)
    question = q.strip()[:500]
    lang = lang if lang in faq_svc.LANGS else "zh"
    hits = faq_svc.search_faq(db, question, lang, SEARCH_LIMIT, min_score=0.0) if question else []
    return tpage(request, "desk/faq.html", {
        "articles": faq_svc.list_articles(db, actor), "q": question, "search_lang": lang, "hits": hits,
        "threshold": faq_svc.cite_threshold(db) if question else 0.0, "intent_label": intent_label,
        "saved": request.query_params.get("saved", ""), "deleted": request.query_params.get("deleted", ""),
    })


# ── the form ───────────────────────────────────────────────────────────────────────────────


def _form_page(request: Request, *, slug: str | None, draft: dict[str, Any], error: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
    return tpage(request, "desk/faq_edit.html", {
        "slug": slug, "a": draft, "error": error, "intent_label": intent_label,
        "intents": [i.value for i in Intent], "saved": request.query_params.get("saved", ""),
    }, status_code=status_code)


@router.get("/desk/faq/new")
def new_page(request: Request, actor: Actor = Depends(editors)) -> Response:
    return _form_page(request, slug=None, draft={"published": True})


@router.post("/desk/faq/new", dependencies=[Depends(csrf_protect)])
async def create(request: Request, actor: Actor = Depends(editors)) -> Response:
    draft = _draft(await request.form())
    try:
        made = await run_in_threadpool(faq_svc.create_article, get_db(request), actor, _input(draft),
                                       get_runtime(request).clock)
    except KefuError as exc:
        return _form_page(request, slug=None, draft=draft, error=error_of(exc), status_code=exc.status)
    return RedirectResponse(f"/desk/faq/{made.slug}?saved=1", status_code=303)


@router.get("/desk/faq/{slug}")
def edit_page(request: Request, slug: str, actor: Actor = Depends(editors)) -> Response:
    row = faq_svc.get_article(get_db(request), slug, actor)
    draft = {"slug": row.slug, "title_zh": row.title_zh, "title_en": row.title_en, "body_zh": row.body_zh,
             "body_en": row.body_en, "keywords": "、".join(row.keywords or []), "intent": row.intent or "",
             "published": row.published, "updated_at": row.updated_at, "updated_by": row.updated_by}
    return _form_page(request, slug=slug, draft=draft)


@router.post("/desk/faq/{slug}", dependencies=[Depends(csrf_protect)])
async def save(request: Request, slug: str, actor: Actor = Depends(editors)) -> Response:
    draft = _draft(await request.form())
    try:
        saved = await run_in_threadpool(faq_svc.update_article, get_db(request), actor, slug, _input(draft),
                                        get_runtime(request).clock)
    except KefuError as exc:
        return _form_page(request, slug=slug, draft=draft, error=error_of(exc), status_code=exc.status)
    return RedirectResponse(f"/desk/faq/{saved.slug}?saved=1", status_code=303)


@router.post("/desk/faq/{slug}/delete", dependencies=[Depends(csrf_protect)])
async def remove(request: Request, slug: str, actor: Actor = Depends(editors)) -> Response:
    await run_in_threadpool(faq_svc.delete_article, get_db(request), actor, slug, get_runtime(request).clock)
    return RedirectResponse(f"/desk/faq?deleted={slug}", status_code=303)
