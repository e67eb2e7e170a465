"""Voucher links answer 410 Gone, saying nothing of the appointment, once it is no longer ahead.

Cardiology at KNH: 30-minute slots; check-in runs until 30 minutes after the start by default.
The clock stands at Monday 23 November 2026, 06:00 in Nairobi.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.booking.service import Confirmation
from gateway.runtime import Runtime
from tests.booking.conftest import at, slot_id, use_rules

PHONE = "+254700000401"
NINE = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def client(catalog: Runtime) -> FlaskClient:
    return create_app(runtime=catalog).test_client()


def book(rt: Runtime, when: datetime = NINE) -> Confirmation:
    return rt.booking.book(PHONE, slot_id(rt, "CARD", when), "ussd")


def statuses(client: FlaskClient, voucher_ref: str) -> tuple[int, int]:
    return (
        client.get(f"/v/{voucher_ref}").status_code,
        client.get(f"/v/{voucher_ref}.png").status_code,
    )


def cancel(rt: Runtime, c: Confirmation) -> None:
    rt.booking.cancel(c.ref, by="citizen", phone=PHONE)


def staff_cancel(rt: Runtime, c: Confirmation) -> None:
    rt.booking.cancel(c.ref, by="staff", reason="doctor ill", actor="dr-admin")


def rebook_elsewhere_in_time(rt: Runtime, c: Confirmation) -> None:
    rt.booking.rebook(
        c.ref, slot_id(rt, "CARD", datetime(2026, 11, 24, 9, 0)), by="citizen", phone=PHONE
    )


def slot_over(rt: Runtime, c: Confirmation) -> None:
    at(rt, 2026, 11, 23, 9, 30)  # the slot's end, and the last minute of check-in


def missed(rt: Runtime, c: Confirmation) -> None:
    at(rt, 2026, 11, 23, 9, 31)
    rt.booking.sweep()  # a no-show: the voucher expires


def checked_in_then_over(rt: Runtime, c: Confirmation) -> None:
    checked_in(rt, c)
    at(rt, 2026, 11, 23, 9, 30)


Change = Callable[[Runtime, Confirmation], None]
GONE: list[tuple[str, Change]] = [
    ("cancelled by the citizen", cancel),
    ("cancelled by staff", staff_cancel),
    ("replaced by a rebook", rebook_elsewhere_in_time),
    ("the slot is over", slot_over),
    ("a no-show", missed),
    ("checked in, and the slot is over", checked_in_then_over),
]


@pytest.mark.parametrize("change", [c for _, c in GONE], ids=[label for label, _ in GONE])
def test_a_voucher_no_longer_ahead_is_gone_and_says_nothing_of_it(
    client: FlaskClient, catalog: Runtime, change: Change
) -> None:
    booked = book(catalog)
    assert statuses(client, booked.voucher_ref) == (200, 200)
    change(catalog, booked)
    assert statuses(client, booked.voucher_ref) == (410, 410)
    for url in (f"/v/{booked.voucher_ref}", f"/v/{booked.voucher_ref}.png"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert "This link is no longer valid." in html and response.mimetype == "text/html"
        assert response.headers["Cache-Control"] == "no-store"
        for detail in ("Kenyatta", "Cardiology", "09:00", "23 Nov", booked.tcode[:3], ".png"):
            assert detail not in html


def a_minute_before_the_end(rt: Runtime, c: Confirmation) -> None:
    at(rt, 2026, 11, 23, 9, 29)


def checked_in(rt: Runtime, c: Confirmation) -> None:
    at(rt, 2026, 11, 23, 8, 50)
    rt.booking.check_in(c.tcode, "KNH")


LIVE: list[tuple[str, Change, tuple[int, int]]] = [
    ("a minute before the slot's end", a_minute_before_the_end, (200, 200)),
    # Checked in: the page still says so until the slot is over; the QR is spent.
    ("checked in, the slot still on", checked_in, (200, 404)),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in LIVE], ids=[label for label, _, _ in LIVE]
)
def test_a_voucher_still_ahead_is_served(
    client: FlaskClient, catalog: Runtime, change: Change, expected: tuple[int, int]
) -> None:
    booked = book(catalog)
    change(catalog, booked)
    assert statuses(client, booked.voucher_ref) == expected


def test_a_late_check_in_window_keeps_the_link_past_the_slots_end(
    client: FlaskClient, catalog: Runtime
) -> None:
    use_rules(catalog, checkin_after_minutes=45)
    booked = book(catalog)
    at(catalog, 2026, 11, 23, 9, 44)
    assert statuses(client, booked.voucher_ref) == (200, 200)
    at(catalog, 2026, 11, 23, 9, 45)
    assert statuses(client, booked.voucher_ref) == (410, 410)


def test_the_new_voucher_of_a_rebooked_appointment_stays_live(
    client: FlaskClient, catalog: Runtime
) -> None:
    booked = book(catalog)
    moved = catalog.booking.rebook(
        booked.ref,
        slot_id(catalog, "CARD", datetime(2026, 11, 24, 9, 0)),
        by="citizen",
        phone=PHONE,
    )
    assert statuses(client, booked.voucher_ref) == (410, 410)
    assert statuses(client, moved.voucher_ref) == (200, 200)


def test_the_gone_page_speaks_the_citizens_language(client: FlaskClient, catalog: Runtime) -> None:
    catalog.booking.set_language(PHONE, "sw")
    booked = book(catalog)
    cancel(catalog, booked)
    response = client.get(f"/v/{booked.voucher_ref}")
    assert response.status_code == 410
    assert "Kiungo hiki si halali tena." in response.get_data(as_text=True)
