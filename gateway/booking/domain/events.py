"""The outbox's events: one constructor per event type, and which operation writes which.

Every state change writes exactly one event in the same transaction as the change; the relay
(gateway.messaging) turns the rows into messages after commit. Each event type is built by
exactly one function below, which owns its payload keys, so a template or a job reading a
payload has one place to look.

API (stable):

    from gateway.booking.domain import events
    from gateway.booking.sql.events import record

    record(db, events.booking_cancelled(ref, booking_id=7, by="citizen", reason="", phone=p), now)

`NewEvent(type, subject_id, payload)` is a frozen value; `record(db, event, now)` writes it
(gateway.booking.sql.events). Constructors take plain values (ids, strings, datetimes), never
ORM rows: the domain imports no SQLAlchemy. Datetimes and dates are stored as ISO text.
Optional keys are left out of the payload when not given (as before), except where a key has
always been written with null (`replaced_voucher_id`, `from_citizen_id`), and `kiosk_id` of
`booking.checked_in`, null when the desk checked the booking in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class NewEvent:
    """One outbox row to write: its type, what it is about, and the facts its readers need."""

    type: str
    subject_id: str
    payload: dict[str, Any]


def _event(type_: str, subject_id: object, **payload: Any) -> NewEvent:
    return NewEvent(type_, str(subject_id), payload)


def _present(**optional: Any) -> dict[str, Any]:
    """The optional keys that were given (None means absent)."""
    return {key: value for key, value in optional.items() if value is not None}


# --- holds ------------------------------------------------------------------------------------


def hold_placed(hold_id: int, *, slot_id: int, phone: str, expires_at: datetime) -> NewEvent:
    """A caller holds a place of the slot for a few minutes."""
    return _event(
        "hold.placed", hold_id, slot_id=slot_id, phone=phone, expires_at=expires_at.isoformat()
    )


def hold_released(hold_id: int, *, slot_id: int, phone: str) -> NewEvent:
    """The caller gave the held place back (another slot, hung up, session closed)."""
    return _event("hold.released", hold_id, slot_id=slot_id, phone=phone)


def hold_expired(hold_id: int, *, slot_id: int, phone: str) -> NewEvent:
    """The hold's minutes ran out; its place is back in the pool."""
    return _event("hold.expired", hold_id, slot_id=slot_id, phone=phone)


# --- bookings ---------------------------------------------------------------------------------


def booking_confirmed(
    ref: str,
    *,
    booking_id: int,
    slot_id: int,
    citizen_id: int,
    phone: str,
    channel: str,
    voucher_id: int,
    unconfirmed: bool = False,
    rebooked_from: str | None = None,
) -> NewEvent:
    """A booking holds a place; `unconfirmed` marks a voice claim the phone must still confirm."""
    return _event(
        "booking.confirmed",
        ref,
        booking_id=booking_id,
        slot_id=slot_id,
        citizen_id=citizen_id,
        phone=phone,
        channel=channel,
        voucher_id=voucher_id,
        **({"unconfirmed": True} if unconfirmed else {}),
        **_present(rebooked_from=rebooked_from),
    )


def booking_cancelled(
    ref: str,
    *,
    booking_id: int,
    by: str,
    reason: str,
    phone: str,
    rebooked_to: str | None = None,
    because: str | None = None,
) -> NewEvent:
    """A booking was cancelled; `because` names a system cause (e.g. `unconfirmed`)."""
    return _event(
        "booking.cancelled",
        ref,
        booking_id=booking_id,
        by=by,
        reason=reason[:200],
        phone=phone,
        **_present(rebooked_to=rebooked_to, because=because),
    )


