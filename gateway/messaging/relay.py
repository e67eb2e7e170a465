"""The outbox relay: un-relayed events become Message rows, then send jobs (one per batch).

Rows first, jobs after the commit (the transactional outbox): a crash between the two leaves
messages `queued`, which requeue_stale finds again; a crash before the commit leaves the events
un-relayed, and UNIQUE(event_id, template) makes sure a second pass never doubles a message.

Every draft passes recipients.refusal first, the one place that decides who may get an SMS: a
refused one is kept with the terminal status `refused` and never enqueued. One-time codes
(`phone.code`) are relayed before any other event, and enqueued on the urgent queue.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.booking.models import Event
from gateway.booking.uow import UnitOfWork
from gateway.messaging import recipients, statuses
from gateway.messaging.composers import COMPOSERS, Context, Draft
from gateway.messaging.models import Message
from gateway.messaging.providers.router import ProviderRouter
from gateway.messaging.redaction import (
    SECRET_TEMPLATES,
    URGENT_TEMPLATES,
    redact,
    relayed_payload,
)

if TYPE_CHECKING:
    from gateway.runtime import Runtime

# event type -> the messages it sends (composer names). Later issues add rows here.
# `session.closed` needs no row: it cancels each booking with a `booking.cancelled` by staff,
# whose notice carries the reason.
TEMPLATES_BY_EVENT: dict[str, tuple[str, ...]] = {
    "booking.confirmed": ("voucher", "claim"),
    "booking.cancelled": ("cancellation",),
    "booking.rebooked": ("rebooked",),
    "booking.reminder": ("reminder",),
    "invitation.issued": ("invitation",),
    "invitation.booked": ("voucher",),
    "invitation.expired": ("invitation_expired",),
    "ussd.dropped": ("dial_back",),
    "ivr.gave_up": ("ivr_retry",),
    "sms.reply": ("reply",),
    "phone.code": ("phone_code",),
}
URGENT_EVENTS = ("phone.code",)  # relayed ahead of the rest, their messages sent first
REFUSED_PREFIX = "refused: "
log = logging.getLogger(__name__)


def relay_once(runtime: Runtime, limit: int = 200, only_urgent: bool = False) -> int:
    """Relay up to `limit` events in one transaction (one-time codes first), then enqueue
    their messages.

    Returns how many events were relayed (one that fails to compose stays for the next round).
    """
    now = runtime.clock.now()
    ctx = Context(runtime.settings, runtime.messaging.texts)
    router = runtime.messaging.router
    with UnitOfWork(runtime.writer) as uow:
        session = uow.session
        events = list(session.scalars(_unrelayed(session, limit, urgent=True)))
        if not only_urgent and len(events) < limit:
            events += session.scalars(_unrelayed(session, limit - len(events), urgent=False))
        messages: list[Message] = []
        for event in events:
            messages += _relay_event(session, event, ctx, router, now)
        relayed = sum(1 for event in events if event.relayed_at is not None)
        session.flush()
        to_send = [m for m in messages if m.status == statuses.QUEUED]
        urgent = [m.id for m in to_send if m.template in URGENT_TEMPLATES]
        normal = [m.id for m in to_send if m.template not in URGENT_TEMPLATES]
        refused = [m.last_error or "" for m in messages if m.status == statuses.REFUSED]
        uow.commit()
    for reason in refused:
        recipients.count(reason.removeprefix(REFUSED_PREFIX))
    # In batches; if the queue is down, what it missed stays queued for requeue_stale.
    if urgent:
        runtime.messaging.jobs.enqueue(urgent, urgent=True)
    if normal:
        runtime.messaging.jobs.enqueue(normal)
    return relayed


def relay_urgent(runtime: Runtime) -> int:
    """Relay the waiting one-time codes only: a frequent round of its own, so a caller waiting
    on the line never waits behind a backlog or the other sweeps. A read comes first, so an
    idle round takes no write lock (SQLite has one for the whole file)."""
    with runtime.reader() as session:
        waiting = session.scalar(
            select(Event.id)
            .where(Event.relayed_at.is_(None), Event.type.in_(URGENT_EVENTS))
            .limit(1)
        )
    return relay_once(runtime, only_urgent=True) if waiting is not None else 0


def relay_all(runtime: Runtime, batch: int = 200) -> int:
    """Relay until no event is left (a backlog after downtime goes out in batches)."""
    total = 0
    while (done := relay_once(runtime, batch)) > 0:
        total += done
        if done < batch:
            break
    return total


def _unrelayed(session: Session, limit: int, urgent: bool) -> Select[tuple[Event]]:
    kind = Event.type.in_(URGENT_EVENTS) if urgent else Event.type.not_in(URGENT_EVENTS)
    query = select(Event).where(Event.relayed_at.is_(None), kind).order_by(Event.id).limit(limit)
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
                message = _message(event, draft, router.name_for(draft.to_phone), now)
                refused = recipients.refusal(
                    session, ctx.settings, draft.to_phone, draft.template, now
                )
                if refused is not None:
                    _refuse(message, refused)
                session.add(message)
                made.append(message)
            event.relayed_at = now
            if (cleaned := relayed_payload(event.type, event.payload)) is not None:
                event.payload = cleaned  # the one-time code lives on in the message only
    except Exception:  # one bad event must not hold up every message behind it
        log.exception("could not relay event %s (%s); it stays un-relayed", event.id, event.type)
        return []
    return made


def _refuse(message: Message, reason: str) -> None:
    message.status, message.last_error = statuses.REFUSED, f"{REFUSED_PREFIX}{reason}"
    if message.template in SECRET_TEMPLATES:
        message.body = redact(message.body)


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
