"""Scale-out (issue 4 §5): two app processes on one PostgreSQL and one Redis, both started by the
test run — a reply posted through one process arrives on an SSE stream served by the other; and
two workers running the desk sweep at once mark each breach once."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kefu.adapters.db.tables.service_desk import TicketEvent, TicketSla
from kefu.domain.actors import Actor
from kefu.domain.clock import FixedClock
from kefu.domain.service.tickets import Category
from kefu.services import accounts
from kefu.services.tickets import TicketRequest, open_ticket
from kefu.services.uow import Database
from tests.integration.desk_factories import RULES, seed_desk
from tests.ports import free_port

from .conftest import kefu_command

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[Database]:
    database = Database.from_url(postgres_url)
    yield database
    database.dispose()


def _env(postgres_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "KEFU_ENV": "test", "KEFU_DATABASE_URL": postgres_url, "KEFU_REDIS_URL": redis_url,
            "KEFU_STORAGE_DIR": str(tmp_path / "uploads"), "KEFU_OUTBOX_FILE": str(tmp_path / "outbox.log")}


class Processes:
    def __init__(self) -> None:
        self.running: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen([*kefu_command(), *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        self.running.append((process, log))
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for _, log in self.running)

    def stop(self) -> None:
        for process, _ in self.running:
            process.terminate()
        for process, _ in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    yield procs
    procs.stop()


def serve(processes: Processes, env: dict[str, str], tmp_path: Path, name: str) -> str:
    port = free_port()
    process = processes.start(["serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"], env,
                              tmp_path / f"{name}.log")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{processes.logs()}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return base
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{processes.logs()}") from None
        time.sleep(0.1)


def token_for(db: Database, actor: Actor) -> str:
    return accounts.issue_api_token(db, actor, "scale-out test")


def read_events(url: str, token: str, out: queue.Queue[tuple[str, str]], stop: threading.Event) -> None:
    """Follow an SSE stream, putting (event, data) pairs on ``out`` until ``stop`` is set (a
    stream the server closes ends as a ``closed`` event)."""
    try:
        with httpx.Client(timeout=httpx.Timeout(30, read=30)) as client, \
                client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
            if response.status_code != 200:
                out.put(("error", f"{response.status_code} {response.read()!r}"))
                return
            event = "message"
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    out.put((event, line.split(":", 1)[1].strip()))
                    event = "message"
    except httpx.TransportError as exc:
        out.put(("closed", str(exc)))


def next_event(events: queue.Queue[tuple[str, str]], wanted: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event, data = events.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if event == "error":
            raise AssertionError(data)
        if event == wanted:
            return data
    raise AssertionError(f"no {wanted!r} event within {timeout}s")


def test_a_reply_through_one_process_reaches_a_stream_served_by_the_other(
        pg_db, postgres_url, redis_url, tmp_path, processes):
    people = seed_desk(pg_db)
    env = _env(postgres_url, redis_url, tmp_path)
    first, second = serve(processes, env, tmp_path, "app-1"), serve(processes, env, tmp_path, "app-2")
    customer_token, agent_token = token_for(pg_db, people.c1), token_for(pg_db, people.agent1)

    opened = httpx.post(f"{first}/api/v1/tickets", json={"subject": "发票", "body": "怎么开发票"},
                        headers={"Authorization": f"Bearer {customer_token}"}, timeout=10)
    assert opened.status_code == 201, opened.text
    number = opened.json()["number"]

    events: queue.Queue[tuple[str, str]] = queue.Queue()
    stop = threading.Event()
    reader = threading.Thread(target=read_events, daemon=True,
                              args=(f"{second}/api/v1/tickets/{number}/events", customer_token, events, stop))
    reader.start()
    next_event(events, "ready")

    note = httpx.post(f"{first}/api/v1/tickets/{number}/messages", json={"body": "内部：查一下", "internal": True},
                      headers={"Authorization": f"Bearer {agent_token}"}, timeout=10)
    assert note.status_code == 201, note.text
    reply = httpx.post(f"{first}/api/v1/tickets/{number}/messages", json={"body": "您好，发票在订单页申请"},
                       headers={"Authorization": f"Bearer {agent_token}"}, timeout=10)
    assert reply.status_code == 201, reply.text

    message = json.loads(next_event(events, "message"))
    # the customer's stream skipped the internal note: the first message it carries is the reply
    assert message["body"] == "您好，发票在订单页申请" and message["visibility"] == "public"
    assert message["id"] == reply.json()["id"]
    stop.set()


def test_two_workers_sweeping_at_once_mark_each_breach_once(pg_db, postgres_url, redis_url, tmp_path, processes):
    people = seed_desk(pg_db)
    past = FixedClock(datetime.now(UTC) - timedelta(hours=1))
    numbers = [open_ticket(pg_db, people.c1, TicketRequest(subject=f"咨询 {i}", body="在吗",
                                                            category=Category.PRODUCT), RULES, past).number
               for i in range(30)]
    with pg_db.read() as uow:
        clocks = uow.session.scalar(select(func.count()).select_from(TicketSla)
                                    .where(TicketSla.metric == "first_response"))
    assert clocks == len(numbers)

    env = _env(postgres_url, redis_url, tmp_path)
    for n in (1, 2):
        processes.start(["worker", "--threads", "2", "--interval", "0.3"], env, tmp_path / f"worker-{n}.log")
    # besides the tickers' rounds, push extra sweep messages so both workers run it at the same time
    from kefu.config import Settings
    from kefu.worker import declare_tasks

    tasks = declare_tasks(Settings(database_url=postgres_url, redis_url=redis_url))
    for _ in range(6):
        tasks.sweep_desk.send()

    deadline = time.monotonic() + 60
    while True:
        with pg_db.read() as uow:
            s = uow.session
            breached = s.scalar(select(func.count()).select_from(TicketSla).where(
                TicketSla.metric == "first_response", TicketSla.breached_at.is_not(None)))
        if breached == len(numbers):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{breached} of {len(numbers)} breached after 60 s\n{processes.logs()}")
        time.sleep(0.3)
    time.sleep(2)                                   # let any racing sweep finish
    with pg_db.read() as uow:
        s = uow.session
        rows = s.execute(select(TicketEvent.ticket_id, func.count()).where(TicketEvent.action == "sla_breach")
                         .group_by(TicketEvent.ticket_id)).all()
        per_ticket = dict(rows)
        clocks_breached = s.scalar(select(func.count()).select_from(TicketSla)
                                   .where(TicketSla.breached_at.is_not(None)))
    # each ticket has two clocks that may have breached (first response after 60 s; resolution not yet)
    assert clocks_breached == len(numbers)
    assert len(per_ticket) == len(numbers) and set(per_ticket.values()) == {1}
