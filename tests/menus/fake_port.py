"""An in-memory booking core that behaves like the real one where the menus can tell."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

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

EAT = timezone(timedelta(hours=3), "EAT")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=EAT)
TCODE = "4829135575"
CODE = "4821"  # the one-time code every `send_code` sends
MAX_DEPENDANTS, NAME_MAX_LENGTH = 5, 20  # the core's defaults (config.yaml booking.persons)


@dataclass
class FakeSlot:
    id: str
    department_id: str
    starts_at: datetime
    places_left: int


class FakePort:
    """Hospitals, departments and slots in dicts; `refuse()` makes the next call say no."""

    def __init__(
        self,
        cities: list[Choice] | None = None,
        hospitals: dict[str, list[Choice]] | None = None,
        departments: dict[str, list[Choice]] | None = None,
        days: tuple[date, ...] = (date(2026, 11, 24), date(2026, 11, 25)),
        times: tuple[str, ...] = ("09:30", "10:00", "10:30"),
        places: int = 2,
        sensitive: frozenset[str] = frozenset(),
    ) -> None:
        self.cities_ = cities or [Choice("NBO", "Nairobi")]
        self.hospitals_ = hospitals or {
            "NBO": [
                Choice("KNH", "Kenyatta National Hospital"),
                Choice("MBGH", "Mbagathi County Hospital"),
            ]
        }
        self.departments_ = departments or {
            "KNH": [Choice("CARD", "Cardiology"), Choice("ENT", "Ear, Nose and Throat")],
            "MBGH": [Choice("OPD", "Outpatients")],
        }
        self.hospital_of = {d.id: h for h, ds in self.departments_.items() for d in ds}
        self.slots: dict[str, FakeSlot] = {}
        for department_id in self.hospital_of:
            for day in days:
                for hhmm in times:
                    hour, minute = map(int, hhmm.split(":"))
                    starts = datetime(day.year, day.month, day.day, hour, minute, tzinfo=EAT)
                    slot_id = f"{department_id}-{day:%m%d}-{hour:02d}{minute:02d}"
                    self.slots[slot_id] = FakeSlot(slot_id, department_id, starts, places)
        self.holds: dict[str, HoldView] = {}
        self.bookings: dict[str, tuple[str, BookingView]] = {}
        self.by_key: dict[str, BookingView] = {}
        self.languages: dict[str, str] = {}
        self.refusals: dict[str, Refused] = {}
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.now = NOW
        self.sensitive = sensitive  # department ids never named over voice
        self.codes_sent: list[str] = []  # phones a one-time code went to
        self.code_tries: dict[str, int] = {}  # phone -> wrong tries of its live code
        self.max_tries = 3
        self.dependants: dict[str, list[PersonChoice]] = {}  # phone -> its shown dependants
        self.holder_blocked: dict[str, date] = {}  # phone -> its holder's own block
        self.phone_blocked: dict[str, date] = {}  # phone -> the block of all its persons
        # ref -> (phone, the open invitation); taken up or withdrawn: gone from here.
        self.invited: dict[str, tuple[str, InvitationView]] = {}
        self.released_until: date | None = None  # the release horizon's last day (None: all)
        # (phone, person id or None) -> what real-name mode still lacks (absent: registered).
        self.lacking: dict[tuple[str, str | None], list[str]] = {}

    def speaking(self, language: str) -> FakePort:
        return self  # its names are the same in every language

    # Test controls.
    def refuse(self, method: str, code: str, **params: object) -> None:
        self.refusals[method] = Refused(code, **params)

    def expire_hold(self, phone: str, taken: bool) -> None:
        """Let the caller's hold run out; `taken`: others booked every place left of it."""
        hold = self.holds.pop(phone)
        slot = self.slots[hold.slot_id]
        slot.places_left = 0 if taken else slot.places_left + 1

    def _enter(self, method: str, *args: object) -> None:
        self.calls.append((method, args))
        if method in self.refusals:
            raise self.refusals.pop(method)

    def invite(
        self, phone: str, department_id: str, first: date, last: date, person: str | None = None
    ) -> str:
        """Staff invite a person of `phone` to choose a time of the department in a window."""
        ref = f"I{len(self.invited) + 1}"
        hospital = self._name(self.hospitals_, self.hospital_of[department_id])
        department = self._name(self.departments_, department_id)
        sensitive = department_id in self.sensitive
        invitation = InvitationView(
            ref, hospital, department, department_id, first, last, sensitive, person
        )
        self.invited[ref] = (phone, invitation)
        return ref

    def add_dependants(self, phone: str, *names: str) -> list[PersonChoice]:
        """Give `phone` dependants as the desk would, without recording a call."""
        return [self._add(phone, name) for name in names]

    def block(self, phone: str, until: date, person_id: str | None = None) -> None:
        """Block the phone's holder (or the dependant `person_id`) until `until`."""
        if person_id is None:
            self.holder_blocked[phone] = until
            return
        self.dependants[phone] = [
            replace(p, blocked_until=until) if p.id == person_id else p
            for p in self.dependants[phone]
        ]

    def _add(self, phone: str, name: str) -> PersonChoice:
        added = PersonChoice(f"P{sum(map(len, self.dependants.values())) + 1}", name, False)
        self.dependants.setdefault(phone, []).append(added)
        return added

    def _person_name(self, phone: str, person_id: str | None) -> str | None:
        found = next((p for p in self.dependants.get(phone, []) if p.id == person_id), None)
        if person_id is not None and found is None:
            raise Refused("not_found", what="person")
        return None if found is None else found.name

    @staticmethod
    def _person_arg(person_id: str | None) -> tuple[str, ...]:
        # Recorded only when given, so a phone without dependants calls as it always did.
        return () if person_id is None else (person_id,)

    def _name(self, choices: dict[str, list[Choice]], wanted: str) -> str:
        return next(c.label for cs in choices.values() for c in cs if c.id == wanted)

    # BookingPort.
    def cities(self) -> list[Choice]:
        self._enter("cities")
        return list(self.cities_)

    def hospitals(self, city_id: str) -> list[Choice]:
        self._enter("hospitals", city_id)
        return list(self.hospitals_.get(city_id, []))

    def departments(self, hospital_id: str) -> list[Choice]:
        self._enter("departments", hospital_id)
        return list(self.departments_.get(hospital_id, []))

    def open_days(self, department_id: str, until: date | None = None) -> list[date]:
        self._enter("open_days", department_id, *(() if until is None else (until,)))
        last = until or self.released_until
        days = {s.starts_at.date() for s in self._free(department_id)}
        return sorted(d for d in days if last is None or d <= last)

    def free_slots(
        self, department_id: str, day: date, released_only: bool = True
    ) -> list[SlotChoice]:
        self._enter("free_slots", department_id, day, *(() if released_only else (False,)))
        if released_only and self.released_until and day > self.released_until:
            return []
        free = [s for s in self._free(department_id) if s.starts_at.date() == day]
        return [SlotChoice(s.id, s.starts_at, s.places_left) for s in free]

    def _free(self, department_id: str) -> list[FakeSlot]:
        slots = [s for s in self.slots.values() if s.department_id == department_id]
        return sorted((s for s in slots if s.places_left > 0), key=lambda s: s.starts_at)

    def hold(
        self, phone: str, session_key: str, slot_id: str, person_id: str | None = None
    ) -> HoldView:
        self._enter("hold", phone, session_key, slot_id, *self._person_arg(person_id))
        self._person_name(phone, person_id)
        slot = self.slots.get(slot_id)
        if slot is None:
            raise Refused("not_found")
        if slot.places_left <= 0:
            raise Refused("slot_full", next_times=self._next_times(slot))
        if phone in self.holds:
            self.release_hold(phone)
        slot.places_left -= 1
        hospital_id = self.hospital_of[slot.department_id]
        hold = HoldView(
            slot_id=slot.id,
            hospital=self._name(self.hospitals_, hospital_id),
            department=self._name(self.departments_, slot.department_id),
            starts_at=slot.starts_at,
            expires_at=self.now + timedelta(minutes=5),
            department_id=slot.department_id,
            sensitive=slot.department_id in self.sensitive,
            person_id=person_id,
            # Like the core: the place is held, and what registration lacks is said.
            lacks=tuple(self.lacking.get((phone, person_id), ())),
        )
        self.holds[phone] = hold
        return hold

    def _next_times(self, slot: FakeSlot) -> list[datetime]:
        return [s.starts_at for s in self._free(slot.department_id) if s.starts_at > slot.starts_at]

    def current_hold(self, phone: str) -> HoldView | None:
        self._enter("current_hold", phone)
        return self.holds.get(phone)

    def release_hold(self, phone: str) -> None:
        self._enter("release_hold", phone)
        hold = self.holds.pop(phone, None)
        if hold is not None:
            self.slots[hold.slot_id].places_left += 1

    def book(
        self,
        phone: str,
        slot_id: str,
        channel: str,
        idempotency_key: str,
        person_id: str | None = None,
    ) -> BookingView:
        self._enter("book", phone, slot_id, channel, idempotency_key, *self._person_arg(person_id))
        person = self._person_name(phone, person_id)
        if self.lacking.get((phone, person_id)):
            raise Refused("registration_required", hospital="KNH")
        if idempotency_key in self.by_key:
            return self.by_key[idempotency_key]
        hold = self.holds.get(phone)
        if hold is None or hold.slot_id != slot_id or hold.person_id != person_id:
            slot = self.slots[slot_id]
            if slot.places_left <= 0:
                raise Refused("slot_full", next_times=self._next_times(slot))
            raise Refused("hold_expired")
        del self.holds[phone]
        ref = f"B{len(self.bookings) + 1}"
        booking = BookingView(
            ref,
            TCODE,
            hold.hospital,
            hold.department,
            hold.starts_at,
            "confirmed",
            sensitive=hold.sensitive,
            unconfirmed=channel == "ivr",
            person=person,
        )
        self.bookings[ref] = (phone, booking)
        self.by_key[idempotency_key] = booking
        return booking

    def upcoming(self, phone: str) -> list[BookingView]:
        self._enter("upcoming", phone)
        mine = [b for owner, b in self.bookings.values() if owner == phone]
        return sorted((b for b in mine if b.status == "confirmed"), key=lambda b: b.starts_at)

    def invitations(self, phone: str) -> list[InvitationView]:
        self._enter("invitations", phone)
        return [i for owner, i in self.invited.values() if owner == phone]

    def book_invitation(self, phone: str, ref: str, slot_id: str, channel: str) -> BookingView:
        """As the core: a slot of the window turns the invitation into that booking."""
        self._enter("book_invitation", phone, ref, slot_id, channel)
        owner, invitation = self.invited.get(ref, (phone, None))
        if invitation is None or owner != phone:
            raise Refused("invitation_closed", status="cancelled")
        slot = self.slots[slot_id]
        inside = invitation.first_day <= slot.starts_at.date() <= invitation.last_day
        if slot.department_id != invitation.department_id or not inside:
            raise Refused("outside_invitation")
        if slot.places_left <= 0:
            raise Refused("slot_full", next_times=self._next_times(slot))
        slot.places_left -= 1
        del self.invited[ref]
        booking = BookingView(
            f"B{len(self.bookings) + 1}",
            TCODE,
            invitation.hospital,
            invitation.department,
            slot.starts_at,
            "confirmed",
            sensitive=invitation.sensitive,
            person=invitation.person,
        )
        self.bookings[booking.ref] = (phone, booking)
        return booking

    def cancel(self, phone: str, ref: str) -> BookingView:
        self._enter("cancel", phone, ref)
        if ref not in self.bookings:
            raise Refused("not_found")
        owner, booking = self.bookings[ref]
        if owner != phone:
            raise Refused("not_owner")
        if booking.status != "confirmed":
            raise Refused("not_active")
        cancelled = replace(booking, status="cancelled")
        self.bookings[ref] = (owner, cancelled)
        return cancelled

    def caller(self, phone: str) -> Caller:
        self._enter("caller", phone)
        household = bool(self.dependants.get(phone))
        # As the core reads it: the holder's block on a phone alone, else the phone's.
        blocked = self.phone_blocked.get(phone) if household else self.holder_blocked.get(phone)
        return Caller(
            self.languages.get(phone),
            self.holds.get(phone),
            household=household,
            blocked_until=blocked,
        )

    def set_language(self, phone: str, lang: str) -> None:
        self._enter("set_language", phone, lang)
        self.languages[phone] = lang

    def send_code(self, phone: str) -> None:
        self._enter("send_code", phone)
        self.codes_sent.append(phone)
        self.code_tries[phone] = 0

    def check_code(self, phone: str, digits: str) -> str:
        self._enter("check_code", phone, digits)
        if phone not in self.code_tries:
            return "spent"
        if digits == CODE:
            del self.code_tries[phone]
            return "passed"
        self.code_tries[phone] += 1
        if self.code_tries[phone] >= self.max_tries:
            del self.code_tries[phone]
            return "spent"
        return "wrong"

    def confirm_claim(self, phone: str, ref: str) -> BookingView:
        self._enter("confirm_claim", phone, ref)
        owner, booking = self.bookings.get(ref, ("", None))
        if booking is None or owner != phone:
            raise Refused("not_found")
        kept = replace(booking, unconfirmed=False)
        self.bookings[ref] = (owner, kept)
        return kept

    def persons(self, phone: str) -> list[PersonChoice]:
        self._enter("persons", phone)
        me = PersonChoice("H", "", True, self.holder_blocked.get(phone))
        return [me, *self.dependants.get(phone, [])]

    def add_person(self, phone: str, name: str) -> PersonChoice:
        """Clean and check the name as the core does (domain.persons.clean_first_name)."""
        self._enter("add_person", phone, name)
        cleaned = " ".join(name.split())
        letters = all(c.isalpha() or c in " '-" for c in cleaned) and any(map(str.isalpha, name))
        if not letters or len(cleaned) > NAME_MAX_LENGTH:
            raise Refused("invalid_name", max_length=NAME_MAX_LENGTH)
        if len(self.dependants.get(phone, [])) >= MAX_DEPENDANTS:
            raise Refused("person_limit", limit=MAX_DEPENDANTS)
        return self._add(phone, cleaned.split()[0].capitalize())

    def registration_needs(self, phone: str, person_id: str | None = None) -> tuple[str, ...]:
        self._enter("registration_needs", phone, person_id)
        return tuple(self.lacking.get((phone, person_id), ()))

    def register_person(
        self,
        phone: str,
        person_id: str | None = None,
        name: str | None = None,
        birth_year: int | None = None,
        national_id: str | None = None,
    ) -> tuple[str, ...]:
        """Take one answer: the first thing lacking is given (the core checks its form)."""
        self._enter("register_person", phone, person_id)
        lacking = self.lacking.get((phone, person_id), [])
        given = {"name": name, "birth_year": birth_year, "national_id": national_id}
        for what, value in given.items():
            if value is not None and what in lacking:
                lacking.remove(what)
        return tuple(lacking)
