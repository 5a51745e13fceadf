"""``kefu bot eval FILE --url`` scores a running ``kefu serve`` through POST /api/v1/bot/messages
(shared/eval/bot/README.md: kefu classifies through that API) and agrees with the in-process
reading; an unreachable server is exit code 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from kefu.adapters.bot import load_or_train
from kefu.cli import bot as bot_cli
from kefu.config import PROJECT_ROOT
from tests.ports import free_port

DEV = PROJECT_ROOT.parent / "shared" / "eval" / "bot" / "dev.jsonl"
EXTRA = PROJECT_ROOT / "tests" / "data" / "bot_extra.jsonl"
runner = CliRunner()


def test_eval_through_the_running_server_agrees_with_in_process(live_server: str, tmp_path: Path) -> None:
    source = DEV if DEV.is_file() else EXTRA
    lines = source.read_text(encoding="utf-8").splitlines()[:60]
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(bot_cli.app, ["eval", str(sample), "--url", live_server])
    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    passed, failed = map(int, re.fullmatch(r"(\d+) passed, (\d+) failed", summary).groups())
    model = load_or_train()
    expected_passed = 0
    for line in lines:
        case = json.loads(line)
        got = model.understand(case["text"])
        if got.intent.value == case["intent"] and all(got.slots.get(k) == v for k, v in case["slots"].items()):
            expected_passed += 1
    assert (passed, failed) == (expected_passed, len(lines) - expected_passed)


def test_an_unreachable_server_is_exit_code_2(tmp_path: Path) -> None:
    sample = tmp_path / "one.jsonl"
    sample.write_text('{"text": "你好", "intent": "greeting", "slots": {}}\n', encoding="utf-8")
    result = runner.invoke(bot_cli.app, ["eval", str(sample), "--url", f"http://127.0.0.1:{free_port()}"])
    assert result.exit_code == 2 and "cannot reach" in result.output
