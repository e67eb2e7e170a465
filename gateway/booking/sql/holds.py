"""Holds: a time-limited claim on one remote place, one live hold per phone.

A hold is released by booking, by an explicit "start again", or by expiry — never by a dropped
call, so a caller who redials can resume.

Holds are rows, never ORM objects: whoever deletes one (a caller's next hold, a booking, the
expiry sweep) does it with a conditional DELETE and gives the place back only if the row was
still there, so two of them racing cannot return one place twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select, update

from gateway.booking.domain import events
from gateway.booking.domain.states import HoldState
from gateway.booking.models import Hold
from gateway.booking.sql import capacity
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.events import record
from gateway.booking.sql.executor import Executor

HOLDS = Hold.__table__


@dataclass(frozen=True)
class HoldRow:
    id: int
    slot_id: int
    phone: str
    session_key: str
    created_at: datetime
    expires_at: datetime
    citizen_id: int  # the person the place is held for ("Me" or a dependant)

    def live(self, now: datetime) -> bool:
        return self.expires_at > now


COLUMNS = (
    HOLDS.c.id,
    HOLDS.c.slot_id,
    HOLDS.c.phone,
    HOLDS.c.session_key,
    HOLDS.c.created_at,
    HOLDS.c.expires_at,
    HOLDS.c.citizen_id,
)
_BY_PHONE = select(*COLUMNS).where(HOLDS.c.phone == bindparam("phone"))
_FIND = DriverStatement(_BY_PHONE)
_FIND_LOCKED = DriverStatement(_BY_PHONE.with_for_update())
_INSERT = DriverStatement(insert(HOLDS).returning(HOLDS.c.id))
_DELETE = DriverStatement(delete(HOLDS).where(HOLDS.c.id == bindparam("hold_id")))
_RENEW = DriverStatement(
    update(HOLDS).where(HOLDS.c.id == bindparam("hold_id")).values(session_key=bindparam("key"))
)
_EXPIRED = select(*COLUMNS).where(HOLDS.c.expires_at <= bindparam("now")).order_by(HOLDS.c.id)
_EXPIRED_ALL = DriverStatement(_EXPIRED.with_for_update(skip_locked=True))
_EXPIRED_OF_SLOT = DriverStatement(
    _EXPIRED.where(HOLDS.c.slot_id == bindparam("slot_id")).with_for_update(skip_locked=True)
)


def find_hold(db: Executor, phone: str, lock: bool = False) -> HoldRow | None:
    row = (_FIND_LOCKED if lock else _FIND).run(db, {"phone": phone}).first()
    return HoldRow(*row) if row else None


def place_hold(
    db: Executor,
    citizen_id: int,
    phone: str,
    session_key: str,
    slot_id: int,
    minutes: int,
    now: datetime,
) -> HoldRow:
    """Record a hold on a place already claimed for it."""
    expires_at = now + timedelta(minutes=minutes)
    hold_id = _INSERT.run(
        db,
        {
            "slot_id": slot_id,
            "phone": phone,
            "citizen_id": citizen_id,
            "session_key": session_key,
            "created_at": now,
            "expires_at": expires_at,
        },
    ).scalar_one()
    record(
        db, events.hold_placed(hold_id, slot_id=slot_id, phone=phone, expires_at=expires_at), now
    )
    return HoldRow(hold_id, slot_id, phone, session_key, now, expires_at, citizen_id)


def renew(db: Executor, hold: HoldRow, session_key: str) -> None:
    """The same slot picked again (a retried hop, a redial): keep the place, note the session."""
    _RENEW.run(db, {"hold_id": hold.id, "key": session_key})


# How a hold left, and the event that says so (a hold erased with its person says nothing).
_LEFT = {HoldState.RELEASED: events.hold_released, HoldState.EXPIRED: events.hold_expired}


def drop_hold(db: Executor, hold: HoldRow, now: datetime, why: HoldState | None) -> bool:
    """Delete a hold and give its place back; `why` (released / expired) names its event.

    Returns False when the hold was already gone (deleted by a racing sweep or booking).
    """
    if not _DELETE.run(db, {"hold_id": hold.id}).rowcount:
        return False
    capacity.give_back(db, hold.slot_id)
    if why:
        left = _LEFT[why]
        record(db, left(hold.id, slot_id=hold.slot_id, phone=hold.phone), now)
    return True


def take_over(db: Executor, hold: HoldRow) -> bool:
    """Delete a live hold whose place a booking takes over (the counter stays); False if gone."""
    return bool(_DELETE.run(db, {"hold_id": hold.id}).rowcount)


def release_expired(db: Executor, now: datetime, slot_id: int | None = None) -> int:
    """Release every expired hold (of one slot, or all); returns how many."""
    if slot_id is None:
        found = _EXPIRED_ALL.run(db, {"now": now})
    else:
        found = _EXPIRED_OF_SLOT.run(db, {"now": now, "slot_id": slot_id})
    expired = [HoldRow(*row) for row in found]
    return sum(drop_hold(db, hold, now, HoldState.EXPIRED) for hold in expired)


def claim_or_reclaim(db: Executor, slot_id: int, now: datetime) -> bool:
    """Claim a place; if the slot looks full, first release its expired holds and try again.

    This lazy release means an expired hold never blocks a caller, even between sweeps.
    """
    if capacity.claim(db, slot_id):
        return True
    return release_expired(db, now, slot_id) > 0 and capacity.claim(db, slot_id)


def lock_on(db: Executor, slot_ids: Sequence[int]) -> list[HoldRow]:
    """Every hold on these slots, locked in id order (a closed session releases them)."""
    query = select(*COLUMNS).where(HOLDS.c.slot_id.in_(slot_ids)).order_by(HOLDS.c.id)
    return [HoldRow(*row) for row in db.execute(query.with_for_update())]
