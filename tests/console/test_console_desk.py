"""Desk actions end to end through the console: check in (queue number, slip), cancel with a
reason, lift a block, mark a no-show and undo one (with a reason), send a voucher's SMS again,
take in a walk-in (queue slip). Each changes the database through the booking core with the staff
account in the audit trail; another hospital's booking or person is 404 like a made-up one; a
doctor gets 403; a POST without the CSRF token 400; a refusal reads as a sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from gateway.booking.models import Booking, Citizen
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import at, events, slot_id, staff_actions, use_rules
from tests.console.conftest import Browser

PHONE, BLOCKED, OTHER = "+254700000081", "+254700000082", "+254700000083"
DAY = "/console/KNH/day/2026-11-23"
DESK = "staff:desk@knh.example"


@dataclass(frozen=True)
class Monday:
    ref: str  # a booking at KNH, Monday 09:00 (the clock: Monday 06:00)
    cancelled: str  # one the citizen cancelled
    person: int  # the person of `ref`
    blocked: int  # a person at KNH blocked after two cancellations
    other_ref: str  # a booking at MCH
    other_person: int


def person_of(rt: Runtime, phone: str) -> int:
    [me] = [p for p in rt.booking.persons(phone) if p.me]
    return me.id


@pytest.fixture
def monday(staffed: Runtime) -> Monday:
    bk = staffed.booking
    card = slot_id(staffed, "CARD", datetime(2026, 11, 23, 9))
    ref = bk.book(PHONE, card, "ussd").ref
    cancelled = bk.book(PHONE, slot_id(staffed, "DERM", datetime(2026, 11, 23, 8)), "ussd").ref
    bk.cancel(cancelled, "citizen", phone=PHONE)
    use_rules(staffed, cancel_block=BlockPolicy(count=2, window_days=30, block_days=7))
    for hour in (9, 10):
        later = bk.book(BLOCKED, slot_id(staffed, "CARD", datetime(2026, 11, 24, hour)), "ussd")
        bk.cancel(later.ref, by="citizen", phone=BLOCKED)
    mch = slot_id(staffed, "DEMO", datetime(2026, 11, 23, 9), hospital="MCH")
    other = bk.book(OTHER, mch, "ussd").ref
    return Monday(
        ref, cancelled, person_of(staffed, PHONE), person_of(staffed, BLOCKED), other,
        person_of(staffed, OTHER),
    )  # fmt: skip


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def booking(rt: Runtime, ref: str) -> Booking:
    with rt.reader() as s:
        return s.scalars(select(Booking).where(Booking.ref == ref)).one()


def audited(rt: Runtime) -> list[tuple[str, str, str]]:
    return [(a.actor, a.action, a.reason) for a in staff_actions(rt)]


def signed_in(browser: Browser, email: str = "desk@knh.example") -> Browser:
    browser.sign_in(email)
    assert browser.get(DAY).status_code == 200  # its forms carry the CSRF token
    return browser


def test_a_desk_clerk_checks_a_booking_in_from_the_day_list(
    staffed: Runtime, browser: Browser, monday: Monday
) -> None:
    day = text(signed_in(browser).get(DAY))
    assert f'aria-label="Check in the booking at 09:00 {monday.ref}"' in day
    assert f'aria-label="Cancel the booking at 09:00 {monday.ref}"' in day
    done: Any = browser.post(
        "/console/KNH/desk/check-in", {"ref": monday.ref.lower(), "back": f"{DAY}?tab=booked"}
    )
    page = text(done)
    assert done.status_code == 200, page[:300]
    assert "Checked in. Queue number 1." in page
    assert '<p class="slip-number">1</p>' in page and "data-print" in page
    assert f'href="{DAY}?tab=booked"' in page  # back where it came from
    assert booking(staffed, monday.ref).status == "checked_in"
    assert booking(staffed, monday.ref).queue_number == 1
    assert (DESK, "check_in", "") in audited(staffed)


def test_a_desk_clerk_cancels_with_a_reason_the_citizen_reads(
    staffed: Runtime, browser: Browser, monday: Monday
) -> None:
    signed_in(browser)
    form: Any = browser.get(f"/console/KNH/desk/cancel?ref={monday.ref}&back={DAY}")
    assert form.status_code == 200 and 'for="reason"' in text(form)
    without: Any = browser.post(
        "/console/KNH/desk/cancel", {"ref": monday.ref, "reason": "  ", "back": DAY}
    )
    assert without.status_code == 422 and "Give a reason." in text(without)
    assert booking(staffed, monday.ref).status == "confirmed"
    done: Any = browser.post(
        "/console/KNH/desk/cancel", {"ref": monday.ref, "reason": "Doctor away", "back": DAY}
    )
    assert done.status_code == 200, text(done)[:300]
    assert f"Booking {monday.ref} at 2026-11-23 09:00 is cancelled." in text(done)
    assert f'href="{DAY}"' in text(done)
    cancelled = booking(staffed, monday.ref)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        "cancelled", "staff", "Doctor away",
    )  # fmt: skip
    assert (DESK, "cancel", "Doctor away") in audited(staffed)


def test_a_desk_clerk_lifts_a_block_from_the_person_page(
    staffed: Runtime, browser: Browser, monday: Monday
) -> None:
    person = f"/console/KNH/person/{monday.blocked}"
    page = text(signed_in(browser).get(person))
    assert 'for="unblock-reason"' in page and "Lift the block" in page
    done: Any = browser.post(f"{person}/unblock", {"reason": "Explained the rules", "back": person})
    assert done.status_code == 200, text(done)[:300]
    assert "The block is lifted" in text(done) and f'href="{person}"' in text(done)
    with staffed.reader() as s:
        assert s.get_one(Citizen, monday.blocked).blocked_until is None
    assert (DESK, "unblock", "Explained the rules") in audited(staffed)
    assert "Not blocked" in text(browser.get(person))


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "This booking was cancelled: it cannot check in."),
        ("sw", "Nafasi hii ilighairiwa: haiwezi kuingizwa."),
    ],
)
def test_a_refused_check_in_says_why_in_a_sentence(
    staffed: Runtime, browser: Browser, monday: Monday, lang: str, said: str
) -> None:
    signed_in(browser)
    refused: Any = browser.post(
        f"/console/KNH/desk/check-in?lang={lang}", {"ref": monday.cancelled}
    )
    assert refused.status_code == 409 and said in text(refused)
    assert booking(staffed, monday.cancelled).status == "cancelled"
    assert not [a for a in audited(staffed) if a[1] == "check_in"]


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "Already checked in, queue number 1."), ("sw", "Tayari amefika, nambari ya foleni 1.")],
)
def test_a_second_check_in_names_the_queue_number_given(
    browser: Browser, monday: Monday, lang: str, said: str
) -> None:
    signed_in(browser)
    assert browser.post("/console/KNH/desk/check-in", {"ref": monday.ref}).status_code == 200
    again: Any = browser.post(f"/console/KNH/desk/check-in?lang={lang}", {"ref": monday.ref})
    assert again.status_code == 409 and said in text(again)


def test_lifting_a_block_that_is_not_there_says_so(browser: Browser, monday: Monday) -> None:
    signed_in(browser)
    none: Any = browser.post(f"/console/KNH/person/{monday.person}/unblock", {"reason": "x"})
    assert none.status_code == 409 and "This person has no block to lift." in text(none)


def test_a_block_is_lifted_only_with_a_reason(
    staffed: Runtime, browser: Browser, monday: Monday
) -> None:
    signed_in(browser)
    path = f"/console/KNH/person/{monday.blocked}/unblock"
    without: Any = browser.post(path, {"reason": ""})
    assert without.status_code == 422 and "Give a reason." in text(without)
    too_long: Any = browser.post(path, {"reason": "x" * 161})
    assert too_long.status_code == 422 and "Keep the reason to 160 characters." in text(too_long)
    with staffed.reader() as s:
        assert s.get_one(Citizen, monday.blocked).blocked_until is not None


# Each action, as (method, path, form) for a booking `ref`, a person `person` and a
# department `department`.
ACTIONS = {
    "check_in": ("POST", "/console/KNH/desk/check-in", {"ref": "{ref}"}),
    "cancel_form": ("GET", "/console/KNH/desk/cancel?ref={ref}", {}),
    "cancel": ("POST", "/console/KNH/desk/cancel", {"ref": "{ref}", "reason": "Closed"}),
    "unblock": ("POST", "/console/KNH/person/{person}/unblock", {"reason": "Error"}),
    "no_show_form": ("GET", "/console/KNH/desk/no-show?ref={ref}", {}),
    "no_show": ("POST", "/console/KNH/desk/no-show", {"ref": "{ref}", "reason": "Not seen"}),
    "undo_no_show_form": ("GET", "/console/KNH/desk/undo-no-show?ref={ref}", {}),
    "undo_no_show": ("POST", "/console/KNH/desk/undo-no-show", {"ref": "{ref}", "reason": "Seen"}),
    "resend": ("POST", "/console/KNH/desk/resend", {"ref": "{ref}"}),
    "walk_in": ("POST", "/console/KNH/desk/walk-in", {"department": "{department}"}),
}


def act(browser: Browser, action: str, facts: dict[str, str], csrf: bool = True) -> Any:
    method, path, form = ACTIONS[action]
    url = path.format(**facts)
    if method == "GET":
        return browser.client.get(url)
    return browser.post(url, {k: v.format(**facts) for k, v in form.items()}, csrf=csrf)


def own(monday: Monday) -> dict[str, str]:
    """The facts of actions on the desk's own hospital."""
    return {"ref": monday.ref, "person": str(monday.blocked), "department": "CARD"}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_another_hospitals_booking_is_404_like_a_made_up_one(
    staffed: Runtime, browser: Browser, monday: Monday, action: str
) -> None:
    signed_in(browser)
    other = act(
        browser, action,
        {"ref": monday.other_ref, "person": str(monday.other_person), "department": "DEMO"},
    )  # fmt: skip
    made_up = act(browser, action, {"ref": "ZZZZZZZZ", "person": "999999", "department": "ZZZ"})
    assert other.status_code == made_up.status_code == 404
    assert other.get_data() == made_up.get_data()
    assert booking(staffed, monday.other_ref).status == "confirmed"
    assert audited(staffed) == []


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_doctor_may_not_act_at_the_desk(
    staffed: Runtime, browser: Browser, monday: Monday, action: str
) -> None:
    day = text(signed_in(browser, "doctor@knh.example").get(DAY))
    assert "Check in the booking" not in day  # a doctor's list has no desk buttons
    answer = act(browser, action, own(monday))
    assert answer.status_code == 403
    assert booking(staffed, monday.ref).status == "confirmed"