def booking_rebooked(
    ref: str,
    *,
    booking_id: int,
    old_slot_id: int,
    slot_id: int,
    voucher_id: int,
    replaced_voucher_id: int | None,
    by: str,
    phone: str,
) -> NewEvent:
    """The booking moved to another slot of the same hospital, with a new voucher."""
    return _event(
        "booking.rebooked",
        ref,
        booking_id=booking_id,
        old_slot_id=old_slot_id,
        slot_id=slot_id,
        voucher_id=voucher_id,
        replaced_voucher_id=replaced_voucher_id,
        by=by,
        phone=phone,
    )


def booking_checked_in(
    ref: str, *, booking_id: int, queue_number: int | None, at: str, kiosk_id: int | None = None
) -> NewEvent:
    """The citizen arrived; `at` is where (`kiosk` or `desk`), `kiosk_id` None at the desk."""
    return _event(
        "booking.checked_in",
        ref,
        booking_id=booking_id,
        queue_number=queue_number,
        at=at,
        kiosk_id=kiosk_id,
    )


def booking_no_show(ref: str, *, booking_id: int, citizen_id: int, phone: str) -> NewEvent:
    """The check-in window closed without the citizen."""
    return _event("booking.no_show", ref, booking_id=booking_id, citizen_id=citizen_id, phone=phone)


def booking_no_show_undone(
    ref: str, *, booking_id: int, citizen_id: int, phone: str, status: str, reason: str,
    lifted_block: bool,
) -> NewEvent:  # fmt: skip
    """Staff undid a mistaken no-show: the booking is `status` again (confirmed while the
    check-in window is open, else cancelled by staff); `lifted_block` when a block it caused
    was lifted too (that lift writes its own `citizen.unblocked`)."""
    return _event(
        "booking.no_show_undone",
        ref,
        booking_id=booking_id,
        citizen_id=citizen_id,
        phone=phone,
        status=status,
        reason=reason[:200],
        lifted_block=lifted_block,
    )


def booking_claim_confirmed(ref: str, *, booking_id: int, citizen_id: int, phone: str) -> NewEvent:
    """The phone's owner keeps a voice booking: it now counts as theirs."""
    return _event(
        "booking.claim_confirmed", ref, booking_id=booking_id, citizen_id=citizen_id, phone=phone
    )


def booking_reminder(
    ref: str, *, booking_id: int, slot_id: int, offset_minutes: int, phone: str
) -> NewEvent:
    """A reminder the reminder round decided to send, `offset_minutes` before the slot."""
    return _event(
        "booking.reminder",
        ref,
        booking_id=booking_id,
        slot_id=slot_id,
        offset_minutes=offset_minutes,
        phone=phone,
    )


# --- vouchers ---------------------------------------------------------------------------------


def voucher_resent(ref: str, *, booking_id: int, voucher_id: int, phone: str) -> NewEvent:
    """Staff sent the booking's live voucher again: the same SMS as when it was issued."""
    return _event("voucher.resent", ref, booking_id=booking_id, voucher_id=voucher_id, phone=phone)


# --- citizens ---------------------------------------------------------------------------------


def citizen_registered(citizen_id: int, *, phone: str) -> NewEvent:
    """A phone registered a national ID."""
    return _event("citizen.registered", citizen_id, citizen_id=citizen_id, phone=phone)


def citizen_id_reassigned(citizen_id: int, *, phone: str, from_citizen_id: int | None) -> NewEvent:
    """Staff moved a national ID to this citizen (from another holder, if any)."""
    return _event(
        "citizen.id_reassigned",
        citizen_id,
        citizen_id=citizen_id,
        phone=phone,
        from_citizen_id=from_citizen_id,
    )


def citizen_blocked(
    citizen_id: int, *, phone: str, until: date | datetime, because: str, strikes: int
) -> NewEvent:
    """The citizen may not book until `until` (no-shows or late cancellations)."""
    return _event(
        "citizen.blocked",
        citizen_id,
        citizen_id=citizen_id,
        phone=phone,
        until=until.isoformat(),
        because=because,
        strikes=strikes,
    )


