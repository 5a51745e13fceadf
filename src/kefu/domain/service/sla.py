"""Service-desk targets and the small rules around them (POLICY.md §10, D1–D10).

The numbers come from ``policies/service_desk.toml`` (loaded by an adapter, handed in as a
mapping to :meth:`SlaPolicy.from_dict`). Targets are layered, later layers winning member by
member, and the customer's level applied last:

    [defaults] → [channels.<channel>] → [kinds.<kind>] → [queues.<queue code>] → D5 level factor

Each target is a duration on one of two clocks (:class:`CalendarKind`): ``business`` (D1's
business hours and holiday calendar) or ``always`` (7×24). A layer names the clock of a metric
with ``<metric>_calendar``; the value ``channel`` means "the hours of the channel the ticket came
in on" (the layer member ``hours``, D1).

Durations are written ``"60s"``, ``"30min"``, ``"8h"`` or ``"2bd"``; a business day (``bd``) is
the length of one opening day of the business calendar (12 h at 09:00–21:00), so "resolved within
2 business days" (D4) is 24 business hours.

Readings that are ours where POLICY.md is silent are marked *default*, not with a rule id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from kefu.domain.aftersales.model import CustomerLevel
from kefu.domain.clock import SHANGHAI
from kefu.domain.service.calendar import ALWAYS, ZERO, BusinessCalendar, Calendar, aware_utc
from kefu.domain.service.tickets import Channel, Kind

#: the channels a ticket comes in on
CHANNELS = tuple(channel.value for channel in Channel)
#: consultation (咨询) and complaint (投诉)
KINDS = tuple(kind.value for kind in Kind)
COMPLAINT = Kind.COMPLAINT.value


class CalendarKind(StrEnum):
    """Which clock a target runs on (D1)."""

    BUSINESS = "business"
    ALWAYS = "always"


class Metric(StrEnum):
    """The SLA clocks of a ticket (D2–D4); ``confirm`` and ``first_result`` are complaints only."""

    FIRST_RESPONSE = "first_response"
    CONFIRM = "confirm"
    FIRST_RESULT = "first_result"
    RESOLUTION = "resolution"


COMPLAINT_ONLY = frozenset({Metric.CONFIRM, Metric.FIRST_RESULT})


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


class SellerBand(StrEnum):
    """D8: where a seller's monthly satisfaction puts them."""

    OK = "ok"
    WARNING = "warning"
    #: after-sales entry flagged for review
    REVIEW = "review"
    #: restricted until an improvement plan is accepted
    RESTRICTED = "restricted"


class Approver(StrEnum):
    """D10: who may approve a compensation."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"


class SurveyScore(StrEnum):
    """D7: the five answers of the satisfaction survey (满意度调查)."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied"

    @property
    def label_zh(self) -> str:
        """D7: the answer as the survey shows it in Chinese (非常满意 …)."""
        return SURVEY_LABELS[self][0]

    @property
    def label_en(self) -> str:
        """D7: the answer in English."""
        return SURVEY_LABELS[self][1]


SURVEY_LABELS: dict[SurveyScore, tuple[str, str]] = {
    SurveyScore.VERY_SATISFIED: ("非常满意", "Very satisfied"),
    SurveyScore.SATISFIED: ("满意", "Satisfied"),
    SurveyScore.NEUTRAL: ("一般", "Neutral"),
    SurveyScore.DISSATISFIED: ("不满意", "Dissatisfied"),
    SurveyScore.VERY_DISSATISFIED: ("非常不满意", "Very dissatisfied"),
}

#: D7: the answers that count as satisfied
SATISFIED_SCORES = frozenset({SurveyScore.VERY_SATISFIED, SurveyScore.SATISFIED})


