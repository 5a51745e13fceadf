"""End-to-end fixtures: the app over HTTP in-process, a real server, and Debian's chromium.

* ``app`` / ``client``: ``create_app`` on the test's fresh database (``db`` from tests/conftest.py,
  so SQLite and PostgreSQL both), driven with FastAPI's TestClient.
* ``live_server``: the real ``kefu serve`` (uvicorn, uvloop, httptools) in a subprocess on a free
  port with its own SQLite file, which it creates and migrates itself; one per test session.
  ``live_db`` is a :class:`Database` on that file for seeding, ``live_account(...)`` makes a
  user and returns its username and password.
* ``browser`` / ``new_context`` / ``page``: Playwright for Python driving ``/usr/bin/chromium``
  (``KEFU_CHROMIUM`` to override; never ``playwright install``). Every test using them is marked
  ``browser``: without chromium it skips locally and fails under ``CI=true`` (tests/conftest.py).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.adapters.db.migrate import upgrade
from kefu.config import Settings
from kefu.services import accounts
from kefu.services.uow import Database
from kefu.web.app import create_app
from tests.ports import free_port

CHROMIUM = Path(os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
BROWSER_FIXTURES = frozenset({"browser", "new_context", "page"})
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------- in-process


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # no background relay in in-process apps: tests that count queries or read the outbox must
    # see only what their own requests did (the live-server tests run the real loop)
    return Settings(env="test", database_url=db_url, storage_dir=tmp_path / "uploads",
                    outbox_file=tmp_path / "outbox.log", background_jobs=False)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# --------------------------------------------------------------------------- live server




def kefu_command() -> list[str]:
    script = Path(sys.executable).with_name("kefu")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from kefu.cli import main; main()"]


@pytest.fixture(scope="session")
def live_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def live_db_url(live_dir: Path) -> str:
    url = f"sqlite:///{live_dir / 'kefu.db'}"
    upgrade(url)  # so tests may seed before the first request; `kefu serve` migrating again is a no-op
    return url


@pytest.fixture(scope="session")
def live_server(live_dir: Path, live_db_url: str) -> Iterator[str]:
    """The base URL of a running ``kefu serve`` on a free port."""
    port = free_port()
    env = {**os.environ, "KEFU_ENV": "test", "KEFU_DATABASE_URL": live_db_url,
           "KEFU_STORAGE_DIR": str(live_dir / "uploads"), "KEFU_OUTBOX_FILE": str(live_dir / "outbox.log")}
    log_path = live_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([*kefu_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--no-access-log"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"kefu serve exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"kefu serve did not answer in 60 s:\n{log_path.read_text()}") from None
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def live_db(live_db_url: str) -> Iterator[Database]:
    database = Database.from_url(live_db_url)
    yield database
    database.dispose()


_account_numbers = itertools.count(1)


@pytest.fixture
def live_account(live_db: Database) -> Callable[..., tuple[str, str]]:
    """``live_account(role="agent", display_name="…", **create_user_args) -> (username, password)``."""

    def make(role: str = "agent", display_name: str | None = None, **kwargs: Any) -> tuple[str, str]:
        username = f"{role}{next(_account_numbers):03d}_{os.getpid()}"
        password = "pass-" + username
        accounts.create_user(live_db, username=username, password=password, role=role,
                             display_name=display_name, **kwargs)
        return username, password

    return make


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Debian chromium driven by Playwright (skips locally without it; fails in CI).

    Module-scoped: Playwright's sync API runs an event loop in the main thread while it is open,
    which would stop later tests from calling ``asyncio.run``.
    """
    reason = None
    if not CHROMIUM.exists():
        reason = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if reason is not None:
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (separate cookie jars) on the live server; all closed after the test."""
    opened: list[Any] = []

    def make(**kwargs: Any) -> Any:
        options: dict[str, Any] = {"base_url": live_server, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
        options.update(kwargs)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., Any]) -> Any:
    return new_context().new_page()