@pytest.mark.parametrize("action", [a for a, (method, _, _) in ACTIONS.items() if method == "POST"])
def test_a_post_without_the_csrf_token_changes_nothing(
    staffed: Runtime, browser: Browser, monday: Monday, action: str
) -> None:
    signed_in(browser)
    answer = act(browser, action, own(monday), csrf=False)
    assert answer.status_code == 400
    assert booking(staffed, monday.ref).status == "confirmed"
    assert audited(staffed) == []


def test_the_person_page_offers_the_actions_on_live_bookings_only(
    browser: Browser, monday: Monday
) -> None:
    page = text(signed_in(browser).get(f"/console/KNH/person/{monday.person}"))
    labels = re.findall(r'aria-label="((?:Check in|Cancel) the booking at [^"]+)"', page)
    assert labels == [
        f"Check in the booking at 2026-11-23 09:00 {monday.ref}",
        f"Cancel the booking at 2026-11-23 09:00 {monday.ref}",
    ]


def test_a_desk_clerk_marks_a_late_booking_a_no_show_with_a_reason(
    staffed: Runtime, browser: Browser, monday: Monday
) -> None:
    at(staffed, 2026, 11, 23, 9, 40)  # the check-in window closed; the sweep has not run
    late = text(signed_in(browser).get(f"{DAY}?tab=not_arrived"))
    label = f"Mark as a no-show the booking at 09:00 {monday.ref}"
    assert f'aria-label="{label}"' in late
    form: Any = browser.get(f"/console/KNH/desk/no-show?ref={monday.ref}&back={DAY}")
    assert form.status_code == 200 and 'for="reason"' in text(form)
    without: Any = browser.post("/console/KNH/desk/no-show", {"ref": monday.ref, "reason": ""})
    assert without.status_code == 422 and "Give a reason." in text(without)
    assert booking(staffed, monday.ref).status == "confirmed"
    done: Any = browser.post(
        "/console/KNH/desk/no-show", {"ref": monday.ref, "reason": "Not in the hall", "back": DAY}
    )
    assert done.status_code == 200, text(done)[:300]
    assert f"Booking {monday.ref} at 2026-11-23 09:00 is marked a no-show." in text(done)
    assert f'href="{DAY}"' in text(done)
    assert booking(staffed, monday.ref).status == "no_show"
    assert (DESK, "mark_no_show", "Not in the hall") in audited(staffed)


