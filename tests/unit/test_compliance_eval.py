"""The compliance check scores well on the public dev set and on our own held-out-style set,
in-process and through ``kefu compliance eval``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kefu.adapters.compliance_files import load_compliance_rules, rules_from_mapping
from kefu.cli import compliance as compliance_cli
from kefu.config import PROJECT_ROOT
from kefu.domain.compliance import KINDS
from kefu.domain.compliance.scoring import LabelledReply, score

SHARED = Path(os.environ.get("KEFU_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
DEV = SHARED / "eval" / "compliance" / "dev.jsonl"
EXTRA = Path(__file__).resolve().parents[1] / "data" / "compliance_extra.jsonl"
RULES = load_compliance_rules(PROJECT_ROOT / "policies")
runner = CliRunner()


def test_the_eval_files_are_present() -> None:
    assert DEV.is_file(), f"expected the public dev set at {DEV}"
    assert len(compliance_cli.parse_cases(EXTRA.read_text(encoding="utf-8"))) >= 30


@pytest.mark.parametrize("path", [DEV, EXTRA], ids=["dev", "extra"])
def test_precision_and_recall_of_blocking(path: Path) -> None:
    report = score(compliance_cli.parse_cases(path.read_text(encoding="utf-8"), str(path)), RULES)
    failures = "\n".join(compliance_cli.report_lines(report))
    assert report.precision.value >= 0.95, failures
    assert report.recall.value >= 0.95, failures
    for kind, ratio in report.kind_recall().items():
        assert ratio.value >= 0.9, f"{kind}: {ratio}\n{failures}"


def test_every_kind_is_in_the_extra_set() -> None:
    cases = compliance_cli.parse_cases(EXTRA.read_text(encoding="utf-8"))
    listed = {kind for case in cases for kind in case.kinds}
    assert listed == set(KINDS)
    assert sum(case.allowed for case in cases) >= 30


def test_cli_eval_prints_the_figures_and_ends_with_the_summary() -> None:
    result = runner.invoke(compliance_cli.app, ["eval", str(DEV)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"\d+ passed, \d+ failed", lines[-1]), lines[-1]
    assert lines[0].startswith("blocking precision ")
    assert lines[1].startswith("blocking recall ")
    assert all(any(line.strip().startswith(kind + " ") for line in lines) for kind in KINDS)


def test_the_kefu_command_has_the_compliance_group() -> None:
    from kefu.cli import app

    result = runner.invoke(app, ["compliance", "eval", str(EXTRA)])
    assert result.exit_code == 0, result.output
    total = len(compliance_cli.parse_cases(EXTRA.read_text(encoding="utf-8")))
    assert result.output.strip().splitlines()[-1] == f"{total} passed, 0 failed"


def test_cli_eval_lists_failures_and_still_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in [
        {"text": "有事打我电话 13912345678", "allowed": False, "kinds": ["phone"]},
        {"text": "有事打我电话 13912345678", "allowed": True, "kinds": []},
        {"text": "您好，退款已处理。", "allowed": False, "kinds": ["abusive"]},
        {"text": "加我微信 abc_123", "allowed": False, "kinds": ["im_account", "email"]},
    ]) + "\n\n", encoding="utf-8")
    result = runner.invoke(compliance_cli.app, ["eval", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "1 passed, 3 failed"
    assert "failures: 3" in lines
    failure = json.loads(next(line for line in lines if '"line": 2' in line))
    assert failure["expected"] == {"allowed": True, "kinds": []}
    assert failure["got"]["allowed"] is False and failure["got"]["kinds"] == ["phone"]
    assert "blocking precision 0.667 (2/3)" in lines
    assert "blocking recall    0.667 (2/3)" in lines


@pytest.mark.parametrize(("content", "message"), [
    ("not json\n", "1: not JSON"),
    ('{"text": "x"}\n', '"allowed" must be true or false'),
    ('{"text": "x", "allowed": false, "kinds": ["spam"]}\n', "unknown kind 'spam'"),
    ("[1]\n", "expected a JSON object"),
    ("\n", "no cases"),
])
def test_cli_eval_refuses_bad_input_with_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(compliance_cli.app, ["eval", str(path)])
    assert result.exit_code == 2
    assert message in result.output


def test_cli_eval_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(compliance_cli.app, ["eval", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_cli_check_prints_json() -> None:
    result = runner.invoke(compliance_cli.app, ["check", "加我vx：abc_123"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["allowed"] is False
    assert data["violations"][0]["kind"] == "im_account" and data["violations"][0]["reason_zh"]
    result = runner.invoke(compliance_cli.app, ["check", "-"], input="您好，已为您退款。")
    assert json.loads(result.output) == {"allowed": True, "violations": []}


def test_the_policy_file_loads_and_bad_data_is_refused() -> None:
    assert "mall.example.com" in RULES.allowed_domains and "950618" in RULES.platform_hotlines
    with pytest.raises(ValueError, match="unknown kinds"):
        rules_from_mapping({"extra_words": {"spam": ["x"]}})
    with pytest.raises(ValueError, match="digits only"):
        rules_from_mapping({"platform_hotlines": ["950-618"]})
    with pytest.raises(ValueError, match="allowed_domains must be a list"):
        rules_from_mapping({"allowed_domains": "mall.example.com"})


def test_a_folder_without_the_file_gets_the_defaults(tmp_path: Path) -> None:
    rules = load_compliance_rules(tmp_path)
    assert rules.allowed_domains == frozenset({"mall.example.com"})
    assert rules.extra_words == {}


def test_scoring_counts_nothing_to_count_as_full_marks() -> None:
    report = score([LabelledReply("您好", True)])
    assert report.precision.value == 1.0 and report.recall.value == 1.0
    assert report.kind_recall()["phone"].total == 0
