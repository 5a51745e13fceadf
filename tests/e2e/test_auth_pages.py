"""Signing in and out through the real pages, in Debian's chromium against ``kefu serve``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect


def sign_in(page: Any, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_sign_in_see_my_name_switch_to_english_and_sign_out(
        page: Any, live_account: Callable[..., tuple[str, str]]) -> None:
    username, password = live_account(role="agent", display_name="王小明", employee_no="A-001")
    page.goto("/login")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    sign_in(page, username, password)
    expect(page).to_have_url(re.compile(r"/desk$"))   # agents land on the review queue
    page.goto("/account")
    expect(page.get_by_test_id("whoami")).to_have_text("王小明")
    expect(page.get_by_test_id("welcome")).to_have_text("你好，王小明")
    expect(page.get_by_test_id("role")).to_have_text("客服人员")

    page.get_by_test_id("lang-en").click()
    expect(page.get_by_test_id("welcome")).to_have_text("Hello, 王小明")
    expect(page.get_by_test_id("role")).to_have_text("Agent")
    expect(page.get_by_test_id("logout")).to_have_text("Sign out")
    page.goto("/account")  # the choice is remembered without ?lang
    expect(page.get_by_test_id("welcome")).to_have_text("Hello, 王小明")

    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Faccount$"))


def test_a_wrong_password_shows_the_error_in_chinese(
        page: Any, live_account: Callable[..., tuple[str, str]]) -> None:
    username, _password = live_account(role="agent", display_name="李客服")
    page.goto("/login")
    sign_in(page, username, "not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("用户名或密码错误。")
    expect(page.get_by_label("用户名")).to_have_value(username)
    expect(page.get_by_test_id("whoami")).to_have_count(0)


def test_a_protected_page_sends_me_to_sign_in_and_back(
        new_context: Callable[..., Any], live_account: Callable[..., tuple[str, str]]) -> None:
    username, password = live_account(role="admin", display_name="管理员甲")
    page = new_context().new_page()
    page.goto("/account?tab=profile")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    sign_in(page, username, password)
    expect(page).to_have_url(re.compile(r"/account\?tab=profile$"))
    expect(page.get_by_test_id("whoami")).to_have_text("管理员甲")
