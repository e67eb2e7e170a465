"""Erase a person at once: the right to erasure (`ors citizens erase`).

The phone's holder and their dependants are anonymised (gateway.booking.privacy.anonymise),
hidden ones too, and the row a dependant who moved to a phone of their own left behind (their
history under this phone); the phone they moved to is theirs, and stays. A person registered
at the desk without a phone is erased by id (`phone_of`: their placeholder stands for a
phone), and so may any phone's holder be; a dependant only with their phone. Every event
that names them loses who they are and what was said, and any event still waiting for
the relay is settled as relayed, so nothing more is sent to them. A future booking that is
still live makes the erasure refuse, unless staff ask to cancel such bookings first (by
staff, with the reason, as `ors bookings cancel` would). The erasure writes a
`citizen.erased` event without the phone, and the audit row names the person by a keyed hash
of the phone (HMAC under ORS_ID_HASH_KEY, as national IDs are hashed), never the phone.

All of it is one transaction, in the caller's unit of work: the messaging half (messages,
delivery reports, inbound SMS) joins it there (gateway.messaging.erasure).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.events import citizen_erased
from gateway.booking.domain.states import BookingStatus, InvitationStatus
from gateway.booking.models import Booking, Citizen, Event, Invitation, Slot
from gateway.booking.operations import cancel as cancelling
from gateway.booking.operations import invitations
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.registration import key_id
from gateway.booking.privacy.anonymise import Anonymised, anonymise, placeholder
from gateway.booking.privacy.retention import CONTENT_KEYS, PERSON_KEYS, PERSON_MARK, stripped
from gateway.booking.sql.citizens import find_citizen, lock_row
from gateway.booking.sql.events import record
from gateway.booking.sql.marks import first_id_at, read_mark
from gateway.booking.sql.naming import NamedPerson, events_naming
from gateway.settings import BookingSettings, ConfigError

ERASED_KEYS = (*PERSON_KEYS, *CONTENT_KEYS)


class SharedPhone(Exception):
    """A dependant's records are their phone's: they are erased with the phone (the whole
    household), or kept with it."""


class FutureBookings(Exception):
    """The person has live bookings still to come; erase with cancel_future to cancel them."""

    def __init__(self, refs: list[str]):
        super().__init__(f"{len(refs)} future booking(s) still live")
        self.refs = refs


@dataclass(frozen=True)
class Erasure:
    citizen_id: int
    phone: str  # as it was, for the messaging half; never printed or logged
    placeholder: str  # what stands for the phone from now on
    people: int  # the holder and their dependants
    cancelled: tuple[str, ...]  # refs of the future bookings cancelled first
    events: int  # events that lost who they were about


@dataclass(frozen=True)
class Request:
    phone: str  # E.164
    reason: str
    actor: str
    cancel_future: bool


def audit_subject(phone: str, key: str) -> str:
    """The audit trail's name for an erased phone: a keyed hash (63 characters), so staff
    can later tell whether a given phone was erased without the trail holding it."""
    if not key:
        raise ConfigError(
            "ORS_ID_HASH_KEY: required to erase a citizen (the audit trail keeps a keyed hash "
            "of the phone, never the phone); set it to a long random secret"
        )
    digest = hmac.new(key.encode(), f"phone:{phone}".encode(), hashlib.sha256).hexdigest()
    return f"phone:{key_id(key)}:{digest[:48]}"


def phone_of(session: Session, person_id: int) -> str:
    """The phone that erasing person `person_id` erases: a holder's own, or the placeholder
    of a person registered without a phone. Raise NotFound for no such person (or one erased
    already), SharedPhone for a dependant."""
    found = session.execute(
        select(Citizen.phone, Citizen.guardian_id).where(
            Citizen.id == person_id, Citizen.anonymised_at.is_(None)
        )
    ).first()
    if found is None:
        raise NotFound(what="person")
    if found.guardian_id is not None:
        raise SharedPhone(f"person {person_id} is a dependant: erase their phone's holder")
    return str(found.phone)


def erase(
    session: Session,
    booking_settings: BookingSettings,
    request: Request,
    id_hash_key: str,
    now: datetime,
) -> Erasure:
    """Erase the phone's holder and dependants; raise NotFound, FutureBookings or ConfigError
    (no ID hash key) before changing anything."""
    subject = audit_subject(request.phone, id_hash_key)
    if find_citizen(session, request.phone) is None:
        raise NotFound(what="citizen")
    conn = session.connection()  # the operations run on rows, in this transaction
    holder = lock_row(conn, request.phone, now)
    live = _live_bookings(session, holder.id, now)
    if live and not request.cancel_future:
        raise FutureBookings(live)
    for ref in live:
        cancelling.cancel(conn, booking_settings, ref, cancelling.STAFF, request.reason, now)
        record_staff_action(conn, request.actor, "cancel", ref, request.reason, now)
    for ref in _open_invitations(session, holder.id):
        invitations.withdraw(conn, ref, request.reason, now)
    session.flush()
    [done] = anonymise(session, [holder.id], now, lambda _phone, _holder: subject)
    events = _strip_events(session, done, now)
    erased = citizen_erased(holder.id, people=len(done.people), cancelled=len(live))
    record(session, erased, now)
    record_staff_action(conn, request.actor, "erase", subject, request.reason, now)
    return Erasure(
        holder.id, done.phone, placeholder(holder.id), len(done.people), tuple(live), events
    )


def _live_bookings(session: Session, holder_id: int, now: datetime) -> list[str]:
    """Refs of the person's (and dependants') confirmed bookings whose slot has not ended."""
    return list(
        session.scalars(
            select(Booking.ref)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Booking.citizen_id.in_(_household(holder_id)),
                Booking.status == BookingStatus.CONFIRMED,
                Slot.ends_at > now,
            )
            .order_by(Slot.starts_at, Booking.id)
        )
    )


def _open_invitations(session: Session, holder_id: int) -> list[str]:
    """Refs of the open invitations of the holder and their dependants."""
    return list(
        session.scalars(
            select(Invitation.ref).where(
                Invitation.citizen_id.in_(_household(holder_id)),
                Invitation.status == InvitationStatus.OPEN,
            )
        )
    )


def _household(holder_id: int) -> Select[int]:
    return select(Citizen.id).where((Citizen.id == holder_id) | (Citizen.guardian_id == holder_id))


def _strip_events(session: Session, done: Anonymised, now: datetime) -> int:
    """Strip who they are from every event naming them; settle un-relayed ones as relayed.

    Events older than the retention pass's mark have lost who they named already: the scan
    starts there.
    """
    person = NamedPerson((done.phone,), done.people, done.booking_ids)
    start = first_id_at(session, Event.id, Event.created_at, read_mark(session, PERSON_MARK))
    changed = 0
    for window in events_naming(session, person, start, lock=True):
        for event in window:
            if (payload := stripped(event.payload, ERASED_KEYS)) is not None:
                event.payload = payload
                changed += 1
            if event.relayed_at is None:
                event.relayed_at = now  # nothing more goes out to them
            if event.last_error and done.phone in event.last_error:
                event.last_error = event.last_error.replace(
                    done.phone, placeholder(done.citizen_id)
                )
    session.flush()
    return changed
