"""`kefu users` commands: create accounts from the command line (acting as the system)."""

from __future__ import annotations

import typer

from kefu.config import get_settings
from kefu.domain.errors import KefuError

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(username: str = typer.Option(..., help="login name"),
           password: str = typer.Option(..., prompt=True, hide_input=True, help="at least 6 characters"),
           role: str = typer.Option(..., help="customer, agent, supervisor, seller or admin"),
           display_name: str | None = typer.Option(None, help="name shown on pages"),
           customer_id: str | None = typer.Option(None, help="the customer a customer account is"),
           seller_id: str | None = typer.Option(None, help="the seller a seller account belongs to"),
           employee_no: str | None = typer.Option(None, help="staff number of an agent"),
           locale: str = typer.Option("zh", help="zh or en")) -> None:
    """Create a user account."""
    from kefu.services.accounts import create_user
    from kefu.services.uow import Database

    db = Database.from_url(get_settings().database_url)
    try:
        user = create_user(db, username=username, password=password, role=role,
                           display_name=display_name, customer_id=customer_id, seller_id=seller_id,
                           employee_no=employee_no, locale=locale)
    except KefuError as exc:
        typer.echo(f"{exc.code}: {exc.zh} / {exc.en}", err=True)
        raise typer.Exit(code=2) from exc
    finally:
        db.dispose()
    typer.echo(f"created user {user.id} {user.username} ({user.role.value})")
