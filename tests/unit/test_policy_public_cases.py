"""Every public conformance case in shared/cases/aftersales passes, in-process and through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kefu.adapters.policy_files import load_policy_book
from kefu.config import PROJECT_ROOT
from kefu.domain.aftersales.policy import evaluate
from kefu.services.case_format import parse_case

CASES = Path(os.environ.get("KEFU_SHARED_DIR", PROJECT_ROOT.parent / "shared")) / "cases" / "aftersales"
FILES = sorted(CASES.glob("*.json"))


def test_the_public_cases_are_present() -> None:
    assert len(FILES) >= 45, f"expected the public cases in {CASES}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_public_case(path: Path) -> None:
    raw = path.read_bytes()
    decision = evaluate(parse_case(raw), load_policy_book(PROJECT_ROOT / "policies")).as_dict()
    expect = json.loads(raw)["expect"]
    assert {k: decision[k] for k in expect} == expect


def test_cli_policy_check_dir_ends_with_summary() -> None:
    proc = subprocess.run([sys.executable, "-m", "kefu.cli", "policy", "check", "--dir", str(CASES)],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == f"{len(FILES)} passed, 0 failed", proc.stdout[-2000:] + proc.stderr
    assert proc.returncode == 0
    assert len(lines) == len(FILES) + 1


def test_cli_reports_a_failing_case_and_exits_nonzero(tmp_path: Path) -> None:
    data = json.loads(FILES[0].read_bytes())
    data["expect"] = {"outcome": "rejected"}
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "good.json").write_bytes(FILES[0].read_bytes())
    proc = subprocess.run([sys.executable, "-m", "kefu.cli", "policy", "check", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "1 passed, 1 failed"
    assert proc.returncode == 1


def test_cli_input_error_exits_2(tmp_path: Path) -> None:
    data = json.loads(FILES[0].read_bytes())
    data["order"]["seller"] = "marketplace"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "kefu.cli", "policy", "check", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "order.seller" in proc.stdout
