"""Booking over USSD, hop by hop: one row per input (input, expected text, session ends?)."""

from __future__ import annotations

from collections.abc import Callable

from menus.ports import Choice
from tests.menus.conftest import CALLER, DIAL, Phone
from tests.menus.fake_port import EAT, FakePort

MakePhone = Callable[[FakePort], Phone]

FULL_BOOKING = [
    (DIAL, ["Hospital appointments", "1 Book", "2 My appointments", "3 Language", "4 Help"], False),
    # Nairobi is the only city, so the city level is skipped.
    ("1", ["Choose hospital", "1 Kenyatta National Hospital", "2 Mbagathi", "0 Back"], False),
    ("1", ["Choose department", "1 Cardiology", "2 Ear, Nose and Throat", "00 Home"], False),
    ("1", ["Choose day", "1 Tue 24 Nov", "2 Wed 25 Nov"], False),
    ("1", ["Tue 24 Nov: choose time", "1 09:30 (2 left)", "2 10:00 (2 left)"], False),
    (
        "1",
        [
            "Cardiology",
            "Kenyatta National Hospital",
            "Tue 24 Nov 09:30, held till 08:05",
            "1 Confirm",
        ],
        False,
    ),
    (
        "1",
        ["Booked!", "Cardiology", "Kenyatta National Hospital", "T-code: 482 913 5575", "SMS"],
        True,
    ),
]


def test_full_booking_ends_with_summary_and_grouped_tcode(phone: Phone, port: FakePort) -> None:
    screen = phone.run(FULL_BOOKING)

    assert screen.text.splitlines()[3] == "Tue 24 Nov 09:30"
    session_key = phone.key
    assert ("hold", (CALLER, session_key, "CARD-1124-0930")) in port.calls
    assert ("book", (CALLER, "CARD-1124-0930", "ussd", f"{session_key}:book")) in port.calls
    assert phone.session() is None  # the session ended and left the store


def test_city_level_is_shown_when_there_are_several_cities(make_phone: MakePhone) -> None:
    phone = make_phone(FakePort(cities=[Choice("NBO", "Nairobi"), Choice("MSA", "Mombasa")]))
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", ["Choose city", "1 Nairobi", "2 Mombasa"], False),
            ("1", ["Choose hospital"], False),
            ("0", ["Choose city"], False),
        ]
    )


def test_back_skips_the_levels_that_were_skipped(make_phone: MakePhone) -> None:
    phone = make_phone(FakePort(hospitals={"NBO": [Choice("KNH", "Kenyatta National Hospital")]}))
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", ["Choose department"], False),  # city and hospital both skipped
            ("0", ["Hospital appointments", "1 Book"], False),
        ]
    )


def test_slot_full_after_expired_hold_offers_the_days_other_times(
    phone: Phone, port: FakePort
) -> None:
    phone.run(FULL_BOOKING[:6])
    port.expire_hold(CALLER, taken=True)  # the caller hesitated; someone took the place

    screen = phone.press("1")

    assert not screen.end
    lines = screen.text.splitlines()
    assert lines[0] == "Sorry, that time is now full. Next free: 10:00."
    assert "09:30" not in screen.text
    assert "1 10:00 (2 left)" in lines and "2 10:30 (2 left)" in lines
    phone.run(
        [
            ("1", ["Tue 24 Nov 10:00, held till", "1 Confirm"], False),
            ("1", ["Booked!", "Tue 24 Nov 10:00", "T-code: 482 913 5575"], True),
        ]
    )


def test_hold_expired_without_loss_offers_times_again(phone: Phone, port: FakePort) -> None:
    phone.run(FULL_BOOKING[:6])
    port.expire_hold(CALLER, taken=False)

    phone.run(
        [
            ("1", ["Your hold ran out", "1 09:30 (2 left)", "0 Back"], False),
        ]
    )


