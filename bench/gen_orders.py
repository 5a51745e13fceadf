"""Generate a large, valid order file for the import benchmark.

    .venv/bin/python bench/gen_orders.py 100000 var/orders-100k.json    # JSON array
    .venv/bin/python bench/gen_orders.py 100000 var/orders-100k.jsonl   # JSON Lines
    .venv/bin/python bench/gen_orders.py 100000 var/orders-100k.csv     # CSV, one row per line

The output is written as it is generated (constant memory) and is deterministic for a given
``--seed``: running the generator twice gives the same file, so importing the second copy must
report every order unchanged. Orders have 1–3 lines, split payments, gifts on some lines and a
delivery with tracking events for most; customers and sellers carry the fields needed to create
them on first sight.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from kefu.adapters.order_files import CSV_COLUMNS

SELLERS = [
    ("S0001", "京东自营", "self_operated"),
    ("S0002", "华为京东自营旗舰店", "self_operated"),
    ("S0101", "优衣库官方旗舰店", "third_party"),
    ("S0102", "三只松鼠旗舰店", "third_party"),
    ("S0103", "完美日记官方店", "third_party"),
    ("S0104", "周大福珠宝旗舰店", "third_party"),
]
PRODUCTS = [
    ("100012043978", "华为 Mate 60 Pro 12GB+512GB 雅川青", "phone", "6999.00", 365,
     ["extended_warranty_1y"], 30),
    ("100035246702", "联想 ThinkPad X1 Carbon 2024 14英寸", "laptop", "12999.00", 730, [], 30),
    ("100021365891", "美的 1.5匹 新一级能效 变频空调", "appliance", "2899.00", 2190,
     ["accident_protection"], 15),
    ("100009464799", "优衣库 男装 摇粒绒拉链茄克", "clothing", "199.00", 0, ["size_exchange_90d"], 0),
    ("100018761109", "耐克 Air Zoom Pegasus 40 跑步鞋", "shoes", "899.00", 0, ["size_exchange_90d"], 0),
    ("100005585483", "三只松鼠 每日坚果 750g/30袋", "food", "129.90", 0, [], 0),
    ("100027788330", "帮宝适 一级帮 拉拉裤 XL 64片", "diaper", "239.00", 0, [], 7),
    ("100011702580", "完美日记 小细跟口红 3.5g", "cosmetics", "79.90", 0, [], 0),
    ("100020987654", "周大福 足金黄金转运珠手绳", "gold", "1588.00", 0, [], 0),
    ("100013248921", "《三体》全集 刘慈欣", "book", "93.00", 0, [], 0),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明"]
CITIES = ["北京市朝阳区", "上海市浦东新区", "广州市天河区", "深圳市南山区", "成都市武侯区", "杭州市西湖区"]
CARRIERS = {"self_operated": ("platform", "京东物流"), "third_party": ("third_party", "顺丰速运")}
CENT = Decimal("0.01")


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def orders(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    customers = max(1, count // 5)
    for n in range(count):
        cid = f"C{rng.randrange(customers):06d}"
        seller_id, seller_name, seller_type = rng.choice(SELLERS)
        paid_at = start + timedelta(seconds=rng.randrange(60 * 86400))
        lines = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            sku, name, category, price, warranty, services, protection = rng.choice(PRODUCTS)
            quantity = rng.choice((1, 1, 1, 2))
            gross = Decimal(price) * quantity
            coupon = (gross * Decimal(rng.choice((0, 0, 5, 10))) / 100).quantize(CENT)
            line: dict[str, Any] = {
                "sku": sku, "name": name, "category": category, "quantity": quantity,
                "unit_price": price, "paid_amount": str(gross - coupon), "warranty_days": warranty,
                "services": services, "price_protection_days": protection,
                "non_returnable_confirmed": False, "gifts": []}
            if category in ("phone", "laptop") and rng.random() < 0.5:
                line["gifts"] = [{"name": "快充充电头", "value": "99.00"}]
            lines.append(line)
        total = sum((Decimal(ln["paid_amount"]) for ln in lines), Decimal("0.00"))
        card = (total * Decimal(rng.choice((100, 100, 80, 50))) / 100).quantize(CENT)
        payments = [{"method": rng.choice(("card", "wechat", "alipay")), "amount": str(card)}]
        if total - card:
            payments.append({"method": "balance", "amount": str(total - card)})
        carrier, carrier_name = CARRIERS[seller_type]
        delivery = None
        status = "paid"
        if rng.random() < 0.9:
            shipped = paid_at + timedelta(hours=rng.randrange(2, 30))
            signed = shipped + timedelta(hours=rng.randrange(12, 72))
            events = [{"at": _moment(shipped), "location": "仓库", "description": "您的订单已出库"},
                      {"at": _moment(signed), "location": rng.choice(CITIES)[:3], "description": "已签收"}]
            delivery = {"carrier": carrier, "carrier_name": carrier_name,
                        "tracking_no": f"JD{n:012d}", "status": "signed", "shipped_at": _moment(shipped),
                        "signed_at": _moment(signed) if carrier == "platform" else None,
                        "arrived_at": _moment(signed) if carrier == "third_party" else None,
                        "events": events}
            status = "delivered"
        yield {
            "id": f"O{seed:02d}{n:010d}",
            "customer": {"id": cid, "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                         "phone": f"13{rng.randrange(10**9):09d}",
                         "level": "plus" if int(cid[1:]) % 7 == 0 else "regular"},
            "seller": {"id": seller_id, "name": seller_name, "type": seller_type},
            "status": status, "paid_at": _moment(paid_at), "shipping_insurance": rng.random() < 0.3,
            "address": rng.choice(CITIES) + f"某某路{rng.randrange(1, 999)}号",
            "lines": lines, "payments": payments, "delivery": delivery,
        }


def _csv_rows(order: dict[str, Any]) -> Iterator[dict[str, Any]]:
    delivery = order["delivery"] or {}
    head = {
        "order_id": order["id"], "customer_id": order["customer"]["id"],
        "customer_name": order["customer"]["name"], "customer_phone": order["customer"]["phone"],
        "customer_level": order["customer"]["level"], "seller_id": order["seller"]["id"],
        "seller_name": order["seller"]["name"], "seller_type": order["seller"]["type"],
        "status": order["status"], "paid_at": order["paid_at"],
        "shipping_insurance": "true" if order["shipping_insurance"] else "false",
        "address": order["address"],
        "payments": ";".join(f"{p['method']}:{p['amount']}" for p in order["payments"]),
        "carrier": delivery.get("carrier"), "carrier_name": delivery.get("carrier_name"),
        "tracking_no": delivery.get("tracking_no"), "delivery_status": delivery.get("status"),
        "shipped_at": delivery.get("shipped_at"), "signed_at": delivery.get("signed_at"),
        "arrived_at": delivery.get("arrived_at"),
        "tracking_events": ";".join(f"{e['at']}|{e['location']}|{e['description']}"
                                    for e in delivery.get("events", [])),
    }
    for line in order["lines"]:
        yield {**head, **{k: v for k, v in line.items() if k not in ("services", "gifts")},
               "services": "|".join(line["services"]),
               "non_returnable_confirmed": "false",
               "gifts": ";".join(f"{g['name']}:{g['value']}" for g in line["gifts"])}


def write(path: Path, count: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    with path.open("w", encoding="utf-8", newline="") as out:
        if suffix == ".csv":
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for order in orders(count, seed):
                writer.writerows(_csv_rows(order))
        elif suffix in (".jsonl", ".ndjson"):
            for order in orders(count, seed):
                out.write(json.dumps(order, ensure_ascii=False) + "\n")
        else:
            out.write("[\n")
            for n, order in enumerate(orders(count, seed)):
                out.write((",\n" if n else "") + json.dumps(order, ensure_ascii=False))
            out.write("\n]\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("path", type=Path, help=".json (array), .jsonl or .csv")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write(args.path, args.count, args.seed)


if __name__ == "__main__":
    main()
