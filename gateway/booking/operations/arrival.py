"""Check-in as one call, at a kiosk (by T-code) or the desk (by reference): read, decide, write.

The read runs without locks; the write's guarded UPDATEs raise `checkin.Changed` when a cancel,
rebook or another check-in moved the rows meanwhile, and then the whole decision is made again
on what is there now.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import Connection

from gateway.booking.catalogue.cache import CatalogueCache
from gateway.booking.operations import checkin
from gateway.booking.operations.audit import record_staff_action
from gateway.settings import BookingSettings

ATTEMPTS = 3  # a second attempt sees the change that beat the first
Unit = Callable[[], AbstractContextManager[Connection]]


def at_kiosk(
    read: Unit,
    write: Unit,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    tcode: str,
    hospital_code: str,
    now: datetime,
    dry_run: bool = False,
    kiosk_id: int | None = None,
) -> checkin.Ticket:
    """Check in (or, `dry_run`, only validate) a T-code at a hospital; raise CheckInRefused."""
    for _ in range(ATTEMPTS):
        with read() as conn:
            seen = checkin.scan(conn, tcode)
        dept = catalogue.department(seen.department_id)
        ticket = checkin.validate(seen, dept, booking_settings, hospital_code, now)
        if dry_run:
            return ticket
        try:
            with write() as conn:
                return checkin.admit_scanned(conn, seen, dept, now, kiosk_id)
        except checkin.Changed:
            continue
    raise RuntimeError(f"check-in kept racing after {ATTEMPTS} attempts")


def at_desk(
    write: Unit,
    catalogue: CatalogueCache,
    booking_settings: BookingSettings,
    ref: str,
    actor: str | None,
    now: datetime,
) -> checkin.Ticket:
    """Check booking `ref` in at the desk (staff `actor`, audited); raise CheckInRefused."""
    for _ in range(ATTEMPTS):
        try:
            with write() as conn:
                ticket = checkin.desk_check_in(conn, catalogue, ref, now, booking_settings)
                record_staff_action(conn, actor, "check_in", ref, "", now)
                return ticket
        except checkin.Changed:
            continue
    raise RuntimeError(f"check-in kept racing after {ATTEMPTS} attempts")
