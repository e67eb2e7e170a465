"""The staff audit trail: one StaffAction row per staff operation, in its transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gateway.booking.models import StaffAction

UNKNOWN_ACTOR = "staff"
AUDIT_ACTOR_LENGTH = 64  # staff_actions.actor


def record_staff_action(
    session: Session, actor: str | None, action: str, subject: object, reason: str, now: datetime
) -> StaffAction:
    """Add who did `action` to `subject`, and why, to the caller's transaction."""
    row = StaffAction(
        actor=(actor or UNKNOWN_ACTOR)[:AUDIT_ACTOR_LENGTH],
        action=action,
        subject=str(subject)[:64],
        reason=reason[:200],
        at=now,
    )
    session.add(row)
    return row
