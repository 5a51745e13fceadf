"""`kefu import` commands: load reference data from files.

    kefu import orders FILE [--format csv|json|jsonl] [--database-url URL] [--batch-size N]

Progress goes to stderr (a live counter on a terminal, a line every 10,000 orders otherwise);
the summary and the first errors go to stdout. Exit code 0 when every record landed, 1 when
some failed, 2 when the file could not be read at all.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO

import typer

from kefu.adapters.db.migrate import upgrade
from kefu.adapters.order_files import FORMATS, Format, UnknownFormat, detect_format, read_orders
from kefu.config import get_settings
from kefu.domain.clock import system_clock
from kefu.services.orders_import import DEFAULT_BATCH, ImportReport, import_orders
from kefu.services.uow import Database

app = typer.Typer(no_args_is_help=True)

SHOWN_ERRORS = 20
PLAIN_EVERY = 10_000


class _ProgressLine:
    """Counts on stderr: rewritten in place on a terminal, one line per 10,000 otherwise."""

    def __init__(self, stream: IO[bytes], size: int, out: IO[str]) -> None:
        self.stream = stream
        self.size = max(size, 1)
        self.out = out
        self.live = out.isatty()
        self.started = time.monotonic()
        self.next_plain = PLAIN_EVERY

    def __call__(self, report: ImportReport) -> None:
        done = report.processed
        if not self.live:
            if done < self.next_plain:
                return
            self.next_plain = (done // PLAIN_EVERY + 1) * PLAIN_EVERY
        try:
            share = min(100.0, 100.0 * self.stream.tell() / self.size)
        except (OSError, ValueError):
            share = 0.0
        rate = done / max(time.monotonic() - self.started, 1e-6)
        text = (f"导入中 importing: {done:,} orders ({share:.0f}% of file, {rate:,.0f}/s) — "
                f"created {report.created:,}, updated {report.updated:,}, "
                f"unchanged {report.unchanged:,}, failed {report.failed:,}")
        if self.live:
            self.out.write("\r" + text)
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.live:
            self.out.write("\n")
            self.out.flush()


@app.command("orders")
def orders(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="CSV, JSON (array or {\"orders\": [...]}) or JSON Lines"),
    fmt: str | None = typer.Option(None, "--format", "-f",
                                   help="csv | json | jsonl (default: by extension and content)"),
    database_url: str | None = typer.Option(None, "--database-url",
                                            help="default: KEFU_DATABASE_URL / the settings"),
    batch_size: int = typer.Option(DEFAULT_BATCH, "--batch-size", min=1, max=10_000,
                                   help="orders per transaction"),
) -> None:
    """Import orders idempotently: new ones are created, changed ones updated, the rest untouched."""
    if fmt is not None and fmt not in FORMATS:
        typer.echo(f"未知格式 unknown format {fmt!r}: use one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(code=2)
    try:
        chosen: Format = fmt if fmt is not None else detect_format(file)
    except UnknownFormat as exc:
        typer.echo(f"无法识别文件格式 cannot tell the file's format: {exc}; use --format", err=True)
        raise typer.Exit(code=2) from exc

    url = database_url or get_settings().database_url
    if url.startswith("sqlite"):
        upgrade(url)
    db = Database.from_url(url)
    started = time.monotonic()
    try:
        with file.open("rb") as stream:
            progress = _ProgressLine(stream, file.stat().st_size, sys.stderr)
            report = import_orders(db, read_orders(stream, chosen), system_clock, progress=progress,
                                   batch_size=batch_size)
            progress.close()
    finally:
        db.dispose()
    elapsed = time.monotonic() - started

    typer.echo(f"{file.name} ({chosen}): {report.processed:,} orders in {elapsed:.1f} s — "
               f"created {report.created:,}, updated {report.updated:,}, "
               f"unchanged {report.unchanged:,}, failed {report.failed:,}")
    if report.errors:
        typer.echo("errors (row · order · field · reason):")
        for error in report.errors[:SHOWN_ERRORS]:
            where = error.field or "-"
            typer.echo(f"  row {error.row} · {error.order_id or '-'} · {where} · {error.zh} / {error.en}")
        if len(report.errors) > SHOWN_ERRORS:
            typer.echo(f"  … {len(report.errors) - SHOWN_ERRORS:,} more not shown")
    raise typer.Exit(code=0 if report.ok else 1)
