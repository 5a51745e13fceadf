"""D1 business hours and holidays: the clock SLA targets run on, as parametrised tables and properties."""

from __future__ import annotations

import time as wall
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.domain.clock import SHANGHAI
from kefu.domain.service.calendar import ALWAYS, BusinessCalendar


def days(first: str, last: str) -> frozenset[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return frozenset(start + timedelta(days=n) for n in range((end - start).days + 1))


def sh(text: str) -> datetime:
    """A wall-clock moment in Asia/Shanghai."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


H = timedelta(hours=1)
S60 = timedelta(seconds=60)
HOLIDAYS = days("2026-10-01", "2026-10-07") | days("2026-02-15", "2026-02-23")
#: POLICY.md D1: 09:00–21:00 every day except the holidays
CAL = BusinessCalendar(holidays=HOLIDAYS, workdays=frozenset({date(2026, 9, 20), date(2026, 10, 10)}))
#: an operator who closes weekends: 调休 make-up days then open a Saturday or Sunday
WEEKDAYS = BusinessCalendar(holidays=HOLIDAYS, workdays=frozenset({date(2026, 10, 10)}),
                            open_weekdays=frozenset(range(5)))


# (label, calendar, start, duration, expected end) — 2026-03-05 is a Thursday
ADD = [
    ("inside hours, 60 s", CAL, "2026-03-05 10:00", S60, "2026-03-05 10:01"),
    ("inside hours, 8 h", CAL, "2026-03-05 10:00", 8 * H, "2026-03-05 18:00"),
    ("inside hours, 0", CAL, "2026-03-05 10:00", timedelta(0), "2026-03-05 10:00"),
    ("fills the day: ends at close, not next opening", CAL, "2026-03-05 09:00", 12 * H, "2026-03-05 21:00"),
    ("just before close spills overnight", CAL, "2026-03-05 20:30", 8 * H, "2026-03-06 16:30"),
    ("just before close, 60 s", CAL, "2026-03-05 20:59:30", S60, "2026-03-06 09:00:30"),
    ("24 h = two business days", CAL, "2026-03-05 10:00", 24 * H, "2026-03-07 10:00"),
    ("2 days of business time = four opening days", CAL, "2026-03-05 10:00", timedelta(days=2),
     "2026-03-09 10:00"),
    ("start at 21:00 exactly: next opening", CAL, "2026-03-05 21:00", S60, "2026-03-06 09:01"),
    ("start at 21:00 exactly, 0", CAL, "2026-03-05 21:00", timedelta(0), "2026-03-06 09:00"),
    ("start at 21:00 exactly, 8 h", CAL, "2026-03-05 21:00", 8 * H, "2026-03-06 17:00"),
    ("start at 08:59", CAL, "2026-03-05 08:59", S60, "2026-03-05 09:01"),
    ("start at 08:59, 0", CAL, "2026-03-05 08:59", timedelta(0), "2026-03-05 09:00"),
    ("start at 08:59, 24 h", CAL, "2026-03-05 08:59", 24 * H, "2026-03-06 21:00"),
    ("start after midnight", CAL, "2026-03-06 02:00", 8 * H, "2026-03-06 17:00"),
    ("weekend open by default", CAL, "2026-03-07 10:00", 8 * H, "2026-03-07 18:00"),
    ("on a holiday: after the holiday week", CAL, "2026-10-03 10:00", S60, "2026-10-08 09:01"),
    ("on a holiday, 0", CAL, "2026-10-03 10:00", timedelta(0), "2026-10-08 09:00"),
    ("before a holiday week, 8 h", CAL, "2026-09-30 20:00", 8 * H, "2026-10-08 16:00"),
    ("before a holiday week, 24 h", CAL, "2026-09-30 15:00", 24 * H, "2026-10-09 15:00"),
    ("before Spring Festival, 2 days", CAL, "2026-02-14 09:00", timedelta(days=2), "2026-02-26 21:00"),
    ("weekdays only: Friday evening to Monday", WEEKDAYS, "2026-03-06 20:00", 2 * H, "2026-03-09 10:00"),
    ("weekdays only: start on Sunday", WEEKDAYS, "2026-03-08 11:00", S60, "2026-03-09 09:01"),
    ("make-up working day (Sat 10-10) is open", WEEKDAYS, "2026-10-10 10:00", S60, "2026-10-10 10:01"),
    ("spills into the make-up day", WEEKDAYS, "2026-10-09 20:00", 2 * H, "2026-10-10 10:00"),
    ("from the make-up day over Sunday", WEEKDAYS, "2026-10-10 20:00", 2 * H, "2026-10-12 10:00"),
    ("holiday week, make-up Saturday, closed Sunday", WEEKDAYS, "2026-09-30 20:00", 40 * H,
     "2026-10-12 12:00"),
]


@pytest.mark.parametrize(("calendar", "start", "duration", "expected"), [row[1:] for row in ADD],
                         ids=[row[0] for row in ADD])
def test_add_business_time(calendar: BusinessCalendar, start: str, duration: timedelta, expected: str) -> None:
    end = calendar.add_business_time(sh(start), duration)
    assert end == sh(expected)
    assert end.tzinfo is UTC
    assert calendar.business_time_between(sh(start), end) == duration


def test_input_in_any_zone_gives_the_same_utc_answer() -> None:
    start = datetime(2026, 3, 5, 12, 30, tzinfo=UTC)  # 20:30 in Shanghai
    assert CAL.add_business_time(start, 8 * H) == sh("2026-03-06 16:30")
    assert CAL.add_business_time(start.astimezone(ZoneInfo("America/New_York")), 8 * H) == sh("2026-03-06 16:30")


# (label, calendar, moment, open)
IS_OPEN = [
    ("08:59:59", CAL, "2026-03-05 08:59:59", False),
    ("09:00 opens", CAL, "2026-03-05 09:00", True),
    ("20:59:59", CAL, "2026-03-05 20:59:59", True),
    ("21:00 closed", CAL, "2026-03-05 21:00", False),
    ("midnight", CAL, "2026-03-06 00:00", False),
    ("Sunday open by default", CAL, "2026-03-08 12:00", True),
    ("holiday", CAL, "2026-10-01 12:00", False),
    ("Spring Festival", CAL, "2026-02-17 12:00", False),
    ("weekdays only: Sunday", WEEKDAYS, "2026-03-08 12:00", False),
    ("weekdays only: make-up Saturday", WEEKDAYS, "2026-10-10 12:00", True),
    ("weekdays only: holiday Monday", WEEKDAYS, "2026-10-05 12:00", False),
]


@pytest.mark.parametrize(("calendar", "moment", "expected"), [row[1:] for row in IS_OPEN],
                         ids=[row[0] for row in IS_OPEN])
def test_is_open(calendar: BusinessCalendar, moment: str, expected: bool) -> None:
    assert calendar.is_open(sh(moment)) is expected


def test_next_open() -> None:
    assert CAL.next_open(sh("2026-03-05 10:00")) == sh("2026-03-05 10:00")
    assert CAL.next_open(sh("2026-03-05 21:00")) == sh("2026-03-06 09:00")
    assert CAL.next_open(sh("2026-09-30 22:00")) == sh("2026-10-08 09:00")


# (label, start, end, business time)
BETWEEN = [
    ("same day", "2026-03-05 10:00", "2026-03-05 12:00", 2 * H),
    ("overnight", "2026-03-05 20:00", "2026-03-06 10:00", 2 * H),
    ("both outside hours, same night", "2026-03-05 21:30", "2026-03-06 08:30", timedelta(0)),
    ("whole day", "2026-03-05 00:00", "2026-03-06 00:00", 12 * H),
    ("a week", "2026-03-02 00:00", "2026-03-09 00:00", 7 * 12 * H),
    ("over the holiday week", "2026-09-30 20:00", "2026-10-08 10:00", 2 * H),
    ("inside the holiday week", "2026-10-02 10:00", "2026-10-06 10:00", timedelta(0)),
    ("end before start", "2026-03-05 12:00", "2026-03-05 10:00", timedelta(0)),
    ("end equals start", "2026-03-05 12:00", "2026-03-05 12:00", timedelta(0)),
]


@pytest.mark.parametrize(("start", "end", "expected"), [row[1:] for row in BETWEEN], ids=[row[0] for row in BETWEEN])
def test_business_time_between(start: str, end: str, expected: timedelta) -> None:
    assert CAL.business_time_between(sh(start), sh(end)) == expected


def test_the_always_calendar_is_plain_arithmetic() -> None:
    night = sh("2026-10-03 03:00")  # a holiday night
    assert ALWAYS.is_open(night)
    assert ALWAYS.next_open(night) == night
    assert ALWAYS.add_business_time(night, S60) == sh("2026-10-03 03:01")
    assert ALWAYS.add_business_time(night, S60).tzinfo is UTC
    assert ALWAYS.business_time_between(night, sh("2026-10-04 03:00")) == timedelta(days=1)
    assert ALWAYS.business_time_between(sh("2026-10-04 03:00"), night) == timedelta(0)


NAIVE = datetime(2026, 3, 5, 10, 0)
AWARE = sh("2026-03-05 10:00")


@pytest.mark.parametrize("calendar", [CAL, ALWAYS], ids=["business", "always"])
def test_naive_datetimes_are_refused(calendar: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.is_open(NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.add_business_time(NAIVE, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.business_time_between(NAIVE, AWARE)
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar.business_time_between(AWARE, NAIVE)


@pytest.mark.parametrize("calendar", [CAL, ALWAYS], ids=["business", "always"])
def test_negative_durations_are_refused(calendar: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        calendar.add_business_time(AWARE, -H)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"opens": time(21), "closes": time(9)}, "open before it closes"),
    ({"opens": time(9), "closes": time(9)}, "open before it closes"),
    ({"holidays": frozenset({date(2026, 10, 1)}), "workdays": frozenset({date(2026, 10, 1)})}, "both"),
    ({"open_weekdays": frozenset({7})}, "weekdays"),
    ({"open_weekdays": frozenset()}, "never open"),
])
def test_calendar_invariants(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_a_calendar_open_only_on_listed_days_runs_out() -> None:
    only = BusinessCalendar(open_weekdays=frozenset(), workdays=frozenset({date(2026, 3, 5)}))
    assert only.add_business_time(sh("2026-03-05 10:00"), H) == sh("2026-03-05 11:00")
    with pytest.raises(ValueError, match="never opens"):
        only.add_business_time(sh("2026-03-05 10:00"), 13 * H)


def test_business_day_length() -> None:
    assert CAL.day_length == 12 * H
    assert BusinessCalendar(opens=time(8, 30), closes=time(22)).day_length == timedelta(hours=13, minutes=30)


def test_long_durations_skip_whole_days() -> None:
    start = sh("2026-01-01 10:00")
    began = wall.perf_counter()
    end = CAL.add_business_time(start, 1000 * 12 * H)  # a thousand business days
    back = CAL.business_time_between(start, end)
    assert wall.perf_counter() - began < 0.5
    assert back == 1000 * 12 * H
    assert end.astimezone(SHANGHAI).time() == time(10)


# --- properties ------------------------------------------------------------------------------

MOMENTS = st.datetimes(min_value=datetime(2025, 12, 20), max_value=datetime(2027, 1, 10),
                       timezones=st.sampled_from([SHANGHAI, UTC]))
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
BERLIN = BusinessCalendar(tz=ZoneInfo("Europe/Berlin"), opens=time(1, 30), closes=time(23),
                          holidays=HOLIDAYS, open_weekdays=frozenset(range(5)))


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(2025, 12, 20), max_value=date(2027, 1, 10)),
       offset=st.timedeltas(min_value=timedelta(0), max_value=12 * H - timedelta(microseconds=1)),
       duration=DURATIONS)
def test_between_inverts_add_from_inside_hours(day: date, offset: timedelta, duration: timedelta) -> None:
    start = datetime.combine(day, time(9), tzinfo=SHANGHAI) + offset
    end = CAL.add_business_time(start, duration)
    assert CAL.business_time_between(start, end) == duration
    if CAL.is_open(start):
        assert end - start >= duration  # business time never runs faster than the wall clock


@settings(max_examples=300, deadline=None)
@given(start=MOMENTS, duration=DURATIONS,
       calendar=st.sampled_from([CAL, WEEKDAYS, BERLIN]))
def test_between_inverts_add_from_anywhere(start: datetime, duration: timedelta, calendar: BusinessCalendar) -> None:
    end = calendar.add_business_time(start, duration)
    assert calendar.business_time_between(start, end) == duration
    # the end is inside hours, or exactly at a closing time
    closing = end.astimezone(calendar.tz).timetz().replace(tzinfo=None) == calendar.closes
    assert calendar.is_open(end) or closing


@settings(max_examples=200, deadline=None)
@given(start=MOMENTS, span=DURATIONS)
def test_add_of_between_never_passes_the_end(start: datetime, span: timedelta) -> None:
    end = start + span
    assert CAL.add_business_time(start, CAL.business_time_between(start, end)) <= max(end, CAL.next_open(start))
