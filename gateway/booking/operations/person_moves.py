"""A dependant moves to a phone of their own by SMS, confirmed from both phones.

The guardian's phone asks (`request`): we keep a keyed hash of a random code and text the code
to the new phone (`person.move_code`). The new phone sends it back (`confirm`): a wrong code
counts a try and the last wrong try drops the move; the right one runs the desk's move
(operations.persons.move, audited with the actor "sms") in the same transaction, and both
phones are told (`person.moved`). The new phone must be free when asked and again when
confirmed: it may have booked or been named in between.

Both steps lock the guardian's and the new phone's holder rows first, in id order as every
lock of citizens goes (persons.lock_both), so a request and a confirmation of one person, or
two requests, serialise there.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection

from gateway.booking.domain import events
from gateway.booking.domain.errors import CodeLimit, NotFound, PhoneInUse
from gateway.booking.domain.persons import first_name
from gateway.booking.operations import persons as people
from gateway.booking.sql import person_moves as moves
from gateway.booking.sql import persons
from gateway.booking.sql.events import record

CODE_DIGITS = 4
CODE_TTL = timedelta(hours=24)  # a grown child may see the SMS only in the evening
MAX_TRIES = 3
# Codes per hour and per day, counted for the asking guardian and for the new phone alike:
# neither may be used to flood a phone with codes (the voice codes' limits).
PER_HOUR, PER_DAY = 3, 6
ACTOR, REASON = "sms", "confirmed by SMS from both phones"
Outcome = Literal["moved", "wrong", "dropped", "spent", "taken"]


@dataclass(frozen=True)
class Confirmed:
    """What the new phone's code did: "moved", "wrong" (tries are left), "dropped" (that was
    the last try), "spent" (no move waits for this phone, or it expired) or "taken" (the
    phone belongs to someone now; the move is dropped)."""

    outcome: Outcome
    person: str = ""  # the first name, when moved or taken
    tries_left: int = 0


def request(
    db: Connection,
    guardian_phone: str,
    person_id: int,
    new_phone: str,
    now: datetime,
    key: bytes,
    language: str | None,
) -> str:
    """Ask to move a shown dependant of the guardian's phone to `new_phone` and send that phone
    the code; returns the person's first name. A new request replaces the person's pending one.

    Raises NotFound (no such dependant on this phone), PhoneInUse, CodeLimit.
    """
    guardian_id = persons.holder_id_by_phone(db, guardian_phone)
    if guardian_id is None:
        raise NotFound(what="person")
    target = people.lock_both(db, guardian_id, new_phone, now)
    person = persons.find(db, person_id)
    if person is None or not persons.is_shown_dependant(db, person_id, guardian_id):
        raise NotFound(what="person")
    people.check_phone_free(db, target)
    if moves.recent(db, guardian_id, new_phone, now - timedelta(hours=1)) >= PER_HOUR or (
        moves.recent(db, guardian_id, new_phone, now - timedelta(days=1)) >= PER_DAY
    ):
        raise CodeLimit(per_hour=PER_HOUR, per_day=PER_DAY)
    moves.cancel_pending(db, person_id, now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    move_id = moves.add(
        db,
        person_id=person_id,
        guardian_id=guardian_id,
        new_phone=new_phone,
        code_hash=_digest(key, new_phone, code),
        language=language,
        now=now,
        expires_at=now + CODE_TTL,
    )
    event = events.person_move_code(
        move_id, citizen_id=person_id, phone=new_phone, code=code, language=language
    )
    record(db, event, now)
    return first_name(person.name)


def confirm(
    db: Connection, phone: str, digits: str, now: datetime, key: bytes, language: str | None
) -> Confirmed:
    """Check the code the new phone sent back against the newest move waiting for it, and
    move the person when it is right."""
    pending = moves.newest_pending(db, phone, now)
    if pending is None:
        return Confirmed("spent")
    people.lock_both(db, pending.guardian_id, phone, now)
    tries = moves.claim_try(db, pending.id, MAX_TRIES, now)
    if tries is None:  # expired, or replaced or tried out while we waited for the locks
        return Confirmed("spent")
    if not hmac.compare_digest(pending.code_hash, _digest(key, phone, digits)):
        if tries < MAX_TRIES:
            return Confirmed("wrong", tries_left=MAX_TRIES - tries)
        moves.close(db, pending.id, now, done=False)
        return Confirmed("dropped")
    person = persons.find(db, pending.person_id)
    name = first_name(person.name if person else None)
    try:
        with db.begin_nested():  # a refused move leaves the dropped move to commit
            people.move(db, pending.person_id, phone, now, ACTOR, REASON)
    except PhoneInUse:
        moves.close(db, pending.id, now, done=False)
        return Confirmed("taken", person=name)
    except NotFound:  # hidden, or moved at the desk, since the guardian asked
        moves.close(db, pending.id, now, done=False)
        return Confirmed("spent")
    moves.close(db, pending.id, now, done=True)
    event = events.person_moved(
        pending.id, citizen_id=pending.person_id, phone=phone, language=language
    )
    record(db, event, now)
    return Confirmed("moved", person=name)


def _digest(key: bytes, phone: str, code: str) -> str:
    # Bound to the new phone, and labelled apart from the voice codes made with the same key.
    return hmac.new(key, f"move:{phone}:{code}".encode(), hashlib.sha256).hexdigest()
