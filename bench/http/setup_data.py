"""Data for the HTTP benchmark: N eligible orders of one customer, a customer account, a token.

    .venv/bin/python bench/http/setup_data.py orders N FILE.jsonl   # write the orders (JSON Lines)
    .venv/bin/python bench/http/setup_data.py account               # prints a bearer token

``orders``: order ids ``B0000000000`` .. ``B{N-1:010d}`` for customer ``CBENCH`` at the
self-operated seller ``S0001``; one clothing line (quantity 1), paid 2 days ago and signed
1 day ago, so a no-reason return is eligible for every order (the walker in
bench/lua/submit_walk.lua sends each order once). Import them with ``kefu import orders``.
``account``: creates user ``bench_customer`` bound to ``CBENCH`` (after the import) and issues an
API token with ``accounts.issue_api_token``; the database is $KEFU_DATABASE_URL.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta

CUSTOMER = "CBENCH"
USERNAME = "bench_customer"
PASSWORD = "bench-password-123"


def write_orders(n: int, path: str) -> None:
    now = datetime.now(UTC)
    paid = (now - timedelta(days=2)).isoformat()
    shipped = (now - timedelta(days=1, hours=20)).isoformat()
    signed = (now - timedelta(days=1)).isoformat()
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            order = {
                "id": f"B{i:010d}",
                "customer": {"id": CUSTOMER, "name": "压测顾客", "phone": "13800000000", "level": "regular"},
                "seller": {"id": "S0001", "name": "京东自营", "type": "self_operated"},
                "status": "delivered", "paid_at": paid, "shipping_insurance": False,
                "address": "北京市朝阳区某某路1号",
                "lines": [{"sku": "100009464799", "name": "优衣库 男装 摇粒绒拉链茄克", "category": "clothing",
                           "quantity": 1, "unit_price": "199.00", "paid_amount": "199.00",
                           "warranty_days": 0, "services": [], "price_protection_days": 0,
                           "non_returnable_confirmed": False, "gifts": []}],
                "payments": [{"method": "wechat", "amount": "199.00"}],
                "delivery": {"carrier": "platform", "carrier_name": "京东物流", "tracking_no": f"JDB{i:010d}",
                             "status": "signed", "shipped_at": shipped, "signed_at": signed,
                             "arrived_at": None, "events": []},
            }
            out.write(json.dumps(order, ensure_ascii=False) + "\n")


def account() -> None:
    from kefu.config import get_settings
    from kefu.services import accounts
    from kefu.services.uow import Database

    db = Database.from_url(get_settings().database_url)
    accounts.create_user(db, username=USERNAME, password=PASSWORD, role="customer", customer_id=CUSTOMER)
    actor = accounts.authenticate(db, USERNAME, PASSWORD)
    print(accounts.issue_api_token(db, actor, "bench"))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "orders":
        write_orders(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 2 and sys.argv[1] == "account":
        account()
    else:
        sys.exit(__doc__)