@pytest.mark.parametrize(
    ("minute", "status", "said"),
    [
        (10, "confirmed", "is undone: it may still check in."),
        (40, "cancelled", "is undone: its check-in time is over, so it is cancelled"),
    ],
)
def test_a_desk_clerk_undoes_a_mistaken_no_show(
    staffed: Runtime, browser: Browser, monday: Monday, minute: int, status: str, said: str
) -> None:
    at(staffed, 2026, 11, 23, 9, minute)
    staffed.booking.mark_no_show(monday.ref, DESK, "Not in the hall")
    missed = text(signed_in(browser).get(f"{DAY}?tab=no_show"))
    assert f'aria-label="Undo no-show of the booking at 09:00 {monday.ref}"' in missed
    form: Any = browser.get(f"/console/KNH/desk/undo-no-show?ref={monday.ref}")
    assert form.status_code == 200 and "Undo the no-show" in text(form)
    done: Any = browser.post(
        "/console/KNH/desk/undo-no-show", {"ref": monday.ref, "reason": "Was at the pharmacy"}
    )
    assert done.status_code == 200, text(done)[:300]
    assert f"The no-show of booking {monday.ref} {said}" in text(done)
    assert booking(staffed, monday.ref).status == status
    assert (DESK, "undo_no_show", "Was at the pharmacy") in audited(staffed)


