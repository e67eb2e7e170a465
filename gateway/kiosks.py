"""Kiosk registry: 256-bit random keys, stored only as SHA-256 hashes, bound to one hospital.

A key's life: `add` prints it once; `rotate` replaces it (same kiosk id, so check-ins stay
attributable); `revoke` ends it for good. `identify` refuses a revoked kiosk; callers that
cache identities (gateway.kiosk_desk) decide how soon a revocation bites.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.booking.domain.errors import BookingError, NotFound
from gateway.booking.models import Hospital, Kiosk


class KioskRevoked(BookingError):
    """A revoked kiosk stays revoked: register a new one instead of rotating it back to life."""

    code = "kiosk_revoked"


@dataclass(frozen=True)
class KioskIdentity:
    id: int
    name: str
    hospital_code: str
    hospital: str
    timezone: str
    language: str


@dataclass(frozen=True)
class KioskRecord:
    """One line of `ors kiosk list`."""

    id: int
    hospital_code: str
    name: str
    created_at: datetime
    last_seen_at: datetime | None
    rotated_at: datetime | None
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    # A plain SHA-256 suffices: the key is 256 random bits, so there is nothing to brute-force,
    # and kiosks authenticate on every scan, where a slow KDF would cost real latency.
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return secrets.token_urlsafe(32)


def add_kiosk(
    factory: sessionmaker[Session],
    hospital_code: str,
    name: str,
    now: datetime,
    language: str = "en",
) -> str:
    """Register a kiosk and return its key; only the hash is kept."""
    key = new_key()
    with factory() as session:
        hospital = session.scalars(
            select(Hospital).where(Hospital.code == hospital_code)
        ).one_or_none()
        if hospital is None:
            raise NotFound(what=f"hospital {hospital_code}")
        session.add(
            Kiosk(
                hospital_id=hospital.id,
                name=name,
                key_hash=hash_key(key),
                language=language,
                created_at=now,
            )
        )
        session.commit()
    return key


def identify(factory: sessionmaker[Session], key: str) -> KioskIdentity | None:
    """The kiosk whose key this is, or None (also for a revoked kiosk)."""
    with factory() as session:
        row = session.execute(
            select(Kiosk, Hospital)
            .join(Hospital)
            .where(Kiosk.key_hash == hash_key(key), Kiosk.revoked_at.is_(None))
        ).one_or_none()
        if row is None:
            return None
        kiosk, hospital = row
        return KioskIdentity(
            kiosk.id, kiosk.name, hospital.code, hospital.name, hospital.timezone, kiosk.language
        )


def touch(factory: sessionmaker[Session], kiosk_id: int, now: datetime) -> None:
    with factory() as session:
        session.execute(update(Kiosk).where(Kiosk.id == kiosk_id).values(last_seen_at=now))
        session.commit()


def list_kiosks(factory: sessionmaker[Session]) -> list[KioskRecord]:
    """Every kiosk, revoked ones included (they explain old check-ins), by id."""
    with factory() as session:
        rows = session.execute(select(Kiosk, Hospital.code).join(Hospital).order_by(Kiosk.id))
        return [
            KioskRecord(
                k.id, code, k.name, k.created_at, k.last_seen_at, k.rotated_at, k.revoked_at
            )
            for k, code in rows
        ]


def revoke_kiosk(factory: sessionmaker[Session], kiosk_id: int, now: datetime) -> datetime:
    """Stop the kiosk's key for good; return when it was revoked (the first time, if again)."""
    with factory() as session:
        kiosk = _locked(session, kiosk_id)
        if kiosk.revoked_at is None:
            kiosk.revoked_at = now
        revoked_at = kiosk.revoked_at
        session.commit()
    return revoked_at


def rotate_kiosk(factory: sessionmaker[Session], kiosk_id: int, now: datetime) -> str:
    """Give the kiosk a new key and return it; the old key stops working."""
    key = new_key()
    with factory() as session:
        kiosk = _locked(session, kiosk_id)
        if kiosk.revoked_at is not None:
            raise KioskRevoked(kiosk=kiosk_id)
        kiosk.key_hash, kiosk.rotated_at = hash_key(key), now
        session.commit()
    return key


def _locked(session: Session, kiosk_id: int) -> Kiosk:
    kiosk = session.scalars(
        select(Kiosk).where(Kiosk.id == kiosk_id).with_for_update()
    ).one_or_none()
    if kiosk is None:
        raise NotFound(what=f"kiosk {kiosk_id}")
    return kiosk
