"""One-time codes that prove a voice caller holds the phone their caller id names.

A caller id can be forged; an SMS to that number reaches its real holder. `send` makes a
random 4-digit code, keeps only a keyed hash of it and writes the `phone.code` event (the
messaging layer sends it ahead of everything else and drops the code from the outbox once
sent). `check` compares what the caller keyed with the phone's newest code: each try is
claimed by one conditional UPDATE, so two racing requests cannot try more than `max_tries`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, func, insert, select, update

from gateway.booking.domain import events
from gateway.booking.domain.errors import CodeLimit
from gateway.booking.models import PhoneChallenge
from gateway.booking.sql.citizens import lock_row
from gateway.booking.sql.events import record
from gateway.settings import VoiceProof
from tcode.keys import SigningKey

CODE_DIGITS = 4
Outcome = Literal["passed", "wrong", "spent"]
_KEY_LABEL = b"ORS phone challenge key v1"
CHALLENGES = PhoneChallenge.__table__


def challenge_key(secret_key: str, signing_key: SigningKey) -> bytes:
    """Return the HMAC key of the codes: every web process must derive the same one.

    `ORS_SECRET_KEY` when set; else a key derived from the voucher signing key (Ed25519
    signatures are deterministic, and every process already holds that key), so production
    needs no extra secret and a code sent by one process is checked by any other.
    """
    if secret_key:
        return hashlib.sha256(_KEY_LABEL + secret_key.encode()).digest()
    return hashlib.sha256(_KEY_LABEL + signing_key.sign(_KEY_LABEL)).digest()


def send(
    db: Connection, phone: str, language: str | None, proof: VoiceProof, now: datetime, key: bytes
) -> int:
    """Create a code for `phone` and write its `phone.code` event; raise CodeLimit when the
    phone has had `per_hour` codes in the last hour or `per_day` in the last day."""
    lock_row(db, phone, now)  # one sender per phone at a time: the counts below stay exact
    last_hour = _recent(db, phone, now - timedelta(hours=1))
    last_day = _recent(db, phone, now - timedelta(days=1))
    if last_hour >= proof.per_hour or last_day >= proof.per_day:
        raise CodeLimit(per_hour=proof.per_hour, per_day=proof.per_day)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    challenge_id: int = db.execute(
        insert(CHALLENGES)
        .values(
            phone=phone,
            code_hash=_digest(key, phone, code),
            created_at=now,
            expires_at=now + timedelta(seconds=proof.code_ttl_seconds),
            tries=0,
        )
        .returning(CHALLENGES.c.id)
    ).scalar_one()
    record(db, events.phone_code(challenge_id, phone=phone, code=code, language=language), now)
    return challenge_id


def check(
    db: Connection, phone: str, digits: str, proof: VoiceProof, now: datetime, key: bytes
) -> Outcome:
    """Compare `digits` with the phone's newest code: "passed", "wrong" (tries are left) or
    "spent" (none live, expired, used, or this was the last try)."""
    newest = db.execute(
        select(CHALLENGES.c.id, CHALLENGES.c.code_hash)
        .where(CHALLENGES.c.phone == phone)
        .order_by(CHALLENGES.c.created_at.desc(), CHALLENGES.c.id.desc())
        .limit(1)
    ).first()
    tries = None if newest is None else _claim_try(db, newest.id, proof.max_tries, now)
    if newest is None or tries is None:
        return "spent"
    if hmac.compare_digest(newest.code_hash, _digest(key, phone, digits)):
        db.execute(
            update(PhoneChallenge).where(PhoneChallenge.id == newest.id).values(passed_at=now)
        )
        return "passed"
    return "wrong" if tries < proof.max_tries else "spent"


def _claim_try(db: Connection, challenge_id: int, max_tries: int, now: datetime) -> int | None:
    """Count one try, if one is left; return the tries made so far (None: none was left)."""
    return db.scalar(
        update(PhoneChallenge)
        .where(
            PhoneChallenge.id == challenge_id,
            PhoneChallenge.tries < max_tries,
            PhoneChallenge.expires_at > now,
            PhoneChallenge.passed_at.is_(None),
        )
        .values(tries=PhoneChallenge.tries + 1)
        .returning(PhoneChallenge.tries)
    )


def _recent(db: Connection, phone: str, since: datetime) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(PhoneChallenge)
            .where(PhoneChallenge.phone == phone, PhoneChallenge.created_at > since)
        )
        or 0
    )


def _digest(key: bytes, phone: str, code: str) -> str:
    # Bound to the phone: a hash copied to another phone's row proves nothing there.
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()
