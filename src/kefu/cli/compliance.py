"""`kefu compliance`: check one reply, or score the check on a labelled file.

``eval FILE.jsonl`` reads shared/eval/compliance/README.md's format (one JSON object a line:
``text``, ``allowed``, ``kinds``) and prints precision and recall of blocking, recall per kind,
every failing line as JSON, and last ``N passed, M failed``. It exits 0 whenever the file could
be read (failures are figures, not errors) and 2 with a message naming the line when it cannot.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from kefu.adapters.compliance_files import load_compliance_rules
from kefu.config import get_settings
from kefu.domain.compliance import KINDS, ComplianceRules, check_reply
from kefu.domain.compliance.scoring import EvalReport, LabelledReply, Outcome, Ratio, score

app = typer.Typer(no_args_is_help=True)


class CaseFileError(ValueError):
    """An eval file that cannot be read as labelled replies (message names the line)."""


def parse_cases(raw: str, source: str = "<input>") -> list[LabelledReply]:
    """The labelled replies of a JSONL text; blank lines are skipped."""
    cases: list[LabelledReply] = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CaseFileError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise CaseFileError(f"{where}: expected a JSON object")
        text, allowed, kinds = data.get("text"), data.get("allowed"), data.get("kinds", [])
        if not isinstance(text, str):
            raise CaseFileError(f"{where}: \"text\" must be a string")
        if not isinstance(allowed, bool):
            raise CaseFileError(f"{where}: \"allowed\" must be true or false")
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise CaseFileError(f"{where}: \"kinds\" must be a list of strings")
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise CaseFileError(f"{where}: unknown kind {unknown[0]!r} (known: {', '.join(KINDS)})")
        cases.append(LabelledReply(text=text, allowed=allowed, kinds=tuple(kinds), line=number))
    if not cases:
        raise CaseFileError(f"{source}: no cases")
    return cases


def _ratio(r: Ratio) -> str:
    return f"{r.value:.3f} ({r.hits}/{r.total})" if r.total else f"  n/a ({r.hits}/{r.total})"


def _failure(o: Outcome) -> dict[str, Any]:
    return {"line": o.case.line, "text": o.case.text,
            "expected": {"allowed": o.case.allowed, "kinds": list(o.case.kinds)},
            "got": {"allowed": o.result.allowed, "kinds": sorted(o.result.kinds),
                    "matches": [[v.kind, v.match] for v in o.result.violations]}}


def report_lines(report: EvalReport) -> list[str]:
    """The printed report; the last line is ``N passed, M failed``."""
    lines = [f"blocking precision {_ratio(report.precision)}",
             f"blocking recall    {_ratio(report.recall)}",
             "recall per kind:"]
    lines += [f"  {kind:<16} {_ratio(r)}" for kind, r in report.kind_recall().items()]
    failures = report.failures
    lines.append(f"failures: {len(failures)}")
    lines += ["  " + json.dumps(_failure(o), ensure_ascii=False) for o in failures]
    lines.append(f"{report.passed} passed, {report.failed} failed")
    return lines


def _rules(policy_dir: Path | None) -> ComplianceRules:
    try:
        return load_compliance_rules(policy_dir or get_settings().policy_dir)
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot load the compliance rules: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("eval")
def eval_file(file: Path = typer.Argument(..., help="labelled replies, one JSON object a line"),
              policy_dir: Path | None = typer.Option(None, help="policy data folder (default: policies/)")
              ) -> None:
    """Score the compliance check on a labelled JSONL file (shared/eval/compliance/README.md)."""
    try:
        raw = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        cases = parse_cases(raw, str(file))
    except CaseFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    for line in report_lines(score(cases, _rules(policy_dir))):
        typer.echo(line)


@app.command("check")
def check(text: str = typer.Argument(..., help='the reply to check ("-" reads it from standard input)'),
          policy_dir: Path | None = typer.Option(None, help="policy data folder (default: policies/)")) -> None:
    """Check one reply and print the result as JSON (violations with reasons in Chinese and English)."""
    if text == "-":
        text = sys.stdin.read()
    typer.echo(json.dumps(check_reply(text, _rules(policy_dir)).as_dict(), ensure_ascii=False))
