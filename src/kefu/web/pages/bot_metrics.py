"""The smart assistant's metrics for supervisors and admins (issue 5 §7):

- ``/desk/bot`` — for the last 7 or 30 days or a range of dates (Asia/Shanghai): conversations,
  answered without a person, handoffs by reason, messages per intent, average confidence, per-day
  figures and the messages the assistant was least sure about;
- ``/desk/bot/least-sure.jsonl`` — those messages for the same period in the training file's
  format, labelled with the predicted intent, for a person to correct.

The figures come from :func:`kefu.services.bot_metrics.bot_report`; a date that does not parse or
a period the service refuses is shown on the page in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from kefu.domain.actors import Actor, Role
from kefu.domain.bot.dialogue import HANDOFF_LABELS
from kefu.domain.bot.intents import INTENT_LABELS
from kefu.domain.clock import shanghai_date
from kefu.domain.errors import InputError
from kefu.services import bot_metrics as metrics_svc
from kefu.web.deps import get_db, require_roles
from kefu.web.i18n import pick_lang
from kefu.web.pages.customer import error_of
from kefu.web.pages.tickets import tpage
from kefu.web.runtime import get_runtime

router = APIRouter(include_in_schema=False)
managers_only = require_roles(Role.SUPERVISOR, Role.ADMIN)
#: the quick choices of the period selector, in days ending today
PERIOD_DAYS = (7, 30)
DEFAULT_DAYS = 7
_INTENTS = {intent.value: pair for intent, pair in INTENT_LABELS.items()}
_REASONS: dict[str, tuple[str, str]] = {
    **{reason.value: pair for reason, pair in HANDOFF_LABELS.items()}, "unknown": ("未注明", "Not recorded")}


@dataclass(frozen=True, slots=True)
class Period:
    """The Asia/Shanghai dates ``first`` to ``last`` (inclusive); ``days`` when it is a quick choice."""

    first: date
    last: date
    days: int | None

    @property
    def query(self) -> dict[str, str]:
        if self.days is not None:
            return {"days": str(self.days)}
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _recent(today: date, days: int) -> Period:
    return Period(today - timedelta(days=days - 1), today, days)


def _period(params: QueryParams, today: date) -> Period:
    """The period asked for: ``?from=&to=`` dates (either alone means that one day), else
    ``?days=7|30`` ending today."""
    start, end = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if start or end:
        try:
            first, last = date.fromisoformat(start or end), date.fromisoformat(end or start)
        except ValueError:
            raise InputError("date_invalid", "日期格式应为 年-月-日，例如 2026-03-01。",
                             "Dates are year-month-day, e.g. 2026-03-01.") from None
        if last < first:
            raise InputError("period_invalid", "结束日期不能早于开始日期。", "The period ends before it starts.")
        return Period(first, last, None)
    days = params.get("days", "")
    return _recent(today, int(days) if days in {str(d) for d in PERIOD_DAYS} else DEFAULT_DAYS)


def _limit(params: QueryParams) -> int:
    raw = params.get("limit", "")
    if not raw:
        return metrics_svc.LEAST_SURE
    try:
        return int(raw)
    except ValueError:
        raise InputError("limit_invalid", f"条数须在 1 到 {metrics_svc.LEAST_SURE_MAX} 之间。",
                         f"The number of messages must be between 1 and {metrics_svc.LEAST_SURE_MAX}.") from None


def _label(table: dict[str, tuple[str, str]], code: str) -> str:
    pair = table.get(code)
    return pick_lang({"zh": pair[0], "en": pair[1]}) if pair else code


def _report(request: Request, actor: Actor, period: Period) -> metrics_svc.BotReport:
    since, until = metrics_svc.local_period(period.first, period.last)
    return metrics_svc.bot_report(get_db(request), actor, since=since, until=until)


@router.get("/desk/bot")
def bot_page(request: Request, actor: Actor = Depends(managers_only)) -> Response:
    today = shanghai_date(get_runtime(request).clock())
    error: dict[str, Any] | None = None
    try:
        period = _period(request.query_params, today)
        report = _report(request, actor, period)
    except InputError as exc:   # a bad date or period: say so above the last 7 days
        error = error_of(exc)
        period = _recent(today, DEFAULT_DAYS)
        report = _report(request, actor, period)
    return tpage(request, "desk/bot.html", {
        "report": report, "period": period, "period_days": PERIOD_DAYS, "error": error,
        "busiest_day": max((d.conversations for d in report.by_day), default=0),
        "download": "/desk/bot/least-sure.jsonl?" + urlencode(period.query),
        "intent_label": lambda c: _label(_INTENTS, c), "handoff_label": lambda c: _label(_REASONS, c),
    }, status_code=422 if error else 200)


@router.get("/desk/bot/least-sure.jsonl")
def least_sure_download(request: Request, actor: Actor = Depends(managers_only)) -> Response:
    """The least sure messages of the period as JSONL (``limit``, default 20, at most 1000)."""
    today = shanghai_date(get_runtime(request).clock())
    period = _period(request.query_params, today)
    since, until = metrics_svc.local_period(period.first, period.last)
    body = metrics_svc.least_sure_jsonl(get_db(request), actor, since=since, until=until,
                                        limit=_limit(request.query_params))
    name = f"bot-least-sure-{period.first:%Y%m%d}-{period.last:%Y%m%d}.jsonl"
    return Response(body, media_type="application/jsonl; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
