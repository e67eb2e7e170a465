"""The kiosk API answers every status of kiosk/api.py with the right HTTP code and JSON shape."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.booking.models import Event, Voucher
from gateway.kiosks import add_kiosk
from gateway.runtime import Runtime, build_runtime
from gateway.settings import ConfigError
from tcode.codes import check_digit
from tcode.keys import SigningKey
from tcode.payload import sign
from tests.kiosk.conftest import KioskClient

SHAPE = {"status", "message", "ticket"}
TICKET = {
    "queue_number",
    "hospital",
    "department",
    "room",
    "doctor",
    "starts_at",
    "checked_in_at",
    "sensitive",  # added for finding 5: true means "department" is null
    "person",  # added for issue 19: whose booking, a first name or null
}


def events(kiosk: KioskClient) -> int:
    with kiosk.rt.reader() as s:
        return s.scalars(
            select(func.count()).select_from(Event).where(Event.type == "booking.checked_in")
        ).one()


def check(response: TestResponse, status: str, http: int) -> dict[str, Any]:
    body = response.get_json()
    assert (response.status_code, body["status"]) == (http, status), body
    assert set(body) == SHAPE and body["message"]
    return body


def payload_of(kiosk: KioskClient, tcode: str) -> str:
    with kiosk.rt.reader() as s:
        return s.scalars(select(Voucher.payload).where(Voucher.tcode == tcode)).one()


def test_scanned_qr_checks_in_with_a_ticket(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    body = check(kiosk.post("checkin", payload_of(kiosk, booked.tcode) + "\r\n"), "checked_in", 200)
    assert set(body["ticket"]) == TICKET
    assert body["ticket"]["queue_number"] == 1 and body["ticket"]["room"] == "Block B, Room 12"
    assert body["ticket"]["starts_at"] == "2026-11-23T08:00:00+03:00"
    assert "1" in body["message"]


def test_typed_code_in_groups_checks_in(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    typed = f"{booked.tcode[:3]} {booked.tcode[3:6]} {booked.tcode[6:]}"
    check(kiosk.post("checkin", typed), "checked_in", 200)


def test_rescan_is_already_checked_in_with_first_time_and_no_second_event(
    kiosk: KioskClient,
) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    kiosk.post("checkin", booked.tcode)
    kiosk.at(2026, 11, 23, 7, 20)
    body = check(kiosk.post("checkin", booked.tcode), "already_checked_in", 200)
    assert body["ticket"]["checked_in_at"] == "2026-11-23T07:15:00+03:00"
    assert "07:15" in body["message"]
    assert events(kiosk) == 1


def test_lookup_answers_valid_and_changes_nothing(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    body = check(kiosk.post("lookup", booked.tcode), "valid", 200)
    assert body["ticket"]["queue_number"] is None and events(kiosk) == 0
    check(kiosk.post("checkin", booked.tcode), "checked_in", 200)


@pytest.mark.parametrize(
    "code",
    ["", "12345", "4829135576", "T 482-913-5574", "hello", 42, None, "ORS1:garbage", "9" * 300],
)
def test_malformed_or_mistyped_codes_are_bad_code(kiosk: KioskClient, code: object) -> None:
    check(kiosk.post("checkin", code), "bad_code", 400)


def test_single_digit_typos_are_bad_code(kiosk: KioskClient) -> None:
    # Three positions (27 typos) stay under the failed-code limit; tests/tcode covers all ten.
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    for i in range(3):
        for d in "0123456789":
            typo = booked.tcode[:i] + d + booked.tcode[i + 1 :]
            if typo != booked.tcode:
                check(kiosk.post("lookup", typo), "bad_code", 400)


def test_forged_signature_and_unknown_key_are_bad_signature(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    genuine = payload_of(kiosk, booked.tcode)
    forged = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    check(kiosk.post("checkin", forged), "bad_signature", 400)
    stranger = sign(booked.tcode, "KNH", date(2026, 11, 23), SigningKey.generate())
    check(kiosk.post("checkin", stranger), "bad_signature", 400)
    assert events(kiosk) == 0


def test_unknown_code(kiosk: KioskClient) -> None:
    code = "12345678" + "9"
    check(kiosk.post("checkin", code + check_digit(code)), "unknown_code", 404)


def test_cancelled(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.rt.booking.cancel(booked.ref, by="staff", reason="test")
    kiosk.at(2026, 11, 23, 7, 15)
    check(kiosk.post("checkin", booked.tcode), "cancelled", 410)


@pytest.mark.parametrize("state", ["replaced", "expired"])
def test_replaced_and_expired(kiosk: KioskClient, state: str) -> None:
    booked = kiosk.book()
    with kiosk.rt.writer() as s:
        s.execute(update(Voucher).where(Voucher.tcode == booked.tcode).values(state=state))
        s.commit()
    kiosk.at(2026, 11, 23, 7, 15)
    check(kiosk.post("checkin", booked.tcode), state, 410)


def test_wrong_hospital_names_it(kiosk: KioskClient) -> None:
    booked = kiosk.book("DEMO", datetime(2026, 11, 23, 8, 0), hospital="MCH")
    kiosk.at(2026, 11, 23, 7, 15)
    body = check(kiosk.post("checkin", booked.tcode), "wrong_hospital", 422)
    assert "Mbagathi County Hospital" in body["message"]


def test_tomorrows_voucher_is_wrong_day_with_the_date(kiosk: KioskClient) -> None:
    booked = kiosk.book(when=datetime(2026, 11, 24, 9, 0))
    kiosk.at(2026, 11, 23, 9, 0)
    body = check(kiosk.post("checkin", booked.tcode), "wrong_day", 422)
    assert "Tue 24 Nov 2026" in body["message"]


def test_too_early_says_when_check_in_opens(kiosk: KioskClient) -> None:
    booked = kiosk.book(when=datetime(2026, 11, 23, 11, 0))
    kiosk.at(2026, 11, 23, 8, 0)
    body = check(kiosk.post("checkin", booked.tcode), "too_early", 422)
    assert "09:00" in body["message"]


def test_too_late_sends_to_reception_and_marks_nothing(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 9, 0)
    body = check(kiosk.post("checkin", booked.tcode), "too_late", 422)
    assert "reception" in body["message"] and "08:00" in body["message"]
    assert kiosk.rt.booking.booking(booked.ref).status == "confirmed"


@pytest.mark.parametrize("key", ["", "wrong-key-wrong-key-wrong-key-wrong-key-xx"])
def test_unknown_or_missing_key_is_unauthorized(kiosk: KioskClient, key: str) -> None:
    check(kiosk.post("checkin", "4829135575", key=key), "unauthorized", 401)


def test_swahili_messages(kiosk: KioskClient) -> None:
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 7, 15)
    body = kiosk.client.post(
        "/kiosk/api/v1/checkin?lang=sw",
        json={"code": booked.tcode},
        headers={"Authorization": f"Bearer {kiosk.key}"},
    ).get_json()
    assert body["message"].startswith("Karibu")


def test_failed_codes_are_rate_limited_per_kiosk(kiosk: KioskClient) -> None:
    statuses = [kiosk.post("lookup", "0000000001").status_code for _ in range(31)]
    assert statuses[:30] == [400] * 30
    body = check(kiosk.post("lookup", "0000000001"), "rate_limited", 429)
    assert "wait" in body["message"]


def test_citizens_who_came_too_early_never_lock_the_kiosk(kiosk: KioskClient) -> None:
    # A busy morning: many real vouchers scanned before their window. Only guesses count.
    booked = kiosk.book()
    kiosk.at(2026, 11, 23, 5, 0)
    for _ in range(40):
        check(kiosk.post("lookup", booked.tcode), "too_early", 422)
    kiosk.at(2026, 11, 23, 7, 15)
    check(kiosk.post("checkin", booked.tcode), "checked_in", 200)


def test_the_failed_code_limit_is_per_kiosk(kiosk: KioskClient) -> None:
    other = add_kiosk(kiosk.rt.writer, "KNH", "Side door", kiosk.rt.clock.now())
    for _ in range(30):
        check(kiosk.post("lookup", "0000000001"), "bad_code", 400)
    check(kiosk.post("lookup", "0000000001"), "rate_limited", 429)
    check(kiosk.post("lookup", "0000000001", key=other), "bad_code", 400)


def test_a_limited_kiosk_still_checks_in_signed_qr_codes_but_no_typed_ones(
    kiosk: KioskClient,
) -> None:
    booked, typed = kiosk.book(), kiosk.book(phone="+254700000002", dept="DERM")
    for _ in range(30):
        check(kiosk.post("lookup", "0000000001"), "bad_code", 400)
    kiosk.at(2026, 11, 23, 7, 15)
    check(kiosk.post("checkin", typed.tcode), "rate_limited", 429)
    check(kiosk.post("checkin", payload_of(kiosk, booked.tcode)), "checked_in", 200)


def test_a_malformed_failed_code_limit_stops_start_up(catalog: Runtime) -> None:
    broken = catalog.settings.with_overrides(kiosk_failed_code_limit="thirty a minute")
    runtime = build_runtime(broken, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)
    with pytest.raises(ConfigError, match=r"^kiosk\.failed_code_limit: "):
        create_app(runtime=runtime)


def test_voucher_replaced_by_a_real_rebook_and_its_successor_checks_in(kiosk: KioskClient) -> None:
    from tests.booking.conftest import slot_id

    booked = kiosk.book()
    moved = kiosk.rt.booking.rebook(
        booked.ref, slot_id(kiosk.rt, "CARD", datetime(2026, 11, 23, 9, 0)), by="staff"
    )
    kiosk.at(2026, 11, 23, 8, 0)
    check(kiosk.post("checkin", booked.tcode), "replaced", 410)
    body = check(kiosk.post("checkin", moved.tcode), "checked_in", 200)
    assert body["ticket"]["starts_at"] == "2026-11-23T09:00:00+03:00"
