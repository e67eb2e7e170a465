"""The outbox relay: un-relayed events become Message rows, then send jobs (one per batch).

Rows first, jobs after the commit (the transactional outbox): a crash between the two leaves
messages `queued`, which requeue_stale finds again; a crash before the commit leaves the events
un-relayed, and UNIQUE(event_id, template) makes sure a second pass never doubles a message.

Every draft passes recipients.refusal first, the one place that decides who may get an SMS: a
refused one is kept with the terminal status `refused` and never enqueued. One-time codes
(`phone.code`) are relayed before any other event, and enqueued on the urgent queue.

An event that fails (a composer bug, a value the database refuses) is rolled back alone, in its
savepoint; its failure is counted on the row (`attempts`, `last_error`) in the batch's own
transaction, and after `dead_letter_after` failures it is parked (`dead_at`): a dead letter that
`ors outbox dead` lists and `ors outbox retry` puts back. A round (`relay_all`) walks the
un-relayed events once, in id order, batch after batch, each batch starting after the last id
the previous one took. So a failing event costs one attempt per round and never hides the
events behind it, however many fail: 250 broken events ahead of a good one delay it by one
batch, not for ever (security review #7).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gateway.booking.models import Event
from gateway.booking.sql.uow import UnitOfWork
from gateway.messaging import recipients, statuses
from gateway.messaging.composers import COMPOSERS, Context, Draft
from gateway.messaging.failures import describe, is_transient
from gateway.messaging.models import Message
from gateway.messaging.providers.router import ProviderRouter
from gateway.messaging.redaction import (
    SECRET_TEMPLATES,
    URGENT_TEMPLATES,
    redact,
    relayed_payload,
)
from gateway.metrics import DEAD_LETTERS

if TYPE_CHECKING:
    from gateway.runtime import Runtime

# event type -> the messages it sends (composer names). Later issues add rows here. A type
# without a row is relayed with no message (e.g. `booking.no_show_undone`, `citizen.unblocked`).
# `session.closed` needs no row: it cancels each booking with a `booking.cancelled` by staff,
# whose notice carries the reason.
TEMPLATES_BY_EVENT: dict[str, tuple[str, ...]] = {
    "booking.confirmed": ("voucher", "claim"),
    "booking.cancelled": ("cancellation",),
    "booking.rebooked": ("rebooked",),
    "booking.reminder": ("reminder",),
    "invitation.issued": ("invitation",),
    "invitation.booked": ("voucher",),
    "voucher.resent": ("voucher",),  # the desk sends the same voucher SMS again
    "invitation.expired": ("invitation_expired",),
    "ussd.dropped": ("dial_back",),
    "ivr.gave_up": ("ivr_retry",),
    "sms.reply": ("reply",),
    "phone.code": ("phone_code",),
    "person.move_code": ("move_code",),
    "person.moved": ("moved_away", "moved_here"),
    "citizen.blocked": ("blocked",),
    "citizen.block_warned": ("block_warning",),
}
URGENT_EVENTS = ("phone.code",)  # relayed ahead of the rest, their messages sent first
REFUSED_PREFIX = "refused: "
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cursor:
    """How far a round has got: the last event id it took, of each kind."""

    urgent: int = 0
    normal: int = 0


START = Cursor()


@dataclass(frozen=True)
class Batch:
    relayed: int  # events marked relayed
    taken: int  # events looked at (relayed, failed or parked)
    parked: int  # events that failed for the last time and became dead letters
    cursor: Cursor  # where the next batch of the round starts


def relay_once(runtime: Runtime, limit: int = 200, only_urgent: bool = False) -> int:
    """Relay up to `limit` events in one transaction (one-time codes first), then enqueue
    their messages.

    Returns how many events were relayed (one that fails stays for the next round, until it
    has failed `dead_letter_after` times).
    """
    return relay_batch(runtime, limit, only_urgent).relayed


def relay_batch(
    runtime: Runtime, limit: int, only_urgent: bool = False, after: Cursor = START
) -> Batch:
    """Relay up to `limit` live events with ids after `after`, then enqueue their messages."""
    now = runtime.clock.now()
    ctx = Context(runtime.settings, runtime.messaging.texts)
    router = runtime.messaging.router
    dead_after = runtime.settings.dead_letter_after
    with UnitOfWork(runtime.writer) as uow:
        session = uow.session
        events = _take(session, limit, only_urgent, after)
        cursor = _advanced(after, events)
        messages: list[Message] = []
        failures: list[tuple[Event, Exception]] = []
        for event in events:
            made, failed = _relay_event(session, event, ctx, router, now)
            messages += made
            if failed is not None:
                failures.append((event, failed))
        # Counted after the loop, so the flush below writes them all at once (one UPDATE
        # each, as an executemany), not one by one as each next savepoint would.
        for event, exc in failures:
            if is_transient(exc):
                log.warning(
                    "event %s (%s) waits for the next round: %s",
                    event.id,
                    event.type,
                    describe(exc),
                )
        parked = sum(
            _count_failure(event, exc, now, dead_after)
            for event, exc in failures
            if not is_transient(exc)
        )
        relayed = sum(1 for event in events if event.relayed_at is not None)
        session.flush()
        to_send = [m for m in messages if m.status == statuses.QUEUED]
        urgent = [m.id for m in to_send if m.template in URGENT_TEMPLATES]
        normal = [m.id for m in to_send if m.template not in URGENT_TEMPLATES]
        refused = [m.last_error or "" for m in messages if m.status == statuses.REFUSED]
        uow.commit()
    if parked:
        DEAD_LETTERS.labels("event").inc(parked)
    for reason in refused:
        recipients.count(reason.removeprefix(REFUSED_PREFIX))
    # In batches; if the queue is down, what it missed stays queued for requeue_stale.
    if urgent:
        runtime.messaging.jobs.enqueue(urgent, urgent=True)
    if normal:
        runtime.messaging.jobs.enqueue(normal)
    return Batch(relayed, len(events), parked, cursor)


def relay_urgent(runtime: Runtime) -> int:
    """Relay the waiting one-time codes only: a frequent round of its own, so a caller waiting
    on the line never waits behind a backlog or the other sweeps. A read comes first, so an
    idle round takes no write lock (SQLite has one for the whole file)."""
    with runtime.reader() as session:
        waiting = session.scalar(
            select(Event.id)
            .where(
                Event.relayed_at.is_(None),
                Event.dead_at.is_(None),
                Event.type.in_(URGENT_EVENTS),
            )
            .limit(1)
        )
    return relay_once(runtime, only_urgent=True) if waiting is not None else 0


def relay_all(runtime: Runtime, batch: int = 200) -> int:
    """One round: every live un-relayed event at most once, in id order, batch after batch
    (a backlog after downtime goes out in batches). Returns how many were relayed."""
    total, cursor = 0, START
    while True:
        done = relay_batch(runtime, batch, after=cursor)
        total += done.relayed
        # A short batch means nothing was left after it (or the rest is another relay's,
        # locked on PostgreSQL): the round is over.
        if done.taken < batch:
            return total
        cursor = done.cursor


def _take(session: Session, limit: int, only_urgent: bool, after: Cursor) -> list[Event]:
    """Up to `limit` live un-relayed events after the cursor: one-time codes first."""
    events = list(session.scalars(_unrelayed(session, limit, True, after.urgent)))
    if not only_urgent and len(events) < limit:
        events += session.scalars(_unrelayed(session, limit - len(events), False, after.normal))
    return events


def _unrelayed(session: Session, limit: int, urgent: bool, after: int) -> Select[Event]:
    kind = Event.type.in_(URGENT_EVENTS) if urgent else Event.type.not_in(URGENT_EVENTS)
    query = (
        select(Event)
        .where(Event.relayed_at.is_(None), Event.dead_at.is_(None), Event.id > after, kind)
        .order_by(Event.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several workers relay at once; each takes rows the others have not locked.
        query = query.with_for_update(skip_locked=True)
    return query


def _advanced(cursor: Cursor, events: list[Event]) -> Cursor:
    urgent = [e.id for e in events if e.type in URGENT_EVENTS]
    normal = [e.id for e in events if e.type not in URGENT_EVENTS]
    return Cursor(max(urgent, default=cursor.urgent), max(normal, default=cursor.normal))


def _relay_event(
    session: Session, event: Event, ctx: Context, router: ProviderRouter, now: datetime
) -> tuple[list[Message], Exception | None]:
    """Add the event's messages and mark it relayed; on a failure, roll back this event alone
    and return the error (the caller counts it)."""
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
    except Exception as exc:  # one bad event must not hold up every message behind it
        return [], exc
    return made, None


def _count_failure(event: Event, exc: Exception, now: datetime, dead_after: int) -> int:
    """Count one failed attempt on the event (in the batch's transaction, after its savepoint
    was rolled back); park it once it has failed `dead_after` times. Returns 1 if parked."""
    event.attempts = (event.attempts or 0) + 1
    event.last_error = describe(exc)
    if event.attempts == 1:  # the traceback once; the later rounds add nothing to it
        log.error("could not relay event %s (%s)", event.id, event.type, exc_info=exc)
    if event.attempts < dead_after:
        log.warning(
            "event %s (%s) failed %d of %d times: %s",
            event.id,
            event.type,
            event.attempts,
            dead_after,
            event.last_error,
        )
        return 0
    event.dead_at = now
    if (cleaned := relayed_payload(event.type, event.payload)) is not None:
        event.payload = cleaned  # a one-time code must not outlive its chance to be sent
    log.error(
        "event %s (%s) parked as a dead letter after %d attempts: %s",
        event.id,
        event.type,
        event.attempts,
        event.last_error,
    )
    return 1


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
