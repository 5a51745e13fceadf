"""Builders of raw order records (the import's JSON shape) for import and repository tests."""

from __future__ import annotations

import copy
from typing import Any

PAID_AT = "2024-05-01T10:00:00+08:00"
SIGNED_AT = "2024-05-03T15:30:00+08:00"


def line(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sku": "100012043978", "name": "华为 Mate 60 Pro 12GB+512GB 雅川青", "category": "phone",
        "quantity": 1, "unit_price": "6999.00", "paid_amount": "6799.00", "warranty_days": 365,
        "services": ["extended_warranty_1y"], "price_protection_days": 30,
        "non_returnable_confirmed": False, "gifts": [{"name": "快充充电头", "value": "99.00"}],
    }
    base.update(overrides)
    return base


def second_line(**overrides: Any) -> dict[str, Any]:
    return line(**{"sku": "100009464799", "name": "优衣库 男装 摇粒绒拉链茄克", "category": "clothing",
                   "quantity": 2, "unit_price": "199.00", "paid_amount": "378.10", "warranty_days": None,
                   "services": ["size_exchange_90d"], "price_protection_days": 0, "gifts": [],
                   **overrides})


def order(order_id: str = "O202405010001", **overrides: Any) -> dict[str, Any]:
    """A complete, valid order: two lines (7177.10 paid), split payment, signed delivery."""
    base: dict[str, Any] = {
        "id": order_id,
        "customer": {"id": "C00001", "name": "张三", "phone": "13800001234", "level": "plus"},
        "seller": {"id": "S0001", "name": "京东自营", "type": "self_operated"},
        "status": "delivered",
        "paid_at": PAID_AT,
        "shipping_insurance": True,
        "address": "北京市朝阳区建国路88号SOHO现代城1号楼",
        "lines": [line(), second_line()],
        "payments": [{"method": "card", "amount": "7000.00"}, {"method": "balance", "amount": "177.10"}],
        "delivery": {
            "carrier": "platform", "carrier_name": "京东物流", "tracking_no": "JD0012345678",
            "status": "signed", "shipped_at": "2024-05-02T08:00:00+08:00", "signed_at": SIGNED_AT,
            "events": [
                {"at": "2024-05-02T08:00:00+08:00", "location": "北京", "description": "您的订单已出库"},
                {"at": SIGNED_AT, "location": "北京朝阳", "description": "已签收，签收人：本人"},
            ],
        },
    }
    result = copy.deepcopy(base)
    result.update(overrides)
    return result
