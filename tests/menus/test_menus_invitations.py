"""Taking up an invitation from "My appointments", over USSD and voice, with the fake core."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from menus.calls import Calls
from menus.catalogue import Catalogue
from menus.context import EngineConfig
from menus.engine import Engine
from menus.ivr import IvrRenderer
from menus.session import Session
from menus.voice import load_voice_catalogues
from tests.menus.conftest import CALLER, DIAL, SHORTCODE, Phone
from tests.menus.fake_port import CODE, FakePort

MakePhone = Callable[[FakePort], Phone]
TUE, WED, THU = date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)


def days_port() -> FakePort:
    return FakePort(days=(TUE, WED, THU))


def test_an_invitation_is_listed_first_and_books_a_time_of_its_window(
    make_phone: MakePhone,
) -> None:
    port = days_port()
    phone = make_phone(port)
    port.invite(CALLER, "CARD", WED, THU)

    phone.run(
        [
            (DIAL, [], False),
            ("2", ["1 Cardiology: choose a time by Thu 26 Nov"], False),
            # Tuesday has free times too, but it is outside the window.
            ("1", ["Choose day", "1 Wed 25 Nov", "2 Thu 26 Nov"], False),
            ("2", ["Thu 26 Nov: choose time", "1 09:30 (2 left)"], False),
            ("1", ["Cardiology", "Kenyatta National Hospital", "Thu 26 Nov 09:30"], False),
            ("1", ["Booked!", "Cardiology", "T-code: 482 913 5575"], True),
        ]
    )

    assert [c for c in port.calls if c[0] == "book_invitation"] == [
        ("book_invitation", (CALLER, "I1", "CARD-1126-0930", "ussd"))
    ]
    assert not port.invited and not port.holds and len(port.bookings) == 1
    phone.run([(DIAL, [], False), ("2", ["1 26 Nov 09:30 Cardiology"], False)])


def test_a_window_past_the_release_horizon_is_offered_all_the_same(make_phone: MakePhone) -> None:
    port = days_port()
    port.released_until = TUE  # the public may book Tuesday only
    phone = make_phone(port)
    port.invite(CALLER, "CARD", WED, THU)

    phone.run(
        [
            (DIAL, [], False),
            ("2", [], False),
            ("1", ["1 Wed 25 Nov", "2 Thu 26 Nov"], False),
            ("2", ["Thu 26 Nov: choose time", "1 09:30 (2 left)"], False),
            ("1", ["Thu 26 Nov 09:30"], False),
            ("1", ["Booked!"], True),
        ]
    )


def test_invitations_come_before_bookings_and_name_a_dependant(
    make_phone: MakePhone,
) -> None:
    port = days_port()
    phone = make_phone(port)
    port.invite(CALLER, "ENT", TUE, WED, person="Amina")
    port.invite(CALLER, "OPD", TUE, TUE)
    port.bookings["B9"] = (CALLER, port.book_invitation(CALLER, "I2", "OPD-1124-0930", "ussd"))

    screen = phone.run([(DIAL, [], False), ("2", ["Your appointments"], False)])

    lines = screen.text.splitlines()
    assert lines[1] == "1 Amina: Ear, Nose and Throat, choose a time by Wed 25 Nov"
    assert lines[2].startswith("2 24 Nov 09:30 Outpatients")


@pytest.mark.parametrize(
    ("refusal", "back_on"),
    [
        ("slot_full", "Tue 24 Nov: choose time"),  # another time of the day
        ("limit_per_day", "Choose day"),  # another day
        ("invitation_closed", "Your appointments"),  # withdrawn or expired meanwhile
        ("outside_invitation", "Your appointments"),
    ],
)
def test_a_refused_invitation_booking_leads_to_the_next_step(
    make_phone: MakePhone, refusal: str, back_on: str
) -> None:
    port = days_port()
    phone = make_phone(port)
    port.invite(CALLER, "CARD", TUE, WED)
    phone.run([(DIAL, [], False), ("2", [], False), ("1", [], False), ("1", [], False)])
    port.refuse("book_invitation", refusal, limit=1, status="cancelled")

    phone.run([("1", [], False), ("1", [back_on], False)])

    assert port.invited  # still open


def test_a_time_taken_meanwhile_is_not_offered_again(make_phone: MakePhone) -> None:
    port = days_port()
    phone = make_phone(port)
    port.invite(CALLER, "CARD", TUE, TUE)
    phone.run([(DIAL, [], False), ("2", [], False), ("1", [], False)])
    port.slots["CARD-1124-0930"].places_left = 0

    screen = phone.run([("1", ["Tue 24 Nov: choose time", "1 10:00 (2 left)"], False)])

    assert "09:30" not in screen.text
    assert not [c for c in port.calls if c[0] == "book_invitation"]


def test_a_window_without_free_days_says_to_call_the_hospital(make_phone: MakePhone) -> None:
    port = days_port()
    phone = make_phone(port)
    port.invite(CALLER, "CARD", date(2026, 12, 1), date(2026, 12, 4))

    phone.run([(DIAL, [], False), ("2", [], False), ("1", ["Please call the hospital."], False)])


def test_an_invitation_closed_meanwhile_returns_to_the_list(make_phone: MakePhone) -> None:
    port = days_port()
    phone = make_phone(port)
    port.invite(CALLER, "CARD", TUE, WED)
    phone.run([(DIAL, [], False), ("2", [], False)])
    port.invited.clear()

    phone.run([("1", ["That invitation is no longer open.", "no upcoming"], False)])


@pytest.fixture
def voice(catalogues: dict[str, Catalogue]) -> tuple[FakePort, Calls]:
    port = FakePort(days=(TUE, WED), sensitive=frozenset({"CARD"}))
    renderer = IvrRenderer(load_voice_catalogues(), catalogues)
    config = EngineConfig(shortcode=SHORTCODE, channel="ivr")
    return port, Calls(Engine(port, catalogues, config, keypad=renderer), renderer)


def test_over_voice_an_invitation_names_the_hospital_and_books(
    voice: tuple[FakePort, Calls],
) -> None:
    port, calls = voice
    port.invite(CALLER, "CARD", WED, WED)
    session = Session.new("call", CALLER)
    calls.hop(session, None)

    listed = " ".join(s.text for s in calls.hop(session, "2").prompt)
    assert "To choose a time at Kenyatta National Hospital by Wednesday the" in listed
    assert "Cardiology" not in listed  # a caller id is only a claim
    asked = " ".join(s.text for s in calls.hop(session, "1").prompt)  # the invitation
    assert port.codes_sent == [CALLER] and "code" in asked  # the phone is proven first
    for key in (CODE, "1", "1"):  # the SMS code > its one day > the first time
        turn = calls.hop(session, key)
    assert "Your clinic" in " ".join(s.text for s in turn.prompt)
    booked = " ".join(s.text for s in calls.hop(session, "1").prompt)

    assert "Your clinic" in booked and "Cardiology" not in booked
    assert ("book_invitation", (CALLER, "I1", "CARD-1125-0930", "ivr")) in port.calls
    assert not port.invited and len(port.bookings) == 1


def test_a_code_asked_for_a_booking_after_leaving_an_invitation_opens_the_booking(
    voice: tuple[FakePort, Calls],
) -> None:
    port, calls = voice
    port.invite(CALLER, "CARD", WED, WED)
    port.hold(CALLER, "desk", "CARD-1125-0930")
    port.book(CALLER, "CARD-1125-0930", "ussd", "desk:book")
    session = Session.new("call", CALLER)
    calls.hop(session, None)
    calls.hop(session, "2")  # My appointments: the invitation, then the booking
    calls.hop(session, "1")  # the invitation: a code is asked first …
    calls.hop(session, "*")  # … but the caller goes back
    calls.hop(session, "2")  # the booking
    calls.hop(session, "1")  # prove the phone by SMS
    heard = " ".join(s.text for s in calls.hop(session, CODE).prompt)
    assert "T-code" in heard and "Choose day" not in heard