def citizen_block_warned(
    citizen_id: int, *, phone: str, before: date, strikes: int, block_days: int
) -> NewEvent:
    """One more citizen cancellation before `before` (a hospital-local day) would block the
    citizen for `block_days`: they are told once, while they can still choose."""
    return _event(
        "citizen.block_warned",
        citizen_id,
        citizen_id=citizen_id,
        phone=phone,
        before=before.isoformat(),
        strikes=strikes,
        block_days=block_days,
    )


def citizen_unblocked(
    citizen_id: int, *, phone: str, was_until: date | datetime, reason: str
) -> NewEvent:
    """Staff lifted a block early."""
    return _event(
        "citizen.unblocked",
        citizen_id,
        citizen_id=citizen_id,
        phone=phone,
        was_until=was_until.isoformat(),
        reason=reason[:200],
    )


def citizen_erased(citizen_id: int, *, people: int, cancelled: int) -> NewEvent:
    """A citizen's personal data was erased; the payload names no phone."""
    return _event(
        "citizen.erased", citizen_id, citizen_id=citizen_id, people=people, cancelled=cancelled
    )


# --- invitations ------------------------------------------------------------------------------


def invitation_issued(
    ref: str,
    *,
    invitation_id: int,
    citizen_id: int,
    phone: str,
    department_id: int,
    expires_at: datetime,
    booking_id: int | None = None,
    booking_ref: str | None = None,
    slot_id: int | None = None,
    voucher_id: int | None = None,
) -> NewEvent:
    """Staff invited a citizen: a window of days, or (with the booking keys) a slot they booked."""
    return _event(
        "invitation.issued",
        ref,
        invitation_id=invitation_id,
        citizen_id=citizen_id,
        phone=phone,
        department_id=department_id,
        expires_at=expires_at.isoformat(),
        **_present(
            booking_id=booking_id, booking_ref=booking_ref, slot_id=slot_id, voucher_id=voucher_id
        ),
    )


def invitation_booked(
    ref: str, *, phone: str, booking_id: int, booking_ref: str, slot_id: int, voucher_id: int
) -> NewEvent:
    """The invited citizen picked a slot in the window."""
    return _event(
        "invitation.booked",
        ref,
        phone=phone,
        booking_id=booking_id,
        booking_ref=booking_ref,
        slot_id=slot_id,
        voucher_id=voucher_id,
    )


def invitation_cancelled(ref: str, *, invitation_id: int, phone: str, reason: str) -> NewEvent:
    """Staff withdrew an open invitation, or its person was erased."""
    return _event(
        "invitation.cancelled", ref, invitation_id=invitation_id, phone=phone, reason=reason[:200]
    )


def invitation_expired(ref: str, *, invitation_id: int, phone: str) -> NewEvent:
    """The invitation's window passed without a booking."""
    return _event("invitation.expired", ref, invitation_id=invitation_id, phone=phone)


# --- sessions and slots -----------------------------------------------------------------------


def session_closed(department_id: int, day: date, *, reason: str, cancelled: int) -> NewEvent:
    """Staff closed a department's day; its bookings were cancelled."""
    return _event(
        "session.closed",
        f"{department_id}:{day.isoformat()}",
        department_id=department_id,
        day=day.isoformat(),
        reason=reason[:200],
        cancelled=cancelled,
    )


def slot_walkin_returned(slot_id: int, *, places: int, starts_at: datetime) -> NewEvent:
    """Unused remote places went back to the walk-in desk (`starts_at` in local time)."""
    return _event(
        "slot.walkin_returned",
        slot_id,
        slot_id=slot_id,
        places=places,
        starts_at=starts_at.isoformat(),
    )


# --- notices the channel adapters write through the outbox ------------------------------------


def ussd_dropped(
    subject_id: str,
    *,
    phone: str,
    session_key: str,
    slot_id: int,
    hospital: str,
    department: str,
    starts_at: datetime,
    expires_at: datetime,
) -> NewEvent:
    """A USSD session dropped while it held a slot: the SMS says how to finish."""
    return _event(
        "ussd.dropped",
        subject_id,
        phone=phone,
        session_key=session_key,
        slot_id=slot_id,
        hospital=hospital,
        department=department,
        starts_at=starts_at.isoformat(),
        expires_at=expires_at.isoformat(),
    )


