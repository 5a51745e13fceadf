"""`kefu serve`: run the app (creating and migrating the embedded SQLite database first)."""

from __future__ import annotations

import typer

from kefu.config import get_settings


def serve(host: str = typer.Option("127.0.0.1", help="address to listen on"),
          port: int = typer.Option(8000, help="port to listen on"),
          workers: int = typer.Option(1, min=1, help="worker processes"),
          access_log: bool = typer.Option(True, help="log every request")) -> None:
    """Run the web app and API with uvicorn (uvloop + httptools).

    On the embedded SQLite default the database file and its folder are created and migrated
    here, so a fresh checkout serves at once; a PostgreSQL database is migrated on purpose with
    ``kefu db upgrade`` before a deploy (several app processes must not race to migrate).
    """
    import uvicorn

    from kefu.adapters.db.migrate import upgrade

    settings = get_settings()
    if settings.is_sqlite:
        upgrade(settings.database_url)
        _seed_faq(settings.database_url)
    typer.echo(f"kefu 客服 serving on http://{host}:{port}  (database: "
               f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'})")
    # uvloop + httptools: plain h11 stalls ~40 ms per keep-alive request on this machine (DESIGN.md).
    uvicorn.run("kefu.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                loop="uvloop", http="httptools", access_log=access_log, proxy_headers=True)


def _seed_faq(url: str) -> None:
    """A fresh embedded database gets the default FAQ articles (data/faq) for the assistant."""
    from kefu.services.faq import seed_default_articles
    from kefu.services.uow import Database

    db = Database.from_url(url)
    try:
        seed_default_articles(db)
    finally:
        db.dispose()
