"""`kefu bot`: train the smart assistant's intent classifier, score it on a labelled file, or
read one message.

``train`` fits the classifier on ``data/bot/train.jsonl`` with a fixed seed and writes
``var/bot/model.joblib`` (both paths are options). Other commands load that file and, when it is
missing or stale, train once and write it first, so a fresh clone needs no separate step.

``eval FILE.jsonl`` reads shared/eval/bot/README.md's format and prints intent accuracy,
macro-F1, precision and recall per intent, slot exact match (over the messages with labelled
slots: the predicted slot dict equals the labelled one), spurious slots, p50/p99 latency per
message (in-process understanding after one warm-up message, model already loaded), every
failing message as JSON, and last ``N passed, M failed`` (a message passes when its intent and
every listed slot are right). It exits 0 whenever the file could be read and 2 with a message
naming the line when it cannot. With ``--url`` it scores a running server's
``POST /api/v1/bot/messages`` instead (latency then includes HTTP); exit 2 when the server
cannot be reached or refuses a message.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kefu.config import PROJECT_ROOT
from kefu.domain.bot.intents import Intent, Understanding
from kefu.domain.bot.scoring import (
    EvalReport,
    LabelledFileError,
    Outcome,
    Ratio,
    parse_labelled,
    score,
    score_reader,
)

if TYPE_CHECKING:  # scikit-learn takes seconds to import: only the bot commands load it
    from kefu.adapters.bot import IntentModel

app = typer.Typer(no_args_is_help=True)

#: the same defaults as ``kefu.adapters.bot`` (not imported here, so other commands start fast)
DEFAULT_MODEL_FILE = PROJECT_ROOT / "var" / "bot" / "model.joblib"
DEFAULT_TRAIN_FILE = PROJECT_ROOT / "data" / "bot" / "train.jsonl"
SEED = 20260305

MODEL_OPTION = typer.Option(DEFAULT_MODEL_FILE, "--model", help="model file (trained and written when missing)")
DATA_OPTION = typer.Option(DEFAULT_TRAIN_FILE, "--data", help="training file, one labelled JSON object a line")


def _ratio(r: Ratio) -> str:
    return f"{r.value:.3f} ({r.hits}/{r.total})" if r.total else f"  n/a ({r.hits}/{r.total})"


def _failure(o: Outcome) -> dict[str, Any]:
    return {"line": o.case.line, "text": o.case.text,
            "expected": {"intent": o.case.intent, "slots": dict(o.case.slots)},
            "got": {"intent": o.got.intent.value, "confidence": round(o.got.confidence, 3),
                    "slots": dict(o.got.slots)}}


def report_lines(report: EvalReport) -> list[str]:
    """The printed report; the last line is ``N passed, M failed``."""
    lines = [f"messages          {len(report.outcomes)}",
             f"intent accuracy   {_ratio(report.accuracy)}",
             f"macro-F1          {report.macro_f1:.3f}",
             f"{'per intent:':<22}{'precision':<18}recall"]
    lines += [f"  {intent:<20}{_ratio(f.precision):<18}{_ratio(f.recall)}"
              for intent, f in report.per_intent().items()]
    lines += [f"slot exact match  {_ratio(report.slot_exact_match)}  (messages with labelled slots: "
              "predicted slot dict == labelled)",
              f"spurious slots    {report.spurious_slots.hits} of {report.spurious_slots.total} messages "
              "labelled without slots",
              f"latency           p50 {report.latency(50) * 1000:.2f} ms, p99 {report.latency(99) * 1000:.2f} ms "
              "per message (in-process understanding)"]
    failures = report.failures
    lines.append(f"failures: {len(failures)}")
    lines += ["  " + json.dumps(_failure(o), ensure_ascii=False) for o in failures]
    lines.append(f"{report.passed} passed, {report.failed} failed")
    return lines


def _model(model: Path, data: Path) -> IntentModel:
    from kefu.adapters.bot import load_or_train

    try:
        return load_or_train(model, data)
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot load or train the bot model: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("train")
def train(data: Path = DATA_OPTION,
          out: Path = typer.Option(DEFAULT_MODEL_FILE, "--out", help="where to write the model"),
          seed: int = typer.Option(SEED, help="random seed (the same seed and data give the same model)")) -> None:
    """Train the intent classifier on a labelled file and write the model."""
    from kefu.adapters.bot import save
    from kefu.adapters.bot import train_from_file as train_model_from_file

    started = time.perf_counter()
    try:
        model = train_model_from_file(data, seed)
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot train from {data}: {exc}", err=True)
        raise typer.Exit(2) from None
    save(model, out)
    typer.echo(f"trained on {data} ({len(model.intents)} intents) in {time.perf_counter() - started:.1f} s; "
               f"wrote {out}")


def _api_reader(url: str, token: str | None) -> Callable[[str], Understanding]:
    """Read a message through a running server's ``POST /api/v1/bot/messages`` (a new
    conversation each, so one message's context never colours the next)."""
    endpoint = url.rstrip("/") + "/api/v1/bot/messages"
    run = f"eval-{int(time.time())}"
    count = itertools.count()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def read(text: str) -> Understanding:
        body = json.dumps({"session_id": f"{run}-{next(count)}", "text": text}).encode()
        request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                got = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise ValueError(f"{endpoint} answered {exc.code} for {text!r}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ValueError(f"cannot reach {endpoint}: {exc}") from None
        return Understanding(Intent(got["intent"]), float(got["confidence"]), got.get("slots") or {})

    return read


@app.command("eval")
def eval_file(file: Path = typer.Argument(..., help="labelled messages, one JSON object a line"),
              model: Path = MODEL_OPTION, data: Path = DATA_OPTION,
              url: str = typer.Option("", "--url", help="score a running server's POST /api/v1/bot/messages "
                                                        "instead of the model in-process, e.g. http://127.0.0.1:8000"),
              token: str = typer.Option("", "--token", help="with --url: a bearer token (else as a visitor)")) -> None:
    """Score intent detection and slot extraction on a labelled JSONL file (shared/eval/bot/README.md)."""
    try:
        raw = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"cannot read {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        messages = parse_labelled(raw, str(file))
    except LabelledFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if url:
        try:
            report = score_reader(messages, _api_reader(url, token or None), time.perf_counter)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
    else:
        report = score(messages, _model(model, data), time.perf_counter)
    for line in report_lines(report):
        typer.echo(line)


@app.command("ask")
def ask(text: str = typer.Argument(..., help="a customer message"),
        model: Path = MODEL_OPTION, data: Path = DATA_OPTION) -> None:
    """Read one message and print its intent, confidence, slots and alternatives as JSON."""
    typer.echo(json.dumps(_model(model, data).understand(text).as_dict(), ensure_ascii=False))
