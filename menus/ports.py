"""What the conversation engine needs from the booking core.

The gateway implements `BookingPort`; tests and `check_screens` use their own implementations.
Names in `Choice.label`, `HoldView` and `BookingView` arrive already transliterated to GSM-7
(the catalogue loader does that), so the engine can show them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

# Every code the core may raise as `Refused`. The menus render each one in every language
# (tests enumerate this tuple), so a new code must be added here and to every catalogue.
REFUSAL_CODES: tuple[str, ...] = (
    "slot_full",
    "hold_expired",
    "limit_per_day",
    "department_same_day",
    "outside_horizon",
    "slot_started",
    "deadline_passed",
    "blocked",
    "not_found",
    "not_owner",
    "not_active",
    "registration_required",
    "invalid_phone",
    "invalid_registration",
    "id_in_use",
    "already_registered",
    "not_blocked",
    "invalid_invitation",
    "invitation_closed",
    "outside_invitation",
    "unconfirmed_pending",
    "voice_full",
    "code_limit",
    "limit_per_phone",
    "person_limit",
    "invalid_name",
    "phone_in_use",
    "unavailable",
)


@dataclass(frozen=True)
class Choice:
    id: str
    label: str


ME = "me"  # a person id that always means the phone's holder, as None does


@dataclass(frozen=True)
class PersonChoice:
    """A person of the phone: its holder ("Me") or a dependant, by first name."""

    id: str
    name: str  # the first word of their name ("" for a holder who never gave one)
    me: bool
    blocked_until: date | None = None  # the person may not book until then (their own block)


@dataclass(frozen=True)
class SlotChoice:
    id: str
    starts_at: datetime  # aware, in the hospital's local time
    places_left: int


@dataclass(frozen=True)
class HoldView:
    slot_id: str
    hospital: str
    department: str
    starts_at: datetime
    expires_at: datetime
    # Lets a resumed session offer the day's other times when the held place is lost.
    department_id: str
    sensitive: bool = False  # never named over voice
    # The person the place is held for (an id from `persons`; None: the phone's holder), so a
    # resumed session books for the same person.
    person_id: str | None = None
    # What the person still lacks where the hospital books by real name ("name",
    # "birth_year", "national_id"): the registration screens ask for it within the hold.
    lacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Caller:
    """What a new session needs to know of the caller: one question to the core."""

    language: str | None  # the language they chose before, if any
    hold: HoldView | None  # their live hold, which the first screen offers to continue
    # False for a phone that never booked (no consent recorded): the first screen says what
    # is kept about them and how to learn more.
    informed: bool = True
    # The phone ever added a dependant: "Book" asks who it is for (else it asks no one, and
    # reads no persons: most phones are a single person).
    household: bool = False
    # "Book" refuses everyone until then: the holder blocked, on a phone without dependants;
    # on one with dependants, the whole phone blocked (each person's own block is on
    # PersonChoice). A day of the deployment's calendar, as no hospital is chosen yet.
    blocked_until: date | None = None


@dataclass(frozen=True)
class BookingView:
    ref: str
    tcode: str
    hospital: str
    department: str
    starts_at: datetime
    status: str
    sensitive: bool = False  # never named over voice
    # Booked by a voice call: the phone's owner has not confirmed it yet (a caller id can be
    # forged), so it counts toward no limit until they keep it.
    unconfirmed: bool = False
    person: str | None = None  # a dependant's first name; None for the phone's holder ("Me")


@dataclass(frozen=True)
class InvitationView:
    """Staff's invitation to choose a time of one department within a window of days."""

    ref: str
    hospital: str
    department: str
    department_id: str
    first_day: date
    last_day: date  # the last day it can be booked for (the window's end, or its expiry's)
    sensitive: bool = False  # never named over voice
    person: str | None = None  # a dependant's first name; None for the phone's holder ("Me")


class Refused(Exception):
    """Tell the caller why the core said no: a stable `code` and the facts to explain it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params: dict[str, Any] = params


class BookingPort(Protocol):
    # The same port, naming cities, hospitals and departments (choices, holds, bookings,
    # invitations) in `language` where the catalogue translates them; ids stay as they are.
    def speaking(self, language: str) -> BookingPort: ...
    def cities(self) -> list[Choice]: ...
    def hospitals(self, city_id: str) -> list[Choice]: ...
    def departments(self, hospital_id: str) -> list[Choice]: ...
    # `until`, `released_only=False`: an invitation's days, released for booking or not (the
    # hospital offered them); the caller's booking still checks each against the invitation.
    def open_days(self, department_id: str, until: date | None = None) -> list[date]: ...
    def free_slots(
        self, department_id: str, day: date, released_only: bool = True
    ) -> list[SlotChoice]: ...
    # `person_id`: a person of the phone from `persons` (None or ME: its holder).
    def hold(
        self, phone: str, session_key: str, slot_id: str, person_id: str | None = None
    ) -> HoldView: ...
    def current_hold(self, phone: str) -> HoldView | None: ...
    def release_hold(self, phone: str) -> None: ...
    def book(
        self,
        phone: str,
        slot_id: str,
        channel: str,
        idempotency_key: str,
        person_id: str | None = None,
    ) -> BookingView: ...
    def upcoming(self, phone: str) -> list[BookingView]: ...
    # The open invitations of the phone's persons, soonest expiry first; booking one on a slot
    # of its window turns it into that booking (no hold: the hospital offered the place).
    def invitations(self, phone: str) -> list[InvitationView]: ...
    def book_invitation(self, phone: str, ref: str, slot_id: str, channel: str) -> BookingView: ...
    def cancel(self, phone: str, ref: str) -> BookingView: ...
    def caller(self, phone: str) -> Caller: ...
    def set_language(self, phone: str, lang: str) -> None: ...
    # Voice callers prove the phone with a one-time code sent to it by SMS (a caller id is
    # only a claim); USSD callers are the phone's owner and keep voice bookings with a key.
    def send_code(self, phone: str) -> None: ...
    # "passed"; "wrong" with tries left; "spent": no live code to try (expired, used, or
    # that was the last try).
    def check_code(self, phone: str, digits: str) -> str: ...
    def confirm_claim(self, phone: str, ref: str) -> BookingView: ...
    # The phone's shown persons, "Me" first; adding one may be refused `invalid_name` or
    # `person_limit`.
    def persons(self, phone: str) -> list[PersonChoice]: ...
    def add_person(self, phone: str, name: str) -> PersonChoice: ...
    # Real-name mode (a hospital's `real_name`): what a person of the phone (None or ME: its
    # holder) still lacks to book, in the order the menus ask: "name", "birth_year" (a
    # dependant's: a minor needs no ID), "national_id"; empty when registered.
    def registration_needs(self, phone: str, person_id: str | None = None) -> tuple[str, ...]: ...
    # Store one answer (the others None) and return what is still lacking; may be refused
    # `invalid_registration` (its `field`; for an ID of the wrong form, `min_digits` and
    # `max_digits`), `id_in_use` or `already_registered`.
    def register_person(
        self,
        phone: str,
        person_id: str | None = None,
        name: str | None = None,
        birth_year: int | None = None,
        national_id: str | None = None,
    ) -> tuple[str, ...]: ...
