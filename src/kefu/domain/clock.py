"""Time is injected: the domain never reads the wall clock (DESIGN.md convention 3).

Every datetime is timezone-aware, stored in UTC and shown in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real clock, in UTC. Only entrypoints and services receive it; the domain takes ``now``."""
    return datetime.now(UTC)


class FixedClock:
    """A clock that tests set and advance by hand."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now = self.now + timedelta(**kwargs)


def shanghai_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware moment (POLICY.md §1 day counting)."""
    return moment.astimezone(SHANGHAI).date()


def to_utc(moment: datetime) -> datetime:
    """Normalise an aware datetime to UTC (naive values are taken as UTC, as SQLite returns them)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
