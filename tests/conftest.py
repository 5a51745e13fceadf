"""Database fixtures shared by every tier.

``db_url`` is parametrised over ``sqlite`` (a temporary file) and ``postgres`` (a throwaway
PostgreSQL server this test run starts from Debian's binaries); each test gets a fresh database
migrated to head. ``db`` is a :class:`kefu.services.uow.Database` on it. Tests that need only
one database use ``sqlite_url`` / ``sqlite_db``.

Migrating once per session and cloning is what keeps this fast: SQLite copies a migrated
template file, PostgreSQL creates each database ``TEMPLATE kefu_template``.

PostgreSQL is found through ``KEFU_PG_BIN``, then ``/usr/lib/postgresql/<newest>/bin``, then
``PATH``. ``initdb`` and ``pg_ctl`` refuse to run as root, so as root the server runs as the
``postgres`` user (``nobody`` if there is none) in a data directory owned by it. Without the
binaries the postgres tests skip — except under ``CI=true``, where a skipped ``postgres`` or
``browser`` test counts as a failure (the issue: under CI no database or browser test may skip).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kefu.adapters.db.migrate import upgrade
from kefu.services.uow import Database
from tests.ports import free_port

IN_CI = os.environ.get("CI", "").lower() == "true"
MUST_NOT_SKIP = ("postgres", "browser")

# The suite starts apps again and again in one process: what gc.freeze() at each start hid from
# the collector would pile up (kefu.config.Settings.gc_freeze; tests/e2e/test_gc_freeze.py checks it).
os.environ.setdefault("KEFU_GC_FREEZE", "false")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if (IN_CI and report.skipped and not hasattr(report, "wasxfail")
            and any(item.get_closest_marker(name) for name in MUST_NOT_SKIP)):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is not allowed for this test: {report.longrepr}"


# --------------------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "kefu.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite file migrated to head."""
    target = tmp_path / "kefu.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    database = Database.from_url(sqlite_url)
    yield database
    database.dispose()


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bindir() -> Path | None:
    candidates: list[Path] = []
    if os.environ.get("KEFU_PG_BIN"):
        candidates.append(Path(os.environ["KEFU_PG_BIN"]))
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted((p for p in root.iterdir() if p.name.isdigit()), key=lambda p: int(p.name),
                          reverse=True)
        candidates.extend(p / "bin" for p in versions)
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).resolve().parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    return None




@dataclass
class PostgresServer:
    port: int
    bindir: Path
    base: Path
    run_as: dict[str, Any]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def stop(self) -> None:
        subprocess.run([str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), "-m", "immediate",
                        "-w", "stop"], cwd=self.base, capture_output=True, check=False, **self.run_as)
        shutil.rmtree(self.base, ignore_errors=True)


def _start_postgres(bindir: Path) -> PostgresServer:
    base = Path(tempfile.mkdtemp(prefix="kefu-pg-"))
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = pwd.getpwnam("nobody")
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": [],
                  "env": {**os.environ, "HOME": str(base), "USER": account.pw_name}}
    port = free_port()
    data = base / "data"
    steps = [
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
         "--no-locale", "--no-sync"],
        [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w", "-t", "60",
         "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
         "start"],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=base, capture_output=True, text=True, check=False, **run_as)
        if done.returncode != 0:
            log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError(f"{Path(step[0]).name} failed: {done.stdout}\n{done.stderr}\n{log}")
    return PostgresServer(port, bindir, base, run_as)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _pg_bindir()
    if bindir is None:
        message = "PostgreSQL binaries not found (apt-get install postgresql, or set KEFU_PG_BIN)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = _start_postgres(bindir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    postgres_server.admin("CREATE DATABASE kefu_template")
    upgrade(postgres_server.url("kefu_template"))
    return "kefu_template"


_numbers = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database migrated to head (a copy of the session's template)."""
    name = f"kefu_test_{next(_numbers)}"
    postgres_server.admin(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    yield postgres_server.url(name)
    postgres_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --------------------------------------------------------------------------- Redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway Redis server started from Debian's ``redis-server`` (pytest-redis's executor)."""
    if not Path(REDIS_SERVER).exists():
        message = "redis-server not found (apt-get install redis-server)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from pytest_redis.executor import RedisExecutor

    executor = RedisExecutor(REDIS_SERVER, databases=4, redis_timeout=30, loglevel="warning", host="127.0.0.1",
                             port=free_port(), datadir=tmp_path_factory.mktemp("redis"))
    with executor:
        yield f"redis://127.0.0.1:{executor.port}/0"


# --------------------------------------------------------------------------- both


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh database migrated to head, once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.from_url(db_url)
    yield database
    database.dispose()
