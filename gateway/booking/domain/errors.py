"""Refusals of the booking core: small named errors with a stable `code` and their facts.

Edges translate them: menus into a sentence in the caller's language, the kiosk API into a
JSON status and HTTP code.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


class BookingError(Exception):
    code = "booking_error"

    def __init__(self, **facts: Any):
        self.facts = facts
        detail = ", ".join(f"{k}={v}" for k, v in facts.items())
        super().__init__(f"{self.code}({detail})" if detail else self.code)


class NotFound(BookingError):
    code = "not_found"


class SlotFull(BookingError):
    """No remote place left; `next_times` lists the next free starts of that department."""

    code = "slot_full"

    def __init__(self, next_times: list[datetime]):
        super().__init__(next_times=next_times)


class HoldExpired(BookingError):
    """The caller's hold ran out before they confirmed. The menus meet it first (they know the
    hold's end), but it is a refusal of the booking rules, so it has its code here with the rest
    and every channel's refusal table covers it."""

    code = "hold_expired"


def _named(person: str | None) -> dict[str, str]:
    """The `person` fact: the first name of a dependant the refusal is about; absent for the
    phone's holder ("Me"), whose refusals read as they always have."""
    return {} if person is None else {"person": person}


class LimitPerDay(BookingError):
    code = "limit_per_day"

    def __init__(self, limit: int, person: str | None = None):
        super().__init__(limit=limit, **_named(person))


class DepartmentSameDay(BookingError):
    code = "department_same_day"

    def __init__(self, person: str | None = None):
        super().__init__(**_named(person))


class LimitPerPhone(BookingError):
    """The phone's persons together hold `limit` live bookings already."""

    code = "limit_per_phone"

    def __init__(self, limit: int):
        super().__init__(limit=limit)


class PersonLimit(BookingError):
    """No more persons on this phone: `limit` shown at once, or its lifetime cap reached."""

    code = "person_limit"

    def __init__(self, limit: int):
        super().__init__(limit=limit)


class PhoneInUse(BookingError):
    """A dependant cannot move to this phone: it belongs to someone already."""

    code = "phone_in_use"


class InvalidName(BookingError):
    """A first name that cannot be one (empty, too long, digits); never its value."""

    code = "invalid_name"

    def __init__(self, max_length: int):
        super().__init__(max_length=max_length)


class OutsideHorizon(BookingError):
    """The day is not released yet; `opens_at` says when it will be."""

    code = "outside_horizon"

    def __init__(self, opens_at: datetime):
        super().__init__(opens_at=opens_at)


class SlotStarted(BookingError):
    code = "slot_started"


class DeadlinePassed(BookingError):
    code = "deadline_passed"

    def __init__(self, deadline: datetime):
        super().__init__(deadline=deadline)


class Blocked(BookingError):
    """The person (named when a dependant) or the whole phone may not book until `until`."""

    code = "blocked"

    def __init__(self, until: date, person: str | None = None):
        super().__init__(until=until, **_named(person))


class NotOwner(BookingError):
    code = "not_owner"


class NotActive(BookingError):
    """The booking is no longer confirmed (cancelled, checked in, …)."""

    code = "not_active"

    def __init__(self, status: str):
        super().__init__(status=status)


class InvalidPhone(BookingError):
    code = "invalid_phone"


class NotBlocked(BookingError):
    """Staff asked to lift a block the citizen does not have."""

    code = "not_blocked"


class RegistrationRequired(BookingError):
    """The hospital books in real-name mode: the citizen must give name and national ID first."""

    code = "registration_required"

    def __init__(self, hospital: str):
        super().__init__(hospital=hospital)


class InvalidRegistration(BookingError):
    """A name or national ID that cannot be right; `field` names which (never its value)."""

    code = "invalid_registration"

    def __init__(self, field: str):
        super().__init__(field=field)


class IdInUse(BookingError):
    """The national ID is registered to another phone; only staff can move it."""

    code = "id_in_use"


class AlreadyRegistered(BookingError):
    """The citizen is registered with another national ID; only staff can change it."""

    code = "already_registered"


class InvalidInvitation(BookingError):
    """Staff gave an invitation that cannot work; `reason` says why."""

    code = "invalid_invitation"

    def __init__(self, reason: str):
        super().__init__(reason=reason)


class InvitationClosed(BookingError):
    """The invitation can no longer be booked: it is booked, expired or withdrawn."""

    code = "invitation_closed"

    def __init__(self, status: str):
        super().__init__(status=status)


class OutsideInvitation(BookingError):
    """The chosen slot is not in the invitation's department and window of days."""

    code = "outside_invitation"


class UnconfirmedPending(BookingError):
    """The phone already has a voice booking its owner has not confirmed (one at a time)."""

    code = "unconfirmed_pending"


class VoiceFull(BookingError):
    """The hospital's day has as many unconfirmed voice bookings as it allows."""

    code = "voice_full"


class CodeLimit(BookingError):
    """Too many one-time codes for this phone this hour or day."""

    code = "code_limit"


# The kiosk's and the desk's answers: stable codes of their own, never a menu line.
class CheckInRefused(BookingError):
    """A voucher or booking that cannot check in now; `status` is the kiosk's stable code."""

    code = "check_in_refused"

    @property
    def status(self) -> str:
        return self.code


class UnknownCode(CheckInRefused):
    code = "unknown_code"


class VoucherCancelled(CheckInRefused):
    code = "cancelled"


class VoucherReplaced(CheckInRefused):
    code = "replaced"


class VoucherExpired(CheckInRefused):
    code = "expired"


class WrongHospital(CheckInRefused):
    code = "wrong_hospital"


class AlreadyCheckedIn(CheckInRefused):
    code = "already_checked_in"


class TooEarly(CheckInRefused):
    code = "too_early"


class TooLate(CheckInRefused):
    code = "too_late"


class WrongDay(CheckInRefused):
    code = "wrong_day"


# The desk's own refusals: staff actions no caller on a phone can ask for, never a menu line.
class DeskRefused(BookingError):
    """A staff action on a booking that cannot be done to it now; `code` says why."""

    code = "desk_refused"


class NotStarted(DeskRefused):
    """A no-show is marked once the slot has started, never ahead of it."""

    code = "not_started"

    def __init__(self, starts_at: datetime):
        super().__init__(starts_at=starts_at)


class NotNoShow(DeskRefused):
    """Only a no-show can be undone; `status` is what the booking is now."""

    code = "not_no_show"

    def __init__(self, status: str):
        super().__init__(status=status)


class NoPhone(DeskRefused):
    """The booking's person has no phone to text: their voucher is printed instead."""

    code = "no_phone"


class NoVoucher(DeskRefused):
    """The booking has no voucher that still checks in, so none to send again."""

    code = "no_voucher"


class ResentRecently(DeskRefused):
    """The voucher SMS was sent again a moment ago (a double click, a reloaded page)."""

    code = "resent_recently"


class WalkInFull(DeskRefused):
    """No walk-in place is left in the department's slots still to come today."""

    code = "walk_in_full"


# What a caller on a menu can be told: every refusal but the kiosk's and the desk's families.
REFUSAL_CODES = tuple(
    sorted(
        cls.code
        for cls in BookingError.__subclasses__()
        if cls not in (CheckInRefused, DeskRefused)
    )
)
