"""`POST /hooks/at/ussd` with the demo catalogue: a Swahili caller reads hospitals and
departments by their Swahili names on every screen that names them, an English caller by the
catalogue's; the same keys choose the same places."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.runtime import Runtime
from tests.channels.conftest import CALLER, DEMO_CATALOG, AtPhone, other_phone


def choose(phone: AtPhone, label: str) -> None:
    """Press the number of `label`, paging on ("98") until it is offered."""
    while not (found := re.search(rf"^(\d+) {re.escape(label)}$", phone.body[4:], re.M)):
        assert "\n98 " in phone.body, f"{label!r} not offered in\n{phone.body}"
        phone.press("98")
    phone.press(found.group(1))


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    runtime.booking.load_catalog(DEMO_CATALOG)
    runtime.booking.generate_slots(15)
    return create_app(runtime=runtime).test_client()


WORDS = {
    # language: (hospital, department, the first day, confirm, booked)
    "sw": (
        "Hospitali ya Taifa ya Kenyatta",
        "Magonjwa ya Moyo",
        "Jumatatu 23 Nov",
        "Kubali",
        "Imewekwa!",
    ),
    "en": ("Kenyatta National Hospital", "Cardiology", "Mon 23 Nov", "Confirm", "Booked!"),
}


@pytest.mark.parametrize("language", sorted(WORDS))
def test_a_booking_walk_names_everything_in_the_callers_language(
    client: FlaskClient, runtime: Runtime, language: str
) -> None:
    hospital, department, monday, confirm, booked = WORDS[language]
    number = other_phone()
    runtime.booking.set_language(number, language)
    phone = AtPhone(client, number)

    phone.dial()
    phone.press("1")
    choose(phone, "Nairobi")
    choose(phone, hospital)
    choose(phone, department)
    choose(phone, monday)
    phone.press("1")  # the first time
    assert department in phone.body and hospital in phone.body and confirm in phone.body
    phone.press("1")
    assert phone.body.startswith("END ")
    assert [booked, department, hospital] == phone.lines()[:3]

    (mine,) = runtime.booking.upcoming(number)
    assert mine.hospital_code == "KNH"  # the place chosen, whatever its name in the language
    other = "en" if language == "sw" else "sw"
    assert WORDS[other][1] not in phone.body


def test_a_resumed_hold_and_my_appointments_use_the_swahili_names(
    client: FlaskClient, runtime: Runtime
) -> None:
    runtime.booking.set_language(CALLER, "sw")
    phone = AtPhone(client)
    phone.dial()
    phone.press("1")
    for label in ("Nairobi", "Hospitali ya Taifa ya Kenyatta", "Masikio, Pua na Koo"):
        choose(phone, label)
    phone.press("1")  # the first day
    phone.press("1")  # the first time: held

    # The caller hangs up holding the place; dialling again offers to continue it.
    phone.dial()
    assert "Masikio, Pua na Koo" in phone.body
    phone.press("1")
    assert "Masikio, Pua na Koo" in phone.body
    assert "Hospitali ya Taifa ya Kenyatta" in phone.body
    phone.press("1")
    assert phone.lines()[:3] == [
        "Imewekwa!",
        "Masikio, Pua na Koo",
        "Hospitali ya Taifa ya Kenyatta",
    ]

    phone.dial()
    phone.press("2")  # my appointments
    assert "Masikio, Pua na Koo" in phone.body
    phone.press("1")
    assert "Hospitali ya Taifa ya Kenyatta" in phone.body and "Masikio, Pua na Koo" in phone.body
