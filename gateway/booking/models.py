"""Tables of the booking core: registries, slots, citizens, bookings, vouchers, holds, outbox,
invitations, the staff audit trail and the sweep's run marks.

Times are stored in UTC (UTCDateTime); `day` columns hold the hospital-local date so the
per-day rules and the menus' day lists need no time-zone arithmetic in SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as naive UTC; read them back as aware UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}
    if TYPE_CHECKING:
        # Every model maps one Table, so `Model.__table__` goes into insert/update/delete as is.
        __table__: ClassVar[Table]


# --- registries -------------------------------------------------------------------------------


# Names by language ({"sw": ...}): JSONB on PostgreSQL, which can compare rows holding them.
NAMES = JSON().with_variant(JSONB(), "postgresql")


class City(Base):
    __tablename__ = "cities"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_gsm: Mapped[str] = mapped_column(String(120))
    # The name in other languages, as written and GSM-7 transliterated ({"sw": ...}).
    names: Mapped[dict[str, str] | None] = mapped_column(NAMES)
    names_gsm: Mapped[dict[str, str] | None] = mapped_column(NAMES)
    hospitals: Mapped[list[Hospital]] = relationship(back_populates="city")


class Hospital(Base):
    __tablename__ = "hospitals"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    name_gsm: Mapped[str] = mapped_column(String(160))
    timezone: Mapped[str] = mapped_column(String(64))
    # The name in other languages, as written and GSM-7 transliterated ({"sw": ...}).
    names: Mapped[dict[str, str] | None] = mapped_column(NAMES)
    names_gsm: Mapped[dict[str, str] | None] = mapped_column(NAMES)
    # The short name SMS use (GSM-7), and in other languages; None: the name, shortened.
    sms_name: Mapped[str | None] = mapped_column(String(16))
    sms_names: Mapped[dict[str, str] | None] = mapped_column(NAMES)
    city: Mapped[City] = relationship(back_populates="hospitals")
    departments: Mapped[list[Department]] = relationship(back_populates="hospital")


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("hospital_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(160))
    name_gsm: Mapped[str] = mapped_column(String(160))
    room: Mapped[str | None] = mapped_column(String(120))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    # The name in other languages, as written and GSM-7 transliterated ({"sw": ...}).
    names: Mapped[dict[str, str] | None] = mapped_column(NAMES)
    names_gsm: Mapped[dict[str, str] | None] = mapped_column(NAMES)
    hospital: Mapped[Hospital] = relationship(back_populates="departments")


class CatalogueRevision(Base):
    """One row counting catalogue loads, so every process can tell its cached copy is old."""

    __tablename__ = "catalogue_revision"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    revision: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime]


class Doctor(Base):
    __tablename__ = "doctors"
    __table_args__ = (UniqueConstraint("hospital_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(160))
    name_gsm: Mapped[str] = mapped_column(String(160))


class Schedule(Base):
    """One weekly session template; a catalogue load replaces a department's set."""

    __tablename__ = "schedules"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute < end_minute AND end_minute <= 1440", name="span"),
        CheckConstraint("places > 0 AND slot_minutes > 0", name="positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"))
    weekday: Mapped[int] = mapped_column(Integer)  # Monday = 0, as datetime.weekday()
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    places: Mapped[int] = mapped_column(Integer)
    remote_share: Mapped[float | None] = mapped_column(Float)


