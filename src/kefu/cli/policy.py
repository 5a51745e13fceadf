"""`kefu policy check`: evaluate conformance cases (shared/cases/aftersales/README.md).

Prints one JSON decision per case; with ``--dir`` or several files it ends with
``N passed, M failed`` (cases whose ``expect`` members all equal the decision) and exits 1
when any case fails, 2 on an input error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from kefu.adapters.policy_files import load_policy_book
from kefu.config import get_settings
from kefu.domain.aftersales.policy import evaluate
from kefu.domain.errors import KefuError
from kefu.services.case_format import parse_case

app = typer.Typer(no_args_is_help=True)


def _mismatches(expect: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    return {k: {"expected": v, "got": decision.get(k)} for k, v in expect.items() if decision.get(k) != v}


@app.command("check")
def check(files: list[Path] = typer.Argument(None, help="case files (JSON)"),
          dir: Path | None = typer.Option(None, "--dir", help="every *.json in this folder"),
          policy_dir: Path | None = typer.Option(None, help="policy data folder (default: policies/)"),
          quiet: bool = typer.Option(False, "--quiet", "-q", help="print only failures and the summary")
          ) -> None:
    """Evaluate after-sales cases (a dry run: nothing is written)."""
    paths = list(files or [])
    if dir is not None:
        if not dir.is_dir():
            typer.echo(f"not a folder: {dir}", err=True)
            raise typer.Exit(2)
        paths += sorted(dir.glob("*.json"))
    if not paths:
        typer.echo("no case files given", err=True)
        raise typer.Exit(2)
    book = load_policy_book(policy_dir or get_settings().policy_dir)
    summary = dir is not None or len(paths) > 1
    passed = failed = errors = 0
    for path in paths:
        raw = path.read_bytes()
        try:
            case = parse_case(raw)
        except KefuError as exc:
            errors += 1
            typer.echo(json.dumps({"file": str(path), "error": exc.as_dict()}, ensure_ascii=False))
            continue
        decision = evaluate(case, book).as_dict(case.id)
        expect = json.loads(raw).get("expect")
        bad = _mismatches(expect, decision) if isinstance(expect, dict) else {}
        if isinstance(expect, dict):
            if bad:
                failed += 1
            else:
                passed += 1
        if not quiet or bad:
            out = dict(decision, mismatches=bad) if bad else decision
            typer.echo(json.dumps(out, ensure_ascii=False))
    if summary:
        typer.echo(f"{passed} passed, {failed + errors} failed")
    if errors and not summary:
        raise typer.Exit(2)
    if failed or errors:
        raise typer.Exit(1 if failed else 2)


def main() -> None:  # pragma: no cover - convenience for `python -m`
    app()
    sys.exit(0)
