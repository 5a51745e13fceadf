"""Money: CNY as ``Decimal`` with two places, rounded ROUND_HALF_UP (POLICY.md §1). Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_cents(value: Decimal) -> Decimal:
    """Round to cents, half up: 37.425 → 37.43."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """Render an amount the way the API and CLI print it: ``"3999.00"``."""
    return str(to_cents(value))


def split_proportionally(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split ``total`` across ``weights`` in proportion, to the cent, summing exactly to ``total``.

    Used for refunds to split payments (POLICY.md §7 refund route): each method gets its share
    rounded half up; the last non-zero share absorbs the rounding remainder so nothing is lost
    or invented.
    """
    total = to_cents(total)
    weight_sum = sum(weights, ZERO)
    if not weights:
        return []
    if weight_sum <= 0:
        return [total] + [ZERO] * (len(weights) - 1)
    shares = [to_cents(total * w / weight_sum) for w in weights]
    remainder = total - sum(shares, ZERO)
    if remainder:
        last = max(i for i, w in enumerate(weights) if w > 0)
        shares[last] += remainder
    return shares
