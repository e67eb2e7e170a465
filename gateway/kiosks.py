"""Kiosk registry: 256-bit random keys, stored only as SHA-256 hashes, bound to one hospital."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.booking.errors import NotFound
from gateway.booking.models import Hospital, Kiosk


@dataclass(frozen=True)
class KioskIdentity:
    id: int
    name: str
    hospital_code: str
    hospital: str
    timezone: str
    language: str


def hash_key(key: str) -> str:
    # A plain SHA-256 suffices: the key is 256 random bits, so there is nothing to brute-force,
    # and kiosks authenticate on every scan, where a slow KDF would cost real latency.
    return hashlib.sha256(key.encode()).hexdigest()


def add_kiosk(
    factory: sessionmaker[Session],
    hospital_code: str,
    name: str,
    now: datetime,
    language: str = "en",
) -> str:
    """Register a kiosk and return its key; only the hash is kept."""
    key = secrets.token_urlsafe(32)
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
    """The kiosk whose key this is, or None."""
    with factory() as session:
        row = session.execute(
            select(Kiosk, Hospital).join(Hospital).where(Kiosk.key_hash == hash_key(key))
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
