"""The console in Debian's Chromium against a live server: two desks on one day list.

A check-in made at one desk (here, the kiosk's own check-in path) shows on the other desk's
list within 5 seconds, without a reload: the page polls its rows. The README's pictures of the
day list and the person page are rewritten when missing or with ORS_UPDATE_DOCS=1.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import pytest

from gateway.runtime import Runtime
from tests.booking.conftest import slot_id
from tests.browsers import ROOT
from tests.console.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite", "postgres"])]
DAY = "2026-11-23"
DOCS = ROOT / "docs"
CALLERS = ("+254700000081", "+254700000082", "+254700000083")


@pytest.fixture
def server(live_server: str) -> str:
    return live_server


@pytest.fixture
def browser(chromium_browser: Any) -> Any:
    return chromium_browser


def desk(browser: Any, server: str) -> Any:
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{server}/console/login")
    expect(page.locator("#email")).to_be_focused()
    page.fill("#email", "desk@knh.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/console/KNH/day/**")
    page.goto(f"{server}/console/KNH/day/{DAY}")
    return page


def test_a_second_desk_sees_a_check_in_within_5_seconds(
    browser: Any, server: str, staffed: Runtime, backend: str
) -> None:
    from playwright.sync_api import expect

    booked = [
        staffed.booking.book(phone, slot_id(staffed, "CARD", datetime(2026, 11, 23, 9)), "ussd")
        for phone in CALLERS[:2]
    ]
    first, second = desk(browser, server), desk(browser, server)
    checked_in = second.locator("#day-tabs [data-focus='tab-checked_in'] .count")
    expect(checked_in).to_have_text("0")

    staffed.booking.desk_check_in(booked[0].ref, "staff:desk@knh.example")

    expect(checked_in).to_have_text("1", timeout=5000)  # polled, not reloaded
    expect(first.locator("#day-tabs [data-focus='tab-checked_in'] .count")).to_have_text(
        "1", timeout=5000
    )
    if backend == "sqlite" and (os.environ.get("ORS_UPDATE_DOCS") or not _pictured()):
        _picture(first, second, server, staffed)


def _pictured() -> bool:
    return (DOCS / "console-day.png").exists() and (DOCS / "console-person.png").exists()


def _picture(first: Any, second: Any, server: str, staffed: Runtime) -> None:
    staffed.booking.book(CALLERS[2], slot_id(staffed, "DERM", datetime(2026, 11, 23, 8)), "ivr")
    first.goto(f"{server}/console/KNH/day/{DAY}")
    first.screenshot(path=str(DOCS / "console-day.png"), full_page=True)
    first.goto(f"{server}/console/KNH/search?q={CALLERS[0][-4:]}")
    first.locator("main a[href*='/person/']").first.click()
    first.screenshot(path=str(DOCS / "console-person.png"), full_page=True)
