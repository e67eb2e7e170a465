"""A booking core made of the longest names, for checking that every screen fits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone

from menus.catalogue import Catalogue
from menus.ports import (
    BookingView,
    Caller,
    Choice,
    HoldView,
    InvitationView,
    PersonChoice,
    Refused,
    SlotChoice,
)

SPECIMEN_TCODE = "4829135575"
# The core's defaults of a phone's persons (settings.booking.persons): the longest first
# name and the most dependants. `ors menus check` passes the configured ones.
NAME_MAX_LENGTH, MAX_DEPENDANTS = 20, 5
_NAMES = "Wanjiru-Nyambura-Akinyi-Atieno-"
_LIST_SIZE = 3  # more than one, so no level is skipped
_DAYS = 14  # the default booking horizon: every weekday name appears
_SLOTS = 16
_PLACES = 99  # the widest "places left" the screens should expect


def longest_moment(cat: Catalogue, tz: timezone = UTC) -> datetime:
    """Return a date and time that this catalogue writes with the most characters."""
    # Any year pairs every weekday with every month on some two-digit day.
    start = date(2000, 1, 1)
    days = (start + timedelta(days=n) for n in range(366))
    day = max(days, key=lambda d: len(cat.day(d)))
    return datetime.combine(day, time(23, 30), tz)


def longest_person(length: int = NAME_MAX_LENGTH) -> str:
    """Return a first name of `length` characters: as long as a dependant's may be."""
    return (_NAMES * (length // len(_NAMES) + 1))[:length]


@dataclass
class SpecimenPort:
    """Answer every question of the port with the longest names; optionally refuse one call."""

    city: str
    hospital: str
    department: str
    language_code: str
    moment: datetime
    with_hold: bool = False
    with_bookings: bool = True
    with_invitations: bool = False  # open invitations listed above the bookings
    with_choices: bool = True
    with_days: bool = True
    with_slots: bool = True
    unconfirmed: bool = False  # the bookings were made by voice and not kept yet
    informed: bool = True  # False: a first-time caller, whose first screen has the privacy line
    dependants: int = 0  # persons besides "Me", each with the longest name; bookings are theirs
    person: str = longest_person()
    held_for: str | None = None  # the person the place on hold is for (None: "Me")
    # "Book" refuses everyone (the holder, or the whole phone with dependants); each
    # dependant is blocked: until the day after `moment`, the longest way to say a day.
    blocked: bool = False
    persons_blocked: bool = False
    # Real-name mode: what the person still lacks, asked one screen each ("name",
    # "birth_year", "national_id"); every answer given takes the first away.
    registration: tuple[str, ...] = ()
    refuse_at: str | None = None
    refusal: Refused | None = None

    def speaking(self, language: str) -> SpecimenPort:
        return self  # every name is already the longest there is

    def _maybe_refuse(self, method: str) -> None:
        if method == self.refuse_at and self.refusal is not None:
            raise self.refusal

    def _choices(self, prefix: str, label: str) -> list[Choice]:
        count = _LIST_SIZE if self.with_choices else 0
        return [Choice(f"{prefix}{n}", label) for n in range(count)]

    def cities(self) -> list[Choice]:
        return self._choices("C", self.city)

    def hospitals(self, city_id: str) -> list[Choice]:
        return self._choices("H", self.hospital)

    def departments(self, hospital_id: str) -> list[Choice]:
        return self._choices("D", self.department)

    def open_days(self, department_id: str, until: date | None = None) -> list[date]:
        count = _DAYS if self.with_days else 0
        return [self.moment.date() + timedelta(days=n) for n in range(count)]

    def free_slots(
        self, department_id: str, day: date, released_only: bool = True
    ) -> list[SlotChoice]:
        count = _SLOTS if self.with_slots else 0
        first = datetime.combine(day, time(7, 0), self.moment.tzinfo)
        return [
            SlotChoice(f"S{n}", first + timedelta(minutes=30 * n), _PLACES) for n in range(count)
        ]

    def hold(
        self, phone: str, session_key: str, slot_id: str, person_id: str | None = None
    ) -> HoldView:
        self._maybe_refuse("hold")
        self.with_hold, self.held_for = True, person_id
        return replace(self._hold(slot_id), lacks=self.registration)

    def _hold(self, slot_id: str) -> HoldView:
        expires = self.moment + timedelta(minutes=5)
        return HoldView(
            slot_id,
            self.hospital,
            self.department,
            self.moment,
            expires,
            "D0",
            person_id=self.held_for,
        )

    def current_hold(self, phone: str) -> HoldView | None:
        return self._hold("S0") if self.with_hold else None

    def release_hold(self, phone: str) -> None:
        self.with_hold = False

    def book(
        self,
        phone: str,
        slot_id: str,
        channel: str,
        idempotency_key: str,
        person_id: str | None = None,
    ) -> BookingView:
        self._maybe_refuse("book")
        if self.registration:
            raise Refused("registration_required", hospital="H0")
        return self._booking("R0", self.person if person_id else None)

    def _booking(self, ref: str, person: str | None = None) -> BookingView:
        return BookingView(
            ref,
            SPECIMEN_TCODE,
            self.hospital,
            self.department,
            self.moment,
            "confirmed",
            unconfirmed=self.unconfirmed,
            person=person,
        )

    def upcoming(self, phone: str) -> list[BookingView]:
        count = _LIST_SIZE if self.with_bookings else 0
        return [self._booking(f"R{n}", self._owner()) for n in range(count)]

    def invitations(self, phone: str) -> list[InvitationView]:
        count = _LIST_SIZE if self.with_invitations else 0
        last = self.moment.date() + timedelta(days=_DAYS - 1)
        days = (self.moment.date(), last)
        person = self._owner()
        return [
            InvitationView(f"I{n}", self.hospital, self.department, "D0", *days, person=person)
            for n in range(count)
        ]

    def book_invitation(self, phone: str, ref: str, slot_id: str, channel: str) -> BookingView:
        self._maybe_refuse("book_invitation")
        return self._booking("R0", self._owner())

    def _owner(self) -> str | None:
        return self.person if self.dependants else None

    def cancel(self, phone: str, ref: str) -> BookingView:
        self._maybe_refuse("cancel")
        return self._booking(ref, self._owner())

    def caller(self, phone: str) -> Caller:
        household = self.dependants > 0
        hold, until = self.current_hold(phone), self._until(self.blocked)
        return Caller(self.language_code, hold, self.informed, household, until)

    def _until(self, blocked: bool) -> date | None:
        return (self.moment + timedelta(days=1)).date() if blocked else None

    def set_language(self, phone: str, lang: str) -> None:
        self.language_code = lang

    def send_code(self, phone: str) -> None:
        self._maybe_refuse("send_code")

    def check_code(self, phone: str, digits: str) -> str:
        return "passed"

    def confirm_claim(self, phone: str, ref: str) -> BookingView:
        self._maybe_refuse("confirm_claim")
        self.unconfirmed = False
        return self._booking(ref, self._owner())

    def persons(self, phone: str) -> list[PersonChoice]:
        until = self._until(self.persons_blocked)
        others = [PersonChoice(f"P{n}", self.person, False, until) for n in range(self.dependants)]
        return [PersonChoice("H", "", True), *others]

    def add_person(self, phone: str, name: str) -> PersonChoice:
        self._maybe_refuse("add_person")
        self.dependants += 1
        return PersonChoice(f"P{self.dependants - 1}", self.person, False)

    def registration_needs(self, phone: str, person_id: str | None = None) -> tuple[str, ...]:
        return self.registration

    def register_person(
        self,
        phone: str,
        person_id: str | None = None,
        name: str | None = None,
        birth_year: int | None = None,
        national_id: str | None = None,
    ) -> tuple[str, ...]:
        self._maybe_refuse("register_person")
        self.registration = self.registration[1:]
        return self.registration
