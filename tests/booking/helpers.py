"""Helpers the booking tests share."""

from __future__ import annotations

from gateway.booking.domain.persons import check_not_blocked
from gateway.booking.sql.citizens import lock_row
from gateway.runtime import Runtime


def refuse_if_blocked(rt: Runtime, phone: str) -> None:
    """Raise Blocked when the phone's holder is blocked now; creates the citizen if new."""
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        check_not_blocked(lock_row(conn, rt.booking.phone(phone), now), now)