def ivr_gave_up(call_id: str, *, phone: str, language: str | None = None) -> NewEvent:
    """A voice caller gave up (or the call failed): an SMS offers to call again."""
    return _event("ivr.gave_up", call_id, phone=phone, language=language)


def sms_reply(
    subject_id: str,
    *,
    phone: str,
    body: str,
    template: str | None = None,
    language: str | None = None,
) -> NewEvent:
    """The SMS command handler's answer to an inbound SMS (sent with retries)."""
    return _event(
        "sms.reply",
        subject_id,
        phone=phone,
        template=template,
        language=language,
        body=body,
    )


def phone_code(challenge_id: int, *, phone: str, code: str, language: str | None) -> NewEvent:
    """A one-time code for a voice caller to key; sent ahead of all else."""
    return _event("phone.code", challenge_id, phone=phone, code=code, language=language)


# --- persons ----------------------------------------------------------------------------------


def person_move_code(
    move_id: int, *, citizen_id: int, phone: str, code: str, language: str | None
) -> NewEvent:
    """A guardian asked by SMS to move dependant `citizen_id` to `phone`: the code that phone
    sends back to confirm (dropped from the outbox once the message exists)."""
    return _event(
        "person.move_code",
        move_id,
        move_id=move_id,
        citizen_id=citizen_id,
        phone=phone,
        code=code,
        language=language,
    )


def person_moved(move_id: int, *, citizen_id: int, phone: str, language: str | None) -> NewEvent:
    """Dependant `citizen_id` moved to `phone`, confirmed from both phones: both are told."""
    return _event(
        "person.moved",
        move_id,
        move_id=move_id,
        citizen_id=citizen_id,
        phone=phone,
        language=language,
    )


# operation -> the event types it may write (one per state change it makes). A booking made
# through an invitation is announced by its invitation event (issued with a slot, or booked),
# not by a second `booking.confirmed`, so the citizen gets one message for it.
EVENTS_BY_OPERATION: dict[str, frozenset[str]] = {
    "hold": frozenset({"hold.placed", "hold.released", "hold.expired"}),
    "release_hold": frozenset({"hold.released"}),
    "book": frozenset({"booking.confirmed", "hold.expired"}),
    # a citizen's cancellation may block them, or warn that one more would
    "cancel": frozenset({"booking.cancelled", "citizen.blocked", "citizen.block_warned"}),
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
    # The desk marks a no-show as the sweep does (the block policy applies), and undoes a
    # mistaken one, lifting the block it caused.
    "mark_no_show": frozenset({"booking.no_show", "citizen.blocked"}),
    "undo_no_show": frozenset({"booking.no_show_undone", "citizen.unblocked"}),
    "resend_voucher": frozenset({"voucher.resent"}),
    # Notices the channel adapters write through the same outbox (they never send directly).
    "ussd_dropped": frozenset({"ussd.dropped"}),
    "ivr_gave_up": frozenset({"ivr.gave_up"}),
    # The SMS command handler's answer to an inbound SMS (sent through the outbox, with retries).
    "sms_reply": frozenset({"sms.reply"}),
    # The reminder round (gateway.messaging.reminders): one event per reminder it decides to send.
    "remind": frozenset({"booking.reminder"}),
    # A one-time code for a voice caller to key (gateway.messaging sends it ahead of all else).
    "phone_code": frozenset({"phone.code"}),
    # A dependant's move to their own phone by SMS: the code to the new phone, then the move.
    "request_move": frozenset({"person.move_code"}),
    "confirm_move": frozenset({"person.moved"}),
}
EVENT_TYPES: frozenset[str] = frozenset().union(*EVENTS_BY_OPERATION.values())
