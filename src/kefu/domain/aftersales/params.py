"""Policy data: every number and list of POLICY.md as parameters, layered by who sells what.

The defaults come from ``policies/aftersales.toml`` (loaded by an adapter, handed in as a
mapping). Layers apply in this order, later ones winning member by member:

    [defaults] → [seller.<seller type>] → [category.<category>]
               → [seller_category."<seller type>.<category>"] → [product."<sku>"]

so an operator can say "third-party goods get 7-day fault returns" once, "jewelry takes no
no-reason returns" once, and still give one SKU a longer warranty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from kefu.domain.aftersales.model import CONDITION_FLAGS, Category, SellerType


@dataclass(frozen=True, slots=True)
class RuleParams:
    """The effective parameters for one (seller type, category, sku)."""

    #: N1 / N4 windows, days from receipt
    no_reason_return_days: int = 7
    no_reason_exchange_days: int = 7
    #: N2: false for categories that take no no-reason returns
    no_reason_allowed: bool = True
    #: N3: condition flags that make goods "not intact" for this category
    intact_checks: frozenset[str] = frozenset({"seal_broken", "used", "accessories_missing"})
    #: Q1–Q4 windows for fault returns and exchanges, days from receipt
    fault_return_days: int = 15
    fault_exchange_days: int = 15
    #: Q6: a fault return refunding more than this goes to a person
    auto_approve_limit: Decimal = Decimal("5000.00")
    #: Q7: repairs within warranty after which a return or exchange is allowed
    repeated_repair_threshold: int = 2
    #: R1: warranty when the line does not state one
    warranty_days: int = 365
    #: S1: size-exchange service window
    size_exchange_days: int = 90
    #: E1: extra warranty days per extended-warranty service
    extended_warranty_days: tuple[tuple[str, int], ...] = (("extended_warranty_1y", 365),
                                                           ("extended_warranty_2y", 730))
    #: E2: accident protection service, its window and the damage kinds it covers
    accident_protection_service: str = "accident_protection"
    accident_protection_days: int = 365
    accident_damage: frozenset[str] = frozenset({"collision", "accident", "liquid"})
    #: S1 service name
    size_exchange_service: str = "size_exchange_90d"
    #: F3: days a parcel normally takes from payment, for the expected delivery date
    expected_transit_days: int = 3
    #: §7 seller and platform clocks, hours
    seller_review_hours: int = 48
    seller_review_no_reason_hours: int = 24
    collect_hours: int = 48
    #: §7: fresh food is collected the same day (the deadline is that day's 23:59:59)
    collect_same_day: bool = False
    inspect_hours: int = 48
    exchange_ship_hours: int = 48
    refund_days: int = 7
    #: §7: PLUS customers are refunded when the courier picks the goods up
    refund_at_pickup_levels: frozenset[str] = frozenset({"plus"})

    def extension_days(self, services: frozenset[str]) -> int:
        """E1: the longest warranty extension among the line's services (0 when none)."""
        return max((days for name, days in self.extended_warranty_days if name in services), default=0)

    def as_display(self) -> dict[str, Any]:
        """A plain mapping for the admin page and the API (sets sorted, money as strings)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, tuple):
                value = dict(value)
            out[f.name] = value
        return out


_FIELD_TYPES = {f.name: f.type for f in fields(RuleParams)}


def _coerce(name: str, value: Any) -> Any:
    """Turn a TOML value into the parameter's type, refusing what does not fit."""
    kind = _FIELD_TYPES.get(name)
    if kind is None:
        raise ValueError(f"unknown policy parameter {name!r}")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"policy parameter {name!r} must be a non-negative integer")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"policy parameter {name!r} must be true or false")
        return value
    if kind == "Decimal":
        return Decimal(str(value))
    if kind == "str":
        return str(value)
    if kind == "frozenset[str]":
        items = frozenset(str(v) for v in value)
        if name == "intact_checks" and not items <= set(CONDITION_FLAGS):
            raise ValueError(f"intact_checks may only name {', '.join(CONDITION_FLAGS)}")
        return items
    if kind == "tuple[tuple[str, int], ...]":
        return tuple(sorted((str(k), int(v)) for k, v in dict(value).items()))
    raise ValueError(f"policy parameter {name!r} has an unsupported type")


def _layer(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: _coerce(k, v) for k, v in (mapping or {}).items()}


class PolicyBook:
    """Resolves the effective :class:`RuleParams` for a seller type, category and sku."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.defaults = RuleParams(**_layer(data.get("defaults")))
        self.by_seller = {SellerType(k).value: _layer(v) for k, v in data.get("seller", {}).items()}
        self.by_category = {Category(k).value: _layer(v) for k, v in data.get("category", {}).items()}
        self.by_seller_category: dict[tuple[str, str], dict[str, Any]] = {}
        for key, layer in data.get("seller_category", {}).items():
            seller, _, category = key.partition(".")
            self.by_seller_category[(SellerType(seller).value, Category(category).value)] = _layer(layer)
        self.by_product = {str(k): _layer(v) for k, v in data.get("product", {}).items()}
        self.resolve = lru_cache(maxsize=4096)(self._resolve)

    def _resolve(self, seller: str, category: str, sku: str = "") -> RuleParams:
        merged: dict[str, Any] = {}
        merged.update(self.by_seller.get(seller, {}))
        merged.update(self.by_category.get(category, {}))
        merged.update(self.by_seller_category.get((seller, category), {}))
        if sku:
            merged.update(self.by_product.get(sku, {}))
        return replace(self.defaults, **merged) if merged else self.defaults
