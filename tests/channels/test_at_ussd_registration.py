"""Real-name registration through `POST /hooks/at/ussd`, as Africa's Talking drives it.

Kenyatta National Hospital books by name and national ID (`real_name: true`); the deployment
is Kenyan, so an ID has 7 or 8 digits. The clock stands at Monday 23 November 2026, 06:00 in
Nairobi; Cardiology has two remote places every half hour from 08:00 (tests/data/catalog.yaml).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from sqlalchemy import select

from gateway.booking.models import Citizen
from gateway.runtime import Runtime
from gateway.settings import BookingSettings, Secrets
from tests.channels.conftest import CALLER, DIAL, AtPhone, Row, other_phone

RAW_ID = "23456789"
NAME_SCREEN = "This hospital books by name and ID. Type your full name as on your ID."
ID_SCREEN = "Type your national ID number."
CONFIRM = ["Cardiology", "Kenyatta National Hospital", "Mon 23 Nov 08:00, held till 06:05"]
# Book > Nairobi > KNH > Cardiology > Mon 23 Nov > 08:00.
TO_TIME: list[Row] = [
    (DIAL, ["1 Book"], False),
    ("1", ["Choose city"], False),
    ("2", ["Choose hospital"], False),
    ("1", ["Choose department"], False),
    ("1", ["Choose day"], False),
    ("1", ["Mon 23 Nov: choose time", "1 08:00 (2 left)"], False),
]


@pytest.fixture
def real_name(catalog: Runtime) -> Runtime:
    rules = replace(catalog.settings.booking.defaults, real_name=True)
    catalog.booking.rules = BookingSettings(hospitals={"KNH": rules})
    secrets = Secrets(id_hash_key="test-id-hash-key")
    catalog.booking.settings = catalog.booking.settings.with_overrides(secrets=secrets)
    return catalog


def _citizen(rt: Runtime, name: str) -> Citizen:
    with rt.reader() as s:
        return s.scalars(select(Citizen).where(Citizen.name == name)).one()


def test_register_then_book_and_the_next_booking_asks_nothing(
    phone: AtPhone, real_name: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone.run([*TO_TIME, ("1", [NAME_SCREEN, "0 Back", "00 Home"], False)])
    # The place is held while the caller types: nobody takes it meanwhile.
    assert real_name.booking.current_hold(CALLER) is not None
    phone.run(
        [
            ("  achieng   otieno ", [ID_SCREEN], False),
            # A wrong form: the screen says what an ID is here, and asks again.
            ("12345", ["An ID number has 7 to 8 digits. Try again.", ID_SCREEN], False),
            (RAW_ID, CONFIRM, False),
            ("1", ["Booked!", "Mon 23 Nov 08:00", "T-code: "], True),
        ]
    )
    session = real_name.ussd.sessions.get(phone.session_id)
    assert session is not None and RAW_ID not in session.to_json()
    assert RAW_ID not in caplog.text
    stored = _citizen(real_name, "achieng otieno")
    assert stored.national_id_last3 == RAW_ID[-3:] and RAW_ID not in str(stored.national_id_hash)

    # Registered once: the next booking (another day) goes from the time straight to confirm.
    phone.run(
        [
            *TO_TIME[:-1],
            ("2", ["Tue 24 Nov: choose time", "1 08:00 (2 left)"], False),
            ("1", ["Tue 24 Nov 08:00, held till 06:05"], False),
        ]
    )


def test_an_id_of_another_phone_is_refused_and_the_desk_named(
    phone: AtPhone, real_name: Runtime
) -> None:
    real_name.booking.register(other_phone(), "Someone Else", RAW_ID)
    phone.run(
        [
            *TO_TIME,
            ("1", [NAME_SCREEN], False),
            ("Achieng Otieno", [ID_SCREEN], False),
            (RAW_ID, ["That ID number is on another phone. Ask at the hospital desk.", "1 Book"], False),
        ]
    )  # fmt: skip
    assert real_name.booking.upcoming(CALLER) == []


@pytest.mark.parametrize(
    ("year", "then"),
    [
        ("2015", ["For Amina, 23 Nov 08:00"]),  # a minor: a name and a birth year are enough
        ("1990", ["Type the national ID number of Amina."]),  # an adult gives an ID too
    ],
)
def test_a_dependant_gives_a_birth_year_and_an_adult_an_id(
    phone: AtPhone, real_name: Runtime, year: str, then: list[str]
) -> None:
    real_name.booking.register(CALLER, "Achieng Otieno", RAW_ID)
    real_name.booking.add_person(CALLER, "Amina")
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", ["Who is the appointment for?", "2 Amina"], False),
            ("2", ["Choose city"], False),
            *TO_TIME[2:],
            ("1", ["Type the year Amina was born, like 2015."], False),
            ("15", ["Type the 4 digits of the year of birth, like 2015."], False),
            (year, then, False),
        ]
    )
    if year == "1990":
        phone.run(
            [
                ("34567890", ["For Amina, 23 Nov 08:00"], False),
                ("1", ["Booked for Amina!"], True),
            ]
        )
    else:
        phone.run([("1", ["Booked for Amina!"], True)])
    assert [b.person for b in real_name.booking.upcoming(CALLER)] == ["Amina"]
