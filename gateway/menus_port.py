"""The menus' BookingPort, implemented on the booking core.

Translates ids (strings in the menus, integers in the core) and turns the core's BookingError
into the menus' Refused with the facts the screens explain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TypeVar

from gateway.booking.catalogue.cache import Item
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import BookingError
from gateway.booking.service import BookingService, Confirmation, HoldInfo
from gateway.booking.views.invitations_list import ListedInvitation
from menus.ports import (
    ME,
    REFUSAL_CODES,
    BookingView,
    Caller,
    Choice,
    HoldView,
    InvitationView,
    PersonChoice,
    Refused,
    SlotChoice,
)

T = TypeVar("T")


@contextmanager
def refusals() -> Iterator[None]:
    """Re-raise the core's refusals as the menus' Refused (unknown codes as `unavailable`)."""
    try:
        yield
    except BookingError as exc:
        code = exc.code if exc.code in REFUSAL_CODES else "unavailable"
        raise Refused(code, **exc.facts) from exc


def _id(value: str) -> int:
    if not value.isdigit():
        raise Refused("not_found")
    return int(value)


def _person_id(value: str | None) -> int | None:
    """The core's person id: None for the phone's holder ("Me")."""
    return None if value in (None, ME) else _id(value)


class BookingMenusPort:
    def __init__(self, booking: BookingService, channel: str, language: str | None = None):
        self.booking, self.channel = booking, channel
        # Cities, hospitals and departments are named in it where the catalogue translates
        # them (None: as the catalogue names them).
        self.language = language

    def speaking(self, language: str) -> BookingMenusPort:
        if language == self.language:
            return self
        return BookingMenusPort(self.booking, self.channel, language)

    def _choices(self, items: Sequence[Item]) -> list[Choice]:
        # Listed by the name the caller reads, as the catalogue lists its own names.
        named = [Choice(str(i.id), i.name_in(self.language)) for i in items]
        return sorted(named, key=lambda c: c.label)

    def _dept(self, department_id: int) -> DepartmentInfo:
        return self.booking.catalogue.department(department_id)

    def _call(self, fn: Callable[[], T]) -> T:
        with refusals():
            return fn()

    def cities(self) -> list[Choice]:
        return self._choices(self.booking.cities())

    def hospitals(self, city_id: str) -> list[Choice]:
        return self._choices(self.booking.hospitals(_id(city_id)))

    def departments(self, hospital_id: str) -> list[Choice]:
        return self._choices(self.booking.departments(_id(hospital_id)))

    def open_days(self, department_id: str, until: date | None = None) -> list[date]:
        return self.booking.open_days(_id(department_id), until)

    def free_slots(
        self, department_id: str, day: date, released_only: bool = True
    ) -> list[SlotChoice]:
        free = self.booking.free_slots(_id(department_id), day, released_only)
        return [SlotChoice(str(s.id), s.starts_at, s.places_left) for s in free]

    def hold(
        self, phone: str, session_key: str, slot_id: str, person_id: str | None = None
    ) -> HoldView:
        person, slot = _person_id(person_id), _id(slot_id)
        return self._hold(
            self._call(lambda: self.booking.hold(phone, session_key, slot, self.channel, person))
        )

    def current_hold(self, phone: str) -> HoldView | None:
        held = self._call(lambda: self.booking.current_hold(phone))
        return self._hold(held) if held else None

    def release_hold(self, phone: str) -> None:
        self._call(lambda: self.booking.release_hold(phone))

    def book(
        self,
        phone: str,
        slot_id: str,
        channel: str,
        idempotency_key: str,
        person_id: str | None = None,
    ) -> BookingView:
        person, slot = _person_id(person_id), _id(slot_id)
        return self._view(
            self._call(lambda: self.booking.book(phone, slot, channel, idempotency_key, person))
        )

    def upcoming(self, phone: str) -> list[BookingView]:
        listed = self._call(lambda: self.booking.upcoming(phone))
        return [
            BookingView(
                b.ref,
                b.tcode or "",
                self._dept(b.department_id).hospital_name_in(self.language),
                self._dept(b.department_id).name_in(self.language),
                b.starts_at,
                b.status,
                sensitive=b.sensitive,
                unconfirmed=b.unconfirmed,
                person=b.person,
            )
            for b in listed
        ]

    def invitations(self, phone: str) -> list[InvitationView]:
        listed = self._call(lambda: self.booking.invitations(phone=phone))
        # An open invitation always has a window (one for a slot is booked when issued).
        return [
            self._invitation(i, first, last)
            for i in listed
            if (first := i.window_from) and (last := i.last_day)
        ]

    def _invitation(self, i: ListedInvitation, first: date, last: date) -> InvitationView:
        dept = self._dept(i.department_id)
        return InvitationView(
            i.ref,
            dept.hospital_name_in(self.language),
            dept.name_in(self.language),
            str(i.department_id),
            first,
            last,
            sensitive=dept.sensitive,
            person=i.person,
        )

    def book_invitation(self, phone: str, ref: str, slot_id: str, channel: str) -> BookingView:
        slot = _id(slot_id)
        return self._view(
            self._call(lambda: self.booking.book_invitation(phone, ref, slot, channel))
        )

    def cancel(self, phone: str, ref: str) -> BookingView:
        return self._view(
            self._call(
                lambda: self.booking.cancel(
                    ref,
                    by="citizen",
                    reason=f"cancelled by the citizen ({self.channel})",
                    phone=phone,
                )
            )
        )

    def caller(self, phone: str) -> Caller:
        read = self._call(lambda: self.booking.caller(phone))
        language, held, informed, household, blocked = read
        # The first hop's hold is named in the language just read (the session has none yet).
        port = self.speaking(language) if language else self
        hold = port._hold(held) if held else None
        return Caller(language, hold, informed, household, self._day(blocked))

    def set_language(self, phone: str, lang: str) -> None:
        self._call(lambda: self.booking.set_language(phone, lang))

    def send_code(self, phone: str) -> None:
        # The SMS speaks the language the caller chose (saved as soon as they choose it).
        self._call(lambda: self.booking.send_phone_code(phone, self.booking.language(phone)))

    def check_code(self, phone: str, digits: str) -> str:
        return self._call(lambda: self.booking.check_phone_code(phone, digits))

    def confirm_claim(self, phone: str, ref: str) -> BookingView:
        kept = self._call(lambda: self.booking.confirm_claims(phone, ref=ref))
        found = next((c for c in kept if c.ref == ref), None)
        if found is not None:
            return self._view(found)
        # Nothing left to keep: kept already (a repeated hop, an SMS reply), or gone.
        already = next((b for b in self.upcoming(phone) if b.ref == ref), None)
        if already is None or already.unconfirmed:
            raise Refused("not_found")
        return already

    def persons(self, phone: str) -> list[PersonChoice]:
        found = self._call(lambda: self.booking.persons(phone))
        now = self.booking.clock.now()
        return [
            PersonChoice(str(p.id), p.first_name, p.me, self._day(p.blocked_until, now))
            for p in found
        ]

    def _day(self, until: datetime | None, now: datetime | None = None) -> date | None:
        """The last day of a block still running, told before any hospital is chosen: in the
        hospitals' time zone when they share one (a national deployment), else in UTC, the
        zone it is stored in (the core names the hospital's own day when it refuses)."""
        if until is None or until <= (now or self.booking.clock.now()):
            return None
        zones = {d.timezone for d in self.booking.catalogue.get().by_id.values()}
        return until.astimezone(zones.pop() if len(zones) == 1 else UTC).date()

    def add_person(self, phone: str, name: str) -> PersonChoice:
        added = self._call(lambda: self.booking.add_person(phone, name))
        return PersonChoice(str(added.id), added.first_name, added.me)

    def registration_needs(self, phone: str, person_id: str | None = None) -> tuple[str, ...]:
        person = _person_id(person_id)
        return self._call(lambda: self.booking.registration_needs(phone, person))

    def register_person(
        self,
        phone: str,
        person_id: str | None = None,
        name: str | None = None,
        birth_year: int | None = None,
        national_id: str | None = None,
    ) -> tuple[str, ...]:
        person = _person_id(person_id)
        return self._call(
            lambda: self.booking.register_person(phone, person, name, birth_year, national_id)
        )

    def _hold(self, h: HoldInfo) -> HoldView:
        dept = self._dept(h.department_id)
        return HoldView(
            str(h.slot_id),
            dept.hospital_name_in(self.language),
            dept.name_in(self.language),
            h.starts_at,
            h.expires_at,
            str(h.department_id),
            sensitive=dept.sensitive,
            person_id=str(h.person_id) if h.person_id else None,
            lacks=h.lacks,
        )

    def _view(self, c: Confirmation) -> BookingView:
        dept = self._dept(c.department_id)
        return BookingView(
            c.ref,
            c.tcode,
            dept.hospital_name_in(self.language),
            dept.name_in(self.language),
            c.starts_at,
            c.status,
            sensitive=c.sensitive,
            person=c.person,
        )