# --- targets -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """One SLA target: ``duration`` of time on the ``calendar`` clock (D1–D5)."""

    duration: timedelta
    calendar: CalendarKind


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """The targets of one ticket (D2–D5); ``confirm`` and ``first_result`` only for complaints (D4)."""

    first_response: Target
    resolution: Target
    confirm: Target | None = None
    first_result: Target | None = None

    def get(self, metric: Metric | str) -> Target | None:
        """D2–D4: the target of ``metric``, or None when the ticket has no such clock."""
        target: Target | None = getattr(self, Metric(metric).value)
        return target

    def items(self) -> Iterator[tuple[Metric, Target]]:
        """Every clock the ticket has, in the order they fall due (D2, D4)."""
        for metric in (Metric.FIRST_RESPONSE, Metric.CONFIRM, Metric.FIRST_RESULT, Metric.RESOLUTION):
            target = self.get(metric)
            if target is not None:
                yield metric, target


#: ``<metric>_calendar`` may name a clock or follow the channel's hours
_FOLLOW_CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class TargetParams:
    """One layer's worth of target parameters; the dataclass defaults are POLICY.md's."""

    #: D1: the hours of the channel: ``always`` (hotline, chat, app) or ``business`` (email, social)
    hours: CalendarKind = CalendarKind.BUSINESS
    #: D2 / D3 first response (D3's 8 business hours for a channel that names none)
    first_response: timedelta = timedelta(hours=8)
    first_response_calendar: str = _FOLLOW_CHANNEL
    #: D4 complaint: confirmed (问题确认) within 4 business hours
    confirm: timedelta = timedelta(hours=4)
    confirm_calendar: str = CalendarKind.BUSINESS.value
    #: D4 complaint: first result within 1 business day
    first_result: timedelta = timedelta(hours=12)
    first_result_calendar: str = CalendarKind.BUSINESS.value
    #: D4 complaint: resolved within 2 business days (default for consultations too)
    resolution: timedelta = timedelta(hours=24)
    resolution_calendar: str = CalendarKind.BUSINESS.value


_PARAM_NAMES = frozenset(f.name for f in fields(TargetParams))
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|min|h|bd)\s*$")
_UNIT_SECONDS = {"s": Decimal(1), "min": Decimal(60), "h": Decimal(3600)}


