"""The staff audit trail: one StaffAction row per staff operation, in its transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert

from gateway.booking.models import StaffAction

UNKNOWN_ACTOR = "staff"
AUDIT_ACTOR_LENGTH = 64  # staff_actions.actor


def record_staff_action(
    db: Connection, actor: str | None, action: str, subject: object, reason: str, now: datetime
) -> None:
    """Add who did `action` to `subject`, and why, to the caller's transaction."""
    db.execute(
        insert(StaffAction.__table__).values(
            actor=(actor or UNKNOWN_ACTOR)[:AUDIT_ACTOR_LENGTH],
            action=action,
            subject=str(subject)[:64],
            reason=reason[:200],
            at=now,
        )
    )
