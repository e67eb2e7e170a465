"""A family on one phone through `POST /hooks/at/ussd`, as Africa's Talking drives it.

The clock stands at Monday 23 November 2026, 06:00 in Nairobi; Cardiology at Kenyatta National
Hospital has two remote places every half hour from 08:00 (tests/data/catalog.yaml).
"""

from __future__ import annotations

from sqlalchemy import select

from gateway.booking.models import Booking, Citizen
from gateway.runtime import Runtime
from tests.channels.conftest import CALLER, DIAL, AtPhone, Row
from tests.channels.test_at_ussd_transcripts import tcode_on

QUESTION = ["Who is the appointment for?", "1 Me", "2 Amina", "3 Add someone"]
# Nairobi > Kenyatta National Hospital > Cardiology > Mon 23 Nov: the times.
TO_DAYS: list[Row] = [
    ("2", ["Choose hospital"], False),
    ("1", ["Choose department", "1 Cardiology"], False),
    ("1", ["Choose day", "1 Mon 23 Nov"], False),
]


def to_times(first: str) -> list[Row]:
    """The rows down to Monday's times, whose first is `first` ("08:00 (2 left)")."""
    return [*TO_DAYS, ("1", ["Mon 23 Nov: choose time", f"1 {first}"], False)]


def _citizen_of(rt: Runtime, ref: str) -> Citizen:
    with rt.reader() as s:
        query = select(Citizen).join(Booking, Booking.citizen_id == Citizen.id)
        return s.scalars(query.where(Booking.ref == ref)).one()


def test_a_phone_adds_amina_and_books_for_her(phone: AtPhone, catalog: Runtime) -> None:
    body = phone.run(
        [
            (DIAL, ["Hospital appointments", "1 Book", "4 Help", "5 My family"], False),
            ("5", ["Who is the appointment for?", "1 Me", "2 Add someone", "0 Back"], False),
            ("2", ["Type their first name.", "0 Back", "00 Home"], False),
            ("amina", ["Amina added.", "Choose city", "1 London", "2 Nairobi"], False),
            *to_times("08:00 (2 left)"),
            ("1", ["Cardiology", "Kenyatta National Hospital", "For Amina, 23 Nov 08:00"], False),
            ("1", ["Booked for Amina!", "Cardiology", "23 Nov 08:00", "T-code: "], True),
        ]
    )

    [booking] = catalog.booking.upcoming(CALLER)
    assert (booking.person, booking.tcode) == ("Amina", tcode_on(body))
    amina = _citizen_of(catalog, booking.ref)
    [holder, listed] = catalog.booking.persons(CALLER)
    assert (amina.name, amina.phone, amina.guardian_id) == ("Amina", CALLER, holder.id)
    assert listed.id == amina.id and holder.me


def test_a_dependant_has_limits_of_her_own_named_on_the_screen(
    phone: AtPhone, catalog: Runtime
) -> None:
    catalog.booking.add_person(CALLER, "Amina")
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", QUESTION, False),
            ("2", ["Choose city"], False),  # Amina
            *to_times("08:00 (2 left)"),
            ("1", ["For Amina, 23 Nov 08:00"], False),
            ("1", ["Booked for Amina!"], True),
            # "Me" books the same department the same day: the limits are each person's.
            (DIAL, ["1 Book"], False),
            ("1", QUESTION, False),
            ("1", ["Choose city"], False),  # Me
            *to_times("08:00 (1 left)"),
            ("1", ["Mon 23 Nov 08:00, held till 06:05"], False),
            ("1", ["Booked!", "You will get an SMS."], True),
            # Amina a second time that day in Cardiology: refused, naming her.
            (DIAL, ["1 Book"], False),
            ("1", QUESTION, False),
            ("2", ["Choose city"], False),
            *to_times("08:30 (2 left)"),
            (
                "1",
                ["Amina already has this department that day. Choose another day.", "Choose day"],
                False,
            ),
            (DIAL, ["2 My appointments"], False),
            (
                "2",
                ["Your appointments", "1 Amina: 23 Nov 08:00 Cardiology", "2 23 Nov 08:00 Card"],
                False,
            ),
        ]
    )
    assert sorted(b.person or "Me" for b in catalog.booking.upcoming(CALLER)) == ["Amina", "Me"]
