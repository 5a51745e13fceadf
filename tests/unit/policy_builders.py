"""Builders for after-sales cases in the conformance format, for table-driven rule tests."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "id": "t",
    "now": "2026-03-10T10:00:00+08:00",
    "customer": {"level": "regular"},
    "order": {
        "id": "O1",
        "seller": "self_operated",
        "paid_at": "2026-03-01T09:00:00+08:00",
        "payments": [{"method": "card", "amount": "1000.00"}],
        "shipping_insurance": False,
        "delivery": {"carrier": "platform", "status": "signed",
                     "signed_at": "2026-03-05T15:20:00+08:00", "arrived_at": None},
        "lines": [{
            "sku": "SKU-1", "name": "测试商品", "category": "home", "quantity": 2,
            "unit_price": "500.00", "paid_amount": "1000.00", "warranty_days": 365,
            "services": [], "price_protection_days": 0, "non_returnable_confirmed": False,
            "gifts": [],
        }],
    },
    "request": {"type": "return", "reason": "no_reason", "line": 0, "quantity": 1,
                "condition": {}, "damage": {}, "evidence": []},
}


def case(**changes: Any) -> dict[str, Any]:
    """A copy of BASE with dotted-path changes: ``case(**{"order.seller": "third_party"})``."""
    out = copy.deepcopy(BASE)
    for path, value in changes.items():
        target: Any = out
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        last = parts[-1]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is _DELETE:
            target.pop(last, None)
        else:
            target[last] = value
    return out


_DELETE = object()
DELETE = _DELETE
