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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.booking.errors import (
    AlreadyRegistered,
    IdInUse,
    InvalidRegistration,
    RegistrationRequired,
)
from gateway.booking.events import record
from gateway.booking.models import Citizen
from gateway.settings import BookingRules, ConfigError

ID_FORM = re.compile(r"[A-Z0-9]{5,20}")
ID_SEPARATORS = re.compile(r"[\s./-]")
NAME_MAX = 160


@dataclass(frozen=True)
class NationalId:
    """A national ID reduced to what may be stored: its keyed hash and last three characters."""

    hash: str
    last3: str

    @classmethod
    def from_raw(cls, raw: str, key: str) -> NationalId:
        """Normalise and hash `raw`; raise InvalidRegistration, or ConfigError without a key."""
        if not key:
            raise ConfigError(
                "ORS_ID_HASH_KEY: required to register national IDs (real-name mode); "
                "set it to a long random secret"
            )
        normalised = ID_SEPARATORS.sub("", raw).upper()
        if not ID_FORM.fullmatch(normalised):
            raise InvalidRegistration(field="national_id")
        digest = hmac.new(key.encode(), normalised.encode(), hashlib.sha256).hexdigest()
        return cls(hash=digest, last3=normalised[-3:])


def clean_name(raw: str) -> str:
    name = " ".join(raw.split())
    if len(name) < 2 or len(name) > NAME_MAX or not any(c.isalpha() for c in name):
        raise InvalidRegistration(field="name")
    return name


def check_registered(citizen: Citizen, rules: BookingRules, hospital_code: str) -> None:
    """In real-name mode, refuse a citizen who has not given both name and national ID."""
    if rules.real_name and not (citizen.name and citizen.national_id_hash):
        raise RegistrationRequired(hospital=hospital_code)


def _holder(session: Session, national_id: NationalId) -> Citizen | None:
    return session.scalars(
        select(Citizen).where(Citizen.national_id_hash == national_id.hash).with_for_update()
    ).one_or_none()


def register(
    session: Session, citizen: Citizen, name: str, national_id: NationalId, now: datetime
) -> None:
    """Give the (locked) citizen a name and national ID; the ID may belong to one phone only."""
    holder = _holder(session, national_id)
    if holder is not None and holder.id != citizen.id:
        raise IdInUse()
    if citizen.national_id_hash not in (None, national_id.hash):
        raise AlreadyRegistered()
    citizen.name = name
    citizen.national_id_hash, citizen.national_id_last3 = national_id.hash, national_id.last3
    try:
        session.flush()
    except IntegrityError:  # another phone registered the same ID at the same instant
        raise IdInUse() from None
    record(
        session, "citizen.registered", citizen.id, now, citizen_id=citizen.id, phone=citizen.phone
    )


def reassign(session: Session, citizen: Citizen, national_id: NationalId, now: datetime) -> None:
    """Move the national ID to the (locked) citizen, taking it from any other holder (staff)."""
    holder = _holder(session, national_id)
    if holder is not None and holder.id != citizen.id:
        holder.national_id_hash = holder.national_id_last3 = None
        session.flush()  # the unique index must see the old holder let go before the new one
    citizen.national_id_hash, citizen.national_id_last3 = national_id.hash, national_id.last3
    record(
        session,
        "citizen.id_reassigned",
        citizen.id,
        now,
        citizen_id=citizen.id,
        phone=citizen.phone,
        from_citizen_id=holder.id if holder is not None and holder.id != citizen.id else None,
    )