def parse_duration(text: str, business_day: timedelta) -> timedelta:
    """A target duration: ``"60s"``, ``"30min"``, ``"8h"``, ``"1.5h"`` or ``"2bd"`` (business days, D4)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"a duration is written like 60s, 30min, 8h or 2bd, not {text!r}")
    amount, unit = Decimal(match.group(1)), match.group(2)
    if unit == "bd":
        micros = amount * (business_day // timedelta(microseconds=1))
    else:
        micros = amount * _UNIT_SECONDS[unit] * 1_000_000
    return timedelta(microseconds=int(micros))


def _coerce_param(name: str, value: Any, business_day: timedelta) -> Any:
    if name not in _PARAM_NAMES:
        raise ValueError(f"unknown service-desk target parameter {name!r}")
    clocks = tuple(kind.value for kind in CalendarKind)
    if name == "hours":
        return CalendarKind(_member(value, clocks, "hours"))
    if name.endswith("_calendar"):
        return _member(value, (*clocks, _FOLLOW_CHANNEL), "calendar")
    return parse_duration(value, business_day)


def _target_layer(mapping: Mapping[str, Any] | None, business_day: timedelta) -> dict[str, Any]:
    return {k: _coerce_param(k, v, business_day) for k, v in (mapping or {}).items()}


# --- D6–D10 parameters ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SatisfactionBands:
    """D8: the lower bound of each band of monthly satisfaction; below ``review`` is restricted."""

    ok: Decimal = Decimal("0.80")
    warning: Decimal = Decimal("0.70")
    review: Decimal = Decimal("0.60")

    def __post_init__(self) -> None:
        if not Decimal(1) >= self.ok >= self.warning >= self.review >= Decimal(0):
            raise ValueError("satisfaction bands must descend within 0–1: ok ≥ warning ≥ review")


@dataclass(frozen=True, slots=True)
class CompensationLimits:
    """D10: the largest compensation (CNY) an agent and a supervisor may approve; above, a manager."""

    agent: Decimal = Decimal("20.00")
    supervisor: Decimal = Decimal("200.00")

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.agent <= self.supervisor:
            raise ValueError("compensation limits must rise: 0 ≤ agent ≤ supervisor")


DEFAULT_BANDS = SatisfactionBands()
DEFAULT_COMPENSATION = CompensationLimits()
#: D5: PLUS and enterprise customers' targets are halved
DEFAULT_TARGET_FACTORS: Mapping[str, float] = {CustomerLevel.PLUS.value: 0.5, CustomerLevel.ENTERPRISE.value: 0.5}
#: D5: PLUS and enterprise customers are queued ahead of regular customers of the same priority
DEFAULT_AHEAD_LEVELS = frozenset({CustomerLevel.PLUS.value, CustomerLevel.ENTERPRISE.value})
#: D6 / D7 windows, days
DEFAULT_REOPEN_DAYS = 7
DEFAULT_SURVEY_DAYS = 7


#: at most this many remembered answers of ``SlaPolicy.targets_for``
_MEMO_LIMIT = 4096


@dataclass(frozen=True)
class SlaPolicy:
    """The service-desk defaults of POLICY.md §10 (D1–D10) as one typed object."""

    #: D1 business hours and holiday calendar
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    defaults: TargetParams = field(default_factory=TargetParams)
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    kinds: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    queues: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: D5: each level's target multiplier (missing levels: 1)
    target_factors: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGET_FACTORS))
    #: D5: levels queued ahead of the others of the same priority
    ahead_levels: frozenset[str] = DEFAULT_AHEAD_LEVELS
    #: default: warn once this fraction of a target has elapsed
    warn_fraction: float = 0.8
    #: D6
    reopen_days: int = DEFAULT_REOPEN_DAYS
    reopen_escalates: bool = True
    #: D7
    survey_days: int = DEFAULT_SURVEY_DAYS
    survey_answers: int = 1
    #: D8
    satisfaction_bands: SatisfactionBands = DEFAULT_BANDS
    #: D9
    named_agent_to_supervisor: bool = True
    #: D10
    compensation: CompensationLimits = DEFAULT_COMPENSATION
    #: :meth:`targets_for`'s answers by its arguments (the policy never changes; at most
    #: ``_MEMO_LIMIT`` of them — channels × kinds × levels × queues)
    _targets_memo: dict[tuple[str, str, str, str | None], SlaTargets] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Build the policy from ``policies/service_desk.toml`` parsed into a mapping (D1–D10).

        Unknown tables, members, channels, kinds and levels are refused with ``ValueError``.
        """
        _only(data, {"calendar", "sla", "defaults", "channels", "kinds", "queues", "priority", "reopen",
                     "survey", "seller_satisfaction", "named_agent", "compensation"}, "service-desk policy")
        calendar = _calendar(data.get("calendar", {}))
        day = calendar.day_length
        defaults = replace(TargetParams(), **_target_layer(data.get("defaults"), day))
        channels = {_member(k, CHANNELS, "channel"): _target_layer(v, day) for k, v in data.get("channels", {}).items()}
        kinds = {_member(k, KINDS, "kind"): _target_layer(v, day) for k, v in data.get("kinds", {}).items()}
        queues = {str(k): _target_layer(v, day) for k, v in data.get("queues", {}).items()}

        sla = _table(data, "sla", {"warn_fraction"})
        warn_fraction = _number(sla.get("warn_fraction", 0.8), "sla.warn_fraction")
        if not 0 < warn_fraction <= 1:
            raise ValueError("sla.warn_fraction must be above 0 and at most 1")

        priority = _table(data, "priority", {"target_factor", "ahead"})
        levels = tuple(level.value for level in CustomerLevel)
        factors = {_member(k, levels, "customer level"): _number(v, "priority.target_factor")
                   for k, v in priority.get("target_factor", DEFAULT_TARGET_FACTORS).items()}
        if any(f <= 0 for f in factors.values()):
            raise ValueError("priority.target_factor values must be above 0")
        ahead = frozenset(_member(v, levels, "customer level") for v in priority.get("ahead", DEFAULT_AHEAD_LEVELS))

        reopen = _table(data, "reopen", {"days", "escalate"})
        survey = _table(data, "survey", {"days", "answers"})
        bands = _table(data, "seller_satisfaction", {"ok", "warning", "review"})
        named = _table(data, "named_agent", {"to_supervisor"})
        money = _table(data, "compensation", {"agent", "supervisor"})
        return cls(
            calendar=calendar, defaults=defaults, channels=channels, kinds=kinds, queues=queues,
            target_factors=factors, ahead_levels=ahead, warn_fraction=warn_fraction,
            reopen_days=_days(reopen.get("days", DEFAULT_REOPEN_DAYS), "reopen.days"),
            reopen_escalates=_flag(reopen.get("escalate", True), "reopen.escalate"),
            survey_days=_days(survey.get("days", DEFAULT_SURVEY_DAYS), "survey.days"),
            survey_answers=_days(survey.get("answers", 1), "survey.answers"),
            satisfaction_bands=SatisfactionBands(**{k: _decimal(v, k) for k, v in bands.items()}),
            named_agent_to_supervisor=_flag(named.get("to_supervisor", True), "named_agent.to_supervisor"),
            compensation=CompensationLimits(**{k: _decimal(v, k) for k, v in money.items()}),
        )

    @property
    def calendars(self) -> Mapping[CalendarKind, Calendar]:
        """D1: the clock each :class:`CalendarKind` names."""
        return {CalendarKind.BUSINESS: self.calendar, CalendarKind.ALWAYS: ALWAYS}

    def targets_for(self, channel: str, kind: str, customer_level: str, queue: str | None = None) -> SlaTargets:
        """D1–D5: the targets of a ticket of ``kind`` that came in on ``channel``, for ``queue``.

        Layers: defaults → channel → kind → queue; then D5 multiplies every duration by the
        level's factor (PLUS and enterprise: halved), on the same clock. Computed once per
        combination (every ticket opened asks).
        """
        key = (channel, kind, customer_level, queue)
        found = self._targets_memo.get(key)
        if found is None:
            found = self._targets(channel, kind, customer_level, queue)
            if len(self._targets_memo) < _MEMO_LIMIT:
                self._targets_memo[key] = found
        return found

    def _targets(self, channel: str, kind: str, customer_level: str, queue: str | None) -> SlaTargets:
        channel = _member(channel, CHANNELS, "channel")
        kind = _member(kind, KINDS, "kind")
        level = _member(customer_level, tuple(lv.value for lv in CustomerLevel), "customer level")
        merged: dict[str, Any] = {}
        merged.update(self.channels.get(channel, {}))
        merged.update(self.kinds.get(kind, {}))
        if queue is not None:
            merged.update(self.queues.get(queue, {}))
        params = replace(self.defaults, **merged) if merged else self.defaults
        factor = self.target_factors.get(level, 1.0)

        def target(metric: Metric) -> Target:
            clock: str = getattr(params, f"{metric.value}_calendar")
            duration: timedelta = getattr(params, metric.value)
            on = params.hours if clock == _FOLLOW_CHANNEL else CalendarKind(clock)
            return Target(duration * factor if factor != 1 else duration, on)

        complaint = kind == COMPLAINT
        return SlaTargets(
            first_response=target(Metric.FIRST_RESPONSE),
            resolution=target(Metric.RESOLUTION),
            confirm=target(Metric.CONFIRM) if complaint else None,
            first_result=target(Metric.FIRST_RESULT) if complaint else None,
        )


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _calendar(data: Mapping[str, Any]) -> BusinessCalendar:
    _only(data, {"timezone", "opens", "closes", "weekdays", "holidays", "workdays"}, "calendar")
    tz = ZoneInfo(str(data["timezone"])) if "timezone" in data else SHANGHAI
    return BusinessCalendar(
        tz=tz,
        opens=_clock_time(data.get("opens", "09:00"), "calendar.opens"),
        closes=_clock_time(data.get("closes", "21:00"), "calendar.closes"),
        holidays=frozenset(_date(v, "calendar.holidays") for v in data.get("holidays", [])),
        workdays=frozenset(_date(v, "calendar.workdays") for v in data.get("workdays", [])),
        open_weekdays=frozenset(_WEEKDAYS.index(_member(str(v).lower(), _WEEKDAYS, "weekday"))
                                for v in data.get("weekdays", _WEEKDAYS)),
    )


