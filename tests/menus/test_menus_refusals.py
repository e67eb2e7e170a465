"""Every refusal of the core, in every language: one short line, then a way on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from menus.catalogue import Catalogue
from menus.ports import REFUSAL_CODES, BookingView, Refused
from menus.refusals import refusal_line
from tests.menus.conftest import CALLER, DIAL, Phone
from tests.menus.fake_port import EAT, FakePort

LATER = datetime(2026, 11, 25, 10, 0, tzinfo=EAT)
PARAMS: dict[str, dict[str, Any]] = {
    "slot_full": {"next_times": [LATER]},
    "limit_per_day": {"limit": 2},
    "outside_horizon": {"opens_at": datetime(2026, 11, 24, 0, 0, tzinfo=EAT)},
    "deadline_passed": {"deadline": datetime(2026, 11, 24, 7, 30, tzinfo=EAT)},
    "blocked": {"until": date(2026, 12, 23)},
    "limit_per_phone": {"limit": 6},
    "person_limit": {"limit": 5},
    "invalid_name": {"max_length": 20},
}
TO_BOOK = ["1", "1", "1", "1"]  # main > hospital > department > day: the times are listed


def _reach_slot_pick(phone: Phone) -> None:
    phone.dial()
    for typed in TO_BOOK:
        phone.press(typed)


# registration_required at a hold or a booking is no refusal line: the real-name screens ask
# (tests/menus/test_menus_registration.py).
STAGED_CODES = [
    (stage, code)
    for stage in ("hold", "book", "cancel")
    for code in REFUSAL_CODES
    if not (code == "registration_required" and stage != "cancel")
]


@pytest.mark.parametrize("language", ["en", "sw"])
@pytest.mark.parametrize(("stage", "code"), STAGED_CODES)
def test_every_refusal_is_one_line_and_a_way_on(
    phone: Phone, port: FakePort, catalogues: dict[str, Catalogue], code: str, stage: str,
    language: str,
) -> None:  # fmt: skip
    port.languages[CALLER] = language
    if stage == "cancel":
        port.bookings["B9"] = (CALLER, _booking())
        phone.dial()
        for typed in ("2", "1", "1"):  # list > details > "Cancel ...?"
            phone.press(typed)
    else:
        _reach_slot_pick(phone)
        if stage == "book":
            phone.press("1")
    port.refuse(stage, code, **PARAMS.get(code, {}))

    screen = phone.press("1")

    line = refusal_line(
        catalogues[language], Refused(code, **PARAMS.get(code, {})), date(2026, 11, 24)
    )
    assert screen.text.splitlines()[0] == line
    assert not screen.end
    assert screen.reply.options or screen.reply.can_back or screen.reply.can_home


ENGLISH = {
    "slot_full": "Sorry, that time is now full. Next free: Wed 25 Nov 10:00.",
    "hold_expired": "Your hold ran out. Please choose a time again.",
    "limit_per_day": "You can book only 2 a day. Choose another day.",
    "department_same_day": "You already have this department that day. Choose another day.",
    "outside_horizon": "That day opens for booking on Tue 24 Nov 00:00.",
    "slot_started": "That time has passed. Choose a later time.",
    "deadline_passed": "Too late to cancel (deadline Tue 24 Nov 07:30). Call the hospital.",
    "blocked": "You cannot book until Wed 23 Dec.",
    "not_found": "Sorry, we could not find that.",
    "not_owner": "That booking is not on your number.",
    "not_active": "That booking is no longer active.",
    "registration_required": "Please register first at the hospital desk.",
    "invalid_phone": "This phone number cannot be used to book.",
    "invalid_registration": "That name or ID number is not valid.",
    "id_in_use": "That ID number is on another phone. Ask at the hospital desk.",
    "already_registered": "Your number has another ID number. Ask at the hospital desk.",
    "not_blocked": "Your number is not blocked.",
    "invalid_invitation": "That invitation cannot be used.",
    "invitation_closed": "That invitation is no longer open.",
    "outside_invitation": "That time is not part of your invitation.",
    "unconfirmed_pending": "Please first keep your phone-call booking (reply to its SMS).",
    "voice_full": "No more phone-call bookings that day. Choose another day.",
    "code_limit": "Too many codes sent to this phone. Please try again later.",
    "limit_per_phone": "This phone can have only 6 appointments at a time.",
    "person_limit": "No more people can be added to this phone. Ask at the hospital desk.",
    "invalid_name": "Type a first name of up to 20 letters.",
    "phone_in_use": "That phone number is in use already. Ask at the hospital desk.",
    "unavailable": "Sorry, the service is busy. Please try again.",
}


def test_english_lines_with_their_facts(catalogues: dict[str, Catalogue]) -> None:
    assert set(ENGLISH) == set(REFUSAL_CODES)
    for code, expected in ENGLISH.items():
        refused = Refused(code, **PARAMS.get(code, {}))
        assert refusal_line(catalogues["en"], refused, date(2026, 11, 24)) == expected


def test_swahili_lines_use_swahili_dates(catalogues: dict[str, Catalogue]) -> None:
    sw = catalogues["sw"]
    assert refusal_line(sw, Refused("blocked", until=date(2026, 12, 23))) == (
        "Huwezi kuweka miadi hadi Jumatano 23 Des."
    )
    assert refusal_line(sw, Refused("limit_per_day", limit=2)).startswith("Unaweza kuweka miadi 2")


def test_next_free_time_on_the_same_day_is_just_the_time(catalogues: dict[str, Catalogue]) -> None:
    refused = Refused("slot_full", next_times=[LATER, datetime(2026, 11, 25, 9, 0, tzinfo=EAT)])
    line = refusal_line(catalogues["en"], refused, date(2026, 11, 25))
    assert line == "Sorry, that time is now full. Next free: 09:00."


def test_optional_facts_may_be_missing(catalogues: dict[str, Catalogue]) -> None:
    en = catalogues["en"]
    assert refusal_line(en, Refused("slot_full", next_times=[])) == "Sorry, that time is now full."
    assert refusal_line(en, Refused("outside_horizon", opens_at=None)) == (
        "That day is not open for booking yet."
    )


def test_unknown_code_is_shown_as_unavailable(catalogues: dict[str, Catalogue]) -> None:
    line = refusal_line(catalogues["en"], Refused("new_rule_nobody_told_us_about"))
    assert line == ENGLISH["unavailable"]


def test_every_code_has_a_line_in_every_catalogue(catalogues: dict[str, Catalogue]) -> None:
    for cat in catalogues.values():
        assert {f"refused.{code}" for code in REFUSAL_CODES} <= cat.texts.keys()


@pytest.mark.parametrize(
    ("stage", "code", "lands_on"),
    [
        ("hold", "slot_full", "slot"),
        ("hold", "slot_started", "slot"),
        ("book", "hold_expired", "slot"),
        ("book", "limit_per_day", "day"),
        ("hold", "department_same_day", "day"),
        ("hold", "outside_horizon", "day"),
        ("book", "blocked", "main"),
        ("hold", "registration_required", "register_name"),
        ("book", "unavailable", "main"),
    ],
)
def test_refusal_leads_to_the_useful_next_step(
    phone: Phone, port: FakePort, stage: str, code: str, lands_on: str
) -> None:
    _reach_slot_pick(phone)
    if stage == "book":
        phone.press("1")
    port.refuse(stage, code, **PARAMS.get(code, {}))
    port.lacking[(CALLER, None)] = ["name", "national_id"]  # asked only where the core says
    assert phone.press("1").reply.screen == lands_on


def test_core_unavailable_while_listing_goes_to_main_menu(phone: Phone, port: FakePort) -> None:
    phone.dial()
    port.refuse("hospitals", "unavailable")
    phone.run([("1", ["Sorry, the service is busy.", "1 Book"], False)])


def test_core_unavailable_on_first_hop_still_answers(phone: Phone, port: FakePort) -> None:
    port.refuse("caller", "unavailable")
    port.refuse("current_hold", "unavailable")
    phone.run([(DIAL, ["Sorry, the service is busy.", "Hospital appointments"], False)])


def _booking() -> BookingView:
    starts = datetime(2026, 11, 24, 9, 30, tzinfo=EAT)
    return BookingView(
        "B9", "4829135575", "Kenyatta National Hospital", "Cardiology", starts, "confirmed"
    )
