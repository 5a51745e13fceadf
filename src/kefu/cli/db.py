"""`kefu db` commands: bring the database schema to the newest migration."""

from __future__ import annotations

import typer

from kefu.config import get_settings

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Create or migrate the database at KEFU_DATABASE_URL (safe to run again)."""
    from kefu.adapters.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")
