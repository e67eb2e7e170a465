"""A blocked caller learns it on "Book" through `POST /hooks/at/ussd` (issue #18 item 5).

The clock stands at Monday 23 November 2026, 06:00 in Nairobi (03:00 UTC). One citizen
cancellation blocks for seven days here, until Mon 30 Nov 03:00 UTC: the test catalogue's
hospitals are in two time zones, so the menus name the day in UTC, before any is chosen.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import slot_id, use_rules
from tests.channels.conftest import CALLER, DIAL, AtPhone

REFUSED = "You cannot book until Mon 30 Nov."
QUESTION = "Who is the appointment for?"


@pytest.fixture
def strict(catalog: Runtime) -> Runtime:
    use_rules(catalog, cancel_block=BlockPolicy(count=1, window_days=30, block_days=7))
    return catalog


def cancel_one(rt: Runtime, person_id: int | None = None, hour: int = 9) -> None:
    """A citizen cancellation from the phone (for `person_id`, else "Me"): blocked at once."""
    slot = slot_id(rt, "CARD", datetime(2026, 11, 24, hour, 0))
    booked = rt.booking.book(CALLER, slot, "ussd", person_id=person_id)
    rt.booking.cancel(booked.ref, by="citizen", phone=CALLER)


def test_a_blocked_caller_is_told_on_book_with_the_day(phone: AtPhone, strict: Runtime) -> None:
    cancel_one(strict)
    body = phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", [REFUSED, "Hospital appointments", "1 Book"], False),
        ]
    )
    assert body.splitlines()[0] == f"CON {REFUSED}"


def test_a_blocked_dependant_is_refused_when_chosen_and_me_books_on(
    phone: AtPhone, strict: Runtime
) -> None:
    amina = strict.booking.add_person(CALLER, "Amina")
    cancel_one(strict, amina.id)
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", [QUESTION, "1 Me", "2 Amina"], False),
            ("2", ["Amina cannot book until Mon 30 Nov.", QUESTION], False),
            ("1", ["Choose city"], False),
        ]
    )


def test_two_blocked_persons_block_the_whole_phone_on_book(phone: AtPhone, strict: Runtime) -> None:
    amina = strict.booking.add_person(CALLER, "Amina")
    cancel_one(strict, amina.id)
    cancel_one(strict)
    phone.run(
        [
            (DIAL, ["1 Book"], False),
            ("1", [REFUSED, "Hospital appointments"], False),
        ]
    )
