"""The assistant's metrics page over HTTP (TestClient, SQLite and PostgreSQL): supervisors and
admins see it and its nav link, others are refused; the period selector (last 7 / 30 days, a
range of Shanghai dates, a bad date shown on the page); the figures, tables and least sure list;
the JSONL download; English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kefu.domain.clock import FixedClock
from kefu.services import accounts
from kefu.services.uow import Database
from kefu.web.runtime import runtime_of
from tests.e2e.test_pages_access import PASSWORD, sign_in
from tests.integration.factories import NOW, seed_parties
from tests.integration.test_bot_metrics import SESSIONS, add_sessions


@pytest.fixture
def users(db: Database, app: FastAPI) -> None:
    """The conversations of the integration test; today is 2026-03-10 (10:00 in Shanghai)."""
    seed_parties(db)
    add_sessions(db, SESSIONS)
    runtime_of(app).clock = FixedClock(NOW)
    people: list[tuple[str, str, dict[str, Any]]] = [
        ("sup", "supervisor", {}), ("admin", "admin", {}), ("agent", "agent", {}),
        ("seller", "seller", {"seller_id": "S3P"}), ("cust", "customer", {"customer_id": "C1"})]
    for username, role, extra in people:
        accounts.create_user(db, username=username, password=PASSWORD, role=role, display_name=username, **extra)


def login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    sign_in(client, username)


def figure(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"><span class="muted">[^<]*</span><strong>([^<]*)</strong>', html)
    assert found, testid
    return found.group(1)


def test_only_supervisors_and_admins_see_the_page(client: TestClient, users: None) -> None:
    for username in ("sup", "admin"):
        login(client, username)
        page = client.get("/desk/bot")
        assert page.status_code == 200
        assert 'href="/desk/bot" data-testid="nav-bot"' in page.text
        assert client.get("/desk/bot/least-sure.jsonl").status_code == 200
    for username in ("agent", "seller", "cust"):
        login(client, username)
        assert 'data-testid="nav-bot"' not in client.get("/account").text
        assert client.get("/desk/bot").status_code == 403
        assert client.get("/desk/bot/least-sure.jsonl").status_code == 403
    client.cookies.clear()
    for url in ("/desk/bot", "/desk/bot/least-sure.jsonl"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code in (302, 303) and response.headers["location"].startswith("/login")


def test_the_figures_of_the_last_seven_days(client: TestClient, users: None) -> None:
    login(client, "sup")
    page = client.get("/desk/bot").text
    assert re.search(r'data-testid="period" data-from="2026-03-04" data-to="2026-03-10"', page)
    assert 'class="current" data-testid="period-7"' in page
    # s0 (23:00 on 3/08) counts now: five conversations, two handed over, nine messages
    assert figure(page, "fig-conversations") == "5"
    assert figure(page, "fig-answered") == "3"
    assert '<small data-testid="fig-answered-rate">60.0%</small>' in page
    assert figure(page, "fig-handoffs") == "2"
    assert figure(page, "fig-messages") == "9"
    assert figure(page, "fig-confidence") == "0.57"          # 5.11 / 9
    reasons = re.findall(r'data-testid="reason-row" data-reason="([^"]+)" data-count="(\d+)"', page)
    assert reasons[:2] == [("request", "1"), ("complaint", "1")] and len(reasons) == 5
    assert "顾客要求转人工" in page and "50.0%" in page
    intents = re.findall(r'data-testid="intent-row" data-intent="([^"]+)" data-count="(\d+)"', page)
    assert intents[:3] == [("order_status", "2"), ("out_of_scope", "2"), ("complaint", "1")]
    assert "订单物流" in page and 'style="width: 22.2%"' in page     # 2 of 9
    days = re.findall(r'data-testid="day-row" data-day="([^"]+)" data-conversations="(\d+)" data-handoffs="(\d+)"',
                      page)
    assert len(days) == 7 and days[4:] == [("2026-03-08", "1", "0"), ("2026-03-09", "2", "1"),
                                           ("2026-03-10", "2", "1")]
    least = re.findall(r'data-testid="least-sure-row" data-turn="\d+" data-confidence="([^"]+)"', page)
    assert least[:3] == ["0.05", "0.21", "0.3"] and len(least) == 9
    assert "这个能用吗" in page
    assert 'href="/desk/bot/least-sure.jsonl?days=7"' in page


def test_the_period_selector(client: TestClient, users: None) -> None:
    login(client, "sup")
    month = client.get("/desk/bot", params={"days": "30"}).text
    assert 'data-from="2026-02-09" data-to="2026-03-10"' in month and figure(month, "fig-conversations") == "5"
    assert 'class="current" data-testid="period-30"' in month
    two_days = client.get("/desk/bot", params={"from": "2026-03-09", "to": "2026-03-10"})
    assert two_days.status_code == 200
    assert figure(two_days.text, "fig-conversations") == "4" and figure(two_days.text, "fig-messages") == "8"
    assert 'name="from" value="2026-03-09"' in two_days.text
    assert 'href="/desk/bot/least-sure.jsonl?from=2026-03-09&amp;to=2026-03-10"' in two_days.text
    one_day = client.get("/desk/bot", params={"from": "2026-03-10"}).text
    assert figure(one_day, "fig-conversations") == "2" and figure(one_day, "fig-handoffs") == "1"
    empty = client.get("/desk/bot", params={"from": "2026-01-01", "to": "2026-01-02"}).text
    assert figure(empty, "fig-conversations") == "0" and 'data-testid="no-least-sure"' in empty
    for params, code in (({"from": "2026-3-x"}, "date_invalid"), ({"from": "2026-03-10", "to": "2026-03-01"},
                                                                    "period_invalid"),
                         ({"from": "2024-01-01", "to": "2026-03-10"}, "period_too_long")):
        refused = client.get("/desk/bot", params=params)
        assert refused.status_code == 422
        assert f'data-code="{code}"' in refused.text
        assert 'data-from="2026-03-04" data-to="2026-03-10"' in refused.text     # the last 7 days instead


def test_the_least_sure_messages_download_as_training_lines(client: TestClient, users: None) -> None:
    login(client, "admin")
    download = client.get("/desk/bot/least-sure.jsonl", params={"from": "2026-03-09", "to": "2026-03-10",
                                                                "limit": "3"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/jsonl")
    assert download.headers["content-disposition"] == \
        'attachment; filename="bot-least-sure-20260309-20260310.jsonl"'
    assert download.text.splitlines() == [
        '{"text": "那个东西怎么弄", "intent": "out_of_scope", "slots": {}}',
        '{"text": "七天能退吗", "intent": "return_policy", "slots": {}}',
        '{"text": "发票抬头", "intent": "invoice", "slots": {}}']
    assert len(client.get("/desk/bot/least-sure.jsonl").text.splitlines()) == 9
    assert client.get("/desk/bot/least-sure.jsonl", params={"limit": "abc"}).status_code == 422
    assert client.get("/desk/bot/least-sure.jsonl", params={"limit": "5000"}).status_code == 422


def test_the_page_in_english(client: TestClient, users: None) -> None:
    login(client, "sup")
    page = client.get("/desk/bot", params={"lang": "en"}).text
    assert "<h1>Assistant metrics</h1>" in page
    assert ">Assistant</a>" in page and "Handoffs by reason" in page and "Messages per intent" in page
    assert "Asked for a person" in page and "Order and delivery status" in page
    assert "Last 7 days" in page and "Download JSONL" in page
    assert "智能客服指标" not in page and "转人工原因" not in page
    chinese = client.get("/desk/bot", params={"lang": "zh"}).text
    assert "<h1>智能客服指标</h1>" in chinese and "近 7 天" in chinese
