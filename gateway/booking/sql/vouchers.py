"""Issue vouchers: a fresh T-code and an unguessable link ref, retried on the rare collision."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.booking.models import Booking, Voucher
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor, dialect_name
from tcode.codes import generate
from tcode.keys import SigningKey
from tcode.payload import sign

BASE62 = string.digits + string.ascii_letters
REF_LENGTH = 11  # 62**11 ≈ 2**65: at least 64 bits, so refs cannot be guessed


def new_ref(length: int = REF_LENGTH) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


@dataclass(frozen=True)
class IssuedVoucher:
    id: int
    tcode: str
    ref: str


VOUCHERS = Voucher.__table__
_INSERTS = {
    name: DriverStatement(
        dialect.insert(VOUCHERS).on_conflict_do_nothing().returning(VOUCHERS.c.id)
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def issue(
    db: Executor,
    booking_id: int,
    hospital_code: str,
    day: date,
    key: SigningKey,
    now: datetime,
) -> IssuedVoucher:
    """Add a live, signed voucher with a T-code never used before (one INSERT, as a rule).

    A T-code or link ref already taken makes the INSERT do nothing (ON CONFLICT): draw again.
    """
    insert = _INSERTS[dialect_name(db)]
    for _ in range(20):
        code, ref = generate(), new_ref()
        # Signed once, now: a later key rotation must never change a voucher already sent.
        payload = sign(code, hospital_code, day, key)
        values = {
            "booking_id": booking_id,
            "tcode": code,
            "ref": ref,
            "key_id": key.key_id,
            "payload": payload,
            "state": "issued",
            "created_at": now,
        }
        voucher_id = insert.run(db, values).scalar()
        if voucher_id is not None:
            return IssuedVoucher(voucher_id, code, ref)
    # 20 collisions in a space of 10**9 codes means something else is wrong
    raise RuntimeError("could not find a free T-code")


def issue_voucher(session: Session, booking: Booking, key: SigningKey, now: datetime) -> Voucher:
    """`issue` for the use cases that work on ORM objects: returns the Voucher, and
    `booking.vouchers` lists it from then on."""
    session.flush()  # the booking needs its id
    issued = issue(
        session, booking.id, booking.slot.department.hospital.code, booking.slot.day, key, now
    )
    session.expire(booking, ["vouchers"])
    return session.get_one(Voucher, issued.id)


def live_voucher(booking: Booking) -> Voucher | None:
    return next((v for v in reversed(booking.vouchers) if v.state in ("issued", "used")), None)
