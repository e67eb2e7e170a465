"""The menus' BookingPort, implemented on the booking core.

Translates ids (strings in the menus, integers in the core) and turns the core's BookingError
into the menus' Refused with the facts the screens explain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TypeVar

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
    def __init__(self, booking: BookingService, channel: str):
        self.booking, self.channel = booking, channel

    def _call(self, fn: Callable[[], T]) -> T:
        with refusals():
            return fn()

    def cities(self) -> list[Choice]:
        return [Choice(str(i.id), i.name) for i in self.booking.cities()]

    def hospitals(self, city_id: str) -> list[Choice]:
        return [Choice(str(i.id), i.name) for i in self.booking.hospitals(_id(city_id))]

    def departments(self, hospital_id: str) -> list[Choice]:
        return [Choice(str(i.id), i.name) for i in self.booking.departments(_id(hospital_id))]

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
        return _view(
            self._call(lambda: self.booking.book(phone, slot, channel, idempotency_key, person))
        )

    def upcoming(self, phone: str) -> list[BookingView]:
        listed = self._call(lambda: self.booking.upcoming(phone))
        return [
            BookingView(
                b.ref,
                b.tcode or "",
                b.hospital,
                b.department,
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
        dept = self.booking.catalogue.department(i.department_id)
        return InvitationView(
            i.ref,
            dept.hospital_name_gsm,
            dept.name_gsm,
            str(i.department_id),
            first,
            last,
            sensitive=dept.sensitive,
            person=i.person,
        )

    def book_invitation(self, phone: str, ref: str, slot_id: str, channel: str) -> BookingView:
        slot = _id(slot_id)
        return _view(self._call(lambda: self.booking.book_invitation(phone, ref, slot, channel)))

    def cancel(self, phone: str, ref: str) -> BookingView:
        return _view(
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
        hold = self._hold(held) if held else None
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
            return _view(found)
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

    def _hold(self, h: HoldInfo) -> HoldView:
        sensitive = self.booking.catalogue.department(h.department_id).sensitive
        return HoldView(
            str(h.slot_id),
            h.hospital,
            h.department,
            h.starts_at,
            h.expires_at,
            str(h.department_id),
            sensitive=sensitive,
            person_id=str(h.person_id) if h.person_id else None,
        )


def _view(c: Confirmation) -> BookingView:
    return BookingView(
        c.ref,
        c.tcode,
        c.hospital,
        c.department,
        c.starts_at,
        c.status,
        sensitive=c.sensitive,
        person=c.person,
    )
