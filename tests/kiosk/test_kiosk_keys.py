"""Finding 10 and 24: kiosk keys end (revoke, rotate), every scan names its kiosk, and the page
needs the key or the staff PIN to forget it. Also: a check-in confirms a voice booking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from gateway.app import create_app
from gateway.booking.models import Booking, Event, Kiosk, Voucher
from gateway.kiosks import add_kiosk, revoke_kiosk, rotate_kiosk
from gateway.runtime import Runtime
from tests.clocks import clock_of
from tests.kiosk.conftest import KioskClient, runtime_with


def client_for(catalog: Runtime, **settings: object) -> KioskClient:
    rt = runtime_with(catalog, **settings)
    key = add_kiosk(rt.writer, "KNH", "Hall", rt.clock.now())
    return KioskClient(create_app(runtime=rt).test_client(), key, rt)


def kiosk_id(k: KioskClient) -> int:
    with k.rt.reader() as s:
        return s.scalars(select(Kiosk.id).order_by(Kiosk.id.desc()).limit(1)).one()


def test_a_revoked_key_is_refused_at_once_without_an_identity_cache(catalog: Runtime) -> None:
    k = client_for(catalog, kiosk_identity_cache_seconds=0)
    assert k.post("lookup", "").status_code == 400  # a known key: bad_code
    revoke_kiosk(k.rt.writer, kiosk_id(k), k.rt.clock.now())
    assert k.post("lookup", "").get_json()["status"] == "unauthorized"


def test_a_revoked_key_works_at_most_the_identity_cache_time(catalog: Runtime) -> None:
    k = client_for(catalog, kiosk_identity_cache_seconds=60)
    assert k.post("lookup", "").status_code == 400
    revoke_kiosk(k.rt.writer, kiosk_id(k), k.rt.clock.now())
    assert k.post("lookup", "").status_code == 400  # still cached in this process
    clock_of(k.rt).at += timedelta(seconds=61)
    assert k.post("lookup", "").status_code == 401


def test_rotation_keeps_the_kiosk_and_ends_the_old_key(catalog: Runtime) -> None:
    k = client_for(catalog, kiosk_identity_cache_seconds=0)
    new = rotate_kiosk(k.rt.writer, kiosk_id(k), k.rt.clock.now())
    assert k.post("lookup", "").status_code == 401
    assert k.post("lookup", "", key=new).status_code == 400
    with k.rt.reader() as s:
        assert s.scalar(select(Kiosk.rotated_at).where(Kiosk.id == kiosk_id(k))) is not None


def test_check_in_records_the_kiosk_on_the_booking_and_in_the_event(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    assert kiosk.post("checkin", booked.tcode).status_code == 200
    with kiosk.rt.reader() as s:
        recorded = s.scalar(select(Booking.checked_in_kiosk_id).where(Booking.ref == booked.ref))
        event = s.scalars(select(Event).where(Event.type == "booking.checked_in")).one()
    assert recorded == kiosk_id(kiosk) == event.payload["kiosk_id"]
    assert event.payload["at"] == "kiosk"


def test_lookup_counts_per_kiosk_and_marks_it_seen(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    labels = {"kiosk": str(kiosk_id(kiosk)), "kind": "lookup"}
    before = REGISTRY.get_sample_value("ors_kiosk_scans_total", labels) or 0.0
    assert kiosk.post("lookup", booked.tcode).status_code == 200
    assert REGISTRY.get_sample_value("ors_kiosk_scans_total", labels) == before + 1
    with kiosk.rt.reader() as s:
        seen = s.scalar(select(Kiosk.last_seen_at).where(Kiosk.id == kiosk_id(kiosk)))
    assert seen == kiosk.rt.clock.now()


@pytest.mark.parametrize("unconfirmed", [True, False])
def test_kiosk_check_in_confirms_a_voice_booking(kiosk: KioskClient, unconfirmed: bool) -> None:
    booked = kiosk.book()
    with kiosk.rt.writer() as s:
        s.execute(update(Booking).where(Booking.ref == booked.ref).values(unconfirmed=unconfirmed))
        s.commit()
    kiosk.at(2026, 11, 23, 7, 15)
    assert kiosk.post("checkin", booked.tcode).status_code == 200
    with kiosk.rt.reader() as s:
        assert s.scalar(select(Booking.unconfirmed).where(Booking.ref == booked.ref)) is False


def test_desk_check_in_confirms_a_voice_booking(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    with kiosk.rt.writer() as s:
        s.execute(update(Booking).where(Booking.ref == booked.ref).values(unconfirmed=True))
        s.commit()
    kiosk.at(2026, 11, 23, 7, 15)
    kiosk.rt.booking.desk_check_in(booked.ref, actor="nurse")
    with kiosk.rt.reader() as s:
        assert s.scalar(select(Booking.unconfirmed).where(Booking.ref == booked.ref)) is False


def pin_status(k: KioskClient, pin: object) -> tuple[int, str]:
    response = k.client.post(
        "/kiosk/api/v1/setup-pin",
        json={"pin": pin},
        headers={"Authorization": f"Bearer {k.key}"},
    )
    return response.status_code, response.get_json()["status"]


@pytest.mark.parametrize(
    "configured, typed, expected",
    [
        ("2468", "2468", (200, "pin_accepted")),
        ("2468", "2469", (403, "pin_refused")),
        ("2468", 2468, (403, "pin_refused")),
        ("", "", (403, "pin_refused")),  # no PIN configured: only the key itself forgets
    ],
)
def test_setup_pin_is_checked_by_the_server(
    catalog: Runtime, configured: str, typed: object, expected: tuple[int, str]
) -> None:
    assert pin_status(client_for(catalog, kiosk_setup_pin=configured), typed) == expected


def test_wrong_setup_pins_count_as_guesses_even_beside_a_genuine_qr(catalog: Runtime) -> None:
    k = client_for(catalog, kiosk_setup_pin="2468", kiosk_failed_code_limit="3 per minute")
    booked = k.book()
    with k.rt.reader() as s:
        qr = s.scalar(select(Voucher.payload).where(Voucher.tcode == booked.tcode))
    statuses = [
        k.client.post(
            "/kiosk/api/v1/setup-pin",
            json={"pin": "1111", "code": qr},
            headers={"Authorization": f"Bearer {k.key}"},
        ).get_json()["status"]
        for _ in range(4)
    ]
    assert statuses == ["pin_refused"] * 3 + ["rate_limited"]
    assert pin_status(k, "2468") == (429, "rate_limited")  # even the right one, for a while


def test_setup_pin_needs_a_kiosk_key(app: Flask) -> None:
    response = app.test_client().post("/kiosk/api/v1/setup-pin", json={"pin": "2468"})
    assert response.status_code == 401
