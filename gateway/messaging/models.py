"""Tables of outbound messaging: one Message per (event, template), early delivery reports,
and the ledger of reminders already decided.

They share the booking core's `Base` (one metadata, one Alembic history) but live here, so
the booking core never knows that messages exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.booking.models import Base


class Message(Base):
    """One SMS to one phone, with its sending state and the provider's id once accepted."""

    __tablename__ = "messages"
    __table_args__ = (
        # A relay that runs twice over the same event can never make a second message.
        UniqueConstraint("event_id", "template"),
        Index("ix_messages_status_due", "status", "next_attempt_at"),
        Index("ix_messages_to_phone", "to_phone", "id"),
        Index("ix_messages_created_at", "created_at"),  # the retention sweep's scan
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    template: Mapped[str] = mapped_column(String(48))
    language: Mapped[str] = mapped_column(String(8))
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    provider_status: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class PendingReport(Base):
    """A delivery report that came before we recorded the provider's id; applied then."""

    __tablename__ = "pending_reports"
    __table_args__ = (Index("ix_pending_reports_lookup", "provider", "provider_message_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))
    provider_status: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(300))
    opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(index=True)


class InboundFailure(Base):
    """An inbound SMS whose command failed `dead_letter_after` times: set aside with its error
    (a dead letter) so provider retries stop, until staff retry it (`ors outbox retry`)."""

    __tablename__ = "inbound_failures"
    __table_args__ = (UniqueConstraint("provider", "provider_message_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(300))
    dead_at: Mapped[datetime]
    retried_at: Mapped[datetime | None]


class ReminderSent(Base):
    """One reminder of one booking at one slot, decided once (sent or superseded).

    The unique key is what makes the reminder round safe on several workers at once: only the
    round whose insert wins writes the reminder's event. The slot is part of the key, so a
    booking moved to another time gets reminders for its new time.
    """

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("booking_id", "slot_id", "offset_minutes"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    offset_minutes: Mapped[int] = mapped_column(Integer)
    # sent: its event was written; superseded: a later reminder was due too, only that one went.
    outcome: Mapped[str] = mapped_column(String(16))
    send_at: Mapped[datetime]
    created_at: Mapped[datetime]