class Slot(Base):
    """A materialised appointment time; `remote_taken` counts live holds plus remote bookings,
    `walk_in_taken` the desk's walk-ins (operations.walk_in), which use the places the remote
    share leaves and, once the remote places return to walk-in, the remote ones nobody took."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("department_id", "starts_at"),
        CheckConstraint("remote_taken >= 0", name="taken_not_negative"),
        CheckConstraint("remote_taken <= remote_capacity", name="no_oversell"),
        CheckConstraint("remote_capacity <= capacity", name="remote_within_capacity"),
        # The last guard of a walk-in racing a phone for the last place (migration 0011).
        CheckConstraint("walk_in_taken >= 0", name="walk_in_not_negative"),
        CheckConstraint("walk_in_taken + remote_taken <= capacity", name="within_capacity"),
        Index("ix_slots_department_day", "department_id", "day"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"))
    day: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    remote_capacity: Mapped[int] = mapped_column(Integer)
    remote_taken: Mapped[int] = mapped_column(Integer, default=0)
    walk_in_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set when staff close the session (doctor ill): slot generation then leaves it closed.
    closed_at: Mapped[datetime | None]
    department: Mapped[Department] = relationship()
    doctor: Mapped[Doctor | None] = relationship()


# --- people and bookings ----------------------------------------------------------------------


class Citizen(Base):
    """A person. A phone's holder ("Me") has guardian_id NULL; a dependant points at the
    holder and keeps the holder's phone in `phone`, the phone that reaches them (messages go
    to it, and everything found "by phone" finds the whole household). A person registered at
    the desk without any phone has a placeholder that is no phone (`-…`, never `+…`)."""

    __tablename__ = "citizens"
    __table_args__ = (
        Index(
            "uq_citizens_holder_phone",
            "phone",
            unique=True,
            sqlite_where=text("guardian_id IS NULL"),
            postgresql_where=text("guardian_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(160))
    # Real-name mode: a minor is known by name and birth year, an adult by national ID.
    birth_year: Mapped[int | None] = mapped_column(Integer)
    # Persons are never deleted (their strikes and blocks must outlive a new name): hidden.
    hidden_at: Mapped[datetime | None]
    # A dependant who moved to a phone of their own: the person who holds it now.
    moved_to: Mapped[int | None] = mapped_column(Integer)
    # On a holder: dependants ever added to the phone, hidden and moved ones included (the
    # lifetime cap), and 0 on a phone without dependants, whose bookings skip the household.
    persons_added: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    national_id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Which ORS_ID_HASH_KEY made the hash (8 hex of its SHA-256), so the key can rotate.
    national_id_key: Mapped[str | None] = mapped_column(String(8))
    national_id_last3: Mapped[str | None] = mapped_column(String(3))
    language: Mapped[str | None] = mapped_column(String(8))
    reminders_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None]
    blocked_until: Mapped[datetime | None]
    # No-shows and cancellations count toward a block only after this instant: a block, or
    # staff lifting one, wipes the slate so the same strikes never block twice.
    strikes_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Set when the person was erased or aged out (retention): phone, name and ID hash are gone.
    anonymised_at: Mapped[datetime | None]
    # A dependant's holder, whose language and STOP the phone's messages follow (messaging).
    guardian: Mapped[Citizen | None] = relationship(remote_side="Citizen.id")


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_citizen_day", "citizen_id", "day"),
        Index("ix_bookings_slot", "slot_id"),
        Index(
            "ix_bookings_unconfirmed_day",
            "day",
            postgresql_where=text("unconfirmed"),
            sqlite_where=text("unconfirmed"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    # Copied from the slot so the per-person rules are one indexed count.
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="booking")
    remote: Mapped[bool] = mapped_column(Boolean, default=True)
    # Scoped to the caller: channel, provider session and phone are all part of it, and it is
    # looked up together with the citizen, so a reused session id never finds another's booking.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    # A voice booking is a claim until the phone's owner confirms it (README, Security): until
    # then it counts toward no per-person limit or block, and the sweep releases it before the slot.
    unconfirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    checked_in_at: Mapped[datetime | None]
    no_show_at: Mapped[datetime | None]
    # A booking cancelled by a rebook to another hospital names its successor; such a
    # cancellation does not count toward the citizen's cancellation block. A reference, not a
    # foreign key: SQLite adds a foreign key only by rebuilding the table, which fails on a
    # populated `bookings` while the vouchers' foreign keys point at it.
    rebooked_to: Mapped[str | None] = mapped_column(String(16))
    queue_number: Mapped[int | None] = mapped_column(Integer)
    # The kiosk that checked the citizen in (NULL: the desk). No foreign key, as rebooked_to.
    checked_in_kiosk_id: Mapped[int | None] = mapped_column(Integer)
    citizen: Mapped[Citizen] = relationship()
    slot: Mapped[Slot] = relationship()
    vouchers: Mapped[list[Voucher]] = relationship(back_populates="booking", order_by="Voucher.id")


class Voucher(Base):
    """A T-code. Unique for ever (not only among live ones), so a scan is never ambiguous."""

    __tablename__ = "vouchers"
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    tcode: Mapped[str] = mapped_column(String(10), unique=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    key_id: Mapped[str] = mapped_column(String(8))
    # The signed QR payload (tcode/payload.py), made once at issue so a key rotation never
    # changes it.
    payload: Mapped[str] = mapped_column(String(160))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime | None]
    booking: Mapped[Booking] = relationship(back_populates="vouchers")


class VoucherImage(Base):
    """The voucher's QR as PNG, rendered once on first request and kept (never on a USSD hop)."""

    __tablename__ = "voucher_images"
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)


