"""The ``kefu`` command line. Each group lives in its own module; this file only wires them."""

from __future__ import annotations

import typer

from kefu.cli import bot, compliance, db, demo, faq, imports, mail, policy, serve, users, worker

app = typer.Typer(name="kefu", help="kefu 客服 — customer service and after-sales platform",
                  no_args_is_help=True, add_completion=False)
app.add_typer(policy.app, name="policy", help="After-sales policy: evaluate conformance cases")
app.add_typer(compliance.app, name="compliance", help="Reply compliance: check a reply, score the check on a file")
app.add_typer(bot.app, name="bot", help="Smart assistant: train the intent classifier, score it on a file")
app.add_typer(faq.app, name="faq", help="FAQ knowledge base: import articles, try a question")
app.add_typer(imports.app, name="import", help="Import reference data (orders) from CSV or JSON")
app.add_typer(db.app, name="db", help="Database: migrate")
app.add_typer(users.app, name="users", help="User accounts: create")
app.add_typer(mail.app, name="mail", help="Inbound e-mail: SMTP receiver or IMAP polling")
app.command(name="serve", help="Run the web app and API")(serve.serve)
app.command(name="demo", help="Load the demo data set")(demo.demo)
app.command(name="worker", help="Run the background worker (Dramatiq on Redis, scaled-out mode)")(worker.worker)


def main() -> None:
    app()
