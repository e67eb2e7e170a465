"""The SMS a person's phone was sent about some bookings and invitations, with their delivery
states: what the console's person page lists for one hospital.

A message knows its phone and the event it was made from; the event's subject is the
booking's (or invitation's) reference. Reading by phone first keeps to the messages' phone
index, and the references keep out what the phone was told about other hospitals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.booking.domain.persons import has_phone
from gateway.booking.models import Citizen, Event
from gateway.messaging.models import Message

# The events whose subject is a booking's reference, and those whose subject is an
# invitation's (gateway.booking.domain.events).
ABOUT_BOOKING, ABOUT_INVITATION = "booking.%", "invitation.%"


@dataclass(frozen=True)
class SentMessage:
    template: str  # what it said: voucher, reminder, cancellation … (composers.COMPOSERS)
    about: str  # the booking's or invitation's reference
    status: str  # gateway.messaging.statuses
    created_at: datetime  # UTC
    sent_at: datetime | None
    delivered_at: datetime | None


def messages_about(
    session: Session,
    person_id: int,
    booking_refs: Iterable[str],
    invitation_refs: Iterable[str] = (),
) -> list[SentMessage]:
    """The messages to the person's phone about the bookings or invitations, newest first;
    [] for a person without a phone."""
    phone = session.scalar(select(Citizen.phone).where(Citizen.id == person_id))
    bookings, invitations = list(booking_refs), list(invitation_refs)
    if phone is None or not has_phone(phone) or not (bookings or invitations):
        return []
    query = (
        select(Message, Event.subject_id)
        .join(Event, Event.id == Message.event_id)
        .where(
            Message.to_phone == phone,
            or_(
                Event.type.like(ABOUT_BOOKING) & Event.subject_id.in_(bookings),
                Event.type.like(ABOUT_INVITATION) & Event.subject_id.in_(invitations),
            ),
        )
        .order_by(Message.id.desc())
    )
    return [
        SentMessage(m.template, about, m.status, m.created_at, m.sent_at, m.delivered_at)
        for m, about in session.execute(query)
    ]
