"""Issue vouchers: a fresh T-code and an unguessable link ref, retried on the rare collision."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Update, select, update
from sqlalchemy.dialects import postgresql, sqlite

from gateway.booking.domain.states import LIVE_VOUCHER_STATES, VOUCHER, VoucherState
from gateway.booking.models import Voucher
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor, dialect_name
from gateway.booking.sql.guards import in_states, may, value
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
            "state": VoucherState.ISSUED,
            "created_at": now,
        }
        voucher_id = insert.run(db, values).scalar()
        if voucher_id is not None:
            return IssuedVoucher(voucher_id, code, ref)
    # 20 collisions in a space of 10**9 codes means something else is wrong
    raise RuntimeError("could not find a free T-code")


# --- the vouchers of an existing booking: "the current voucher" and its transitions ----------


# "The current voucher" of a booking, the one rule of the whole tree (LIVE_VOUCHER_STATES):
# the live one (issued or used), else the latest. Order a booking's vouchers by this, take one;
# `gateway.booking.domain.vouchers.current` is the same rule for vouchers already loaded.
CURRENT_FIRST = (in_states(VOUCHERS.c.state, LIVE_VOUCHER_STATES).desc(), VOUCHERS.c.id.desc())


def current(db: Executor, booking_id: int) -> IssuedVoucher:
    """The booking's current voucher (CURRENT_FIRST)."""
    row = db.execute(
        select(VOUCHERS.c.id, VOUCHERS.c.tcode, VOUCHERS.c.ref)
        .where(VOUCHERS.c.booking_id == booking_id)
        .order_by(*CURRENT_FIRST)
        .limit(1)
    ).one()
    return IssuedVoucher(*row)


def _leave(operation: str, booking_id: int, now: datetime) -> Update:
    """Move the booking's voucher out of the states `operation` starts from (at most one)."""
    return (
        update(VOUCHERS)
        .where(VOUCHERS.c.booking_id == booking_id, may(VOUCHERS.c.state, VOUCHER, operation))
        .values(state=value(VOUCHER.target(operation)), changed_at=now)
    )


def cancel_live(db: Executor, booking_id: int, now: datetime) -> None:
    """The booking was cancelled: its live voucher no longer checks in."""
    db.execute(_leave("cancel", booking_id, now))


def expire_live(db: Executor, booking_id: int, now: datetime) -> None:
    """The booking's day passed without a check-in."""
    db.execute(_leave("expire", booking_id, now))


def reinstate_expired(db: Executor, booking_id: int, now: datetime) -> None:
    """A no-show was undone within its window: the voucher it expired checks in again."""
    db.execute(_leave("reinstate", booking_id, now))


def replace_live(db: Executor, booking_id: int, now: datetime) -> int | None:
    """The booking moved and gets a new voucher: the live one is replaced; returns its id."""
    statement = _leave("replace", booking_id, now).returning(VOUCHERS.c.id)
    return db.execute(statement).scalar()
