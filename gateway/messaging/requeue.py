"""Find messages that lost their job and enqueue them again.

Jobs live in Redis (or in a thread of the embedded process) and can be lost: Redis was down
when the relay enqueued, the process restarted, a worker was killed mid-send. The messages
table always knows, so a periodic sweep re-enqueues queued messages whose time has come (a
grace period after it, so a job that is merely slow is not doubled) and sending messages whose
lease has expired. A doubled job is harmless anyway: the claim lets only one send.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select

from gateway.messaging import statuses
from gateway.messaging.models import Message
from gateway.messaging.redaction import URGENT_TEMPLATES

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)


def requeue_stale(runtime: Runtime, limit: int = 500) -> int:
    """Enqueue again up to `limit` messages that should be moving and are not; return how many."""
    now = runtime.clock.now()
    overdue = now - timedelta(seconds=runtime.messaging.policy.requeue_grace)
    stale = or_(
        and_(Message.status == statuses.QUEUED, Message.next_attempt_at <= overdue),
        and_(Message.status == statuses.SENDING, Message.lease_until < now),
    )
    with runtime.reader() as session:
        rows = session.execute(
            select(Message.id, Message.template).where(stale).order_by(Message.id).limit(limit)
        ).all()
    urgent = [mid for mid, template in rows if template in URGENT_TEMPLATES]
    normal = [mid for mid, template in rows if template not in URGENT_TEMPLATES]
    # In batches, like the relay's; if the queue is still down, the next sweep tries again.
    jobs = runtime.messaging.jobs
    done = len(urgent) if urgent and jobs.enqueue(urgent, urgent=True) else 0
    done += len(normal) if normal and jobs.enqueue(normal) else 0
    if done:
        log.info("re-enqueued %d message(s) that had lost their job", done)
    return done
