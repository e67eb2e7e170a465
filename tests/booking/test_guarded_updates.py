"""A guarded UPDATE that matches nothing stops the operation before it gives anything back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, select, update

from gateway.booking.domain.errors import NotActive
from gateway.booking.domain.states import BookingStatus
from gateway.booking.models import Booking, Event, Slot
from gateway.booking.operations.cancel import STAFF, void
from gateway.booking.sql import transitions
from gateway.runtime import Runtime
from tests.booking.conftest import slot_id

MON_0800 = datetime(2026, 11, 23, 8, 0)
BOOKINGS, SLOTS, EVENTS = Booking.__table__, Slot.__table__, Event.__table__


def _taken_and_events(conn: Connection, sid: int) -> tuple[int, int]:
    taken = conn.scalar(select(SLOTS.c.remote_taken).where(SLOTS.c.id == sid))
    return int(taken or 0), int(conn.scalar(select(func.count()).select_from(EVENTS)) or 0)


def test_void_of_a_booking_no_longer_confirmed_gives_nothing_back(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", MON_0800)
    ref = catalog.booking.book("+254700000001", sid, "ussd").ref
    now = datetime.now(UTC)
    with catalog.engine.connect() as conn, conn.begin() as tx:
        booking = transitions.lock_ref(conn, ref)
        assert booking is not None and booking.status == BookingStatus.CONFIRMED
        # The row changes under the caller's copy: the guard, not the copy, must decide.
        conn.execute(
            update(BOOKINGS)
            .where(BOOKINGS.c.id == booking.id)
            .values(status=BookingStatus.CHECKED_IN)
        )
        before = _taken_and_events(conn, sid)
        with pytest.raises(NotActive):
            void(conn, booking, STAFF, "test", now)
        assert _taken_and_events(conn, sid) == before
        status = conn.scalar(select(BOOKINGS.c.status).where(BOOKINGS.c.id == booking.id))
        assert status == BookingStatus.CHECKED_IN
        tx.rollback()
