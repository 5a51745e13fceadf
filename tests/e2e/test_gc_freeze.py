"""A server process hides what start-up built from the garbage collector (Settings.gc_freeze);
checked in a fresh interpreter, so the test process's own collector is left alone."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import gc, sys, tempfile
from fastapi.testclient import TestClient
from kefu.config import Settings
from kefu.web.app import create_app
tmp = tempfile.mkdtemp()
settings = Settings(env="test", database_url=f"sqlite:///{tmp}/k.db", storage_dir=f"{tmp}/u",
                    outbox_file=f"{tmp}/o.log", background_jobs=False, warm_assistant=False,
                    gc_freeze=sys.argv[1] == "on")
before = gc.get_freeze_count()
with TestClient(create_app(settings)) as client:
    assert client.get("/health").status_code == 200
    print(before, gc.get_freeze_count())
"""


@pytest.mark.parametrize(("setting", "frozen"), [("on", True), ("off", False)])
def test_start_up_objects_are_frozen_only_when_asked(setting: str, frozen: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KEFU_GC_FREEZE"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, setting], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout.split()
    before, after = int(out[-2]), int(out[-1])
    assert before == 0
    assert (after > 10_000) is frozen and (after == 0) is not frozen
