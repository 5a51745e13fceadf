"""Business hours and the holiday calendar: the clocks service-desk targets run on (POLICY.md §10 D1).

D1: the hotline and online chat are open 7×24 (:data:`ALWAYS`); agents' business hours are
09:00–21:00 Asia/Shanghai every day except the holiday calendar (:class:`BusinessCalendar`).
"Business time" is the time the desk is open: 8 business hours from 20:00 end at 16:00 the next
opening day.

Readings that are ours where D1 is silent:

* Opening hours are the half-open interval ``[opens, closes)`` of each open day, in wall-clock
  time of the calendar's zone: 21:00 itself is closed, 09:00 is open.
* A day is open when it is not a holiday and either a make-up working day (调休上班) or one of
  the open weekdays. A date may not be both a holiday and a make-up working day.
* A clock started while the desk is closed begins at the next opening, so adding any duration
  (0 included) to 22:00 counts from 09:00 the next open day. A duration that ends exactly at
  closing time ends at closing time (not at the next opening).

Every input must be timezone-aware (``ValueError`` otherwise); every returned datetime is UTC.
Walking is per open interval (one step per day), never per minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from kefu.domain.clock import SHANGHAI

ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_EVERY_DAY = frozenset(range(7))


def aware_utc(moment: datetime, name: str = "datetime") -> datetime:
    """``moment`` in UTC; a naive datetime is refused (DESIGN.md convention 3)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def _non_negative(duration: timedelta) -> timedelta:
    if duration < ZERO:
        raise ValueError("a duration of business time cannot be negative")
    return duration


class Calendar(Protocol):
    """What an SLA clock needs from a calendar (D1): both :data:`ALWAYS` and :class:`BusinessCalendar`."""

    def is_open(self, at: datetime) -> bool: ...

    def next_open(self, at: datetime) -> datetime: ...

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime: ...

    def business_time_between(self, start: datetime, end: datetime) -> timedelta: ...


@dataclass(frozen=True, slots=True)
class AlwaysOpen:
    """D1: the 7×24 clock of the hotline and online chat; business time is plain elapsed time."""

    def is_open(self, at: datetime) -> bool:
        """D1: always open."""
        aware_utc(at, "at")
        return True

    def next_open(self, at: datetime) -> datetime:
        """D1: ``at`` itself, in UTC."""
        return aware_utc(at, "at")

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """D1: ``start + duration``, in UTC."""
        return aware_utc(start, "start") + _non_negative(duration)

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """D1: ``end - start``, or 0 when ``end`` is not after ``start``."""
        return max(ZERO, aware_utc(end, "end") - aware_utc(start, "start"))


#: D1: the 7×24 calendar (hotline, online chat, app)
ALWAYS = AlwaysOpen()


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """D1: agents' business hours — ``opens``–``closes`` local time on open days, in zone ``tz``.

    ``holidays`` are closed whatever the weekday; ``workdays`` (调休 make-up working days) are
    open whatever the weekday; other days are open when their weekday (Monday = 0) is in
    ``open_weekdays``. The POLICY.md default opens every day, so make-up days only matter to an
    operator who closes weekends.
    """

    tz: tzinfo = SHANGHAI
    opens: time = time(9, 0)
    closes: time = time(21, 0)
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    open_weekdays: frozenset[int] = _EVERY_DAY

    def __post_init__(self) -> None:
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opening and closing times are local wall-clock times without a zone")
        if not self.opens < self.closes:
            raise ValueError("the desk must open before it closes on the same day")
        if not self.open_weekdays <= _EVERY_DAY:
            raise ValueError("open weekdays are numbered 0 (Monday) to 6 (Sunday)")
        if both := self.holidays & self.workdays:
            raise ValueError(f"a date cannot be both a holiday and a working day: {min(both)}")
        if not self.open_weekdays and not self.workdays:
            raise ValueError("the calendar is never open")

    @property
    def day_length(self) -> timedelta:
        """D1: the business time in one open day (12 h for 09:00–21:00): one "business day"."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def is_open_day(self, day: date) -> bool:
        """D1: whether the desk opens at all on local date ``day`` (holidays and 调休 applied)."""
        if day in self.holidays:
            return False
        return day in self.workdays or day.weekday() in self.open_weekdays

    def is_open(self, at: datetime) -> bool:
        """D1: whether the desk is open at the moment ``at``."""
        moment = aware_utc(at, "at")
        day = moment.astimezone(self.tz).date()
        if not self.is_open_day(day):
            return False
        opens, closes = self._interval(day)
        return opens <= moment < closes

    def next_open(self, at: datetime) -> datetime:
        """D1: ``at`` when the desk is open, else the next opening (UTC)."""
        return self.add_business_time(at, ZERO)

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """D1: the moment ``duration`` of business time after ``start`` (UTC).

        The clock begins at the next opening when ``start`` is outside hours and skips nights,
        closed weekdays and holidays a whole day at a time.
        """
        cursor = aware_utc(start, "start")
        remaining = _non_negative(duration)
        day = cursor.astimezone(self.tz).date()
        while True:
            if self.is_open_day(day):
                opens, closes = self._interval(day)
                begin = max(opens, cursor)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day = self._next_day(day)

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """D1: the business time from ``start`` to ``end`` (0 when ``end`` is not after ``start``).

        The inverse of :meth:`add_business_time`: ``business_time_between(s, add_business_time(s, d)) == d``.
        """
        first = aware_utc(start, "start")
        last = aware_utc(end, "end")
        if last <= first:
            return ZERO
        total = ZERO
        day = first.astimezone(self.tz).date()
        last_day = last.astimezone(self.tz).date()
        while day <= last_day:
            if self.is_open_day(day):
                opens, closes = self._interval(day)
                overlap = min(closes, last) - max(opens, first)
                if overlap > ZERO:
                    total += overlap
            day += _ONE_DAY
        return total

    def _interval(self, day: date) -> tuple[datetime, datetime]:
        """The opening interval of local date ``day`` in UTC (a DST day gets its true length)."""
        opens = datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(UTC)
        closes = datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(UTC)
        return opens, closes

    def _next_day(self, day: date) -> date:
        if not self.open_weekdays and day >= max(self.workdays):
            raise ValueError(f"the calendar never opens after {day}")
        return day + _ONE_DAY
