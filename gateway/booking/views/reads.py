"""The booking core's read side: what the channels show, each one read with no write.

`BookingService` extends it with the operations; the catalogue comes from its cache, the rest
from the read engine (a replica, or the primary read only).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import date

from sqlalchemy import Connection, Engine

from gateway.booking.catalogue.cache import CatalogueCache, Item
from gateway.booking.domain.phones import to_e164
from gateway.booking.views import day_list as desk
from gateway.booking.views import day_sheet as sheets
from gateway.booking.views import find, readside
from gateway.booking.views.confirmations import Confirmation, HoldInfo, confirmation, live_hold
from gateway.booking.views.invitations_list import ListedInvitation, invitations_of
from gateway.clock import Clock
from gateway.db import read_only, session_factories
from gateway.settings import Settings


class BookingReads:
    def __init__(
        self, engine: Engine, settings: Settings, clock: Clock, read_engine: Engine | None = None
    ):
        self.engine = engine
        self.read_engine = read_engine or read_only(engine)
        self.writer, self.reader = session_factories(engine, self.read_engine)
        self.catalogue = CatalogueCache(self.read_engine)
        self.settings, self.clock, self.rules = settings, clock, settings.booking

    def phone(self, raw: str) -> str:
        return to_e164(raw, self.settings.default_region)

    def _read(self) -> AbstractContextManager[Connection]:
        return self.read_engine.connect()

    def cities(self) -> Sequence[Item]:
        return self.catalogue.get().cities

    def hospitals(self, city_id: int) -> Sequence[Item]:
        return self.catalogue.get().hospitals.get(city_id, ())

    def departments(self, hospital_id: int) -> Sequence[Item]:
        return self.catalogue.get().departments.get(hospital_id, ())

    def open_days(self, department_id: int, until: date | None = None) -> list[date]:
        """Released days with free places; `until`: up to then, released or not (invitations)."""
        dept = self.catalogue.department(department_id)
        with self._read() as conn:
            return readside.open_days(conn, self.rules, dept, self.clock.now(), until)

    def free_slots(
        self, department_id: int, day: date, released_only: bool = True
    ) -> list[readside.FreeSlot]:
        dept = self.catalogue.department(department_id)
        with self._read() as conn:
            now = self.clock.now()
            return readside.free_slots(conn, self.rules, dept, day, now, released_only)

    def upcoming(self, phone: str) -> list[readside.UpcomingBooking]:
        with self.reader() as s:
            return readside.upcoming(s, self.phone(phone), self.clock.now())

    def booking(self, ref: str) -> Confirmation:
        with self._read() as conn:
            return confirmation(conn, self.catalogue, ref)

    def day_bookings(
        self, hospital_code: str, day: date, department_code: str | None = None
    ) -> list[desk.DeskBooking]:
        with self.reader() as s:
            return desk.day_bookings(s, hospital_code, day, department_code)

    def day_sheet(
        self,
        hospital_code: str,
        day: date,
        department_code: str | None = None,
        doctor_code: str | None = None,
    ) -> sheets.DaySheet:
        """The console's day list: the day's bookings in the desk's tabs, as of now."""
        rules, now = self.rules.rules_for(hospital_code), self.clock.now()
        with self.reader() as s:
            return sheets.day_sheet(s, rules, hospital_code, day, now, department_code, doctor_code)

    def find_bookings(
        self, *, phone: str | None = None, tcode: str | None = None, ref: str | None = None
    ) -> list[find.FoundBooking]:
        """Staff's look-up by exactly one key: a phone (every person of it), a T-code or a ref."""
        with self.reader() as s:
            return find.bookings_of(
                s, phone=self.phone(phone) if phone else None, tcode=tcode, ref=ref
            )

    def invitations(
        self,
        *,
        hospital_code: str | None = None,
        status: str | None = None,
        phone: str | None = None,
    ) -> list[ListedInvitation]:
        """A hospital's invitations (staff), or the open ones of a phone's persons (the menus)."""
        phone = self.phone(phone) if phone else None
        with self.reader() as s:
            return invitations_of(
                s, self.clock.now(), hospital_code=hospital_code, status=status, phone=phone
            )

    def catalogue_listing(self, hospital_code: str | None = None) -> list[find.CityEntry]:
        with self.reader() as s:
            return find.catalogue(s, hospital_code)

    def current_hold(self, phone: str) -> HoldInfo | None:
        """The phone's live hold, if any (expired ones count as gone)."""
        with self._read() as conn:
            found = readside.held(conn, self.phone(phone))
        return live_hold(self.catalogue, found, self.clock.now())

    def language(self, phone: str) -> str | None:
        return self.caller(phone)[0]

    def caller(
        self, phone: str
    ) -> tuple[str | None, HoldInfo | None, bool, bool, readside.BlockEnd]:
        """The holder's language, live hold, whether they ever booked, whether the phone
        ever added a dependant, and until when "Book" refuses everyone: a session's first hop."""
        now, rank = self.clock.now(), self.rules.persons.blocked_persons_block_phone
        with self._read() as conn:
            language, found, informed, household, blocked = readside.caller(
                conn, self.phone(phone), now, rank
            )
        return language, live_hold(self.catalogue, found, now), informed, household, blocked
