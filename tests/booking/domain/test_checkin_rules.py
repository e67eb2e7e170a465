"""Kiosk and desk check-in decided over one Scan, pure: which refusal, at which instant.

Imports `gateway.booking.operations.checkin` only for its pure `validate`/`validate_desk`;
no database is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import (
    AlreadyCheckedIn,
    BookingError,
    TooEarly,
    TooLate,
    VoucherCancelled,
    VoucherExpired,
    VoucherReplaced,
    WrongDay,
    WrongHospital,
)
from gateway.booking.domain.states import BookingStatus, VoucherState
from gateway.booking.operations.checkin import Scan, validate, validate_desk
from gateway.settings import BookingRules, BookingSettings

NAIROBI = ZoneInfo("Africa/Nairobi")
SETTINGS = BookingSettings(
    defaults=BookingRules(checkin_before_minutes=120, checkin_after_minutes=30)
)
DEPT = DepartmentInfo(
    6, "OPD", "Outpatients", "Outpatients", "R1", False, 2, "KNH", "KNH", "KNH", NAIROBI
)
START = datetime(2026, 12, 7, 9, 0, tzinfo=NAIROBI)
SCAN = Scan(
    voucher_id=4,
    voucher_state=VoucherState.ISSUED,
    booking_id=1,
    ref="R1",
    status=BookingStatus.CONFIRMED,
    slot_id=9,
    queue_number=None,
    checked_in_at=None,
    department_id=6,
    day=date(2026, 12, 7),
    starts_at=START,
    doctor=None,
)
LATE_SLOT = replace(  # 00:15: its window opened at 22:15 the evening before
    SCAN, starts_at=datetime(2026, 12, 7, 0, 15, tzinfo=NAIROBI)
)
V, B = VoucherState, BookingStatus


def _raised(call: Callable[[], object]) -> type[BookingError] | None:
    try:
        call()
    except BookingError as exc:
        return type(exc)
    return None


def _at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(date(2026, 12, day), time(hh, mm), NAIROBI)


@pytest.mark.parametrize(
    ("scan", "hospital", "now", "refusal"),
    [
        (SCAN, "KNH", _at(7, 8), None),
        (SCAN, "KNH", _at(7, 7), None),  # the window opens 120 minutes before
        (SCAN, "KNH", _at(7, 9, 30), None),  # … and closes 30 minutes after
        (SCAN, "KNH", _at(7, 6, 59), TooEarly),
        (SCAN, "KNH", _at(7, 9, 31), TooLate),
        (SCAN, "KNH", _at(6, 8), WrongDay),
        (SCAN, "KNH", _at(8, 8), WrongDay),
        (SCAN, "MTRH", _at(7, 8), WrongHospital),
        (replace(SCAN, voucher_state=V.CANCELLED), "KNH", _at(7, 8), VoucherCancelled),
        (replace(SCAN, voucher_state=V.REPLACED), "KNH", _at(7, 8), VoucherReplaced),
        (replace(SCAN, voucher_state=V.EXPIRED), "KNH", _at(7, 8), VoucherExpired),
        # the voucher's state is named before the hospital
        (replace(SCAN, voucher_state=V.REPLACED), "MTRH", _at(7, 8), VoucherReplaced),
        (replace(SCAN, voucher_state=V.USED), "KNH", _at(7, 8), AlreadyCheckedIn),
        (replace(SCAN, status=B.CHECKED_IN), "KNH", _at(7, 8), AlreadyCheckedIn),
        (replace(SCAN, status=B.CANCELLED), "KNH", _at(7, 8), VoucherCancelled),
        (replace(SCAN, status=B.NO_SHOW), "KNH", _at(7, 8), VoucherExpired),
        (LATE_SLOT, "KNH", _at(6, 22, 15), None),  # the window crosses midnight
        (LATE_SLOT, "KNH", _at(6, 22, 14), TooEarly),
        (LATE_SLOT, "KNH", _at(7, 0, 46), TooLate),
    ],
)
def test_kiosk(scan: Scan, hospital: str, now: datetime, refusal: type | None) -> None:
    assert _raised(lambda: validate(scan, DEPT, SETTINGS, hospital, now)) is refusal


@pytest.mark.parametrize(
    ("scan", "now", "refusal"),
    [
        (SCAN, _at(7, 8), None),
        (SCAN, _at(7, 0, 1), None),  # staff override the window: any time of the day
        (SCAN, _at(7, 23, 59), None),
        (SCAN, _at(6, 23), WrongDay),
        (SCAN, _at(8, 0, 1), WrongDay),
        (LATE_SLOT, _at(6, 23), None),  # … and the window counts when it crosses midnight
        (replace(SCAN, status=B.CHECKED_IN), _at(7, 8), AlreadyCheckedIn),
        (replace(SCAN, status=B.CANCELLED), _at(7, 8), VoucherCancelled),
    ],
)
def test_desk(scan: Scan, now: datetime, refusal: type | None) -> None:
    assert _raised(lambda: validate_desk(scan, DEPT, SETTINGS, now)) is refusal


def test_a_valid_scan_gives_its_ticket() -> None:
    ticket = validate(SCAN, DEPT, SETTINGS, "KNH", _at(7, 8))
    assert (ticket.hospital, ticket.department, ticket.room) == ("KNH", "Outpatients", "R1")
    assert ticket.starts_at == START


def test_a_sensitive_department_is_not_named_on_the_ticket() -> None:
    ticket = validate(SCAN, replace(DEPT, sensitive=True), SETTINGS, "KNH", _at(7, 8))
    assert ticket.department is None and ticket.sensitive
