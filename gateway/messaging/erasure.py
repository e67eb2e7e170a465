"""Erasure's messaging half (`ors citizens erase`), in the erasure's own transaction: every
message to the phone is redacted and readdressed to the stand-in, the queued ones refused so
a send job still in the queue finds nothing to send, early delivery reports of those messages
dropped, and inbound SMS set aside from the phone redacted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from gateway.db import rowcount
from gateway.messaging import statuses
from gateway.messaging.models import InboundFailure, Message, PendingReport
from gateway.messaging.retention import REDACTED, UNSENT


@dataclass(frozen=True)
class Forgotten:
    messages: int  # messages to the phone, all redacted
    refused: int  # of them, queued ones that will now never be sent
    dead_letters: int


def forget_phone(session: Session, phone: str, stand_in: str, now: datetime) -> Forgotten:
    """Erasure's messaging half, in the erasure's transaction: every message to `phone`
    redacted and addressed to `stand_in`, the queued ones refused; early delivery reports of
    those messages dropped; inbound SMS set aside from the phone redacted."""
    provider_ids = list(
        session.scalars(
            select(Message.provider_message_id).where(
                Message.to_phone == phone, Message.provider_message_id.is_not(None)
            )
        )
    )
    refused = session.execute(
        update(Message)
        .where(Message.to_phone == phone, Message.status.in_(UNSENT))
        .values(status=statuses.REFUSED, last_error="refused: erased", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    redacted = session.execute(
        update(Message)
        .where(Message.to_phone == phone)
        .values(
            to_phone=stand_in,
            body=REDACTED,
            last_error=func.replace(Message.last_error, phone, stand_in),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if provider_ids:
        session.execute(
            delete(PendingReport).where(PendingReport.provider_message_id.in_(provider_ids))
        )
    letters = session.execute(
        update(InboundFailure)
        .where(InboundFailure.phone == phone)
        .values(phone=stand_in, text=REDACTED)
        .execution_options(synchronize_session=False)
    )
    return Forgotten(
        rowcount(redacted),
        rowcount(refused),
        rowcount(letters),
    )
