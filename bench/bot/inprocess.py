"""In-process latency of one assistant message (issue 5 bench: p99 < 5 ms, database reads for
grounding included): ``kefu.services.assistant.converse`` on the demo data, model loaded.

    python bench/bot/inprocess.py [N] [MESSAGES]   # default 3000 messages; KEFU_DATABASE_URL and the
                                                   # messages file (setup_data.py prepare) as run.sh

Every message is a whole turn: read it (slots, classifier), load the conversation, read the
shopper's order / tracking / applications / catalog / policy decision as the intent needs, write
the session and the turn (one SQLite transaction). Conversations are 10 messages long (then a new
session id), so the memory rules run too. Prints p50 / p90 / p99 / max in ms, overall and per
intent, and the understanding step alone.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import select

from kefu.adapters.db.tables.auth import User
from kefu.adapters.policy_files import load_policy_book
from kefu.bootstrap import assistant_deps, desk_rules
from kefu.config import get_settings
from kefu.domain.actors import Actor, Role
from kefu.domain.bot import understand
from kefu.domain.clock import system_clock
from kefu.services.assistant import converse
from kefu.services.uow import Database

HERE = Path(__file__).resolve().parent


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(n: int, messages_file: Path) -> None:
    settings = get_settings()
    db = Database.from_url(settings.database_url)
    deps = assistant_deps(settings.policy_dir, load_policy_book(settings.policy_dir), desk_rules(settings.policy_dir),
                          system_clock)
    with db.read() as uow:
        user = uow.session.scalars(select(User).where(User.username == "customer")).one()
    actor = Actor(user.id, Role.CUSTOMER, customer_id=user.customer_id, display_name=user.display_name)
    if not messages_file.is_file():
        raise SystemExit(f"{messages_file}: run `python bench/bot/setup_data.py prepare DIR` first")
    messages = [m for m in messages_file.read_text(encoding="utf-8").splitlines() if m]
    for m in messages[:20]:                                   # warm-up: jieba, caches, SQLite pages
        converse(db, actor, "warm", m, deps)
    took: list[float] = []
    by_intent: dict[str, list[float]] = defaultdict(list)
    stamp = int(time.time())
    for i in range(n):
        text = messages[i % len(messages)]
        started = time.perf_counter()
        answer = converse(db, actor, f"bench-{stamp}-{i // 10}", text, deps)
        elapsed = (time.perf_counter() - started) * 1000
        took.append(elapsed)
        by_intent[answer.intent.value].append(elapsed)
    reads: list[float] = []
    for i in range(n):
        started = time.perf_counter()
        understand(messages[i % len(messages)], deps.scorer)
        reads.append((time.perf_counter() - started) * 1000)
    print(f"messages {n}  conversations of 10; database {settings.database_url}")
    print(f"whole turn     p50 {pct(took, 50):.2f} ms  p90 {pct(took, 90):.2f}  p99 {pct(took, 99):.2f}  "
          f"max {max(took):.2f}  mean {statistics.fmean(took):.2f}")
    print(f"understanding  p50 {pct(reads, 50):.2f} ms  p99 {pct(reads, 99):.2f}")
    for intent, values in sorted(by_intent.items()):
        print(f"  {intent:<18} n={len(values):<5} p50 {pct(values, 50):.2f}  p99 {pct(values, 99):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000,
         Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "messages.txt")
