"""What messaging holds about one phone (`ors citizens export`): every message to it, with
its body as stored (redacted once `retention.message_bodies_days` have passed), and inbound
SMS from it set aside as dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.messaging.models import InboundFailure, Message

Row = dict[str, Any]


def held_about(session: Session, phone: str) -> dict[str, list[Row]]:
    messages = session.scalars(
        select(Message).where(Message.to_phone == phone).order_by(Message.id)
    )
    letters = session.scalars(
        select(InboundFailure).where(InboundFailure.phone == phone).order_by(InboundFailure.id)
    )
    return {
        "messages": [_message(m) for m in messages],
        "inbound_failures": [
            {"text": f.text, "dead_at": _iso(f.dead_at), "error": f.last_error} for f in letters
        ],
    }


def _message(m: Message) -> Row:
    return {
        "id": m.id,
        "template": m.template,
        "status": m.status,
        "body": m.body,
        "created_at": _iso(m.created_at),
        "sent_at": _iso(m.sent_at),
        "delivered_at": _iso(m.delivered_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
