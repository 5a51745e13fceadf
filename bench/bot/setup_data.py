"""Set-up for bench/bot: the demo data, a customer's bearer token and the message mix.

    python bench/bot/setup_data.py prepare OUT_DIR   # writes OUT_DIR/token.txt, OUT_DIR/messages.txt
    python bench/bot/setup_data.py count             # bot turns in the database (nothing lost check)
    python bench/bot/setup_data.py settle            # deliver the outbox, run the sweeps until idle

Runs against ``KEFU_DATABASE_URL`` (run.sh points it at a fresh temp SQLite file, already
migrated and loaded with ``kefu demo``). The message mix is what shoppers ask most, grounded in
the demo customer's real orders: where is order X, can it be returned, a product parameter, the
refund, an invoice, price protection, a greeting, plus out-of-scope chat — one per line, "{{order}}"
replaced by one of the customer's order ids.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import func, select

from kefu.adapters.db.tables.auth import User
from kefu.adapters.db.tables.bot import BotTurn
from kefu.adapters.db.tables.catalog import Order
from kefu.config import get_settings
from kefu.domain.actors import Actor, Role
from kefu.services import accounts
from kefu.services.uow import Database

CUSTOMER = "customer"
TEMPLATES = (
    "我的订单{order}到哪了",
    "订单{order}能退货吗",
    "订单{order}这个电池多大",
    "我的退款到哪了",
    "发票怎么开",
    "买了就降价了能价保吗",
    "你好",
    "{order}什么时候到",
    "客服电话多少",
    "今天天气怎么样",
)


def _db() -> Database:
    return Database.from_url(get_settings().database_url)


def prepare(out: Path) -> None:
    db = _db()
    with db.read() as uow:
        user = uow.session.scalars(select(User).where(User.username == CUSTOMER)).one()
        orders = list(uow.session.scalars(select(Order.id).where(Order.customer_id == user.customer_id)
                                          .order_by(Order.paid_at.desc()).limit(5)))
    actor = Actor(user.id, Role.CUSTOMER, customer_id=user.customer_id, display_name=user.display_name)
    out.mkdir(parents=True, exist_ok=True)
    (out / "token.txt").write_text(accounts.issue_api_token(db, actor, "bench-bot"), encoding="utf-8")
    lines = [t.format(order=orders[n % len(orders)]) for n, t in enumerate(TEMPLATES * 2)]
    (out / "messages.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"customer {user.customer_id}: {len(orders)} orders; {len(lines)} messages", file=sys.stderr)


def settle() -> None:
    """Run the app's background round (outbox relay, seller reviews, SLA sweep) until it has
    nothing left: the demo data queues some 600 notices, which the server's background loop
    would otherwise deliver during the first seconds of the measurement."""
    from kefu.web.runtime import Runtime, run_background_once

    settings = get_settings()
    db, runtime = _db(), Runtime.from_settings(settings)
    rounds, delivered = 0, 0
    while True:
        sent, approved = run_background_once(db, runtime)
        rounds, delivered = rounds + 1, delivered + sent
        if not sent and not approved:
            break
    print(f"background settled: {delivered} notices delivered in {rounds} rounds", file=sys.stderr)


def count() -> None:
    with _db().read() as uow:
        print(uow.session.scalar(select(func.count()).select_from(BotTurn)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["prepare"]:
        prepare(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["count"]:
        count()
    elif sys.argv[1:2] == ["settle"]:
        settle()
    else:
        raise SystemExit(__doc__)