def test_refused_hold_explains_and_stays_on_the_times(phone: Phone, port: FakePort) -> None:
    port.slots["CARD-1124-0930"].places_left = 0  # gone between listing and picking
    phone.run(FULL_BOOKING[:4])
    port.slots["CARD-1124-0930"].places_left = 1
    phone.press("1")  # list the times with 09:30 still free
    port.slots["CARD-1124-0930"].places_left = 0

    screen = phone.press("1")

    assert screen.text.startswith("Sorry, that time is now full. Next free: 10:00.")
    assert "Tue 24 Nov: choose time" in screen.text and not screen.end


def test_number_means_what_the_caller_saw_even_if_the_list_changed(
    phone: Phone, port: FakePort
) -> None:
    phone.run(FULL_BOOKING[:5])
    port.slots["CARD-1124-0930"].places_left = 0  # the first time vanishes from fresh lists

    phone.press("2")  # the caller picks "2 10:00" as shown

    holds = [args for method, args in port.calls if method == "hold"]
    assert holds == [(CALLER, phone.key, "CARD-1124-1000")]


def test_resume_continue_goes_to_confirm_and_books(phone: Phone, port: FakePort) -> None:
    phone.run(FULL_BOOKING[:6])  # then the call drops

    phone.run(
        [
            (
                DIAL,
                ["You have a place on hold.", "1 Continue (Tue 24 Nov 09:30 Cardiology)"],
                False,
            ),
            ("1", ["Tue 24 Nov 09:30, held till", "1 Confirm"], False),
            ("1", ["Booked!", "T-code: 482 913 5575"], True),
        ]
    )
    books = [args for method, args in port.calls if method == "book"]
    assert books == [(CALLER, "CARD-1124-0930", "ussd", f"{phone.key}:book")]


def test_resume_start_again_releases_the_hold(phone: Phone, port: FakePort) -> None:
    phone.run(FULL_BOOKING[:6])

    phone.run(
        [
            (DIAL, ["1 Continue", "2 Start again"], False),
            ("2", ["Hospital appointments", "1 Book"], False),
        ]
    )
    assert CALLER not in port.holds
    assert port.slots["CARD-1124-0930"].places_left == 2


def test_resume_then_lost_place_offers_other_times(phone: Phone, port: FakePort) -> None:
    phone.run(FULL_BOOKING[:6])
    phone.run([(DIAL, ["1 Continue"], False), ("1", ["1 Confirm"], False)])
    port.expire_hold(CALLER, taken=True)

    phone.run(
        [
            ("1", ["Sorry, that time is now full.", "1 10:00", "0 Back"], False),
            ("1", ["Tue 24 Nov 10:00, held till", "1 Confirm"], False),
        ]
    )


def test_no_resume_question_without_a_live_hold(phone: Phone, port: FakePort) -> None:
    phone.run(FULL_BOOKING[:6])
    port.expire_hold(CALLER, taken=False)

    phone.run([(DIAL, ["Hospital appointments", "1 Book"], False)])


def test_day_that_filled_up_sends_the_caller_to_other_days(phone: Phone, port: FakePort) -> None:
    phone.run(FULL_BOOKING[:4])
    for slot in port.slots.values():
        if slot.starts_at.day == 24:
            slot.places_left = 0

    phone.run([("1", ["That day is now full. Choose another day.", "1 Wed 25 Nov"], False)])


def test_no_open_days_is_said_with_a_way_back(make_phone: MakePhone) -> None:
    phone = make_phone(FakePort(days=()))
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", ["Choose hospital"], False),
            ("1", ["Choose department"], False),
            ("1", ["No free days", "0 Back", "00 Home"], False),
            ("0", ["Choose department"], False),
        ]
    )


def test_slot_times_are_hospital_local_as_given(phone: Phone, port: FakePort) -> None:
    assert port.slots["CARD-1124-0930"].starts_at.tzinfo is EAT
    phone.run(FULL_BOOKING[:5])  # 09:30 EAT is shown as 09:30, not converted
