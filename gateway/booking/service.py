"""The booking core's façade: every channel calls these operations, never the tables.

One method per operation, each one unit of work (`_tx`: a Connection in one transaction, whose
commit the engine refuses after the caller's deadline, gateway.booking.sql.deadline) or one
read (views), returning plain frozen values. The use cases live in gateway.booking.operations.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from gateway.booking.catalogue.load import LoadReport
from gateway.booking.catalogue.slots import GenerateReport
from gateway.booking.catalogue.updates import generate, load
from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.events import NewEvent
from gateway.booking.domain.national_ids import check_id_format
from gateway.booking.operations import (
    arrival,
    audit,
    challenges,
    checkin,
    claims,
    invitations,
    no_shows,
    person_moves,
    preferences,
    real_names,
    registration,
    resend,
    staff,
)
from gateway.booking.operations import book as bookings
from gateway.booking.operations import cancel as cancelling
from gateway.booking.operations import hold as holding
from gateway.booking.operations import persons as people
from gateway.booking.operations import rebook as rebooking
from gateway.booking.operations import walk_in as walking_in
from gateway.booking.operations.sweep import SweepReport, sweep
from gateway.booking.sql import holds
from gateway.booking.sql import persons as person_rows
from gateway.booking.sql.events import record
from gateway.booking.sql.persons import PersonInfo
from gateway.booking.views.confirmations import Confirmation, HoldInfo, confirmation, confirmed
from gateway.booking.views.reads import BookingReads
from gateway.clock import Clock
from gateway.settings import Settings
from tcode.keys import SigningKey

__all__ = ["BookingService", "Confirmation", "HoldInfo"]


class BookingService(BookingReads):
    """The operations of the booking core, over its read side (views.reads)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Clock,
        signing_key: SigningKey,
        read_engine: Engine | None = None,
    ):
        super().__init__(engine, settings, clock, read_engine)
        self.signing_key = signing_key

    def _tx(self) -> AbstractContextManager[Connection]:
        """One unit of work: committed when the block ends, rolled back on any exception."""
        return self.engine.begin()

    # --- catalogue and slots (the ORM loads them) -----------------------------------------------

    def load_catalog(self, path: str | Path) -> LoadReport:
        languages = self.settings.languages
        return load(self.writer, self.catalogue, path, self.clock.now(), languages)

    def generate_slots(self, days: int) -> GenerateReport:
        return generate(self.writer, self.rules, self.clock.now(), days)

    # --- holds and bookings ---------------------------------------------------------------------

    def hold(
        self,
        phone: str,
        session_key: str,
        slot_id: int,
        channel: str = "ussd",
        person_id: int | None = None,
    ) -> HoldInfo:
        """Claim one remote place of the slot for the hold length, for a person of the phone
        (None: its holder) (operations.hold)."""
        phone, now, cat = self.phone(phone), self.clock.now(), self.catalogue
        with self._read() as conn:
            dept = holding.refuse_surely_full(conn, cat, phone, slot_id, now)
        with self._tx() as conn:
            held = holding.hold(
                conn, cat, self.rules, phone, session_key, slot_id, channel, now, person_id
            )
        info = HoldInfo.of(*held, dept)
        if not self.rules.rules_for(dept.hospital_code).real_name:
            return info
        with self._read() as conn:  # only where the hospital books by real name
            lacks = real_names.needs(conn, phone, person_id, now)
        return replace(info, lacks=lacks)

    def release_hold(self, phone: str) -> bool:
        with self._tx() as conn:
            return holding.release(conn, self.phone(phone), self.clock.now())

    def book(
        self,
        phone: str,
        slot_id: int,
        channel: str,
        idempotency_key: str | None = None,
        person_id: int | None = None,
    ) -> Confirmation:
        """Book the slot for a person of the phone (None: its holder), through the phone's
        hold when it has one, and issue the voucher."""
        with self._tx() as conn:
            return confirmed(bookings.book(
                conn, self.catalogue, self.rules, self.phone(phone), slot_id, channel,
                idempotency_key, self.signing_key, self.clock.now(), person_id,
            ))  # fmt: skip

    def book_at_desk(self, person_id: int, slot_id: int, actor: str) -> Confirmation:
        """Staff book a slot for any person, one without a phone too (operations.book)."""
        with self._tx() as conn:
            return confirmed(bookings.book_at_desk(
                conn, self.catalogue, self.rules, person_id, slot_id, self.signing_key,
                self.clock.now(), actor,
            ))  # fmt: skip

    # --- the persons of a phone (operations.persons) ---------------------------------------------

    def persons(self, phone: str) -> list[PersonInfo]:
        """The phone's shown persons, "Me" first (id 0 for a phone never seen)."""
        with self._read() as conn:
            return people.shown(conn, self.phone(phone))

    def add_person(
        self,
        phone: str,
        name: str,
        birth_year: int | None = None,
        national_id: str | None = None,
        actor: str | None = None,
    ) -> PersonInfo:
        """Add a dependant to the phone (USSD, or the desk `actor` with a birth year or an ID)."""
        phone, now = self.phone(phone), self.clock.now()
        hashed = self._national_id(national_id)
        with self._tx() as conn:
            return people.add(conn, phone, name, self.rules.persons, now, birth_year, hashed, actor)

    def hide_person(self, phone: str, person_id: int, actor: str | None = None) -> None:
        with self._tx() as conn:
            people.hide(conn, self.phone(phone), person_id, self.clock.now(), actor)

    def register_without_phone(
        self,
        name: str,
        actor: str,
        birth_year: int | None = None,
        national_id: str | None = None,
    ) -> PersonInfo:
        """Register a person who has no phone at all (the desk; their voucher is printed)."""
        hashed, now = self._national_id(national_id), self.clock.now()
        with self._tx() as conn:
            return people.register_without_phone(
                conn, name, self.rules.persons, now, actor, birth_year, hashed
            )

    def move_person(self, person_id: int, new_phone: str, actor: str, reason: str) -> int:
        """Move a dependant to a phone of their own (the desk); the id they hold it under."""
        new_phone, now = self.phone(new_phone), self.clock.now()
        with self._tx() as conn:
            return people.move(conn, person_id, new_phone, now, actor, reason)

    def request_person_move(
        self, phone: str, person_id: int, new_phone: str, language: str | None = None
    ) -> str:
        """The guardian's phone asks to move a dependant to `new_phone`, which is texted a code
        (operations.person_moves); returns the person's first name."""
        phone, new_phone, now = self.phone(phone), self.phone(new_phone), self.clock.now()
        with self._tx() as conn:
            return person_moves.request(
                conn, phone, person_id, new_phone, now, self._code_key(), language
            )

    def confirm_person_move(
        self, phone: str, digits: str, language: str | None = None
    ) -> person_moves.Confirmed:
        """The new phone sends back its code: the person moves when it is right."""
        phone, now = self.phone(phone), self.clock.now()
        with self._tx() as conn:
            return person_moves.confirm(conn, phone, digits, now, self._code_key(), language)

    def _national_id(self, raw: str | None) -> registration.NationalId | None:
        return None if raw is None else registration.national_id(self.settings.secrets, raw)

    def cancel(
        self, ref: str, by: str, reason: str = "", phone: str | None = None,
        actor: str | None = None,
    ) -> Confirmation:  # fmt: skip
        """Cancel a booking: by "citizen" (from `phone`) or by "staff" (`actor`, audited)."""
        now, phone = self.clock.now(), self.phone(phone) if phone else None
        with self._tx() as conn:
            return confirmed(
                cancelling.cancel_audited(conn, self.rules, ref, by, reason, now, phone, actor)
            )

    def rebook(
        self, ref: str, slot_id: int, by: str, phone: str | None = None, actor: str | None = None
    ) -> Confirmation:
        """Move a booking to another slot (operations.rebook)."""
        now, phone = self.clock.now(), self.phone(phone) if phone else None
        with self._tx() as conn:
            return confirmed(rebooking.rebook(
                conn, self.catalogue, self.rules, ref, slot_id, by, self.signing_key, now, phone,
                actor,
            ))  # fmt: skip

    def confirm_claims(self, phone: str, ref: str | None = None) -> list[Confirmation]:
        """The phone's owner keeps its unconfirmed voice bookings, or only `ref` (claims)."""
        with self._tx() as conn:
            kept = claims.confirm(conn, self.rules, self.phone(phone), self.clock.now(), ref)
        return [confirmed(k) for k in kept]

    # --- check-in: kiosk (by T-code) and desk (by reference), one path ------------------------

    def check_in(
        self, tcode: str, hospital_code: str, dry_run: bool = False, kiosk_id: int | None = None
    ) -> checkin.Ticket:
        """Check in (or only validate) a T-code at a hospital; raises CheckInRefused."""
        return arrival.at_kiosk(
            self._read, self._tx, self.catalogue, self.rules, tcode, hospital_code,
            self.clock.now(), dry_run, kiosk_id,
        )  # fmt: skip

    def desk_check_in(self, ref: str, actor: str | None = None) -> checkin.Ticket:
        """Check booking `ref` in at the hospital desk (staff); raises CheckInRefused."""
        return arrival.at_desk(self._tx, self.catalogue, self.rules, ref, actor, self.clock.now())

    def walk_in(
        self,
        hospital_code: str,
        department_code: str,
        actor: str,
        at: datetime | None = None,
        person_id: int | None = None,
    ) -> walking_in.WalkIn:
        """Give a person who walked in (None: a nameless one) a walk-in place of the
        department today, from the slot running at `at` (None: now) on, and check them in
        (staff `actor`, audited) (operations.walk_in); raises WalkInFull, NotFound."""
        with self._tx() as conn:
            return walking_in.walk_in(
                conn, self.catalogue, self.rules, hospital_code, department_code, actor,
                self.clock.now(), at, person_id,
            )  # fmt: skip

    # --- time, invitations and the desk -------------------------------------------------------

    def release_expired_holds(self) -> int:
        with self._tx() as conn:
            return holds.release_expired(conn, self.clock.now())

    def sweep(self) -> SweepReport:
        """Do what time alone changes (operations.sweep)."""
        return sweep(self.engine, self.rules, self.clock.now())

    def close_session(
        self, hospital_code: str, department_code: str, day: date, reason: str, by: str
    ) -> staff.CloseReport:
        """Close a department's day (staff `by`): cancel its bookings, book no more."""
        now = self.clock.now()
        with self._tx() as conn:
            return staff.close_day(conn, hospital_code, department_code, day, reason, by, now)

    def invite(
        self, phone: str, hospital_code: str, department_code: str, by: str,
        offer: invitations.Offer, person_id: int | None = None,
    ) -> invitations.InvitationInfo:  # fmt: skip
        """Invite a person of the phone (None: its holder) (staff `by`): a booked slot, or an
        open window of days."""
        with self._tx() as conn:
            return staff.invite(
                conn, self.catalogue, self.rules, self.signing_key, self.phone(phone),
                hospital_code, department_code, offer, by, self.clock.now(), person_id,
            )  # fmt: skip

    def book_invitation(
        self, phone: str, ref: str, slot_id: int, channel: str = "ussd"
    ) -> Confirmation:
        """Book the citizen's open invitation `ref` on a slot of its department and window."""
        with self._tx() as conn:
            booking_ref, created = invitations.book_invitation(
                conn, self.catalogue, self.rules, self.signing_key, self.phone(phone), ref,
                slot_id, channel, self.clock.now(),
            )  # fmt: skip
            return confirmation(conn, self.catalogue, booking_ref, created)

    def withdraw_invitation(self, ref: str, by: str, reason: str) -> invitations.InvitationInfo:
        """Withdraw an open invitation (staff `by`)."""
        now = self.clock.now()
        with self._tx() as conn:
            return staff.withdraw_invitation(conn, self.catalogue, ref, by, reason, now)

    def open_invitations(self, phone: str) -> list[invitations.InvitationInfo]:
        """The phone holder's invitations still waiting for a slot (the menus' appointments)."""
        phone, now = self.phone(phone), self.clock.now()
        with self._read() as conn:
            return invitations.open_invitations(conn, self.catalogue, phone, now)

    def record_view(self, actor: str, action: str, subject: str, reason: str = "") -> None:
        """Audit a staff member seeing personal data (a full phone, an export): nothing
        changes but the audit trail."""
        with self._tx() as conn:
            audit.record_staff_action(conn, actor, action, subject, reason, self.clock.now())

    def mark_no_show(self, ref: str, actor: str, reason: str) -> Confirmation:
        """Mark booking `ref` a no-show as the sweep does, block policy included (staff
        `actor`, audited); raises NotStarted before its slot starts, NotActive unless it is
        confirmed, NotFound (operations.no_shows)."""
        with self._tx() as conn:
            return confirmed(no_shows.mark(conn, self.rules, ref, actor, reason, self.clock.now()))

    def undo_no_show(self, ref: str, actor: str, reason: str) -> Confirmation:
        """Undo a mistaken no-show (staff `actor`, audited): confirmed again while its check-in
        window is open, else cancelled by staff; the block it caused is lifted. Raises
        NotNoShow, NotFound (operations.no_shows)."""
        with self._tx() as conn:
            return confirmed(no_shows.undo(conn, self.rules, ref, actor, reason, self.clock.now()))

    def resend_voucher(self, ref: str, actor: str) -> Confirmation:
        """Text booking `ref`'s live voucher to its phone again (staff `actor`, audited);
        raises NoPhone, NoVoucher, NotActive, NotFound (operations.resend)."""
        with self._tx() as conn:
            return confirmed(resend.resend_voucher(conn, ref, actor, self.clock.now()))

    # --- citizens: blocks, real-name registration, preferences ----------------------------------

    def unblock(self, phone: str, by: str, reason: str, person_id: int | None = None) -> None:
        """Lift the block of a person of the phone (None: its holder) (staff `by`); raises
        NotBlocked when there is none."""
        with self._tx() as conn:
            staff.unblock(conn, self.phone(phone), by, reason, self.clock.now(), person_id)

    def unblock_person(self, person_id: int, by: str, reason: str) -> None:
        """Lift a person's block by id alone: one registered without a phone has no number
        to name them by (their placeholder is locked as a phone). Raises NotFound, NotBlocked."""
        with self._tx() as conn:
            person = person_rows.find(conn, person_id)
            if person is None:
                raise NotFound(what="person")
            staff.unblock(conn, person.phone, by, reason, self.clock.now(), person_id)

    def register(self, phone: str, name: str, national_id: str, actor: str | None = None) -> None:
        """Record the citizen's name and national ID (kept only as a keyed hash); staff
        `actor` registering them at the desk is audited."""
        phone, now = self.phone(phone), self.clock.now()
        clean = registration.clean_name(name)
        hashed = registration.national_id(self.settings.secrets, national_id)
        with self._tx() as conn:
            registration.register(conn, phone, clean, hashed, now, actor)

    def registration_needs(self, phone: str, person_id: int | None = None) -> tuple[str, ...]:
        """What a person of the phone (None: its holder) still lacks to book where real-name
        mode holds: "name", "birth_year", "national_id" (operations.real_names)."""
        phone, now = self.phone(phone), self.clock.now()
        with self._read() as conn:
            return real_names.needs(conn, phone, person_id, now)

    def register_person(
        self,
        phone: str,
        person_id: int | None = None,
        name: str | None = None,
        birth_year: int | None = None,
        national_id: str | None = None,
    ) -> tuple[str, ...]:
        """Store one registration answer of a person of the phone (the menus), the ID checked
        against the country's form and kept only as a keyed hash; return what is still lacking."""
        phone, now = self.phone(phone), self.clock.now()
        if national_id is not None:
            check_id_format(national_id, self.settings.default_region)
        hashed = self._national_id(national_id)
        with self._tx() as conn:
            return real_names.register_person(conn, phone, person_id, now, name, birth_year, hashed)

    def reassign_id(self, phone: str, national_id: str, by: str, reason: str) -> None:
        """Move a national ID to this phone's holder, from whoever had it (staff `by`)."""
        phone, now = self.phone(phone), self.clock.now()
        hashed = registration.national_id(self.settings.secrets, national_id)
        with self._tx() as conn:
            staff.reassign_id(conn, phone, hashed, by, reason, now)

    def set_language(self, phone: str, language: str) -> None:
        with self._tx() as conn:
            preferences.set_language(conn, self.phone(phone), language, self.clock.now())

    def set_reminders(self, phone: str, enabled: bool) -> None:
        """Switch the phone holder's reminders and notices on or off (SMS START / STOP)."""
        with self._tx() as conn:
            preferences.set_reminders(conn, self.phone(phone), enabled, self.clock.now())

    # --- channel notices and phone challenges -----------------------------------------------------

    def notice_dropped_session(self, phone: str, session_key: str) -> bool:
        """Write one `ussd.dropped` for a dropped session that holds a live slot; once per hold."""
        phone, now = self.phone(phone), self.clock.now()
        with self._tx() as conn:
            return holding.notice_dropped(conn, self.catalogue, phone, session_key, now)

    def notice(self, event: NewEvent) -> None:
        """Write a channel's notice (e.g. `events.ivr_gave_up(...)`) to the outbox."""
        with self._tx() as conn:
            record(conn, event, self.clock.now())

    def send_phone_code(self, phone: str, language: str | None) -> None:
        """Send the phone a one-time code (its `phone.code` event); raise CodeLimit."""
        phone, now, proof = self.phone(phone), self.clock.now(), self.settings.voice_proof
        with self._tx() as conn:
            challenges.send(conn, phone, language, proof, now, self._code_key())

    def check_phone_code(self, phone: str, digits: str) -> str:
        """Check a keyed code against the phone's newest one: "passed", "wrong" or "spent"."""
        phone, now, proof = self.phone(phone), self.clock.now(), self.settings.voice_proof
        with self._tx() as conn:
            return challenges.check(conn, phone, digits, proof, now, self._code_key())

    def _code_key(self) -> bytes:
        return challenges.challenge_key(self.settings.secrets.secret_key, self.signing_key)
