"""Search and the person page (issue #20 item 4): found by a phone's last digits, a T-code
(Damm-checked first) or a reference; only through bookings at the clerk's own hospital."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from gateway.booking.models import Citizen
from gateway.console.search_terms import Term, read_term
from gateway.messaging.reports import Report, record_report
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tcode import codes
from tests.booking.conftest import slot_id, use_rules
from tests.browsers import axe_violations, described
from tests.console.conftest import PASSWORD, Browser, enrolled
from tests.messaging.sms_phone import deliver, sent_to

A, B = "+254712345671", "+254798765432"  # A books at KNH (and MCH), B at MCH only
MON_0800, MON_0900 = datetime(2026, 11, 23, 8, 0), datetime(2026, 11, 23, 9, 0)
TUE_0900, TUE_1000 = datetime(2026, 11, 24, 9, 0), datetime(2026, 11, 24, 10, 0)


@dataclass(frozen=True)
class Booked:
    holder: int  # A's holder (person id)
    dependant: int  # A's dependant, Amina
    other: int  # B's holder, known at MCH only
    ref: str  # the holder's KNH booking
    tcode: str
    mch_ref: str  # A's booking at MCH
    other_ref: str  # B's booking at MCH
    other_tcode: str


def person_id(rt: Runtime, phone: str) -> int:
    with rt.reader() as s:
        return s.scalars(
            select(Citizen.id).where(Citizen.phone == phone, Citizen.guardian_id.is_(None))
        ).one()


@pytest.fixture
def booked(staffed: Runtime) -> Booked:
    book = staffed.booking.book
    mine = book(A, slot_id(staffed, "CARD", MON_0800), "ussd")
    amina = staffed.booking.add_person(A, "Amina Chebet")
    book(A, slot_id(staffed, "DERM", MON_0800), "ussd", person_id=amina.id)
    mch = book(A, slot_id(staffed, "DEMO", TUE_0900, hospital="MCH"), "ussd")
    theirs = book(B, slot_id(staffed, "DEMO", MON_0900, hospital="MCH"), "ussd")
    return Booked(
        person_id(staffed, A), amina.id, person_id(staffed, B), mine.ref, mine.tcode, mch.ref,
        theirs.ref, theirs.tcode,
    )  # fmt: skip


def typo(tcode: str) -> str:
    """The T-code with its last digit changed: the Damm check catches every such slip."""
    return tcode[:-1] + str((int(tcode[-1]) + 1) % 10)


def page(browser: Browser, path: str) -> tuple[int, str, str]:
    response: Any = browser.get(path)
    return response.status_code, response.headers.get("Location", ""), response.get_data(True)


# --- what the box reads ------------------------------------------------------------------------

# A valid T-code that cannot also be read as a local phone number (it does not start with 0):
# a random one would, one time in ten.
GOOD = "4829135575"
assert codes.is_valid(GOOD)
TERMS = [
    ("last four digits", "5671", Term(ending="5671")),
    ("too few digits", "567", Term(problem="too_short")),
    ("a T-code, spaced and dashed", f"{GOOD[:3]} {GOOD[3:6]}-{GOOD[6:]}", Term(tcode=GOOD)),
    ("a T-code with its T", f"T{GOOD}", Term(tcode=GOOD)),
    ("a T-code with a typo", typo(GOOD), Term(problem="tcode_typo")),
    ("a whole number", "+254 712 345 671", Term(phone=A)),
    ("a reference, any case", "abcd-2345", Term(ref="ABCD2345")),
    ("digits that may be a reference", "23456789", Term(ref="23456789", ending="23456789")),
    ("nothing it knows", "hello", Term(problem="unreadable")),
]


@pytest.mark.parametrize(("typed", "term"), [c[1:] for c in TERMS], ids=[c[0] for c in TERMS])
def test_the_search_box_reads(typed: str, term: Term) -> None:
    assert read_term(typed, "KE") == term


def test_a_local_number_of_ten_digits_is_also_read_as_a_phone() -> None:
    local = "0712345671"
    read = read_term(local, "KE")
    assert read.phone == A
    assert (read.tcode == local) == codes.is_valid(local)


# --- search ------------------------------------------------------------------------------------


def test_the_last_digits_of_a_phone_list_its_persons_masked(
    browser: Browser, booked: Booked
) -> None:
    browser.sign_in("desk@knh.example")
    status, _, body = page(browser, "/console/KNH/search?q=5671")
    assert status == 200
    assert f'/console/KNH/person/{booked.holder}"' in body
    assert f'/console/KNH/person/{booked.dependant}"' in body
    assert "+2547•••••671" in body and A not in body  # masked, never whole
    assert "Amina" in body and "Chebet" not in body  # a first name (no real-name mode)
    assert "dependant" in body
    assert '<label for="q">' in body and 'role="search"' in body


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda b: b.ref, id="reference"),
        pytest.param(lambda b: b.ref.lower(), id="reference in lower case"),
        pytest.param(lambda b: b.tcode, id="T-code"),
        pytest.param(lambda b: codes.group(b.tcode).replace(" ", "-", 1), id="grouped T-code"),
    ],
)
def test_an_exact_hit_goes_straight_to_the_person(
    browser: Browser, booked: Booked, typed: Any
) -> None:
    browser.sign_in("desk@knh.example")
    status, location, _ = page(browser, f"/console/KNH/search?q={typed(booked)}")
    assert status == 302 and location.endswith(f"/console/KNH/person/{booked.holder}")


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (lambda b: typo(b.tcode), "That T-code has a typing error"),
        (lambda b: "67", "Type at least 4 digits"),
        (lambda b: "9999", "No one who booked at this hospital matches"),
    ],
    ids=["T-code typo", "too short", "no one"],
)
def test_a_search_that_finds_no_one_says_why(
    browser: Browser, booked: Booked, typed: Any, said: str
) -> None:
    browser.sign_in("desk@knh.example")
    status, _, body = page(browser, f"/console/KNH/search?q={typed(booked)}")
    assert status == 200 and said in body and "/console/KNH/person/" not in body


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda b: "5432", id="phone digits"),
        pytest.param(lambda b: b.other_ref, id="reference"),
        pytest.param(lambda b: b.other_tcode, id="T-code"),
        pytest.param(lambda b: b.mch_ref, id="another hospital's booking of a known person"),
    ],
)
def test_citizens_who_never_booked_here_are_not_found(
    browser: Browser, booked: Booked, typed: Any
) -> None:
    browser.sign_in("desk@knh.example")
    status, _, body = page(browser, f"/console/KNH/search?q={typed(booked)}")
    assert status == 200 and "No one who booked at this hospital matches" in body
    assert f"/person/{booked.other}" not in body


def test_the_other_hospital_finds_its_own(browser: Browser, booked: Booked) -> None:
    browser.sign_in("desk@mch.example")
    status, location, _ = page(browser, f"/console/MCH/search?q={booked.other_tcode}")
    assert status == 302 and location.endswith(f"/console/MCH/person/{booked.other}")
    _, _, body = page(browser, "/console/MCH/search?q=5671")  # A booked at MCH, Amina did not
    assert f"/person/{booked.holder}" in body and f"/person/{booked.dependant}" not in body


# --- the person page ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "path"),
    [
        ("desk@knh.example", "/console/KNH/person/{b.other}"),  # booked at MCH only
        ("desk@mch.example", "/console/KNH/person/{b.holder}"),  # another hospital's URL
        ("desk@mch.example", "/console/MCH/person/{b.dependant}"),  # never booked at MCH
        ("desk@knh.example", "/console/KNH/person/999999"),  # no one at all
        ("desk@knh.example", "/console/KNH/person/{b.holder}x"),
    ],
    ids=["other hospital's citizen", "other hospital's URL", "not booked here", "no one", "bad id"],
)
def test_a_person_page_outside_the_hospital_is_404(
    browser: Browser, booked: Booked, email: str, path: str
) -> None:
    browser.sign_in(email)
    assert page(browser, path.format(b=booked))[0] == 404


def test_the_person_page_shows_this_hospitals_bookings_and_messages(
    staffed: Runtime, browser: Browser, booked: Booked
) -> None:
    deliver(staffed)
    first = sent_to(staffed, A)[0]  # the KNH voucher: the handset reports it arrived
    assert first.provider_message_id is not None
    report = Report(first.provider, first.provider_message_id, "delivered", "Success")
    assert record_report(staffed, report) == "applied"
    browser.sign_in("desk@knh.example")
    status, _, body = page(browser, f"/console/KNH/person/{booked.holder}")
    assert status == 200
    assert booked.ref in body and booked.mch_ref not in body  # this hospital's only
    assert "2026-11-23 08:00" in body and "Cardiology" in body and "Dr. Achieng Otieno" in body
    assert "booked" in body and "USSD" in body and "issued" in body
    assert f"••• ••• {booked.tcode[-4:]}" in body and booked.tcode not in body
    assert "+2547•••••671" in body and A not in body
    assert "Not blocked" in body and "SMS notices" in body
    messages = body.split("Messages about these bookings", 1)[1]
    assert booked.ref in messages and "<td>voucher</td>" in messages
    assert booked.mch_ref not in messages  # the MCH voucher went to the same phone
    assert "delivered <time" in messages


def test_the_person_page_shows_a_block_with_its_reason_and_end(
    staffed: Runtime, browser: Browser, booked: Booked
) -> None:
    use_rules(staffed, cancel_block=BlockPolicy(count=2, window_days=30, block_days=7))
    for when in (TUE_0900, TUE_1000):
        later = staffed.booking.book(A, slot_id(staffed, "CARD", when), "ussd")
        staffed.booking.cancel(later.ref, by="citizen", phone=A)
    staffed.booking.set_reminders(A, enabled=False)  # STOP
    deliver(staffed)  # the citizen's own cancellations are answered even after STOP
    browser.sign_in("desk@knh.example")
    _, _, body = page(browser, f"/console/KNH/person/{booked.holder}")
    # Blocked at Mon 06:00 Nairobi for seven days.
    assert "Blocked until" in body and "2026-11-30 06:00" in body
    assert "</strong>, after 2 cancelled appointments" in body and "<td>cancellation</td>" in body
    assert "cancelled" in body and "Stopped (the phone sent STOP)" in body
    _, _, amina = page(browser, f"/console/KNH/person/{booked.dependant}")
    assert "Not blocked" in amina and "Stopped (the phone sent STOP)" in amina  # the holder's


def test_the_pages_speak_swahili(browser: Browser, booked: Booked) -> None:
    browser.sign_in("desk@knh.example")
    _, _, search = page(browser, "/console/KNH/search?q=5671&lang=sw")
    assert "Tarakimu za mwisho za simu" in search and "mtegemezi" in search
    _, _, person = page(browser, f"/console/KNH/person/{booked.holder}?lang=sw")
    assert "Nafasi katika hospitali hii" in person and "Hajazuiwa" in person


def test_a_doctor_sees_no_other_patients(browser: Browser, booked: Booked) -> None:
    """A doctor's own day list is theirs; search and a citizen's page are the desk's."""
    browser.sign_in("doctor@knh.example")
    assert page(browser, f"/console/KNH/search?q={booked.ref}")[0] == 403
    assert page(browser, f"/console/KNH/person/{booked.holder}")[0] == 403


