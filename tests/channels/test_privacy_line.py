"""The privacy line: a caller who never booked (no consent recorded) sees it on USSD, or hears it
on a call, once, on the first screen; HELP by SMS tells the rest (tests/messaging).

The clock stands at Monday 23 November 2026, 06:00 in Nairobi.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.app import create_app
from gateway.booking.models import Citizen
from gateway.runtime import Runtime
from tests.booking.conftest import slot_id
from tests.channels.conftest import AtPhone
from tests.channels.voice_calls import AtCall
from tests.clocks import clock_of
from tests.conftest import MONDAY_0600

LINE = "We keep your bookings to serve you. SMS HELP to learn more."
LINE_SW = "Tunahifadhi miadi yako ili kukuhudumia. Tuma SMS MSAADA kujua zaidi."
SPOKEN = "We keep your phone number and bookings to serve you. To learn more, send HELP by SMS."
PHONE = "+254700000901"
# Book > Nairobi > KNH > Cardiology > Mon 23 Nov > 08:00 > Confirm
BOOK = ("1", "2", "1", "1", "1", "1", "1")


@pytest.fixture
def client(catalog: Runtime) -> FlaskClient:
    return create_app(runtime=catalog).test_client()


@pytest.fixture
def phone(client: FlaskClient) -> AtPhone:
    return AtPhone(client, number=PHONE)


def consent_at(rt: Runtime) -> datetime | None:
    with rt.reader() as s:
        return s.scalar(select(Citizen.consent_at).where(Citizen.phone == PHONE))


def test_a_first_time_caller_sees_the_line_once_on_the_first_screen(phone: AtPhone) -> None:
    first = phone.dial()
    assert first.startswith(f"CON {LINE}\nHospital appointments\n1 Book")
    assert LINE not in phone.press("3")  # the next screen of the same session
    assert LINE in phone.dial()  # still never booked: the next session says it again


def test_after_a_booking_the_line_is_gone_for_good(phone: AtPhone, catalog: Runtime) -> None:
    phone.dial()
    for key in BOOK:
        phone.press(key)
    assert phone.body.startswith("END Booked!")
    assert consent_at(catalog) == MONDAY_0600
    assert phone.dial().startswith("CON Hospital appointments")


def test_the_line_speaks_the_language_chosen_before_any_booking(
    phone: AtPhone, catalog: Runtime
) -> None:
    catalog.booking.set_language(PHONE, "sw")  # a citizen row, but no consent yet
    assert phone.dial().startswith(f"CON {LINE_SW}\nMiadi ya hospitali")


def test_a_caller_who_has_booked_never_sees_it(phone: AtPhone, catalog: Runtime) -> None:
    catalog.booking.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 24, 9, 0)), "sms")
    assert LINE not in phone.dial()


# --- voice ------------------------------------------------------------------------------------


@pytest.fixture
def call(catalog: Runtime) -> AtCall:
    return AtCall(create_app(runtime=catalog).test_client(), number=PHONE)


def test_a_first_time_voice_caller_hears_the_line_first(call: AtCall, catalog: Runtime) -> None:
    assert call.dial().startswith(SPOKEN)
    assert SPOKEN not in call.press("3")


def test_a_voice_booking_counts_as_consent_once_the_owner_keeps_it(
    call: AtCall, catalog: Runtime
) -> None:
    catalog.booking.book(PHONE, slot_id(catalog, "CARD", datetime(2026, 11, 24, 9, 0)), "ivr")
    assert consent_at(catalog) is None  # a claim: the caller id may be forged
    assert call.dial().startswith(SPOKEN)
    clock_of(catalog).at = MONDAY_0600 + timedelta(minutes=5)
    catalog.booking.confirm_claims(PHONE)  # the owner keeps it (SMS reply or USSD)
    assert consent_at(catalog) == MONDAY_0600 + timedelta(minutes=5)
    assert SPOKEN not in call.dial()
