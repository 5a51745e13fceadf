"""`kefu worker`: the background worker of the scaled-out mode (Dramatiq on Redis)."""

from __future__ import annotations

import logging
import signal
import threading

import typer

from kefu.config import get_settings


def worker(threads: int = typer.Option(2, min=1, help="worker threads"),
           interval: float = typer.Option(2.0, min=0.2, help="seconds between rounds of periodic work")) -> None:
    """Relay the outbox and run the sweeps as Dramatiq tasks on KEFU_REDIS_URL (run one or more)."""
    from kefu.worker import run_worker

    settings = get_settings()
    if not settings.redis_url:
        typer.echo("KEFU_REDIS_URL is not set: on the embedded default `kefu serve` runs this work itself.",
                   err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"kefu worker: {threads} threads on {settings.redis_url.split('@')[-1]}")
    run_worker(settings, threads=threads, interval_s=interval, stop=stop)
