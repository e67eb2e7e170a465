"""Holds: a time-limited claim on one remote place, one live hold per phone.

A hold is released by booking, by an explicit "start again", or by expiry — never by a dropped
call, so a caller who redials can resume.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.booking import capacity
from gateway.booking.events import record
from gateway.booking.models import Hold, Slot


def find_hold(session: Session, phone: str, lock: bool = False) -> Hold | None:
    query = select(Hold).where(Hold.phone == phone)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def place_hold(
    session: Session,
    citizen_id: int,
    phone: str,
    session_key: str,
    slot: Slot,
    minutes: int,
    now: datetime,
) -> Hold:
    """Record a hold on a place already claimed for it."""
    hold = Hold(
        slot_id=slot.id,
        phone=phone,
        citizen_id=citizen_id,
        session_key=session_key,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(hold)
    session.flush()
    record(
        session,
        "hold.placed",
        hold.id,
        now,
        slot_id=slot.id,
        phone=phone,
        expires_at=hold.expires_at.isoformat(),
    )
    return hold


def drop_hold(session: Session, hold: Hold, now: datetime, event: str | None) -> None:
    """Delete a hold and give its place back; `event` names why (released / expired)."""
    capacity.give_back(session, hold.slot_id)
    session.execute(delete(Hold).where(Hold.id == hold.id))
    if event:
        record(session, event, hold.id, now, slot_id=hold.slot_id, phone=hold.phone)


def release_expired(session: Session, now: datetime, slot_id: int | None = None) -> int:
    """Release every expired hold (of one slot, or all); returns how many."""
    query = (
        select(Hold)
        .where(Hold.expires_at <= now)
        .order_by(Hold.id)
        .with_for_update(skip_locked=True)
    )
    if slot_id is not None:
        query = query.where(Hold.slot_id == slot_id)
    expired = list(session.scalars(query))
    for hold in expired:
        drop_hold(session, hold, now, "hold.expired")
    return len(expired)


def claim_or_reclaim(session: Session, slot_id: int, now: datetime) -> bool:
    """Claim a place; if the slot looks full, first release its expired holds and try again.

    This lazy release means an expired hold never blocks a caller, even between sweeps.
    """
    if capacity.claim(session, slot_id):
        return True
    return release_expired(session, now, slot_id) > 0 and capacity.claim(session, slot_id)