def test_every_search_is_audited_without_its_digits(
    staffed: Runtime, browser: Browser, booked: Booked
) -> None:
    from sqlalchemy import select

    from gateway.booking.models import StaffAction

    browser.sign_in("desk@knh.example")
    page(browser, "/console/KNH/search?q=5671")
    with staffed.reader() as s:
        [row] = s.scalars(select(StaffAction).where(StaffAction.action == "person_search"))
    assert (row.actor, row.subject) == ("staff:desk@knh.example", "KNH")
    assert row.reason.startswith("ending, ") and "5671" not in row.reason


def test_the_ministry_sees_the_hospital_of_the_url(
    admin_and_ministry: Runtime, browser: Browser, booked: Booked
) -> None:
    enrolled(browser, admin_and_ministry, "officer@health.example")
    _, _, knh = page(browser, f"/console/KNH/person/{booked.holder}")
    assert booked.ref in knh and booked.mch_ref not in knh
    _, _, mch = page(browser, f"/console/MCH/person/{booked.holder}")
    assert booked.mch_ref in mch and booked.ref not in mch
    assert page(browser, f"/console/KNH/person/{booked.other}")[0] == 404
    assert page(browser, "/console/XYZ/search?q=5671")[0] == 404  # no such hospital


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("lang", ["en", "sw"])
def test_search_and_person_pages_have_no_accessibility_violation(
    chromium_browser: Any, live_server: str, booked: Booked, lang: str
) -> None:
    server = live_server  # one Chromium per test worker (tests/console/conftest.py)
    tab = chromium_browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    tab.goto(f"{server}/console/login")
    tab.fill("#email", "desk@knh.example")
    tab.fill("#password", PASSWORD)
    with tab.expect_navigation():
        tab.click("button[type=submit]")
    for path in (
        f"/console/KNH/search?q=5671&lang={lang}",
        f"/console/KNH/search?q={typo(booked.tcode)}&lang={lang}",
        f"/console/KNH/person/{booked.holder}?lang={lang}",
    ):
        tab.goto(server + path)
        found = axe_violations(tab)
        assert found == [], f"{path}: {described(found)}"
    tab.goto(f"{server}/console/KNH/search")
    tab.focus("#q")
    tab.keyboard.type(booked.ref)
    with tab.expect_navigation():
        tab.keyboard.press("Enter")  # typing and Enter, no pointer, reach the person
    assert tab.url.endswith(f"/console/KNH/person/{booked.holder}")
