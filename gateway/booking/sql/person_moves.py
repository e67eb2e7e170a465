"""Pending moves of a dependant to a phone of their own (`person_moves`), read and changed
under the guardian's and the new phone's row locks (operations.person_moves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, or_, select, update

from gateway.booking.models import PersonMove
from gateway.booking.sql.executor import Executor
from gateway.booking.sql.transitions import changed

MOVES = PersonMove.__table__
_PENDING = (MOVES.c.done_at.is_(None), MOVES.c.cancelled_at.is_(None))


@dataclass(frozen=True)
class PendingMove:
    id: int
    person_id: int
    guardian_id: int
    code_hash: str


def recent(db: Executor, guardian_id: int, new_phone: str, since: datetime) -> int:
    """Moves asked for since `since` by this guardian or to this phone (the codes sent)."""
    query = select(func.count()).where(
        or_(MOVES.c.guardian_id == guardian_id, MOVES.c.new_phone == new_phone),
        MOVES.c.created_at > since,
    )
    return int(db.execute(query).scalar() or 0)


def cancel_pending(db: Executor, person_id: int, now: datetime) -> None:
    """Drop the person's pending move, if any (a new request replaces it)."""
    db.execute(
        update(MOVES).where(MOVES.c.person_id == person_id, *_PENDING).values(cancelled_at=now)
    )


def add(
    db: Executor,
    *,
    person_id: int,
    guardian_id: int,
    new_phone: str,
    code_hash: str,
    language: str | None,
    now: datetime,
    expires_at: datetime,
) -> int:
    values = {
        "person_id": person_id,
        "guardian_id": guardian_id,
        "new_phone": new_phone,
        "code_hash": code_hash,
        "language": language,
        "created_at": now,
        "expires_at": expires_at,
        "tries": 0,
    }
    return int(db.execute(insert(MOVES).values(**values).returning(MOVES.c.id)).scalar_one())


def newest_pending(db: Executor, new_phone: str, now: datetime) -> PendingMove | None:
    """The newest unexpired move waiting for this phone's code."""
    row = db.execute(
        select(MOVES.c.id, MOVES.c.person_id, MOVES.c.guardian_id, MOVES.c.code_hash)
        .where(MOVES.c.new_phone == new_phone, *_PENDING, MOVES.c.expires_at > now)
        .order_by(MOVES.c.created_at.desc(), MOVES.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else PendingMove(*row)


def claim_try(db: Executor, move_id: int, max_tries: int, now: datetime) -> int | None:
    """Count one try of a pending, unexpired move, if one is left; return the tries made so
    far (None: none was left). One conditional UPDATE, so racing replies never try more."""
    found = db.execute(
        update(MOVES)
        .where(
            MOVES.c.id == move_id,
            *_PENDING,
            MOVES.c.tries < max_tries,
            MOVES.c.expires_at > now,
        )
        .values(tries=MOVES.c.tries + 1)
        .returning(MOVES.c.tries)
    ).scalar()
    return None if found is None else int(found)


def close(db: Executor, move_id: int, now: datetime, done: bool) -> bool:
    """Mark a pending move done (the person moved) or cancelled (dropped); False if it was
    not pending any more."""
    values = {"done_at": now} if done else {"cancelled_at": now}
    return changed(db, update(MOVES).where(MOVES.c.id == move_id, *_PENDING).values(**values))