def test_a_desk_clerk_sends_the_voucher_sms_again(
    staffed: Runtime, browser: Browser, monday: Monday
) -> None:
    day = text(signed_in(browser).get(DAY))
    assert f'aria-label="Resend SMS with the voucher of the booking at 09:00 {monday.ref}"' in day
    done: Any = browser.post("/console/KNH/desk/resend", {"ref": monday.ref, "back": DAY})
    assert done.status_code == 200, text(done)[:300]
    assert f"The voucher SMS of booking {monday.ref} is being sent again." in text(done)
    resent = [e for e in events(staffed) if e.type == "voucher.resent"]
    assert [e.subject_id for e in resent] == [monday.ref]
    assert booking(staffed, monday.ref).status == "confirmed"
    assert (DESK, "resend_voucher", "") in audited(staffed)


def test_a_desk_clerk_gives_a_walk_in_a_queue_number(
    staffed: Runtime, browser: Browser, monday: Monday
) -> None:
    at(staffed, 2026, 11, 23, 8, 5)
    day = text(signed_in(browser).get(DAY))
    assert 'for="walk-in-department"' in day and "Give a queue number" in day
    assert "walk-in-department" not in text(browser.get("/console/KNH/day/2026-11-24"))
    done: Any = browser.post("/console/KNH/desk/walk-in", {"department": "CARD", "back": DAY})
    page = text(done)
    assert done.status_code == 200, page[:300]
    assert "Walk-in registered. Queue number 1." in page
    assert '<p class="slip-number">1</p>' in page and "data-print" in page
    [(actor, subject)] = [
        (a.actor, a.subject) for a in staff_actions(staffed) if a.action == "walk_in"
    ]
    assert actor == DESK
    walked = booking(staffed, subject)
    assert (walked.status, walked.queue_number) == ("checked_in", 1)


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "This booking starts at 2026-11-23 09:00: it cannot be a no-show before then."),
        ("sw", "Nafasi hii inaanza saa 2026-11-23 09:00: haiwezi kuwekwa kuwa hakuja kabla"),
    ],
)
def test_a_no_show_before_the_slot_starts_is_refused_in_a_sentence(
    staffed: Runtime, browser: Browser, monday: Monday, lang: str, said: str
) -> None:
    signed_in(browser)
    refused: Any = browser.post(
        f"/console/KNH/desk/no-show?lang={lang}", {"ref": monday.ref, "reason": "Early"}
    )
    assert refused.status_code == 409 and said in text(refused)
    assert booking(staffed, monday.ref).status == "confirmed"
    assert audited(staffed) == []


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "No walk-in place is left in this department today."),
        ("sw", "Hakuna nafasi ya wanaofika bila miadi iliyobaki katika idara hii leo."),
    ],
)
def test_a_walk_in_when_the_day_is_full_is_refused_in_a_sentence(
    staffed: Runtime, browser: Browser, monday: Monday, lang: str, said: str
) -> None:
    at(staffed, 2026, 11, 23, 12, 0)  # the day's sessions are over
    signed_in(browser)
    refused: Any = browser.post(f"/console/KNH/desk/walk-in?lang={lang}", {"department": "CARD"})
    assert refused.status_code == 409 and said in text(refused)
    assert audited(staffed) == []


