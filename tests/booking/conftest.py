"""Helpers for booking-core tests: find slots by local time, count rows, read the outbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from gateway.booking.models import Booking, Department, Event, Hold, Hospital, Slot, StaffAction
from gateway.runtime import Runtime
from gateway.settings import Secrets
from tests.clocks import clock_of

NAIROBI = ZoneInfo("Africa/Nairobi")
POSTGRES_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow])]
)


def slot_id(rt: Runtime, dept: str, local: datetime, hospital: str = "KNH") -> int:
    """The id of the slot of `dept` starting at the Nairobi wall time `local`."""
    with rt.reader() as s:
        return s.scalars(
            select(Slot.id)
            .join(Department)
            .join(Hospital)
            .where(
                Hospital.code == hospital,
                Department.code == dept,
                Slot.starts_at == local.replace(tzinfo=NAIROBI),
            )
        ).one()


def slot_row(rt: Runtime, sid: int) -> Slot:
    with rt.reader() as s:
        return s.get_one(Slot, sid)


def count_bookings(rt: Runtime, sid: int, status: str = "confirmed") -> int:
    with rt.reader() as s:
        return s.scalars(
            select(func.count())
            .select_from(Booking)
            .where(Booking.slot_id == sid, Booking.status == status)
        ).one()


def count_holds(rt: Runtime, sid: int) -> int:
    with rt.reader() as s:
        return s.scalars(select(func.count()).select_from(Hold).where(Hold.slot_id == sid)).one()


def events(rt: Runtime, after_id: int = 0) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.id > after_id).order_by(Event.id)))


def last_event_id(rt: Runtime) -> int:
    with rt.reader() as s:
        return s.scalars(select(func.coalesce(func.max(Event.id), 0))).one()


def set_capacity(rt: Runtime, sid: int, capacity: int, remote: int) -> None:
    with rt.writer() as s:
        slot = s.get_one(Slot, sid)
        slot.capacity, slot.remote_capacity = capacity, remote
        s.commit()


def at(
    rt: Runtime, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> None:
    """Put the clock at a Nairobi wall time."""
    wall = datetime(year, month, day, hour, minute, second, tzinfo=NAIROBI)
    clock_of(rt).at = wall.astimezone(UTC)


def use_rules(rt: Runtime, hospital: str | None = None, **changes: Any) -> None:
    """Change the booking rules: the defaults, or one hospital's (on top of the defaults)."""
    current = rt.booking.rules
    if hospital is None:
        rt.booking.rules = replace(current, defaults=replace(current.defaults, **changes))
        return
    hospitals = dict(current.hospitals)
    hospitals[hospital] = replace(current.rules_for(hospital), **changes)
    rt.booking.rules = replace(current, hospitals=hospitals)


def use_id_hash_key(rt: Runtime, key: str = "test-id-hash-key") -> None:
    rt.booking.settings = rt.booking.settings.with_overrides(secrets=Secrets(id_hash_key=key))


def staff_actions(rt: Runtime) -> list[StaffAction]:
    with rt.reader() as s:
        return list(s.scalars(select(StaffAction).order_by(StaffAction.id)))
