"""The assistant's understanding scores well on the public dev set and on our own held-out-style
set (never trained on), in-process and through ``kefu bot eval``."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kefu.adapters.bot import intent_model
from kefu.cli import bot as bot_cli
from kefu.config import PROJECT_ROOT
from kefu.domain.bot import INTENTS, Intent, Understanding
from kefu.domain.bot.scoring import EvalReport, LabelledMessage, Outcome, parse_labelled, percentile, score

SHARED = Path(os.environ.get("KEFU_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
DEV = SHARED / "eval" / "bot" / "dev.jsonl"
EXTRA = Path(__file__).resolve().parents[1] / "data" / "bot_extra.jsonl"
runner = CliRunner()


@pytest.fixture(scope="module")
def model() -> intent_model.IntentModel:
    return intent_model.train_from_file(intent_model.DEFAULT_TRAIN_FILE)


@pytest.fixture(scope="module")
def model_file(model: intent_model.IntentModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bot") / "model.joblib"
    intent_model.save(model, path)
    return path


def test_the_eval_files_are_present() -> None:
    assert DEV.is_file(), f"expected the public dev set at {DEV}"
    extra = parse_labelled(EXTRA.read_text(encoding="utf-8"), str(EXTRA))
    assert len(extra) >= 120
    assert {m.intent for m in extra} == set(INTENTS)
    assert sum(bool(m.slots) for m in extra) >= 20
    assert {name for m in extra for name in m.slots} == {"order_id", "phone", "tracking_no"}


@pytest.mark.parametrize("path", [DEV, EXTRA], ids=["dev", "extra"])
def test_intent_accuracy_macro_f1_and_slot_exact_match(path: Path, model: intent_model.IntentModel) -> None:
    report = score(parse_labelled(path.read_text(encoding="utf-8"), str(path)), model, time.perf_counter)
    failures = "\n".join(bot_cli.report_lines(report))
    assert report.accuracy.value >= 0.95, failures
    assert report.macro_f1 >= 0.93, failures
    assert report.slot_exact_match.value >= 0.95, failures
    assert report.latency(50) < 0.005, failures  # generous: ~0.4 ms on an idle machine


def test_cli_eval_prints_the_figures_and_ends_with_the_summary(model_file: Path) -> None:
    result = runner.invoke(bot_cli.app, ["eval", str(DEV), "--model", str(model_file)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"\d+ passed, \d+ failed", lines[-1]), lines[-1]
    passed, failed = map(int, re.findall(r"\d+", lines[-1]))
    assert passed + failed == len(parse_labelled(DEV.read_text(encoding="utf-8")))
    assert lines[1].startswith("intent accuracy ")
    assert lines[2].startswith("macro-F1 ")
    assert any(line.startswith("slot exact match ") for line in lines)
    assert any(re.match(r"latency\s+p50 [\d.]+ ms, p99 [\d.]+ ms", line) for line in lines)
    assert all(any(line.strip().startswith(intent + " ") for line in lines) for intent in INTENTS)
    assert sum(line.startswith("  {") for line in lines) == failed


def test_cli_eval_refuses_an_unreadable_file(tmp_path: Path, model_file: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "你好", "intent": "greeting"}\n{"text": "x", "intent": "weather"}\n', encoding="utf-8")
    result = runner.invoke(bot_cli.app, ["eval", str(bad), "--model", str(model_file)])
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output
    assert runner.invoke(bot_cli.app, ["eval", str(tmp_path / "missing.jsonl")]).exit_code == 2


def test_cli_train_and_ask(tmp_path: Path) -> None:
    out = tmp_path / "model.joblib"
    result = runner.invoke(bot_cli.app, ["train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    asked = runner.invoke(bot_cli.app, ["ask", "在吗 订单２０２６ ０３０５-１２３４到哪了", "--model", str(out)])
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.output)
    assert answer["intent"] == "order_status"
    assert answer["slots"] == {"order_id": "202603051234"}
    intent_model.clear_cache()


def test_the_kefu_command_has_the_bot_group() -> None:
    from kefu.cli import app

    result = runner.invoke(app, ["bot", "--help"])
    assert result.exit_code == 0
    assert "eval" in result.output and "train" in result.output


# ---- the scoring rules -------------------------------------------------------------------------

def _outcome(intent: str, got: str, slots: dict[str, str] | None = None,
             got_slots: dict[str, str] | None = None, seconds: float = 0.0) -> Outcome:
    return Outcome(LabelledMessage("x", intent, slots or {}), Understanding(Intent(got), 0.9, got_slots or {}), seconds)


def test_scoring_rules() -> None:
    order = {"order_id": "1" * 12}
    report = EvalReport((
        _outcome("greeting", "greeting", seconds=0.001),
        _outcome("order_status", "order_status", order, {**order, "phone": "13800000000"}),
        _outcome("order_status", "refund_status", order, order),
        _outcome("cancel_order", "cancel_order", order, {}),
    ))
    assert (report.passed, report.failed) == (2, 2)  # an extra slot does not fail a message
    assert report.accuracy.hits == 3
    assert report.slot_exact_match.hits == 1 and report.slot_exact_match.total == 3  # …but it is no exact match
    figures = report.per_intent()
    assert set(figures) == {"greeting", "order_status", "refund_status", "cancel_order"}
    assert figures["refund_status"].precision.value == 0.0
    assert figures["order_status"].recall.value == 0.5
    assert report.macro_f1 == pytest.approx((1 + 2 / 3 + 0 + 1) / 4)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0


def test_the_cli_defaults_are_the_adapters() -> None:
    assert bot_cli.DEFAULT_MODEL_FILE == intent_model.DEFAULT_MODEL_FILE
    assert bot_cli.DEFAULT_TRAIN_FILE == intent_model.DEFAULT_TRAIN_FILE
    assert bot_cli.SEED == intent_model.SEED
