"""The outbox relay: un-relayed events become Message rows, then send jobs (one per batch).

Rows first, jobs after the commit (the transactional outbox): a crash between the two leaves
messages `queued`, which requeue_stale finds again; a crash before the commit leaves the events
un-relayed, and UNIQUE(event_id, template) makes sure a second pass never doubles a message.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.booking.models import Event
from gateway.booking.uow import UnitOfWork
from gateway.messaging import statuses
from gateway.messaging.composers import COMPOSERS, Context, Draft
from gateway.messaging.models import Message
from gateway.messaging.providers.router import ProviderRouter

if TYPE_CHECKING:
    from gateway.runtime import Runtime

# event type -> the messages it sends (composer names). Later issues add rows here.
# `session.closed` needs no row: it cancels each booking with a `booking.cancelled` by staff,
# whose notice carries the reason.
TEMPLATES_BY_EVENT: dict[str, tuple[str, ...]] = {
    "booking.confirmed": ("voucher",),
    "booking.cancelled": ("cancellation",),
    "booking.rebooked": ("rebooked",),
    "booking.reminder": ("reminder",),
    "invitation.issued": ("invitation",),
    "invitation.booked": ("voucher",),
    "invitation.expired": ("invitation_expired",),
    "ussd.dropped": ("dial_back",),
    "ivr.gave_up": ("ivr_retry",),
    "sms.reply": ("reply",),
}
log = logging.getLogger(__name__)


def relay_once(runtime: Runtime, limit: int = 200) -> int:
    """Relay up to `limit` events in one transaction, then enqueue their messages.

    Returns how many events were relayed (one that fails to compose stays for the next round).
    """
    now = runtime.clock.now()
    ctx = Context(runtime.settings, runtime.messaging.texts)
    router = runtime.messaging.router
    with UnitOfWork(runtime.writer) as uow:
        session = uow.session
        events = list(session.scalars(_unrelayed(session, limit)))
        messages: list[Message] = []
        for event in events:
            messages += _relay_event(session, event, ctx, router, now)
        relayed = sum(1 for event in events if event.relayed_at is not None)
        session.flush()
        message_ids = [m.id for m in messages]
        uow.commit()
    if message_ids:
        # In batches; if the queue is down, what it missed stays queued for requeue_stale.
        runtime.messaging.jobs.enqueue(message_ids)
    return relayed


def relay_all(runtime: Runtime, batch: int = 200) -> int:
    """Relay until no event is left (a backlog after downtime goes out in batches)."""
    total = 0
    while (done := relay_once(runtime, batch)) > 0:
        total += done
        if done < batch:
            break
    return total


def _unrelayed(session: Session, limit: int) -> Select[tuple[Event]]:
    query = select(Event).where(Event.relayed_at.is_(None)).order_by(Event.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Several workers relay at once; each takes rows the others have not locked.
        query = query.with_for_update(skip_locked=True)
    return query


def _relay_event(
    session: Session, event: Event, ctx: Context, router: ProviderRouter, now: datetime
) -> list[Message]:
    """Add the event's messages and mark it relayed; on a bug, log and leave it for later."""
    try:
        with session.begin_nested():
            made = []
            for name in TEMPLATES_BY_EVENT.get(event.type, ()):
                draft = COMPOSERS[name](session, event, ctx)
                if draft is None or _exists(session, event.id, draft.template):
                    continue
                made.append(_message(event, draft, router.name_for(draft.to_phone), now))
            session.add_all(made)
            event.relayed_at = now
    except Exception:  # one bad event must not hold up every message behind it
        log.exception("could not relay event %s (%s); it stays un-relayed", event.id, event.type)
        return []
    return made


def _exists(session: Session, event_id: int, template: str) -> bool:
    query = select(Message.id).where(Message.event_id == event_id, Message.template == template)
    return session.scalar(query) is not None


def _message(event: Event, draft: Draft, provider: str, now: datetime) -> Message:
    return Message(
        event_id=event.id,
        template=draft.template,
        language=draft.language,
        to_phone=draft.to_phone,
        body=draft.body,
        provider=provider,
        status=statuses.QUEUED,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
