"""Real-name registration: a name and a national ID, the ID kept only as a keyed hash.

The raw ID never reaches the database or a log line: it is normalised, hashed with
HMAC-SHA256 under ORS_ID_HASH_KEY (separate from ORS_SECRET_KEY, so rotating one does not
break the other), and only the hash and its last three characters are stored. Errors name the
field that is wrong, never its value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from gateway.booking.domain import events
from gateway.booking.domain.errors import (
    AlreadyRegistered,
    IdInUse,
    InvalidRegistration,
)
from gateway.booking.models import Citizen
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.sql.citizens import CitizenRow, lock_row
from gateway.booking.sql.events import record
from gateway.booking.sql.guards import in_states
from gateway.settings import ConfigError, Secrets

ID_FORM = re.compile(r"[A-Z0-9]{5,20}")
ID_SEPARATORS = re.compile(r"[\s./-]")
NAME_MAX = 160


def key_id(key: str) -> str:
    """Names a hash key without revealing it: 8 hex characters of its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class NationalId:
    """A national ID reduced to what may be stored: its keyed hash and last three characters.

    `hash` is made with the current ORS_ID_HASH_KEY (`key_id` names it); `known` holds the
    hashes under every key, old ones included, so an ID registered before a key rotation is
    still found, and is rewritten under the current key when its holder is next touched.
    """

    hash: str
    key_id: str
    last3: str
    known: frozenset[str]

    @classmethod
    def from_raw(cls, raw: str, key: str, old_keys: Iterable[str] = ()) -> NationalId:
        """Normalise and hash `raw`; raise InvalidRegistration, or ConfigError without a key."""
        if not key:
            raise ConfigError(
                "ORS_ID_HASH_KEY: required to register national IDs (real-name mode); "
                "set it to a long random secret"
            )
        normalised = ID_SEPARATORS.sub("", raw).upper()
        if not ID_FORM.fullmatch(normalised):
            raise InvalidRegistration(field="national_id")
        hashes = [_digest(k, normalised) for k in (key, *old_keys) if k]
        return cls(
            hash=hashes[0], key_id=key_id(key), last3=normalised[-3:], known=frozenset(hashes)
        )


def _digest(key: str, normalised: str) -> str:
    return hmac.new(key.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def old_keys(text: str) -> tuple[str, ...]:
    """ORS_ID_HASH_OLD_KEYS: earlier keys, comma-separated."""
    return tuple(k.strip() for k in text.split(",") if k.strip())


def national_id(secrets: Secrets, raw: str) -> NationalId:
    """The ID as stored: hashed with the current key, matched under the old ones too."""
    return NationalId.from_raw(raw, secrets.id_hash_key, old_keys(secrets.id_hash_old_keys))


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if len(name) < 2 or len(name) > NAME_MAX or not any(c.isalpha() for c in name):
        raise InvalidRegistration(field="name")
    return name


CITIZENS = Citizen.__table__


def _holder(db: Connection, national_id: NationalId) -> int | None:
    """The citizen holding the ID under any key (locked), by id."""
    found = db.execute(
        select(CITIZENS.c.id)
        .where(in_states(CITIZENS.c.national_id_hash, national_id.known))
        .with_for_update()
    ).first()
    return int(found[0]) if found is not None else None


def register(
    db: Connection,
    phone: str,
    name: str,
    national_id: NationalId,
    now: datetime,
    actor: str | None = None,
) -> None:
    """Give the phone's holder a name and national ID; the ID may belong to one phone only.
    Staff `actor` registering them at the desk is audited."""
    citizen = lock_row(db, phone, now)
    holder = _holder(db, national_id)
    if holder is not None and holder != citizen.id:
        raise IdInUse()
    if citizen.national_id_hash is not None and citizen.national_id_hash not in national_id.known:
        raise AlreadyRegistered()
    try:
        _store(db, citizen.id, national_id, name=name)
    except IntegrityError:  # another phone registered the same ID at the same instant
        raise IdInUse() from None
    record(db, events.citizen_registered(citizen.id, phone=citizen.phone), now)
    if actor is not None:
        record_staff_action(db, actor, "register", str(citizen.id), "", now)


def register_id(db: Connection, person_id: int, national_id: NationalId) -> None:
    """Give a new person (a dependant, or one without a phone) a national ID held by nobody."""
    holder = _holder(db, national_id)
    if holder is not None and holder != person_id:
        raise IdInUse()
    try:
        _store(db, person_id, national_id)
    except IntegrityError:  # another person registered the same ID at the same instant
        raise IdInUse() from None


def reassign(db: Connection, citizen: CitizenRow, national_id: NationalId, now: datetime) -> None:
    """Move the national ID to the (locked) citizen, taking it from any other holder (staff)."""
    holder = _holder(db, national_id)
    taken_from = holder if holder is not None and holder != citizen.id else None
    if taken_from is not None:
        # The unique index must see the old holder let go before the new one takes it.
        db.execute(
            update(CITIZENS)
            .where(CITIZENS.c.id == taken_from)
            .values(national_id_hash=None, national_id_last3=None, national_id_key=None)
        )
    _store(db, citizen.id, national_id)
    event = events.citizen_id_reassigned(
        citizen.id, phone=citizen.phone, from_citizen_id=taken_from
    )
    record(db, event, now)


def _store(db: Connection, citizen_id: int, national_id: NationalId, **more: str) -> None:
    """Write the ID under the current key (rewriting a hash made with an older one)."""
    db.execute(
        update(CITIZENS)
        .where(CITIZENS.c.id == citizen_id)
        .values(
            national_id_hash=national_id.hash,
            national_id_key=national_id.key_id,
            national_id_last3=national_id.last3,
            **more,
        )
    )
