"""`kefu faq` commands: the smart assistant's FAQ knowledge base.

    kefu faq import [FILE] [--database-url URL]     # default data/faq/articles.toml
    kefu faq search QUESTION [--lang zh|en] [--limit 3]

``import`` upserts the file's articles by slug (running it again changes nothing; an article
edited on /desk/faq is overwritten by the file's version of the same slug). Exit code 0 on
success, 2 when the file cannot be read or an article is invalid.
"""

from __future__ import annotations

from pathlib import Path

import typer

from kefu.config import get_settings
from kefu.domain.errors import KefuError

app = typer.Typer(no_args_is_help=True)


@app.command("import")
def import_command(file: Path | None = typer.Argument(None, help="TOML file (default data/faq/articles.toml)"),
                   database_url: str | None = typer.Option(None, "--database-url",
                                                           help="default: KEFU_DATABASE_URL")) -> None:
    """Load FAQ articles from a TOML file (an upsert by slug)."""
    from kefu.adapters.db.migrate import upgrade
    from kefu.services.faq import DEFAULT_ARTICLES_FILE, import_articles
    from kefu.services.uow import Database

    url = database_url or get_settings().database_url
    path = file or DEFAULT_ARTICLES_FILE
    if not path.is_file():
        typer.echo(f"faq_file_missing: 找不到常见问题文件 / file not found: {path}", err=True)
        raise typer.Exit(code=2)
    if url.startswith("sqlite"):
        upgrade(url)
    db = Database.from_url(url)
    try:
        counts = import_articles(db, path)
    except KefuError as exc:
        typer.echo(f"{exc.code}: {exc.zh} / {exc.en} {exc.detail or ''}".rstrip(), err=True)
        raise typer.Exit(code=2) from exc
    finally:
        db.dispose()
    typer.echo(f"常见问题 FAQ {path.name}: 新增 created {counts.created} · 更新 updated {counts.updated} · "
               f"未变 unchanged {counts.unchanged}")


@app.command("search")
def search_command(question: str = typer.Argument(..., help="a customer's question"),
                   lang: str = typer.Option("zh", help="zh or en"),
                   limit: int = typer.Option(3, min=1, max=20)) -> None:
    """Show the articles the assistant would cite for a question, with their scores."""
    from kefu.services.faq import search_faq
    from kefu.services.uow import Database

    db = Database.from_url(get_settings().database_url)
    try:
        hits = search_faq(db, question, lang, limit)
    finally:
        db.dispose()
    if not hits:
        typer.echo("没有足够相关的文章 no article is close enough")
    for hit in hits:
        typer.echo(f"{hit.score:7.2f}  {hit.slug:<32} {hit.title}")
