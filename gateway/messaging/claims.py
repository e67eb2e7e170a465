"""Claim messages for sending: one conditional UPDATE for a whole batch of ids.

A message is due when it is queued and its time has come, or when it is `sending` under a
lease that has ended (its worker died). The UPDATE takes only due rows, so a message claimed by
another worker is skipped, and two jobs for the same message never both send it. Between the
claim and the record a message is `sending` under a lease: a worker killed there leaves it to
be claimed again once the lease ends (requeue_stale enqueues it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, update

from gateway.booking.sql.uow import UnitOfWork
from gateway.messaging import statuses
from gateway.messaging.models import Message
from gateway.messaging.redaction import URGENT_TEMPLATES

if TYPE_CHECKING:
    from gateway.runtime import Runtime


@dataclass(frozen=True)
class Claim:
    id: int
    to_phone: str
    body: str
    provider: str
    attempts: int  # this attempt's number; the record is written only if it still matches
    template: str = ""

    @property
    def urgent(self) -> bool:
        """A one-time code: its retries and releases go to the urgent queue too."""
        return self.template in URGENT_TEMPLATES


def claim(runtime: Runtime, message_ids: Sequence[int]) -> list[Claim]:
    """Claim the due messages among `message_ids`, in id order (the others are skipped)."""
    if not message_ids:
        return []
    now = runtime.clock.now()
    lease = timedelta(seconds=runtime.messaging.policy.lease_seconds)
    due = or_(
        and_(Message.status == statuses.QUEUED, Message.next_attempt_at <= now),
        and_(Message.status == statuses.SENDING, Message.lease_until < now),
    )
    with UnitOfWork(runtime.writer) as uow:
        rows = uow.session.execute(
            update(Message)
            .where(Message.id.in_(sorted(set(message_ids))), due)
            .values(
                status=statuses.SENDING,
                attempts=Message.attempts + 1,
                lease_until=now + lease,
                updated_at=now,
            )
            .returning(
                Message.id,
                Message.to_phone,
                Message.body,
                Message.provider,
                Message.attempts,
                Message.template,
            )
            .execution_options(synchronize_session=False)
        ).all()
        uow.commit()
    return sorted((Claim(*row) for row in rows), key=lambda c: c.id)
