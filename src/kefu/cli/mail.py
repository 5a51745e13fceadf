"""`kefu mail receive|poll`: inbound e-mail becomes tickets (issue 4 §7).

``receive`` runs an SMTP receiving endpoint (point the desk address's MX or a forwarding rule at
it); ``poll`` fetches unseen mail from an IMAP mailbox, once or every ``--every`` seconds.
Replies go out by SMTP through the outbox relay (``KEFU_SMTP_HOST``).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer

from kefu.config import get_settings

app = typer.Typer(no_args_is_help=True)


def _handler() -> Any:
    from kefu.domain.service.channels import InboundMessage
    from kefu.services.assistant_channels import email_auto_reply
    from kefu.services.inbound import receive_message
    from kefu.services.uow import Database
    from kefu.web.runtime import Runtime

    settings = get_settings()
    db = Database.from_url(settings.database_url)
    runtime = Runtime.from_settings(settings)
    # the assistant answers a new mail by itself when it can (one automatic reply at most)
    auto_reply = email_auto_reply(db, runtime.assistant) if settings.email_auto_reply else None

    def on_message(msg: InboundMessage) -> None:
        received = receive_message(db, msg, runtime.desk, runtime.clock, storage=runtime.storage,
                                   live=runtime.live if settings.redis_url else None, auto_reply=auto_reply)
        typer.echo(f"{msg.sender} → {received.ticket_number}{' (new)' if received.created else ''}")

    return on_message


@app.command("receive")
def receive(host: str = typer.Option("127.0.0.1", help="address to listen on"),
            port: int = typer.Option(2525, help="SMTP port"),
            to: list[str] = typer.Option(None, "--to", help="accept mail only for these addresses")) -> None:
    """Receive mail over SMTP until interrupted; each message opens or joins a ticket."""
    from kefu.adapters.channels.smtp_server import start_smtp_receiver

    controller = start_smtp_receiver(host, port, _handler(), recipients=to or None)
    typer.echo(f"kefu mail: receiving SMTP on {host}:{port}")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()


@app.command("poll")
def poll(host: str = typer.Option(..., help="IMAP server"), user: str = typer.Option(...),
         password: str = typer.Option(..., envvar="KEFU_IMAP_PASSWORD"),
         port: int = typer.Option(993), mailbox: str = typer.Option("INBOX"),
         ssl: bool = typer.Option(True, help="IMAP over TLS"),
         every: float = typer.Option(0, help="poll again every N seconds (0: once)")) -> None:
    """Fetch unseen mail from IMAP; each message opens or joins a ticket."""
    from kefu.adapters.channels.imap_poll import poll_imap

    on_message = _handler()
    while True:
        count = poll_imap(host, port, user, password, mailbox, on_message, ssl=ssl)
        typer.echo(f"kefu mail: {count} message(s) from {mailbox}")
        if every <= 0:
            return
        threading.Event().wait(every)
