"""The booking core's refusals as the desk reads them: one plain sentence each.

The core raises small named errors with a stable `code` and facts (`not_found(what=person)`);
desk staff get a sentence that says what is wrong and, where there is one, what to do, with
stable wording that scripts may match. A dependant's refusals name them by first name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import click

from gateway.booking.domain.errors import BookingError

FIELDS = {
    "name": "a name (2 characters or more, with letters)",
    "national_id": "a national ID (5 to 20 letters and digits)",
    "birth_year": "a birth year (1900 to this year)",
}


def _who(facts: Mapping[str, Any]) -> str:
    return str(facts.get("person") or "this person")


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    return value.isoformat() if isinstance(value, date) else str(value)


def _next(times: list[datetime]) -> str:
    return f" (next free: {', '.join(f'{t:%a %d %b %H:%M}' for t in times)})" if times else ""


def _missing(f: Mapping[str, Any]) -> str:
    """`no hospital XYZ; hospitals: KNH, MCH` when the wrong choice and the valid ones are known."""
    what = f.get("what", "record")
    if "code" not in f:
        return f"no such {what}"
    at = f" at {f['at']}" if f.get("at") else ""
    choices = f.get("choices")
    if choices is None:
        return f"no {what} {f['code']}{at}"
    listed = ", ".join(choices) if choices else "none (`ors catalog load` first?)"
    return f"no {what} {f['code']}{at}; {what}s{at}: {listed}"


def _queue(f: Mapping[str, Any]) -> str:
    number = f.get("queue_number", getattr(f.get("ticket"), "queue_number", None))
    return f" (queue number {number})" if number else ""


def _hhmm(value: object) -> str:
    return f"{value:%H:%M}" if isinstance(value, datetime) else str(value)


SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "not_found": _missing,
    "invalid_phone": lambda f: "that is not a phone number",
    "invalid_name": lambda f: f"that is not a first name (letters only, at most {f['max_length']})",
    "invalid_registration": lambda f: f"that is not {FIELDS.get(f['field'], f['field'])}",
    "person_limit": lambda f: f"that phone cannot take another person (at most {f['limit']})",
    "phone_in_use": lambda f: "that phone already belongs to someone",
    "id_in_use": lambda f: (
        "that national ID belongs to someone else (`ors citizens reassign-id` moves it)"
    ),
    "already_registered": lambda f: "that phone's holder has another national ID",
    "not_blocked": lambda f: "there is no block to lift",
    "registration_required": lambda f: (
        f"{f['hospital']} books by real name: register the person's national ID "
        "(or a child's birth year) first"
    ),
    "blocked": lambda f: f"{_who(f)} may not book until {_when(f['until'])}",
    "limit_per_day": lambda f: f"{_who(f)} already has {f['limit']} bookings that day",
    "department_same_day": lambda f: f"{_who(f)} already has a booking in this department that day",
    "limit_per_phone": lambda f: f"that phone's persons already hold {f['limit']} live bookings",
    "slot_full": lambda f: "that slot has no place left" + _next(f.get("next_times") or []),
    "walk_in_full": lambda f: "no walk-in place is left in that department today",
    "slot_started": lambda f: "that slot has started",
    "outside_horizon": lambda f: f"that day opens for booking at {_when(f['opens_at'])}",
    "hold_expired": lambda f: "the hold on that place ran out: choose the slot again",
    "deadline_passed": lambda f: (
        f"it is too late to change that booking (the deadline was {_when(f['deadline'])})"
    ),
    "not_owner": lambda f: "that booking belongs to another phone",
    "not_active": lambda f: f"that booking is {f['status'].replace('_', ' ')}, no longer active",
    "invalid_invitation": lambda f: f"that invitation cannot work: {f['reason']}",
    "invitation_closed": lambda f: f"that invitation is {f['status']}, no longer open",
    "outside_invitation": lambda f: "that slot is outside the invitation's department or days",
    "unconfirmed_pending": lambda f: (
        "that phone has a voice booking its owner has not confirmed yet (one at a time)"
    ),
    "voice_full": lambda f: "that hospital's day has no room for more unconfirmed voice bookings",
    "code_limit": lambda f: "that phone has had too many codes for now: try again later",
    "kiosk_revoked": lambda f: (
        f"kiosk {f['kiosk']} is revoked for good: `ors kiosk add` registers a new one"
    ),
    # The check-in family: what a desk or kiosk is told about a voucher or booking.
    "check_in_refused": lambda f: "that cannot check in now",
    "unknown_code": lambda f: "no booking has that code",
    "cancelled": lambda f: "that booking was cancelled",
    "replaced": lambda f: "that voucher was replaced by a newer one (the booking moved)",
    "expired": lambda f: "that voucher has expired (its day has passed)",
    "wrong_hospital": lambda f: f"that booking is at {f.get('hospital', 'another hospital')}",
    "already_checked_in": lambda f: "already checked in" + _queue(f),
    "too_early": lambda f: f"too early: check-in opens at {_hhmm(f.get('opens_at'))}",
    "too_late": lambda f: f"too late: the appointment was at {_hhmm(f.get('starts_at'))}",
    "wrong_day": lambda f: f"that booking is for another day ({_when(f.get('day'))})",
    # The desk family: staff actions on a booking (operations.no_shows, operations.resend).
    "desk_refused": lambda f: "that cannot be done to that booking now",
    "not_started": lambda f: (
        f"that appointment has not started yet (it starts at {_when(f.get('starts_at'))})"
    ),
    "not_no_show": lambda f: f"that booking is {f['status'].replace('_', ' ')}, not a no-show",
    "no_phone": lambda f: "that person has no phone: print the voucher slip instead",
    "no_voucher": lambda f: "that booking has no voucher that still checks in",
    "resent_recently": lambda f: "its voucher SMS was sent again less than 2 minutes ago",
}


def sentence(error: BookingError) -> str:
    """The desk's sentence for a refusal (its code in words when it has none of its own)."""
    say = SENTENCES.get(error.code)
    return say(error.facts) if say else error.code.replace("_", " ")


@contextmanager
def explained() -> Iterator[None]:
    """Turn a refusal of the booking core into one clear line and a non-zero exit."""
    try:
        yield
    except BookingError as error:
        raise click.ClickException(sentence(error)) from None
