"""FAQ knowledge-base API (issue 5 §3): search as the assistant does, read articles, and — for
supervisors and admins — write them.

    GET    /faq?q=…&lang=zh|en&limit=3      anyone, signed in or not: the articles that answer q
    GET    /faq/articles                    published articles (staff: unpublished too)
    GET    /faq/articles/{slug}
    POST   /faq/articles                    supervisor, admin
    PUT    /faq/articles/{slug}             supervisor, admin (the body may carry a new slug)
    DELETE /faq/articles/{slug}             supervisor, admin

Error codes (JSON ``{code, message: {zh, en}, detail}``): ``invalid_input`` / ``malformed_json``
(bad body or query), ``invalid_slug``, ``invalid_title``, ``invalid_body``, ``invalid_keywords``,
``invalid_intent`` (422), ``faq_not_found`` (404), ``faq_slug_taken`` (409), ``forbidden`` (403),
``not_authenticated`` (401).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kefu.adapters.db.tables.bot import FaqArticle
from kefu.domain.actors import Actor, Role
from kefu.services import faq as svc
from kefu.services.uow import Database
from kefu.web.deps import db_dep, optional_actor, require_roles
from kefu.web.errors import error_responses
from kefu.web.runtime import Runtime, runtime_dep

router = APIRouter(tags=["faq"])
editors = require_roles(Role.SUPERVISOR, Role.ADMIN)


class ArticleIn(BaseModel):
    """An article. The service checks the finer limits (slug pattern, title 1–200 and body 1–5000
    characters, up to 50 keywords, a known intent) and answers with their own codes."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(max_length=200, examples=["invoice-electronic"])
    title_zh: str = Field(max_length=1000)
    title_en: str = Field("", max_length=1000)
    body_zh: str = Field(max_length=20_000)
    body_en: str = Field("", max_length=20_000)
    keywords: list[str] = Field(default_factory=list, max_length=200,
                                description="words people type for this topic (help retrieval, not shown)")
    intent: str | None = Field(None, max_length=64, description="one of the assistant's intents, e.g. invoice")
    published: bool = True

    def to_input(self) -> svc.ArticleInput:
        return svc.ArticleInput(slug=self.slug, title_zh=self.title_zh, body_zh=self.body_zh, title_en=self.title_en,
                                body_en=self.body_en, keywords=tuple(self.keywords), intent=self.intent,
                                published=self.published)


class ArticleOut(BaseModel):
    slug: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    keywords: list[str]
    intent: str | None
    published: bool
    updated_at: datetime
    updated_by: str


class FaqHitOut(BaseModel):
    slug: str
    title: str = Field(description="in the asked language; Chinese when the article has no English")
    body: str
    score: float = Field(description="BM25 score; only articles above the citing threshold are returned")
    intent: str | None


def article_out(row: FaqArticle) -> ArticleOut:
    return ArticleOut(slug=row.slug, title_zh=row.title_zh, title_en=row.title_en or "", body_zh=row.body_zh,
                      body_en=row.body_en or "", keywords=list(row.keywords or []), intent=row.intent,
                      published=row.published, updated_at=row.updated_at, updated_by=row.updated_by or "")


@router.get("/faq", response_model=list[FaqHitOut], responses=error_responses())
def search(q: str = Query(min_length=1, max_length=500, description="the question"),
           lang: Literal["zh", "en"] = "zh", limit: int = Query(3, ge=1, le=20),
           db: Database = Depends(db_dep)) -> list[FaqHitOut]:
    """The published articles that answer ``q`` best, best first (none when nothing is close
    enough: the assistant never cites an unrelated article)."""
    return [FaqHitOut(slug=h.slug, title=h.title, body=h.body, score=h.score, intent=h.intent)
            for h in svc.search_faq(db, q, lang, limit)]


@router.get("/faq/articles", response_model=list[ArticleOut], responses=error_responses())
def list_articles(actor: Actor | None = Depends(optional_actor), db: Database = Depends(db_dep)) -> list[ArticleOut]:
    return [article_out(a) for a in svc.list_articles(db, actor)]


@router.get("/faq/articles/{slug}", response_model=ArticleOut, responses=error_responses(404))
def get_article(slug: str, actor: Actor | None = Depends(optional_actor),
                db: Database = Depends(db_dep)) -> ArticleOut:
    return article_out(svc.get_article(db, slug, actor))


@router.post("/faq/articles", status_code=201, response_model=ArticleOut,
             responses=error_responses(401, 403, 409))
def create_article(body: ArticleIn, actor: Actor = Depends(editors), db: Database = Depends(db_dep),
                   runtime: Runtime = Depends(runtime_dep)) -> ArticleOut:
    return article_out(svc.create_article(db, actor, body.to_input(), runtime.clock))


@router.put("/faq/articles/{slug}", response_model=ArticleOut, responses=error_responses(401, 403, 404, 409))
def update_article(slug: str, body: ArticleIn, actor: Actor = Depends(editors), db: Database = Depends(db_dep),
                   runtime: Runtime = Depends(runtime_dep)) -> ArticleOut:
    return article_out(svc.update_article(db, actor, slug, body.to_input(), runtime.clock))


@router.delete("/faq/articles/{slug}", status_code=204, response_class=Response,
               responses=error_responses(401, 403, 404))
def delete_article(slug: str, actor: Actor = Depends(editors), db: Database = Depends(db_dep),
                   runtime: Runtime = Depends(runtime_dep)) -> Response:
    svc.delete_article(db, actor, slug, runtime.clock)
    return Response(status_code=204)