def _only(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be a table")
    if unknown := set(data) - allowed:
        raise ValueError(f"unknown member(s) of {where}: {', '.join(sorted(unknown))}")


def _table(data: Mapping[str, Any], name: str, allowed: set[str]) -> Mapping[str, Any]:
    table: Mapping[str, Any] = data.get(name, {})
    _only(table, allowed, name)
    return table


def _member(value: str, allowed: tuple[str, ...] | frozenset[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}")
    return str(value)


def _clock_time(value: Any, name: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a time like 09:00") from None


def _date(value: Any, name: str) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{name} lists dates, not date-times")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must list dates like 2026-10-01") from None


def _days(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer")
    return int(value)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} must be a number") from None


# --- clocks ---------------------------------------------------------------------------------


def compute_due(start: datetime, target: Target, calendars: Mapping[CalendarKind, Calendar]) -> datetime:
    """D1–D5: when ``target`` falls due for a clock started at ``start`` (UTC).

    On the business clock a ticket that arrives after hours starts counting at the next opening.
    """
    return calendars[target.calendar].add_business_time(start, target.duration)


def extend_for_pause(due: datetime, paused_from: datetime, resumed_at: datetime, calendar: Calendar) -> datetime:
    """D1: the clock stops while the ticket waits for the customer; the new due moment (UTC).

    The due moment moves later by the business time of ``calendar`` that passed during the
    pause: a pause overnight costs nothing on the business clock, two business hours move the
    due moment two business hours later. A pause with no business time in it leaves ``due`` as
    it was.
    """
    if aware_utc(resumed_at, "resumed_at") < aware_utc(paused_from, "paused_from"):
        raise ValueError("a pause cannot end before it began")
    paused = calendar.business_time_between(paused_from, resumed_at)
    if paused == ZERO:
        return aware_utc(due, "due")
    return calendar.add_business_time(due, paused)


def warn_at(started: datetime, due: datetime, warn_fraction: float, calendar: Calendar) -> datetime:
    """Default (no POLICY id): the moment ``warn_fraction`` of the target has elapsed, in ``calendar`` time."""
    if not 0 < warn_fraction <= 1:
        raise ValueError("warn_fraction must be above 0 and at most 1")
    total = calendar.business_time_between(started, due)
    return calendar.add_business_time(started, total * warn_fraction) if total else aware_utc(due, "due")


def sla_state(due: datetime, now: datetime, started: datetime, warn_fraction: float, calendar: Calendar) -> SlaState:
    """D2–D4: ``breached`` after ``due``; ``warning`` once ``warn_fraction`` of the target has elapsed.

    Elapsed time is measured on the target's own ``calendar`` (business time for a business-hours
    target), as the target less the business time still left, so a pause that moved ``due`` later
    is counted as time given back. A reply at exactly ``due`` is on time.
    """
    if not 0 < warn_fraction <= 1:
        raise ValueError("warn_fraction must be above 0 and at most 1")
    deadline = aware_utc(due, "due")
    moment = aware_utc(now, "now")
    if moment > deadline:
        return SlaState.BREACHED
    total = calendar.business_time_between(started, deadline)
    remaining = calendar.business_time_between(moment, deadline)
    if total - remaining >= total * warn_fraction:
        return SlaState.WARNING
    return SlaState.OK


# --- D5–D10 ---------------------------------------------------------------------------------


def ticket_priority(customer_level: str, base_priority: int,
                    ahead_levels: frozenset[str] = DEFAULT_AHEAD_LEVELS) -> int:
    """D5: the queue sort key: lower is served first.

    ``base_priority`` is the ticket's own priority (0 = most urgent); the key is
    ``2 × base_priority``, plus 1 for a customer not in ``ahead_levels``, so PLUS and enterprise
    customers come before regular customers of the same priority and never before a more urgent
    ticket.
    """
    if isinstance(base_priority, bool) or not isinstance(base_priority, int) or base_priority < 0:
        raise ValueError("base_priority must be a non-negative integer")
    return 2 * base_priority + (0 if customer_level in ahead_levels else 1)


def window_closes_at(start: datetime, days: int) -> datetime:
    """D6 / D7: the first moment after a window of ``days`` days that began at ``start`` (UTC).

    Days are counted as POLICY.md §9.2 counts them: the window lasts to the end of the
    Asia/Shanghai calendar day ``start``'s date + ``days``.
    """
    local_day = aware_utc(start, "start").astimezone(SHANGHAI).date()
    closes = datetime.combine(local_day + timedelta(days=days + 1), time(0), tzinfo=SHANGHAI)
    return aware_utc(closes)


def reopen_allowed(resolved_at: datetime, now: datetime, days: int = DEFAULT_REOPEN_DAYS) -> bool:
    """D6: a customer may reopen a resolved complaint within 7 days (to the end of the 7th day).

    The reopened complaint escalates to a supervisor (``SlaPolicy.reopen_escalates``).
    """
    return aware_utc(now, "now") < window_closes_at(resolved_at, days)


def survey_open(sent_at: datetime, now: datetime, *, answered: bool = False,
                days: int = DEFAULT_SURVEY_DAYS) -> bool:
    """D7: the satisfaction survey sent on resolution is answerable once, within 7 days."""
    return not answered and aware_utc(now, "now") < window_closes_at(sent_at, days)


def satisfaction_rate(counts: Mapping[str, int]) -> Decimal | None:
    """D7: (very satisfied + satisfied) / responses; None when there are no responses.

    ``counts`` maps a :class:`SurveyScore` value to how many answered it (missing scores: 0).
    The rate is exact (no rounding); displays round it.
    """
    scores = {score.value for score in SurveyScore}
    for score, count in counts.items():
        if score not in scores:
            raise ValueError(f"unknown survey score {score!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"the count of {score!r} must be a non-negative integer")
    responses = sum(counts.values())
    if responses == 0:
        return None
    satisfied = sum(counts.get(score.value, 0) for score in SATISFIED_SCORES)
    return Decimal(satisfied) / Decimal(responses)


def seller_satisfaction_band(rate: Decimal | None, bands: SatisfactionBands = DEFAULT_BANDS) -> SellerBand:
    """D8: a seller's monthly band: ≥ 80% ok; 70–80% warning; 60–70% review; < 60% restricted.

    Each band includes its lower bound (exactly 70% is a warning, exactly 60% review). A month
    with no responses (``None``) is ``ok``: there is nothing below the line to act on.
    """
    if rate is None:
        return SellerBand.OK
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValueError("a satisfaction rate lies between 0 and 1")
    if rate >= bands.ok:
        return SellerBand.OK
    if rate >= bands.warning:
        return SellerBand.WARNING
    if rate >= bands.review:
        return SellerBand.REVIEW
    return SellerBand.RESTRICTED


def compensation_approver(amount: Decimal, limits: CompensationLimits = DEFAULT_COMPENSATION) -> Approver:
    """D10: an agent approves up to ¥20 (shipping subsidy), a supervisor up to ¥200, a manager above."""
    if amount < 0:
        raise ValueError("a compensation cannot be negative")
    if amount <= limits.agent:
        return Approver.AGENT
    if amount <= limits.supervisor:
        return Approver.SUPERVISOR
    return Approver.MANAGER


def may_take_complaint(employee_no: str, named_employee_no: str | None, *, named_agent_rule: bool = True) -> bool:
    """D9: a complaint naming an agent's employee number (工号) never goes to that agent.

    It goes to that agent's supervisor; choosing the supervisor needs the team structure and is
    the service's job. Numbers are compared without surrounding spaces, case-insensitively.
    """
    if not named_agent_rule or not named_employee_no or not named_employee_no.strip():
        return True
    return employee_no.strip().casefold() != named_employee_no.strip().casefold()
