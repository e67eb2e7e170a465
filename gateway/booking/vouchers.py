"""Issue vouchers: a fresh T-code and an unguessable link ref, retried on the rare collision."""

from __future__ import annotations

import secrets
import string
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from gateway.booking.models import Booking, Voucher
from tcode.codes import generate
from tcode.keys import SigningKey
from tcode.payload import sign

BASE62 = string.digits + string.ascii_letters
REF_LENGTH = 11  # 62**11 ≈ 2**65: at least 64 bits, so refs cannot be guessed


def new_ref(length: int = REF_LENGTH) -> str:
    return "".join(secrets.choice(BASE62) for _ in range(length))


def issue_voucher(session: Session, booking: Booking, key: SigningKey, now: datetime) -> Voucher:
    """Add a live, signed voucher for `booking` with a T-code never used before."""
    for _ in range(20):
        code = generate()
        if not session.scalar(select(exists().where(Voucher.tcode == code))):
            break
    else:  # 20 collisions in a space of 10**9 codes means something else is wrong
        raise RuntimeError("could not find a free T-code")
    # Signed once, now: a later key rotation must never change a voucher already sent.
    payload = sign(code, booking.slot.department.hospital.code, booking.slot.day, key)
    voucher = Voucher(
        booking=booking,
        tcode=code,
        ref=new_ref(),
        key_id=key.key_id,
        payload=payload,
        state="issued",
        created_at=now,
    )
    session.add(voucher)
    return voucher


def live_voucher(booking: Booking) -> Voucher | None:
    return next((v for v in reversed(booking.vouchers) if v.state in ("issued", "used")), None)
