"""The outbox's event types, and which operation writes which.

Every state change writes exactly one Event row in the same transaction as the change; the
relay (gateway.messaging) turns rows into messages after commit. Tests compare this table with
the events the operations really write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert

from gateway.booking.models import Event
from gateway.booking.sql.driver import DriverStatement
from gateway.booking.sql.executor import Executor

# operation -> the event types it may write (one per state change it makes). A booking made
# through an invitation is announced by its invitation event (issued with a slot, or booked),
# not by a second `booking.confirmed`, so the citizen gets one message for it.
EVENTS_BY_OPERATION: dict[str, frozenset[str]] = {
    "hold": frozenset({"hold.placed", "hold.released", "hold.expired"}),
    "release_hold": frozenset({"hold.released"}),
    "book": frozenset({"booking.confirmed", "hold.expired"}),
    "cancel": frozenset({"booking.cancelled", "citizen.blocked"}),
    "check_in": frozenset({"booking.checked_in"}),
    "release_expired_holds": frozenset({"hold.expired"}),
    # same hospital: rebooked; another hospital: cancelled + confirmed
    "rebook": frozenset(
        {"booking.rebooked", "booking.cancelled", "booking.confirmed", "hold.expired"}
    ),
    "invite": frozenset({"invitation.issued", "hold.expired"}),
    "book_invitation": frozenset({"invitation.booked", "hold.expired"}),
    "withdraw_invitation": frozenset({"invitation.cancelled"}),
    "sweep": frozenset(
        {
            "booking.no_show",
            "citizen.blocked",
            "invitation.expired",
            "hold.expired",
            "slot.walkin_returned",
            # an unconfirmed voice booking released before its slot (`because: unconfirmed`)
            "booking.cancelled",
        }
    ),
    # The phone's owner keeps a voice booking (SMS reply or USSD): it now counts as theirs.
    "confirm_claims": frozenset({"booking.claim_confirmed"}),
    "unblock": frozenset({"citizen.unblocked"}),
    "register": frozenset({"citizen.registered"}),
    "reassign_id": frozenset({"citizen.id_reassigned"}),
    # `ors citizens erase`: live future bookings cancelled first (--cancel-future), open
    # invitations withdrawn, then one `citizen.erased` (its payload names no phone).
    "erase_citizen": frozenset({"citizen.erased", "booking.cancelled", "invitation.cancelled"}),
    "close_session": frozenset({"session.closed", "booking.cancelled", "hold.released"}),
    "desk_check_in": frozenset({"booking.checked_in"}),
    # Notices the channel adapters write through the same outbox (they never send directly).
    "ussd_dropped": frozenset({"ussd.dropped"}),
    "ivr_gave_up": frozenset({"ivr.gave_up"}),
    # The SMS command handler's answer to an inbound SMS (sent through the outbox, with retries).
    "sms_reply": frozenset({"sms.reply"}),
    # The reminder round (gateway.messaging.reminders): one event per reminder it decides to send.
    "remind": frozenset({"booking.reminder"}),
    # A one-time code for a voice caller to key (gateway.messaging sends it ahead of all else).
    "phone_code": frozenset({"phone.code"}),
}
EVENT_TYPES = frozenset().union(*EVENTS_BY_OPERATION.values())


_INSERT = DriverStatement(insert(Event.__table__))


def record(db: Executor, type_: str, subject_id: object, now: datetime, **payload: Any) -> None:
    """Write one outbox row in the caller's transaction (a Core insert: no ORM flush to pay)."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}: add it to EVENTS_BY_OPERATION")
    _INSERT.run(
        db,
        {"type": type_, "subject_id": str(subject_id), "payload": payload, "created_at": now},
    )
