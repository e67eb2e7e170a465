"""The read side of outbound messages, for operators (`ors outbox`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.messaging.models import Message


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    to: str
    body: str
    status: str
    template: str
    language: str
    provider: str
    provider_message_id: str | None
    provider_status: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def recent(
    reader: sessionmaker[Session], phone: str | None = None, limit: int = 50
) -> list[OutboxEntry]:
    """The newest messages first, of one phone (E.164) or of everyone."""
    query = select(Message).order_by(Message.id.desc()).limit(limit)
    if phone:
        query = query.where(Message.to_phone == phone)
    with reader() as session:
        return [_entry(m) for m in session.scalars(query)]


def _entry(m: Message) -> OutboxEntry:
    return OutboxEntry(
        id=m.id,
        to=m.to_phone,
        body=m.body,
        status=m.status,
        template=m.template,
        language=m.language,
        provider=m.provider,
        provider_message_id=m.provider_message_id,
        provider_status=m.provider_status,
        attempts=m.attempts,
        last_error=m.last_error,
        created_at=m.created_at,
        sent_at=m.sent_at,
        delivered_at=m.delivered_at,
    )
