"""`kefu db upgrade` and `kefu users create`, run as the real command on a fresh SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from kefu.domain.actors import Role
from kefu.services import accounts
from kefu.services.uow import Database


def kefu(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("kefu")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from kefu.cli import main; main()"]
    env = {**os.environ, "KEFU_DATABASE_URL": database_url, "KEFU_ENV": "test"}
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'not' / 'yet' / 'there' / 'kefu.db'}"


def test_db_upgrade_creates_the_folder_and_migrates_to_head_twice_over(fresh_url: str) -> None:
    for _ in range(2):
        done = kefu("db", "upgrade", database_url=fresh_url)
        assert done.returncode == 0, done.stderr
    db = Database.from_url(fresh_url)
    try:
        with db.read() as ro:
            tables = set(ro.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
            version = ro.session.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        db.dispose()
    assert {"users", "web_sessions", "api_tokens", "idempotency_keys", "customers"} <= tables
    assert version is not None


def test_users_create_makes_an_account_that_can_sign_in(fresh_url: str) -> None:
    assert kefu("db", "upgrade", database_url=fresh_url).returncode == 0
    done = kefu("users", "create", "--username", "boss", "--password", "boss-pass", "--role", "admin",
                "--display-name", "老板", database_url=fresh_url)
    assert done.returncode == 0, done.stderr
    assert "boss" in done.stdout
    db = Database.from_url(fresh_url)
    try:
        actor = accounts.authenticate(db, "boss", "boss-pass")
    finally:
        db.dispose()
    assert (actor.role, actor.display_name) == (Role.ADMIN, "老板")


def test_users_create_reports_a_refusal_with_its_code(fresh_url: str) -> None:
    assert kefu("db", "upgrade", database_url=fresh_url).returncode == 0
    done = kefu("users", "create", "--username", "x1y", "--password", "long-enough", "--role", "wizard",
                database_url=fresh_url)
    assert done.returncode == 2
    assert "invalid_role" in done.stderr
