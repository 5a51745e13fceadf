"""`kefu demo`: load the demo data set and print the demo accounts.

    kefu demo [--if-empty] [--database-url URL] [--scale 1.0]

Migrates the database first. With ``--if-empty`` an already loaded database is left as it is
(the accounts are printed all the same), which is what ``make run`` uses.
"""

from __future__ import annotations

import time

import typer

from kefu.adapters.db.migrate import upgrade
from kefu.adapters.policy_files import load_policy_book
from kefu.adapters.storage.files import LocalFolderStorage
from kefu.bootstrap import desk_rules
from kefu.config import get_settings
from kefu.services.demo import ACCOUNTS, DEMO_PASSWORD, DemoSummary, is_loaded, load_demo
from kefu.services.demo_desk import desk_demo_loaded, load_desk_demo
from kefu.services.uow import Database


def _print_summary(summary: DemoSummary) -> None:
    typer.echo(f"商家 sellers {summary.sellers} · 商品 products {summary.products} · "
               f"顾客 customers {summary.customers} · 订单 orders {summary.orders} "
               f"({summary.order_lines} lines, {summary.deliveries} deliveries) · "
               f"售后 applications {summary.applications} · 账号 users {summary.users}")
    if summary.statuses:
        typer.echo("售后状态 statuses: " + ", ".join(f"{k} {v}" for k, v in summary.statuses.items()))


def _print_accounts() -> None:
    typer.echo("")
    typer.echo(f"演示账号 demo accounts (password for all: {DEMO_PASSWORD} — demo only)")
    typer.echo(f"  {'username':<17}{'password':<10}{'role':<12}what to try")
    for acc in ACCOUNTS:
        typer.echo(f"  {acc.username:<17}{DEMO_PASSWORD:<10}{acc.role:<12}{acc.try_this}")


def demo(if_empty: bool = typer.Option(False, "--if-empty", help="do nothing when demo data is already there"),
         database_url: str | None = typer.Option(None, "--database-url", help="default: KEFU_DATABASE_URL"),
         scale: float = typer.Option(1.0, help="1.0 ≈ 200 customers and 2,000 orders")) -> None:
    """Load the demo data set (migrating the database first) and print the demo accounts."""
    settings = get_settings()
    url = database_url or settings.database_url
    upgrade(url)
    db = Database.from_url(url)
    try:
        if is_loaded(db) and not if_empty:
            typer.echo("演示数据已存在 demo data is already loaded (use --if-empty to skip quietly)", err=True)
            raise typer.Exit(code=1)
        started = time.monotonic()
        summary = load_demo(db, LocalFolderStorage(settings.storage_dir),
                            load_policy_book(settings.policy_dir), scale=scale, if_empty=if_empty)
        if is_loaded(db) and not desk_demo_loaded(db):     # also fills a demo made before the desk existed
            tickets = load_desk_demo(db, desk_rules(settings.policy_dir))
            typer.echo(f"服务台演示工单 service-desk demo tickets: {tickets}")
        if summary.loaded:
            typer.echo(f"演示数据已载入 demo data loaded in {time.monotonic() - started:.1f} s")
        else:
            typer.echo("演示数据已存在，未作改动 demo data already present, nothing changed")
        _print_summary(summary)
    finally:
        db.dispose()
    _print_accounts()