def test_the_person_page_offers_no_show_actions_once_the_slot_started(
    staffed: Runtime, browser: Browser, monday: Monday
) -> None:
    person = f"/console/KNH/person/{monday.person}"
    when = f"2026-11-23 09:00 {monday.ref}"
    before = text(signed_in(browser).get(person))
    assert f'aria-label="Resend SMS with the voucher of the booking at {when}"' in before
    assert "Mark as a no-show" not in before
    at(staffed, 2026, 11, 23, 9, 5)
    signed_in(browser)  # hours later: the idle session has ended
    assert f'aria-label="Mark as a no-show the booking at {when}"' in text(browser.get(person))
    staffed.booking.mark_no_show(monday.ref, DESK, "Not in the hall")
    after = text(browser.get(person))
    assert f'aria-label="Undo no-show of the booking at {when}"' in after
    assert "Resend SMS" not in after


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_desk_pages_work_by_keyboard_without_accessibility_violations(
    chromium_browser: Any, live_server: str, staffed: Runtime, monday: Monday, lang: str
) -> None:
    """From the day list, check in, cancel and take a walk-in by keyboard; lift a block on the
    person page; open the no-show reason form. axe-core finds nothing on any page on the way
    (the slips, the reason forms, the results)."""
    from playwright.sync_api import expect

    from tests.browsers import axe_violations, described
    from tests.console.conftest import PASSWORD

    server = live_server
    tab = chromium_browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    tab.goto(f"{server}/console/login?lang={lang}")
    tab.fill("#email", "desk@knh.example")
    tab.fill("#password", PASSWORD)
    with tab.expect_navigation():
        tab.click("button[type=submit]")

    def clean() -> None:
        found = axe_violations(tab)
        assert found == [], f"{tab.url}: {described(found)}"

    tab.goto(f"{server}{DAY}")
    tab.focus(f'[data-focus="checkin-{monday.ref}"]')
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    expect(tab.locator(".slip-number")).to_have_text("1")
    expect(tab.locator("[data-print]")).to_be_visible()  # slip.js shows the print button
    clean()

    tab.goto(f"{server}/console/KNH/person/{monday.blocked}")
    clean()
    tab.focus("#unblock-reason")
    tab.keyboard.type("Explained the rules")
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    expect(tab.locator("p.notice")).to_be_visible()
    clean()

    live = staffed.booking.book(
        OTHER, slot_id(staffed, "CARD", datetime(2026, 11, 23, 11, 30)), "ussd"
    )
    tab.goto(f"{server}{DAY}")
    tab.focus(f'[data-focus="cancel-{live.ref}"]')
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    expect(tab.locator("#reason")).to_be_focused()  # autofocus: type the reason at once
    clean()
    tab.keyboard.type("Doctor away")
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    expect(tab.locator("p.notice")).to_contain_text(live.ref)
    clean()

    tab.goto(f"{server}/console/KNH/desk/no-show?ref={monday.ref}&back={DAY}")
    expect(tab.locator("#reason")).to_be_focused()
    clean()
    tab.goto(f"{server}{DAY}")
    tab.focus('[data-focus="walk-in"]')  # the department is chosen already: Enter sends
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    expect(tab.locator(".slip-number")).to_be_visible()
    clean()
