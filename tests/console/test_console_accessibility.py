"""Accessibility checked by a real checker: axe-core inside Debian's Chromium (WCAG 2.1 A/AA).

The console's pages must have no violation at all; the citizen pages stay as they were
measured when the console came: the voucher page with none, the kiosk page with one moderate
landmark issue (its full-screen layout has no <main>), and never worse.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.runtime import Runtime
from tests.booking.conftest import slot_id
from tests.browsers import axe_violations, described
from tests.console.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"])]
CALLER = "+254700000061"


@pytest.fixture
def server(live_server: str) -> str:
    return live_server


@pytest.fixture
def browser(chromium_browser: Any) -> Any:
    return chromium_browser


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    yield tab
    context.close()


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_sign_in_page_has_no_violation(page: Any, server: str, lang: str) -> None:
    page.goto(f"{server}/console/login?lang={lang}")
    assert axe_violations(page) == [], described(axe_violations(page))


def test_signing_in_works_with_the_keyboard_alone(page: Any, server: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/console/login")
    expect(page.locator("#email")).to_be_focused()  # autofocus, once the page has settled
    page.keyboard.type("desk@knh.example")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/console/KNH/day/**")


def test_the_voucher_page_stays_without_violations(
    page: Any, server: str, staffed: Runtime
) -> None:
    from datetime import datetime

    done = staffed.booking.book(CALLER, slot_id(staffed, "CARD", datetime(2026, 11, 24, 9)), "ussd")
    page.goto(f"{server}/v/{done.voucher_ref}")
    assert axe_violations(page) == [], described(axe_violations(page))


def test_the_kiosk_page_has_no_more_than_its_one_moderate_landmark_issue(
    page: Any, server: str
) -> None:
    page.goto(f"{server}/kiosk/")
    found = axe_violations(page)
    assert all(v["impact"] in ("minor", "moderate") for v in found), described(found)
    assert len(found) <= 1, described(found)


def signed_in(page: Any, server: str, email: str = "desk@knh.example") -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/console/login")
    expect(page.locator("#email")).to_be_focused()
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/console/KNH/day/**")


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_day_list_has_no_violation(page: Any, server: str, staffed: Runtime, lang: str) -> None:
    from datetime import datetime

    staffed.booking.book(CALLER, slot_id(staffed, "CARD", datetime(2026, 11, 23, 9)), "ussd")
    signed_in(page, server)
    page.goto(f"{server}/console/KNH/day/2026-11-23?lang={lang}")
    assert axe_violations(page) == [], described(axe_violations(page))
