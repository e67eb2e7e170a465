"""The booking core's entry point: every channel calls these operations, never the tables.

Each method is one unit of work (or one read) and returns plain frozen values, so nothing
leaks a database session to the caller. The operations behind every USSD/IVR hop and kiosk
scan — the menus' reads, hold, book, check-in — run lean Core statements on a connection
(gateway.booking.sql.driver) with the catalogue from the process's cache; staff and the rarer
citizen operations (cancel, rebook, invitations) work on ORM objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import joinedload

from gateway.booking.catalogue.cache import CatalogueCache, Item, bump_revision
from gateway.booking.catalogue.load import LoadReport, load_catalog, read_catalog
from gateway.booking.catalogue.slots import GenerateReport, generate_slots
from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound, SlotFull
from gateway.booking.domain.persons import check_not_blocked
from gateway.booking.domain.phones import to_e164
from gateway.booking.models import Booking, Department, Event, Slot
from gateway.booking.operations import (
    blocks,
    challenges,
    checkin,
    claims,
    invitations,
    registration,
)
from gateway.booking.operations import book as bookings
from gateway.booking.operations import close_session as staff_sessions
from gateway.booking.operations import rebook as rebooking
from gateway.booking.operations.audit import record_staff_action
from gateway.booking.operations.sweep import SweepReport, sweep
from gateway.booking.sql import admission, capacity, holds
from gateway.booking.sql.citizens import lock_citizen, lock_row
from gateway.booking.sql.events import record
from gateway.booking.sql.uow import UnitOfWork
from gateway.booking.sql.vouchers import live_voucher
from gateway.booking.views import day_list as desk
from gateway.booking.views import readside
from gateway.clock import Clock
from gateway.db import read_only, session_factories
from gateway.settings import Settings
from tcode.keys import SigningKey

CHECK_IN_ATTEMPTS = 3  # a second attempt sees the change that beat the first


@dataclass(frozen=True)
class HoldInfo:
    id: int
    slot_id: int
    department_id: int
    hospital: str
    department: str
    starts_at: datetime  # hospital-local
    expires_at: datetime


@dataclass(frozen=True)
class Confirmation:
    ref: str
    created: bool
    tcode: str
    voucher_ref: str
    hospital_code: str
    hospital: str
    department: str
    sensitive: bool
    starts_at: datetime  # hospital-local
    status: str


class BookingService:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        clock: Clock,
        signing_key: SigningKey,
        read_engine: Engine | None = None,
    ):
        self.engine = engine
        self.read_engine = read_engine or read_only(engine)
        self.writer, self.reader = session_factories(engine, self.read_engine)
        self.catalogue = CatalogueCache(self.read_engine)
        self.settings, self.clock, self.signing_key = settings, clock, signing_key
        self.rules = settings.booking

    def phone(self, raw: str) -> str:
        return to_e164(raw, self.settings.default_region)

    # --- catalogue and slots ------------------------------------------------------------------

    def load_catalog(self, path: str | Path) -> LoadReport:
        cities = read_catalog(path)  # validated whole before anything is written
        with UnitOfWork(self.writer) as uow:
            report = load_catalog(uow.session, cities)
            bump_revision(uow.session, self.clock.now())
            uow.commit()
        self.catalogue.invalidate()
        return report

    def generate_slots(self, days: int) -> GenerateReport:
        with UnitOfWork(self.writer) as uow:
            report = generate_slots(uow.session, self.rules, self.clock.now(), days)
            uow.commit()
        return report

    # --- read side ----------------------------------------------------------------------------

    def cities(self) -> Sequence[Item]:
        return self.catalogue.get().cities

    def hospitals(self, city_id: int) -> Sequence[Item]:
        return self.catalogue.get().hospitals.get(city_id, ())

    def departments(self, hospital_id: int) -> Sequence[Item]:
        return self.catalogue.get().departments.get(hospital_id, ())

    def open_days(self, department_id: int) -> list[date]:
        dept = self.catalogue.department(department_id)
        with self.read_engine.connect() as conn:
            return readside.open_days(conn, self.rules, dept, self.clock.now())

    def free_slots(self, department_id: int, day: date) -> list[readside.FreeSlot]:
        dept = self.catalogue.department(department_id)
        with self.read_engine.connect() as conn:
            return readside.free_slots(conn, self.rules, dept, day, self.clock.now())

    def upcoming(self, phone: str) -> list[readside.UpcomingBooking]:
        with self.reader() as s:
            return readside.upcoming(s, self.phone(phone), self.clock.now())

    # --- operations ---------------------------------------------------------------------------

    def hold(self, phone: str, session_key: str, slot_id: int, channel: str = "ussd") -> HoldInfo:
        """Claim one remote place of the slot for the hold length, replacing the phone's old hold.

        Over a channel whose bookings are claims (voice), the per-person limits wait for the
        owner's confirmation, as the booking's do."""
        phone, now = self.phone(phone), self.clock.now()
        with self.read_engine.connect() as conn:
            seen = readside.fullness(conn, slot_id, phone, now)
        if seen.surely_full:  # no lock, no write: most of a flash crowd ends here
            tz = self.catalogue.department(seen.department_id).timezone
            raise SlotFull(next_times=[t.astimezone(tz) for t in seen.next_times])
        with self.engine.begin() as conn:
            citizen = lock_row(conn, phone, now)
            slot = admission.read(conn, citizen.id, phone, slot_id, now)
            dept = self.catalogue.department(slot.department_id)
            rules = self.rules.rules_for(dept.hospital_code)
            admission.admit(citizen, slot, dept, rules, now, not claims.is_claim(channel))
            old = slot.hold
            if old is not None and old.slot_id == slot_id and old.live(now):
                holds.renew(conn, old, session_key)  # same slot again (a retried hop)
                return _hold_info(old, slot.starts_at, dept)
            if (old is None or old.slot_id != slot_id) and slot.surely_full:
                raise SlotFull(next_times=readside.next_free_times(conn, slot_id, dept, now))
            if old is not None:
                if old.slot_id != slot_id:  # two slots change: lock them in id order
                    capacity.lock_in_order(conn, old.slot_id, slot_id)
                event = "hold.released" if old.live(now) else "hold.expired"
                holds.drop_hold(conn, old, now, event)
            if not holds.claim_or_reclaim(conn, slot_id, now):
                raise SlotFull(next_times=readside.next_free_times(conn, slot_id, dept, now))
            hold = holds.place_hold(
                conn, citizen.id, phone, session_key, slot_id, rules.hold_minutes, now
            )
        return _hold_info(hold, slot.starts_at, dept)

    def current_hold(self, phone: str) -> HoldInfo | None:
        """The phone's live hold, if any (expired ones count as gone)."""
        phone, now = self.phone(phone), self.clock.now()
        with self.read_engine.connect() as conn:
            found = readside.held(conn, phone)
        if found is None or not found[0].live(now):
            return None
        hold, starts_at, department_id = found
        return _hold_info(hold, starts_at, self.catalogue.department(department_id))

    def release_hold(self, phone: str) -> bool:
        phone, now = self.phone(phone), self.clock.now()
        with self.engine.begin() as conn:
            hold = holds.find_hold(conn, phone)
            return hold is not None and holds.drop_hold(conn, hold, now, "hold.released")

    def book(
        self, phone: str, slot_id: int, channel: str, idempotency_key: str | None = None
    ) -> Confirmation:
        """Book the slot (through the phone's hold when it has one) and issue the voucher."""
        phone, now = self.phone(phone), self.clock.now()
        with self.engine.begin() as conn:
            booked = bookings.book(
                conn,
                self.catalogue,
                self.rules,
                phone,
                slot_id,
                channel,
                idempotency_key,
                self.signing_key,
                now,
            )
        dept = booked.dept
        return Confirmation(
            ref=booked.ref,
            created=booked.created,
            tcode=booked.voucher.tcode,
            voucher_ref=booked.voucher.ref,
            hospital_code=dept.hospital_code,
            hospital=dept.hospital_name_gsm,
            department=dept.name_gsm,
            sensitive=dept.sensitive,
            starts_at=booked.starts_at.astimezone(dept.timezone),
            status=booked.status,
        )

    def cancel(
        self,
        ref: str,
        by: str,
        reason: str = "",
        phone: str | None = None,
        actor: str | None = None,
    ) -> Confirmation:
        """Cancel a booking: by "citizen" (from `phone`, before the deadline) or by "staff".

        `actor` names the staff member for the audit trail.
        """
        now = self.clock.now()
        phone = self.phone(phone) if phone else None
        with UnitOfWork(self.writer) as uow:
            booking = bookings.cancel(uow.session, self.rules, ref, by, reason, now, phone)
            if by == "staff":
                record_staff_action(uow.session, actor, "cancel", ref, reason, now)
            confirmation = _confirmation(booking, False)
            uow.commit()
        return confirmation

    def rebook(
        self,
        ref: str,
        slot_id: int,
        by: str,
        phone: str | None = None,
        actor: str | None = None,
    ) -> Confirmation:
        """Move a booking to another slot: same reference in the same hospital, else a new one.

        Citizens rebook from the owner's `phone` before the cancellation deadline, staff at
        any time; a full new slot raises SlotFull and leaves the booking as it was.
        """
        now = self.clock.now()
        phone = self.phone(phone) if phone else None
        with UnitOfWork(self.writer) as uow:
            booking, created = rebooking.rebook(
                uow.session, self.rules, ref, slot_id, by, self.signing_key, now, phone
            )
            if by == "staff":
                record_staff_action(uow.session, actor, "rebook", ref, f"to {booking.ref}", now)
            confirmation = _confirmation(booking, created)
            uow.commit()
        return confirmation

    def check_in(
        self, tcode: str, hospital_code: str, dry_run: bool = False, kiosk_id: int | None = None
    ) -> checkin.Ticket:
        """Check in (or only validate) a T-code at a hospital; raises CheckInRefused."""
        now = self.clock.now()
        for _ in range(CHECK_IN_ATTEMPTS):
            with self.read_engine.connect() as conn:
                seen = checkin.scan(conn, tcode)
            dept = self.catalogue.department(seen.department_id)
            ticket = checkin.validate(seen, dept, self.rules, hospital_code, now)
            if dry_run:
                return ticket
            try:
                with self.engine.begin() as conn:
                    return checkin.admit_scanned(conn, seen, dept, now, kiosk_id)
            except checkin.Changed:
                continue  # cancelled, rebooked or checked in meanwhile: decide on what is there now
        raise RuntimeError(f"check-in kept racing after {CHECK_IN_ATTEMPTS} attempts")

    def desk_check_in(self, ref: str, actor: str | None = None) -> checkin.Ticket:
        """Check booking `ref` in at the hospital desk (staff); raises CheckInRefused."""
        now = self.clock.now()
        with UnitOfWork(self.writer) as uow:
            ticket = checkin.desk_check_in(uow.session, ref, now, self.rules)
            record_staff_action(uow.session, actor, "check_in", ref, "", now)
            uow.commit()
        return ticket

    def release_expired_holds(self) -> int:
        with UnitOfWork(self.writer) as uow:
            count = holds.release_expired(uow.session, self.clock.now())
            uow.commit()
        return count

    def sweep(self) -> SweepReport:
        """Do what time alone changes (no-shows, expiries, unconfirmed voice bookings,
        walk-in return, slots ahead)."""
        return sweep(self.writer, self.rules, self.clock.now())

    def _national_id(self, raw: str) -> registration.NationalId:
        secrets = self.settings.secrets
        return registration.NationalId.from_raw(
            raw, secrets.id_hash_key, registration.old_keys(secrets.id_hash_old_keys)
        )

    def confirm_claims(self, phone: str, ref: str | None = None) -> list[Confirmation]:
        """The phone's owner (SMS reply or USSD: identities the network vouches for) keeps its
        unconfirmed voice bookings, or only `ref`; raises the per-person limit a kept one
        would pass (it then stays unconfirmed and is released as planned)."""
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            kept = claims.confirm(uow.session, self.rules, phone, now, ref)
            confirmations = [_confirmation(booking, False) for booking in kept]
            uow.commit()
        return confirmations

    # --- invitations --------------------------------------------------------------------------

    def invite(
        self,
        phone: str,
        hospital_code: str,
        department_code: str,
        by: str,
        offer: invitations.Offer,
    ) -> invitations.InvitationInfo:
        """Invite the phone's holder (staff `by`): a booked slot, or an open window of days."""
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            s = uow.session
            department = invitations.find_department(s, hospital_code, department_code)
            invitation = invitations.invite(
                s, self.rules, self.signing_key, phone, department, offer, by, now
            )
            record_staff_action(s, by, "invite", invitation.ref, "", now)
            info = invitations.info_of(invitation)
            uow.commit()
        return info

    def book_invitation(
        self, phone: str, ref: str, slot_id: int, channel: str = "ussd"
    ) -> Confirmation:
        """Book the citizen's open invitation `ref` on a slot of its department and window."""
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            booking, created = invitations.book_invitation(
                uow.session, self.rules, self.signing_key, phone, ref, slot_id, channel, now
            )
            confirmation = _confirmation(booking, created)
            uow.commit()
        return confirmation

    def withdraw_invitation(self, ref: str, by: str, reason: str) -> invitations.InvitationInfo:
        """Withdraw an open invitation (staff `by`)."""
        now = self.clock.now()
        with UnitOfWork(self.writer) as uow:
            invitation = invitations.withdraw(uow.session, ref, reason, now)
            record_staff_action(uow.session, by, "withdraw_invitation", ref, reason, now)
            info = invitations.info_of(invitation)
            uow.commit()
        return info

    def open_invitations(self, phone: str) -> list[invitations.InvitationInfo]:
        """The phone holder's invitations still waiting for a slot (the menus' appointments)."""
        with self.reader() as s:
            return invitations.open_invitations(s, self.phone(phone), self.clock.now())

    # --- citizens: blocks and real-name registration ------------------------------------------

    def unblock(self, phone: str, by: str, reason: str) -> None:
        """Lift the citizen's block (staff `by`); raises NotBlocked when there is none."""
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            blocks.lift(uow.session, lock_citizen(uow.session, phone, now), reason, now)
            record_staff_action(uow.session, by, "unblock", phone, reason, now)
            uow.commit()

    def register(self, phone: str, name: str, national_id: str) -> None:
        """Record the citizen's name and national ID (kept only as a keyed hash)."""
        phone, now = self.phone(phone), self.clock.now()
        clean = registration.clean_name(name)
        hashed = self._national_id(national_id)
        with UnitOfWork(self.writer) as uow:
            citizen = lock_citizen(uow.session, phone, now)
            registration.register(uow.session, citizen, clean, hashed, now)
            uow.commit()

    def reassign_id(self, phone: str, national_id: str, by: str, reason: str) -> None:
        """Move a national ID to this phone's holder, from whoever had it (staff `by`)."""
        phone, now = self.phone(phone), self.clock.now()
        hashed = self._national_id(national_id)
        with UnitOfWork(self.writer) as uow:
            citizen = lock_citizen(uow.session, phone, now)
            registration.reassign(uow.session, citizen, hashed, now)
            record_staff_action(uow.session, by, "reassign_id", phone, reason, now)
            uow.commit()

    # --- the hospital desk --------------------------------------------------------------------

    def close_session(
        self, hospital_code: str, department_code: str, day: date, reason: str, by: str
    ) -> staff_sessions.CloseReport:
        """Close a department's day (staff `by`): cancel its bookings, book no more."""
        now = self.clock.now()
        with UnitOfWork(self.writer) as uow:
            s = uow.session
            department = invitations.find_department(s, hospital_code, department_code)
            report = staff_sessions.close_session(s, department, day, reason, now)
            subject = f"{hospital_code}/{department_code}/{day.isoformat()}"
            record_staff_action(s, by, "close_session", subject, reason, now)
            uow.commit()
        return report

    def day_bookings(
        self, hospital_code: str, day: date, department_code: str | None = None
    ) -> list[desk.DeskBooking]:
        with self.reader() as s:
            return desk.day_bookings(s, hospital_code, day, department_code)

    def booking(self, ref: str) -> Confirmation:
        with self.reader() as s:
            found = (
                s.scalars(
                    select(Booking)
                    .where(Booking.ref == ref)
                    .options(
                        joinedload(Booking.slot)
                        .joinedload(Slot.department)
                        .joinedload(Department.hospital),
                        joinedload(Booking.vouchers),
                    )
                )
                .unique()
                .one_or_none()
            )
            if found is None:
                raise NotFound(what="booking")
            return _confirmation(found, False)

    def is_blocked(self, phone: str) -> None:
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            check_not_blocked(lock_citizen(uow.session, phone, now), now)
            uow.commit()

    # --- citizens' preferences and channel notices ---------------------------------------------

    def language(self, phone: str) -> str | None:
        return self.caller(phone)[0]

    def caller(self, phone: str) -> tuple[str | None, HoldInfo | None, bool]:
        """The language the phone's holder chose, their live hold and whether they ever booked
        (consented): a session's first hop."""
        phone, now = self.phone(phone), self.clock.now()
        with self.read_engine.connect() as conn:
            language, found, informed = readside.caller(conn, phone)
        if found is None or not found[0].live(now):
            return language, None, informed
        hold, starts_at, department_id = found
        info = _hold_info(hold, starts_at, self.catalogue.department(department_id))
        return language, info, informed

    def set_language(self, phone: str, language: str) -> None:
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            lock_citizen(uow.session, phone, now).language = language
            uow.commit()

    def set_reminders(self, phone: str, enabled: bool) -> None:
        """Switch the phone holder's reminders and notices on or off (SMS START / STOP)."""
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            lock_citizen(uow.session, phone, now).reminders_opt_out = not enabled
            uow.commit()

    def notice_dropped_session(self, phone: str, session_key: str) -> bool:
        """Write one `ussd.dropped` for a dropped session that holds a live slot; once per hold."""
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            s = uow.session
            hold = holds.find_hold(s, phone, lock=True)
            if hold is None or not hold.live(now):
                return False
            # Hold ids can be reused once deleted (SQLite), so the subject names its slot and start too.
            subject = f"{hold.id}:{hold.slot_id}@{hold.created_at.isoformat()}"
            already = s.scalar(
                select(exists().where(Event.type == "ussd.dropped", Event.subject_id == subject))
            )
            if already:
                return False
            slot = bookings.load_slot(s, hold.slot_id)
            info = _hold_info(hold, slot.starts_at, bookings.department_info(slot))
            record(
                s,
                "ussd.dropped",
                subject,
                now,
                phone=phone,
                session_key=session_key,
                slot_id=info.slot_id,
                hospital=info.hospital,
                department=info.department,
                starts_at=info.starts_at.isoformat(),
                expires_at=hold.expires_at.isoformat(),
            )
            uow.commit()
        return True

    def notice(self, type_: str, subject: str, **payload: object) -> None:
        """Write a channel's notice (e.g. `ivr.gave_up`) to the outbox."""
        with UnitOfWork(self.writer) as uow:
            record(uow.session, type_, subject, self.clock.now(), **payload)
            uow.commit()

    # --- phone challenges: a voice caller proves the phone with a code sent to it by SMS ------

    def send_phone_code(self, phone: str, language: str | None) -> None:
        """Send the phone a one-time code (its `phone.code` event); raise CodeLimit."""
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            challenges.send(
                uow.session, phone, language, self.settings.voice_proof, now, self._code_key()
            )
            uow.commit()

    def check_phone_code(self, phone: str, digits: str) -> str:
        """Check a keyed code against the phone's newest one: "passed", "wrong" or "spent"."""
        phone, now = self.phone(phone), self.clock.now()
        with UnitOfWork(self.writer) as uow:
            outcome = challenges.check(
                uow.session, phone, digits, self.settings.voice_proof, now, self._code_key()
            )
            uow.commit()
        return outcome

    def _code_key(self) -> bytes:
        return challenges.challenge_key(self.settings.secrets.secret_key, self.signing_key)


def _hold_info(hold: holds.HoldRow, starts_at: datetime, dept: DepartmentInfo) -> HoldInfo:
    return HoldInfo(
        id=hold.id,
        slot_id=hold.slot_id,
        department_id=dept.id,
        hospital=dept.hospital_name_gsm,
        department=dept.name_gsm,
        starts_at=starts_at.astimezone(dept.timezone),
        expires_at=hold.expires_at.astimezone(dept.timezone),
    )


def _confirmation(booking: Booking, created: bool) -> Confirmation:
    dept = booking.slot.department
    hospital = dept.hospital
    voucher = live_voucher(booking) or booking.vouchers[-1]
    return Confirmation(
        ref=booking.ref,
        created=created,
        tcode=voucher.tcode,
        voucher_ref=voucher.ref,
        hospital_code=hospital.code,
        hospital=hospital.name_gsm,
        department=dept.name_gsm,
        sensitive=dept.sensitive,
        starts_at=booking.slot.starts_at.astimezone(ZoneInfo(hospital.timezone)),
        status=booking.status,
    )
