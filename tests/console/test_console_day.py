"""The day list: tabs and counts from real bookings, scope, masked phones, the rows the page
polls, and the CSV export (formula escaping, phones only when asked, audited)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from gateway.booking.models import StaffAction
from gateway.console.day_csv import escaped
from gateway.console.day_list import masked
from gateway.messaging.relay import relay_all
from gateway.runtime import Runtime
from tests.booking.conftest import NAIROBI, slot_id, use_id_hash_key, use_rules
from tests.clocks import clock_of
from tests.console.conftest import Browser

DAY = "/console/KNH/day/2026-11-23"
CHECKED, LATE, MISSED, LATER, CANCELLED = (
    "+254700000001",
    "+254700000002",
    "+254700000003",
    "+254700000004",
    "+254700000005",
)


def at(rt: Runtime, hour: int, minute: int = 0) -> None:
    clock_of(rt).at = datetime(2026, 11, 23, hour, minute, tzinfo=NAIROBI).astimezone(UTC)


def card(rt: Runtime, hour: int, minute: int = 0) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, 23, hour, minute))


@pytest.fixture
def monday(staffed: Runtime) -> dict[str, str]:
    """One booking in each tab of Monday at KNH, seen at 09:05 (refs by tab)."""
    bk = staffed.booking
    refs = {
        "checked_in": bk.book(CHECKED, card(staffed, 8), "ussd").ref,
        "not_arrived": bk.book(LATE, card(staffed, 8, 30), "ivr").ref,
        "no_show": bk.book(MISSED, slot_id(staffed, "DERM", datetime(2026, 11, 23, 8)), "ussd").ref,
        "booked": bk.book(LATER, card(staffed, 11, 30), "ussd").ref,
        "cancelled": bk.book(CANCELLED, card(staffed, 9), "ussd").ref,
    }
    bk.cancel(refs["cancelled"], "citizen", phone=CANCELLED)
    at(staffed, 7)
    bk.desk_check_in(refs["checked_in"], actor="staff:desk@knh.example")
    at(staffed, 8, 45)
    bk.sweep()  # DERM 08:00's window closed at 08:30: a no-show
    at(staffed, 9, 5)  # CARD 08:30's window closed at 09:00; no sweep since: not arrived
    return refs


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def counts(page: str) -> dict[str, int]:
    found = re.findall(r'data-focus="tab-(\w+)".*?<span class="count">(\d+)</span>', page, re.S)
    return {tab: int(n) for tab, n in found}


def audit(rt: Runtime) -> list[tuple[str, str, str]]:
    with rt.reader() as s:
        rows = s.scalars(select(StaffAction).order_by(StaffAction.id)).all()
    seen = ("phone_shown", "day_exported_with_phones")  # what looking at the list writes
    return [(a.actor, a.action, a.subject) for a in rows if a.action in seen]


def test_the_hospital_start_page_opens_todays_day_list(browser: Browser) -> None:
    browser.sign_in("desk@knh.example")
    start: Any = browser.get("/console/KNH/")
    assert start.status_code == 302 and start.headers["Location"].endswith(DAY)


def test_each_tab_lists_its_bookings_with_counts(
    browser: Browser, staffed: Runtime, monday: dict[str, str]
) -> None:
    browser.sign_in("desk@knh.example")
    page = text(browser.get(DAY))
    assert counts(page) == {
        "booked": 1, "checked_in": 1, "not_arrived": 1, "no_show": 1, "cancelled": 1
    }  # fmt: skip
    for tab, ref in monday.items():
        shown = text(browser.get(f"{DAY}?tab={tab}"))
        assert [r for r in monday.values() if r in shown] == [ref], tab
    checked = text(browser.get(f"{DAY}?tab=checked_in"))
    assert "08:00" in checked and ">used<" in checked and "<td>1</td>" in checked  # queue no.
    late = text(browser.get(f"{DAY}?tab=not_arrived"))
    assert ">IVR<" in late and ">issued<" in late


def test_the_filters_narrow_the_list_and_keep_to_the_hospital(
    browser: Browser, monday: dict[str, str]
) -> None:
    browser.sign_in("desk@knh.example")
    derm = counts(text(browser.get(f"{DAY}?department=DERM")))
    assert derm == {"booked": 0, "checked_in": 0, "not_arrived": 0, "no_show": 1, "cancelled": 0}
    with_doctor = counts(text(browser.get(f"{DAY}?doctor=D001")))
    assert with_doctor["no_show"] == 0 and with_doctor["checked_in"] == 1
    assert browser.get(f"{DAY}?department=NOPE").status_code == 404
    assert browser.get("/console/KNH/day/23-11-2026").status_code == 404
    previous = text(browser.get(f"{DAY}?department=CARD"))
    assert 'href="/console/KNH/day/2026-11-22?department=CARD' in previous
    assert 'href="/console/KNH/day/2026-11-24?department=CARD' in previous


@pytest.mark.parametrize(
    ("email", "path", "status"),
    [
        ("desk@mch.example", DAY, 404),  # another hospital's day: not even a hint it exists
        ("desk@mch.example", f"{DAY}/rows", 404),
        ("desk@mch.example", f"{DAY}.csv", 404),
        ("desk@knh.example", "/console/MCH/day/2026-11-23", 404),
        ("desk@mch.example", "/console/MCH/day/2026-11-23", 200),
    ],
)
def test_staff_see_their_own_hospital_only(
    browser: Browser, email: str, path: str, status: int
) -> None:
    browser.sign_in(email)
    assert browser.get(path).status_code == status


def test_a_doctor_sees_their_own_bookings_only(browser: Browser, monday: dict[str, str]) -> None:
    browser.sign_in("doctor@knh.example")
    page = text(browser.get(f"{DAY}?doctor=&department=DERM"))  # asking for more changes nothing
    assert counts(page) == {
        "booked": 0, "checked_in": 0, "not_arrived": 0, "no_show": 0, "cancelled": 0
    }  # fmt: skip
    own = counts(text(browser.get(DAY)))
    assert own == {"booked": 1, "checked_in": 1, "not_arrived": 1, "no_show": 0, "cancelled": 1}
    assert 'id="doctor"' not in text(browser.get(DAY))


def test_phones_are_masked_until_shown_and_showing_is_audited(
    browser: Browser, staffed: Runtime, monday: dict[str, str]
) -> None:
    browser.sign_in("desk@knh.example")
    page = text(browser.get(DAY))
    assert LATER not in page and "+2547•••••004" in page
    shown: Any = browser.post(f"{DAY}/phone", {"ref": monday["booked"]})
    assert shown.status_code == 200 and LATER in text(shown)
    assert audit(staffed) == [("staff:desk@knh.example", "phone_shown", monday["booked"])]


def test_showing_a_phone_needs_the_csrf_token_and_a_booking_of_the_list(
    browser: Browser, staffed: Runtime, monday: dict[str, str]
) -> None:
    browser.sign_in("desk@knh.example")
    browser.get(DAY)
    refused: Any = browser.post(f"{DAY}/phone", {"ref": monday["booked"]}, csrf=False)
    assert refused.status_code == 400
    other_day: Any = browser.post("/console/KNH/day/2026-11-24/phone", {"ref": monday["booked"]})
    assert other_day.status_code == 404
    assert audit(staffed) == []


def test_a_doctor_cannot_show_another_doctors_patients_phone(
    browser: Browser, staffed: Runtime, monday: dict[str, str]
) -> None:
    browser.sign_in("doctor@knh.example")
    browser.get(DAY)
    assert browser.post(f"{DAY}/phone", {"ref": monday["no_show"]}).status_code == 404


def test_the_rows_fragment_follows_a_check_in_elsewhere(
    browser: Browser, staffed: Runtime, monday: dict[str, str]
) -> None:
    browser.sign_in("desk@knh.example")
    before = text(browser.get(f"{DAY}/rows?tab=checked_in"))
    assert 'id="day-rows"' in before and 'id="day-tabs"' in before and "<html" not in before
    assert "09:05:00" in before  # updated, in the hospital's time
    at(staffed, 9, 6)
    staffed.booking.desk_check_in(monday["booked"], actor="staff:desk@knh.example")
    after = text(browser.get(f"{DAY}/rows?tab=checked_in"))
    assert monday["booked"] in after and counts(after)["checked_in"] == 2
    assert "09:06:00" in after


def test_the_page_polls_its_own_rows_with_its_filters(
    browser: Browser, monday: dict[str, str]
) -> None:
    browser.sign_in("desk@knh.example")
    page: Any = browser.get(f"{DAY}?department=CARD&tab=booked")
    body = text(page)
    assert 'data-rows-url="/console/KNH/day/2026-11-23/rows?department=CARD&amp;tab=booked"' in body
    assert "/console/static/day.js" in body and "<script>" not in body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_voucher_sms_state_shows_once_the_message_is_made(
    browser: Browser, staffed: Runtime, monday: dict[str, str]
) -> None:
    browser.sign_in("desk@knh.example")
    assert ">queued<" not in text(browser.get(f"{DAY}?tab=booked"))
    relay_all(staffed)
    assert ">queued<" in text(browser.get(f"{DAY}?tab=booked"))


def export(browser: Browser, query: str = "") -> tuple[Any, list[list[str]]]:
    response: Any = browser.get(f"{DAY}.csv{query}")
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # UTF-8 with a BOM, for Excel
    return response, list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_has_no_phones_unless_asked_and_asking_is_audited(
    browser: Browser, staffed: Runtime, monday: dict[str, str]
) -> None:
    browser.sign_in("desk@knh.example")
    response, rows = export(browser)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "text/csv"
    assert len(rows) == 1 + 5 and "Phone" not in rows[0]
    assert not any("+2547" in cell for row in rows for cell in row)
    assert audit(staffed) == []
    _, with_phones = export(browser, "?phones=1&department=CARD")
    assert "Phone" in with_phones[0] and len(with_phones) == 1 + 4
    assert [c for row in with_phones for c in row if c.endswith(LATER)] == ["'" + LATER]
    assert audit(staffed) == [
        ("staff:desk@knh.example", "day_exported_with_phones", "KNH/2026-11-23")
    ]


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(
    browser: Browser, staffed: Runtime
) -> None:
    use_rules(staffed, hospital="KNH", real_name=True)
    use_id_hash_key(staffed)
    formula = '=HYPERLINK("http://x.example","y")'
    staffed.booking.register(LATER, formula, "K7Q-2938 4756")
    dependant = staffed.booking.add_person(CHECKED, "-amina", national_id="K8Q-2938 4757")
    staffed.booking.book(LATER, card(staffed, 11, 30), "ussd")
    staffed.booking.book(CHECKED, card(staffed, 11), "ussd", person_id=dependant.id)
    browser.sign_in("desk@knh.example")
    _, rows = export(browser)
    cells = [c for row in rows[1:] for c in row]
    assert "'" + formula in cells and formula not in cells
    assert "'-amina" in cells or "'-Amina" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+254700000001", "'+254700000001"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Amina", "Amina"),
        ("08:00", "08:00"),
        ("", ""),
    ],
)
def test_escaping_table(cell: str, written: str) -> None:
    assert escaped(cell) == written


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+254712345123", "+2547•••••123"),
        ("+447700900123", "+4477•••••123"),
        ("-000000000017", None),  # a person registered at the desk without a phone
        ("~erased", None),
    ],
)
def test_masking_table(phone: str, shown: str | None) -> None:
    assert masked(phone) == shown
