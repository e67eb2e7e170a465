"""Consent is recorded at the citizen's own first booking, on any channel, and never moves.

A booking staff make for a citizen (an invitation with a slot) and a voice booking (a claim: a
caller id can be forged) record none.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import SlotFull
from gateway.booking.models import Citizen
from gateway.booking.operations.invitations import Offer
from gateway.runtime import Runtime
from tests.booking.conftest import set_capacity, slot_id
from tests.clocks import clock_of
from tests.conftest import MONDAY_0600

PHONE = "+254700000301"


def consent_at(rt: Runtime, phone: str = PHONE) -> datetime | None:
    with rt.reader() as s:
        return s.scalar(
            select(Citizen.consent_at).where(Citizen.phone == phone, Citizen.guardian_id.is_(None))
        )


def card(rt: Runtime, day: int, hour: int) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, 0))


@pytest.mark.parametrize(
    ("channel", "consents"),
    [("ussd", True), ("sms", True), ("ivr", False)],
    ids=["ussd", "sms", "voice claim"],
)
def test_the_first_booking_records_consent_unless_it_is_a_voice_claim(
    catalog: Runtime, channel: str, consents: bool
) -> None:
    assert consent_at(catalog) is None
    catalog.booking.book(PHONE, card(catalog, 24, 9), channel)
    assert consent_at(catalog) == (MONDAY_0600 if consents else None)


def test_a_second_booking_leaves_the_first_consent_as_it_was(catalog: Runtime) -> None:
    catalog.booking.book(PHONE, card(catalog, 24, 9), "ussd")
    clock_of(catalog).at = MONDAY_0600 + timedelta(hours=2)
    catalog.booking.book(PHONE, card(catalog, 25, 9), "sms")
    assert consent_at(catalog) == MONDAY_0600


def test_a_refused_booking_records_nothing(catalog: Runtime) -> None:
    sid = card(catalog, 24, 9)
    set_capacity(catalog, sid, 1, 0)
    with pytest.raises(SlotFull):
        catalog.booking.book(PHONE, sid, "ussd")
    assert consent_at(catalog) is None


def test_staff_booking_for_a_citizen_is_not_their_consent_but_their_own_is(
    catalog: Runtime,
) -> None:
    bk = catalog.booking
    bk.invite(PHONE, "KNH", "CARD", "dr-admin", Offer(slot_id=card(catalog, 24, 9)))
    assert consent_at(catalog) is None
    window = Offer(
        window_from=date(2026, 11, 25), window_to=date(2026, 11, 26), expires=date(2026, 11, 26)
    )
    invited = bk.invite(PHONE, "KNH", "CARD", "dr-admin", window)
    bk.book_invitation(PHONE, invited.ref, card(catalog, 25, 9), "sms")
    assert consent_at(catalog) == MONDAY_0600
