"""POLICY.md §10 service-desk rules D1–D10, as parametrised tables over an in-memory policy.

Only the last tests read a file: the shipped ``policies/service_desk.toml``, value by value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from kefu.adapters.service_desk_files import load_sla_policy
from kefu.config import PROJECT_ROOT
from kefu.domain.clock import SHANGHAI
from kefu.domain.service.calendar import ALWAYS, BusinessCalendar
from kefu.domain.service.sla import (
    Approver,
    CalendarKind,
    CompensationLimits,
    Metric,
    SatisfactionBands,
    SellerBand,
    SlaPolicy,
    SlaState,
    SurveyScore,
    Target,
    compensation_approver,
    compute_due,
    extend_for_pause,
    may_take_complaint,
    parse_duration,
    reopen_allowed,
    satisfaction_rate,
    seller_satisfaction_band,
    sla_state,
    survey_open,
    ticket_priority,
    warn_at,
)

H = timedelta(hours=1)
S = timedelta(seconds=1)
BUSINESS, ALWAYS_KIND = CalendarKind.BUSINESS, CalendarKind.ALWAYS


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


#: the shipped defaults, in memory (the file itself is checked at the end)
DATA: dict[str, Any] = {
    "calendar": {"timezone": "Asia/Shanghai", "opens": "09:00", "closes": "21:00",
                 "holidays": [date(2026, 10, d) for d in range(1, 8)], "workdays": [date(2026, 10, 10)]},
    "sla": {"warn_fraction": 0.8},
    "defaults": {"hours": "business", "first_response": "8h", "first_response_calendar": "channel",
                 "resolution": "2bd", "resolution_calendar": "business"},
    "channels": {
        "web_chat": {"hours": "always", "first_response": "60s"},
        "app": {"hours": "always", "first_response": "60s"},
        "phone": {"hours": "always", "first_response": "60s"},
        "email": {"hours": "business", "first_response": "8h"},
        "weibo": {"hours": "business", "first_response": "8h"},
        "wechat": {"hours": "business", "first_response": "8h"},
    },
    "kinds": {"complaint": {"confirm": "4h", "first_result": "1bd", "resolution": "2bd"}},
    "queues": {"vip": {"first_response": "30s", "resolution_calendar": "always"},
               "social_night": {"hours": "always"}},
    "priority": {"target_factor": {"plus": 0.5, "enterprise": 0.5}, "ahead": ["plus", "enterprise"]},
}
POLICY = SlaPolicy.from_dict(DATA)
CAL = POLICY.calendar


# --- D1–D5 targets ---------------------------------------------------------------------------

def t(duration: timedelta, calendar: CalendarKind) -> Target:
    return Target(duration, calendar)


CHAT_60S, CHAT_30S = t(60 * S, ALWAYS_KIND), t(30 * S, ALWAYS_KIND)
MAIL_8H, MAIL_4H = t(8 * H, BUSINESS), t(4 * H, BUSINESS)

# (label, channel, kind, level, queue, {metric: target}) — a metric not listed must be absent
TARGETS: list[tuple[str, str, str, str, str | None, dict[Metric, Target]]] = [
    ("D2 web chat consultation", "web_chat", "consultation", "regular", None,
     {Metric.FIRST_RESPONSE: CHAT_60S, Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("D2 app", "app", "consultation", "regular", None,
     {Metric.FIRST_RESPONSE: CHAT_60S, Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("phone default 60 s", "phone", "consultation", "regular", None,
     {Metric.FIRST_RESPONSE: CHAT_60S, Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("D3 email", "email", "consultation", "regular", None,
     {Metric.FIRST_RESPONSE: MAIL_8H, Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("D3 weibo", "weibo", "consultation", "regular", None,
     {Metric.FIRST_RESPONSE: MAIL_8H, Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("D3 wechat", "wechat", "consultation", "regular", None,
     {Metric.FIRST_RESPONSE: MAIL_8H, Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("D4 complaint by email", "email", "complaint", "regular", None,
     {Metric.FIRST_RESPONSE: MAIL_8H, Metric.CONFIRM: t(4 * H, BUSINESS), Metric.FIRST_RESULT: t(12 * H, BUSINESS),
      Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("D4 complaint by chat: first response 7×24, the rest business hours", "web_chat", "complaint", "regular",
     None, {Metric.FIRST_RESPONSE: CHAT_60S, Metric.CONFIRM: t(4 * H, BUSINESS),
            Metric.FIRST_RESULT: t(12 * H, BUSINESS), Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("D5 PLUS halved", "web_chat", "complaint", "plus", None,
     {Metric.FIRST_RESPONSE: CHAT_30S, Metric.CONFIRM: t(2 * H, BUSINESS), Metric.FIRST_RESULT: t(6 * H, BUSINESS),
      Metric.RESOLUTION: t(12 * H, BUSINESS)}),
    ("D5 enterprise halved", "email", "consultation", "enterprise", None,
     {Metric.FIRST_RESPONSE: MAIL_4H, Metric.RESOLUTION: t(12 * H, BUSINESS)}),
    ("queue override", "web_chat", "consultation", "regular", "vip",
     {Metric.FIRST_RESPONSE: t(30 * S, ALWAYS_KIND), Metric.RESOLUTION: t(24 * H, ALWAYS_KIND)}),
    ("queue override then D5", "web_chat", "complaint", "plus", "vip",
     {Metric.FIRST_RESPONSE: t(15 * S, ALWAYS_KIND), Metric.CONFIRM: t(2 * H, BUSINESS),
      Metric.FIRST_RESULT: t(6 * H, BUSINESS), Metric.RESOLUTION: t(12 * H, ALWAYS_KIND)}),
    ("queue changes the channel's hours", "weibo", "consultation", "regular", "social_night",
     {Metric.FIRST_RESPONSE: t(8 * H, ALWAYS_KIND), Metric.RESOLUTION: t(24 * H, BUSINESS)}),
    ("unknown queue: no override", "email", "consultation", "regular", "no_such_queue",
     {Metric.FIRST_RESPONSE: MAIL_8H, Metric.RESOLUTION: t(24 * H, BUSINESS)}),
]


@pytest.mark.parametrize(("channel", "kind", "level", "queue", "expected"), [row[1:] for row in TARGETS],
                         ids=[row[0] for row in TARGETS])
def test_targets_for(channel: str, kind: str, level: str, queue: str | None, expected: dict[Metric, Target]) -> None:
    targets = POLICY.targets_for(channel, kind, level, queue)
    assert dict(targets.items()) == expected
    for metric in Metric:
        assert targets.get(metric) == expected.get(metric)


def test_targets_for_answers_each_combination_alike_every_time_and_each_policy_its_own() -> None:
    from dataclasses import replace

    policy = SlaPolicy.from_dict(DATA)
    first = {row[0]: policy.targets_for(*row[1:5]) for row in TARGETS}
    again = {row[0]: policy.targets_for(*row[1:5]) for row in reversed(TARGETS)}
    assert again == first and all(again[k] is first[k] for k in first)          # remembered
    assert {k: dict(v.items()) for k, v in first.items()} == {row[0]: row[5] for row in TARGETS}
    slower = replace(policy, queues={"vip": {"first_response": timedelta(minutes=5)}})
    assert slower.targets_for("web_chat", "consultation", "regular", "vip").first_response.duration == \
        timedelta(minutes=5)
    assert policy.targets_for("web_chat", "consultation", "regular", "vip").first_response.duration == 30 * S
    for _ in range(2):                                   # a refusal is not remembered as an answer
        with pytest.raises(ValueError, match="unknown"):
            policy.targets_for("fax", "consultation", "regular")


@pytest.mark.parametrize(("channel", "kind", "level"), [
    ("fax", "consultation", "regular"), ("email", "praise", "regular"), ("email", "complaint", "gold"),
])
def test_targets_for_unknown_vocabulary(channel: str, kind: str, level: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        POLICY.targets_for(channel, kind, level)


@pytest.mark.parametrize(("text", "expected"), [
    ("60s", 60 * S), ("30min", timedelta(minutes=30)), ("8h", 8 * H), ("1.5h", timedelta(minutes=90)),
    ("1bd", 12 * H), ("2bd", 24 * H), ("0s", timedelta(0)), (" 4 h ", 4 * H),
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text, business_day=12 * H) == expected


@pytest.mark.parametrize("text", ["8", "8d", "-1h", "h", "1 business day", ""])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text, business_day=12 * H)


def test_a_business_day_follows_the_opening_hours() -> None:
    longer = SlaPolicy.from_dict({**DATA, "calendar": {"opens": "08:00", "closes": "22:00"}})
    assert longer.targets_for("email", "complaint", "regular").first_result == t(14 * H, BUSINESS)


@pytest.mark.parametrize(("change", "message"), [
    ({"defaults": {"first_respons": "8h"}}, "unknown service-desk target parameter"),
    ({"defaults": {"first_response": "eight hours"}}, "duration"),
    ({"defaults": {"resolution_calendar": "weekdays"}}, "weekdays"),
    ({"channels": {"fax": {"first_response": "1h"}}}, "unknown channel"),
    ({"kinds": {"praise": {}}}, "unknown kind"),
    ({"priority": {"target_factor": {"gold": 0.5}}}, "unknown customer level"),
    ({"priority": {"target_factor": {"plus": 0}}}, "above 0"),
    ({"sla": {"warn_fraction": 1.5}}, "warn_fraction"),
    ({"sla": {"warn_fraction": True}}, "number"),
    ({"reopen": {"days": 0}}, "positive"),
    ({"reopen": {"escalate": "yes"}}, "true or false"),
    ({"seller_satisfaction": {"ok": "0.6", "warning": "0.7", "review": "0.5"}}, "descend"),
    ({"compensation": {"agent": "300", "supervisor": "200"}}, "rise"),
    ({"calendar": {"opens": "nine"}}, "time like"),
    ({"calendar": {"holidays": ["2026-13-01"]}}, "dates like"),
    ({"calendar": {"weekdays": ["monday"]}}, "unknown weekday"),
    ({"calendar": {"holidays": [date(2026, 10, 10)], "workdays": [date(2026, 10, 10)]}}, "both"),
    ({"surprise": {}}, "unknown member"),
])
def test_from_dict_refuses_bad_data(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SlaPolicy.from_dict({**DATA, **change})


def test_from_an_empty_mapping_gives_the_policy_defaults() -> None:
    bare = SlaPolicy.from_dict({})
    assert bare.calendar == BusinessCalendar()
    assert bare.targets_for("email", "complaint", "plus").confirm == t(2 * H, BUSINESS)


# --- clocks ----------------------------------------------------------------------------------

CALENDARS = POLICY.calendars


@pytest.mark.parametrize(("start", "target", "due"), [
    ("2026-03-05 03:00", CHAT_60S, "2026-03-05 03:01"),            # D1/D2 chat is 7×24
    ("2026-10-03 03:00", CHAT_60S, "2026-10-03 03:01"),            # even on a holiday night
    ("2026-03-05 20:00", MAIL_8H, "2026-03-06 16:00"),             # D3 overnight
    ("2026-03-05 22:00", MAIL_8H, "2026-03-06 17:00"),             # D3 after hours: from 09:00
    ("2026-09-30 15:00", t(4 * H, BUSINESS), "2026-09-30 19:00"),  # D4 confirm
    ("2026-09-30 15:00", t(24 * H, BUSINESS), "2026-10-09 15:00"),  # D4 resolution over the holidays
])
def test_compute_due(start: str, target: Target, due: str) -> None:
    assert compute_due(sh(start), target, CALENDARS) == sh(due)


# (label, calendar, due, paused from, resumed at, new due)
PAUSES = [
    ("pause overnight costs no business time", CAL, "2026-03-06 15:00", "2026-03-05 21:30", "2026-03-06 08:30",
     "2026-03-06 15:00"),
    ("pause of two business hours pushes due by 2 h", CAL, "2026-03-05 15:00", "2026-03-05 10:00",
     "2026-03-05 12:00", "2026-03-05 17:00"),
    ("pause across the night counts only open hours", CAL, "2026-03-06 15:00", "2026-03-05 20:00",
     "2026-03-06 10:00", "2026-03-06 17:00"),
    ("the push spills into the next day", CAL, "2026-03-05 20:00", "2026-03-05 10:00", "2026-03-05 12:00",
     "2026-03-06 10:00"),
    ("due at closing time, nothing paused: stays", CAL, "2026-03-05 21:00", "2026-03-05 22:00",
     "2026-03-05 23:00", "2026-03-05 21:00"),
    ("due at closing time, one hour paused", CAL, "2026-03-05 21:00", "2026-03-05 12:00", "2026-03-05 13:00",
     "2026-03-06 10:00"),
    ("pause over the holiday week", CAL, "2026-10-08 12:00", "2026-09-30 20:00", "2026-10-08 10:00",
     "2026-10-08 14:00"),
    ("7×24: a night's pause costs the night", ALWAYS, "2026-03-06 09:00", "2026-03-05 21:30", "2026-03-06 08:30",
     "2026-03-06 20:00"),
]


@pytest.mark.parametrize(("calendar", "due", "paused", "resumed", "expected"), [row[1:] for row in PAUSES],
                         ids=[row[0] for row in PAUSES])
def test_extend_for_pause(calendar: Any, due: str, paused: str, resumed: str, expected: str) -> None:
    new_due = extend_for_pause(sh(due), sh(paused), sh(resumed), calendar)
    assert new_due == sh(expected)
    assert new_due.tzinfo is UTC


def test_a_pause_cannot_end_before_it_began() -> None:
    with pytest.raises(ValueError, match="before it began"):
        extend_for_pause(sh("2026-03-05 15:00"), sh("2026-03-05 12:00"), sh("2026-03-05 11:00"), CAL)


# (label, calendar, started, due, now, state) — warn at 80% of the target
STATES = [
    ("early", CAL, "2026-03-05 10:00", "2026-03-05 18:00", "2026-03-05 14:00", SlaState.OK),
    ("just under 80%", CAL, "2026-03-05 10:00", "2026-03-05 18:00", "2026-03-05 16:23:59", SlaState.OK),
    ("80% elapsed", CAL, "2026-03-05 10:00", "2026-03-05 18:00", "2026-03-05 16:24", SlaState.WARNING),
    ("at due: on time", CAL, "2026-03-05 10:00", "2026-03-05 18:00", "2026-03-05 18:00", SlaState.WARNING),
    ("a second late", CAL, "2026-03-05 10:00", "2026-03-05 18:00", "2026-03-05 18:00:01", SlaState.BREACHED),
    ("business time: the night does not count", CAL, "2026-03-05 20:00", "2026-03-06 16:00", "2026-03-06 08:00",
     SlaState.OK),
    ("business time: 6.4 of 8 business hours", CAL, "2026-03-05 20:00", "2026-03-06 16:00", "2026-03-06 14:24",
     SlaState.WARNING),
    ("business time: 6.4 h less a second", CAL, "2026-03-05 20:00", "2026-03-06 16:00", "2026-03-06 14:23:59",
     SlaState.OK),
    ("7×24: 48 of 60 s", ALWAYS, "2026-03-05 10:00:00", "2026-03-05 10:01:00", "2026-03-05 10:00:48",
     SlaState.WARNING),
    ("7×24: 47 of 60 s", ALWAYS, "2026-03-05 10:00:00", "2026-03-05 10:01:00", "2026-03-05 10:00:47", SlaState.OK),
]


@pytest.mark.parametrize(("calendar", "started", "due", "now", "expected"), [row[1:] for row in STATES],
                         ids=[row[0] for row in STATES])
def test_sla_state(calendar: Any, started: str, due: str, now: str, expected: SlaState) -> None:
    assert sla_state(sh(due), sh(now), sh(started), 0.8, calendar) == expected


def test_warn_at_is_where_the_state_turns_to_warning() -> None:
    started, due = sh("2026-03-05 20:00"), sh("2026-03-06 16:00")
    moment = warn_at(started, due, 0.8, CAL)
    assert moment == sh("2026-03-06 14:24")
    assert sla_state(due, moment, started, 0.8, CAL) == SlaState.WARNING
    assert sla_state(due, moment - S, started, 0.8, CAL) == SlaState.OK


@pytest.mark.parametrize("fraction", [0, -0.1, 1.01])
def test_warn_fraction_is_checked(fraction: float) -> None:
    with pytest.raises(ValueError, match="warn_fraction"):
        sla_state(sh("2026-03-05 18:00"), sh("2026-03-05 12:00"), sh("2026-03-05 10:00"), fraction, CAL)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 3, 5, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_due(naive, MAIL_8H, CALENDARS)
    with pytest.raises(ValueError, match="timezone-aware"):
        sla_state(sh("2026-03-05 18:00"), naive, sh("2026-03-05 10:00"), 0.8, CAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        reopen_allowed(naive, sh("2026-03-05 18:00"))


# --- D5 priority -----------------------------------------------------------------------------

def test_d5_plus_and_enterprise_queue_ahead_of_regular_of_the_same_priority() -> None:
    tickets = [("regular", 1), ("plus", 2), ("enterprise", 1), ("regular", 0), ("plus", 1), ("regular", 2)]
    ordered = sorted(tickets, key=lambda ticket: ticket_priority(*ticket))
    assert ordered == [("regular", 0), ("enterprise", 1), ("plus", 1), ("regular", 1), ("plus", 2), ("regular", 2)]
    assert ticket_priority("plus", 3) == ticket_priority("enterprise", 3) < ticket_priority("regular", 3)
    assert ticket_priority("regular", 0) < ticket_priority("plus", 1)


@pytest.mark.parametrize("base", [-1, True, 1.5])
def test_d5_base_priority_is_a_non_negative_integer(base: Any) -> None:
    with pytest.raises(ValueError, match="base_priority"):
        ticket_priority("plus", base)


# --- D6 / D7 windows -------------------------------------------------------------------------

RESOLVED = sh("2026-03-05 15:20")


@pytest.mark.parametrize(("now", "allowed"), [
    ("2026-03-05 15:21", True),
    ("2026-03-12 15:20", True),       # exactly 7 days
    ("2026-03-12 23:59:59", True),    # to the end of the 7th day (POLICY.md §9.2 day counting)
    ("2026-03-13 00:00", False),
    ("2026-04-01 10:00", False),
])
def test_d6_reopen_within_7_days(now: str, allowed: bool) -> None:
    assert reopen_allowed(RESOLVED, sh(now)) is allowed


def test_d6_days_are_counted_in_shanghai_not_utc() -> None:
    resolved = sh("2026-03-05 01:00")  # still 2026-03-04 in UTC
    assert reopen_allowed(resolved, sh("2026-03-12 20:00"))
    assert not reopen_allowed(resolved, sh("2026-03-13 00:00"))


@pytest.mark.parametrize(("now", "answered", "open_"), [
    ("2026-03-12 15:20", False, True),
    ("2026-03-12 23:59:59", False, True),
    ("2026-03-13 00:00", False, False),
    ("2026-03-06 10:00", True, False),   # answerable once
])
def test_d7_survey_window(now: str, answered: bool, open_: bool) -> None:
    assert survey_open(RESOLVED, sh(now), answered=answered) is open_


# --- D7 / D8 satisfaction --------------------------------------------------------------------

@pytest.mark.parametrize(("counts", "rate"), [
    ({}, None),
    ({"very_satisfied": 0, "satisfied": 0}, None),
    ({"very_satisfied": 3, "satisfied": 1, "neutral": 1}, Decimal("0.8")),
    ({"satisfied": 1, "dissatisfied": 1, "very_dissatisfied": 2}, Decimal("0.25")),
    ({"neutral": 4}, Decimal(0)),
    ({SurveyScore.VERY_SATISFIED: 1}, Decimal(1)),
])
def test_d7_satisfaction_rate(counts: dict[str, int], rate: Decimal | None) -> None:
    assert satisfaction_rate(counts) == rate


@pytest.mark.parametrize("counts", [{"happy": 1}, {"satisfied": -1}, {"satisfied": 1.0}])
def test_d7_satisfaction_rate_refuses(counts: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        satisfaction_rate(counts)


def test_d7_survey_labels() -> None:
    assert [(s.label_zh, s.label_en) for s in SurveyScore] == [
        ("非常满意", "Very satisfied"), ("满意", "Satisfied"), ("一般", "Neutral"), ("不满意", "Dissatisfied"),
        ("非常不满意", "Very dissatisfied")]


@pytest.mark.parametrize(("rate", "band"), [
    (Decimal(1), SellerBand.OK),
    (Decimal("0.80"), SellerBand.OK),
    (Decimal("0.7999"), SellerBand.WARNING),
    (Decimal("0.70"), SellerBand.WARNING),
    (Decimal("0.6999"), SellerBand.REVIEW),
    (Decimal("0.60"), SellerBand.REVIEW),
    (Decimal("0.5999"), SellerBand.RESTRICTED),
    (Decimal(0), SellerBand.RESTRICTED),
    (None, SellerBand.OK),
])
def test_d8_seller_satisfaction_band(rate: Decimal | None, band: SellerBand) -> None:
    assert seller_satisfaction_band(rate) == band


def test_d8_bands_from_policy_data() -> None:
    strict = SatisfactionBands(ok=Decimal("0.90"), warning=Decimal("0.85"), review=Decimal("0.80"))
    assert seller_satisfaction_band(Decimal("0.85"), strict) == SellerBand.WARNING
    with pytest.raises(ValueError, match="between 0 and 1"):
        seller_satisfaction_band(Decimal("1.01"))


# --- D9 / D10 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("agent", "named", "rule", "may"), [
    ("A1024", "A1024", True, False),
    ("A1024", " a1024 ", True, False),
    ("A2048", "A1024", True, True),
    ("A1024", None, True, True),
    ("A1024", "", True, True),
    ("A1024", "A1024", False, True),
])
def test_d9_named_agent_never_handles_the_complaint(agent: str, named: str | None, rule: bool, may: bool) -> None:
    assert may_take_complaint(agent, named, named_agent_rule=rule) is may


@pytest.mark.parametrize(("amount", "approver"), [
    ("0.00", Approver.AGENT),
    ("20", Approver.AGENT),
    ("20.00", Approver.AGENT),
    ("20.01", Approver.SUPERVISOR),
    ("200", Approver.SUPERVISOR),
    ("200.00", Approver.SUPERVISOR),
    ("200.01", Approver.MANAGER),
    ("5000.00", Approver.MANAGER),
])
def test_d10_compensation_approver(amount: str, approver: Approver) -> None:
    assert compensation_approver(Decimal(amount)) == approver


def test_d10_limits_from_policy_data() -> None:
    limits = CompensationLimits(agent=Decimal("10"), supervisor=Decimal("100"))
    assert compensation_approver(Decimal("20"), limits) == Approver.SUPERVISOR
    with pytest.raises(ValueError, match="negative"):
        compensation_approver(Decimal("-0.01"))


# --- the shipped policy file -----------------------------------------------------------------

SHIPPED = load_sla_policy(PROJECT_ROOT / "policies")


def test_loader_caches_per_folder() -> None:
    assert load_sla_policy(PROJECT_ROOT / "policies") is SHIPPED


def test_shipped_d1_business_hours_and_holidays() -> None:
    cal = SHIPPED.calendar
    assert (cal.tz, cal.opens, cal.closes) == (SHANGHAI, time(9), time(21))
    assert cal.open_weekdays == frozenset(range(7))
    for holiday in ["2026-01-01", "2026-02-15", "2026-02-23", "2026-04-05", "2026-05-05", "2026-06-19",
                    "2026-09-25", "2026-10-01", "2026-10-07", "2027-01-01", "2027-02-06", "2027-10-01"]:
        assert not cal.is_open_day(date.fromisoformat(holiday)), holiday
    for day in ["2026-01-04", "2026-02-14", "2026-02-24", "2026-03-07", "2026-10-08", "2026-10-10"]:
        assert cal.is_open_day(date.fromisoformat(day)), day
    assert sum(d.year == 2026 for d in cal.holidays) == 33
    assert SHIPPED.calendars[ALWAYS_KIND] is ALWAYS


@pytest.mark.parametrize(("channel", "hours", "first_response"), [
    ("web_chat", ALWAYS_KIND, 60 * S),   # D1, D2
    ("app", ALWAYS_KIND, 60 * S),        # D1, D2
    ("phone", ALWAYS_KIND, 60 * S),      # D1 hotline 7×24; 60 s is our default
    ("email", BUSINESS, 8 * H),          # D1, D3
    ("weibo", BUSINESS, 8 * H),          # D1, D3
    ("wechat", BUSINESS, 8 * H),         # D1, D3
])
def test_shipped_d1_to_d3_first_response(channel: str, hours: CalendarKind, first_response: timedelta) -> None:
    targets = SHIPPED.targets_for(channel, "consultation", "regular")
    assert targets.first_response == Target(first_response, hours)
    assert targets.resolution == Target(24 * H, BUSINESS)  # our default for consultations: 2 business days
    assert targets.confirm is None and targets.first_result is None


def test_shipped_d4_complaint_targets() -> None:
    targets = SHIPPED.targets_for("wechat", "complaint", "regular")
    assert targets.confirm == Target(4 * H, BUSINESS)
    assert targets.first_result == Target(12 * H, BUSINESS)
    assert targets.resolution == Target(24 * H, BUSINESS)


def test_shipped_d5_to_d10() -> None:
    assert SHIPPED.target_factors == {"plus": 0.5, "enterprise": 0.5}
    assert SHIPPED.ahead_levels == frozenset({"plus", "enterprise"})
    assert SHIPPED.targets_for("email", "complaint", "plus").resolution == Target(12 * H, BUSINESS)
    assert (SHIPPED.reopen_days, SHIPPED.reopen_escalates) == (7, True)
    assert (SHIPPED.survey_days, SHIPPED.survey_answers) == (7, 1)
    assert SHIPPED.satisfaction_bands == SatisfactionBands(Decimal("0.80"), Decimal("0.70"), Decimal("0.60"))
    assert SHIPPED.named_agent_to_supervisor is True
    assert SHIPPED.compensation == CompensationLimits(Decimal("20.00"), Decimal("200.00"))
    assert SHIPPED.warn_fraction == 0.8