class Hold(Base):
    """A time-limited claim on one remote place; one per phone."""

    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    session_key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    slot: Mapped[Slot] = relationship()


class QueueCounter(Base):
    """Last queue number given per department and day, bumped atomically at check-in."""

    __tablename__ = "queue_counters"
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Kiosk(Base):
    __tablename__ = "kiosks"
    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]  # set: the key no longer works (`ors kiosk revoke`)
    hospital: Mapped[Hospital] = relationship()


class Invitation(Base):
    """Staff's offer (a "kallelse"): a booked slot, or a window of days the citizen books in."""

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint(
            "slot_id IS NOT NULL OR (window_from IS NOT NULL AND window_to IS NOT NULL"
            " AND window_from <= window_to)",
            name="slot_or_window",
        ),
        Index("ix_invitations_status_expires", "status", "expires_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"))
    window_from: Mapped[date | None] = mapped_column(Date)  # hospital-local days, inclusive
    window_to: Mapped[date | None] = mapped_column(Date)
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # open | booked | expired | cancelled
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    citizen: Mapped[Citizen] = relationship()
    department: Mapped[Department] = relationship()
    booking: Mapped[Booking | None] = relationship()


class PhoneChallenge(Base):
    """A one-time code sent by SMS to prove a voice caller holds the phone (caller ids can be
    forged). Only a keyed hash of the code is stored; the rows also count codes per hour/day."""

    __tablename__ = "phone_challenges"
    __table_args__ = (Index("ix_phone_challenges_phone_created", "phone", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(Integer, default=0)
    passed_at: Mapped[datetime | None]


class PersonMove(Base):
    """A dependant's move to a phone of their own, asked for by SMS from the guardian's phone
    and waiting for the new phone to send back the code (only its keyed hash is stored)."""

    __tablename__ = "person_moves"
    __table_args__ = (
        # One pending move per person: a new request cancels the old one first.
        Index(
            "uq_person_moves_pending",
            "person_id",
            unique=True,
            sqlite_where=text("done_at IS NULL AND cancelled_at IS NULL"),
            postgresql_where=text("done_at IS NULL AND cancelled_at IS NULL"),
        ),
        Index("ix_person_moves_guardian_created", "guardian_id", "created_at"),
        Index("ix_person_moves_new_phone_created", "new_phone", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"))
    new_phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))  # of the guardian's request
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class StaffAction(Base):
    """The audit trail: who on the staff did what to whom, why and when."""

    __tablename__ = "staff_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]


class SweepRun(Base):
    """When a periodic task last ran, so that several workers do a daily task only once."""

    __tablename__ = "sweep_runs"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run: Mapped[datetime]


class Event(Base):
    """The gateway's one outbox: every state change writes a row in its own transaction."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_unrelayed", "relayed_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(48))
    subject_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    relayed_at: Mapped[datetime | None]
    # Failed relay attempts; after `dead_letter_after` of them the event is parked (dead_at)
    # with its error, so it never holds up the events behind it (`ors outbox dead`).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(300))
    dead_at: Mapped[datetime | None]
