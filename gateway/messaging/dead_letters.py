"""Dead letters: what was set aside after failing too often, listed and put back by operators.

Three kinds, each named `kind:id` (`ors outbox dead`, `ors outbox retry event:57`):
- `event`: an outbox event the relay could not turn into messages (`events.dead_at`);
- `message`: an SMS whose sending gave up (`failed`, last_error starting with DEAD_LETTER);
- `sms`: an inbound SMS whose command kept failing (an InboundFailure row not yet retried).

Putting one back undoes the parking and nothing else: an event gets its attempts back and the
relay's next round takes it; a message is queued again, due now, and its send job enqueued; an
inbound SMS has its command run again now, its reply queued, and is marked retried.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from gateway.booking.models import Event
from gateway.booking.sql.uow import UnitOfWork
from gateway.messaging import statuses
from gateway.messaging.commands import Inbound, handle, parse, queue_reply
from gateway.messaging.failures import describe
from gateway.messaging.models import InboundFailure, Message
from gateway.messaging.redaction import SECRET_TEMPLATES, URGENT_TEMPLATES
from gateway.messaging.sending import DEAD_LETTER

if TYPE_CHECKING:
    from gateway.runtime import Runtime

KINDS = ("event", "message", "sms")


class NotRetried(ValueError):
    """Nothing was put back: the id names no dead letter, or it failed again; says which."""


@dataclass(frozen=True)
class DeadLetter:
    kind: str  # event | message | sms
    id: str  # `kind:number`, what `ors outbox retry` takes
    when: datetime  # when it was parked
    attempts: int
    error: str
    phone: str  # the citizen's, where known ("" otherwise)
    what: str  # the event type, the message template, or the inbound command's name

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def dead_letters(runtime: Runtime, limit: int = 100) -> list[DeadLetter]:
    """The dead letters of every kind, the most recently parked first."""
    with runtime.reader() as session:
        events = session.scalars(
            select(Event).where(Event.dead_at.is_not(None)).order_by(Event.id.desc()).limit(limit)
        )
        found = [_event(e) for e in events]
        messages = session.scalars(
            select(Message)
            .where(Message.status == statuses.FAILED, Message.last_error.startswith(DEAD_LETTER))
            .order_by(Message.id.desc())
            .limit(limit)
        )
        found += [_message(m) for m in messages]
        inbound = session.scalars(
            select(InboundFailure)
            .where(InboundFailure.retried_at.is_(None))
            .order_by(InboundFailure.id.desc())
            .limit(limit)
        )
        found += [_sms(f) for f in inbound]
    return sorted(found, key=lambda d: d.when, reverse=True)[:limit]


def retry(runtime: Runtime, ref: str) -> str:
    """Put the dead letter `ref` (`kind:number`) back; return what was done, in a few words.

    Raises NotRetried for an id that names none.
    """
    kind, number = parse_ref(ref)
    return {"event": _retry_event, "message": _retry_message, "sms": _retry_sms}[kind](
        runtime, number, ref
    )


def parse_ref(ref: str) -> tuple[str, int]:
    kind, _, number = ref.strip().partition(":")
    if kind not in KINDS or not number.isdigit():
        raise NotRetried(f"{ref!r}: expected event:N, message:N or sms:N")
    return kind, int(number)


# --- listing ----------------------------------------------------------------------------------


def _event(e: Event) -> DeadLetter:
    assert e.dead_at is not None
    phone = e.payload.get("phone") if isinstance(e.payload, dict) else None
    return DeadLetter(
        "event",
        f"event:{e.id}",
        e.dead_at,
        e.attempts,
        e.last_error or "",
        str(phone or ""),
        e.type,
    )


def _message(m: Message) -> DeadLetter:
    error = (m.last_error or "").removeprefix(DEAD_LETTER)
    return DeadLetter(
        "message", f"message:{m.id}", m.updated_at, m.attempts, error, m.to_phone, m.template
    )


def _sms(f: InboundFailure) -> DeadLetter:
    # The command's name, never the text: it may hold a T-code.
    what = f"{parse(f.text).name} ({f.provider})"
    return DeadLetter("sms", f"sms:{f.id}", f.dead_at, f.attempts, f.last_error, f.phone, what)


# --- putting back -----------------------------------------------------------------------------


def _retry_event(runtime: Runtime, event_id: int, ref: str) -> str:
    with UnitOfWork(runtime.writer) as uow:
        event = uow.session.get(Event, event_id, with_for_update=True)
        if event is None or event.dead_at is None:
            raise NotRetried(f"{ref}: no such dead event")
        event.attempts, event.dead_at = 0, None
        uow.commit()
    return f"{ref}: back in the outbox; the relay's next round takes it"


def _retry_message(runtime: Runtime, message_id: int, ref: str) -> str:
    now = runtime.clock.now()
    with UnitOfWork(runtime.writer) as uow:
        message = uow.session.get(Message, message_id, with_for_update=True)
        if message is None or not _is_dead(message):
            raise NotRetried(f"{ref}: no such dead message")
        if message.template in SECRET_TEMPLATES:  # its code is redacted, and long expired
            raise NotRetried(f"{ref}: a one-time code is never sent again")
        message.status, message.attempts, message.lease_until = statuses.QUEUED, 0, None
        message.next_attempt_at = message.updated_at = now
        urgent = message.template in URGENT_TEMPLATES
        uow.commit()
    # If the queue is down, requeue_stale finds the message queued and due.
    runtime.messaging.jobs.enqueue([message_id], urgent=urgent)
    return f"{ref}: queued again"


def _is_dead(message: Message) -> bool:
    return message.status == statuses.FAILED and (message.last_error or "").startswith(DEAD_LETTER)


def _retry_sms(runtime: Runtime, failure_id: int, ref: str) -> str:
    with runtime.reader() as session:
        row = session.get(InboundFailure, failure_id)
    if row is None or row.retried_at is not None:
        raise NotRetried(f"{ref}: no such dead inbound SMS")
    inbound = Inbound(row.provider, row.phone, row.text, row.provider_message_id)
    try:
        answer = handle(runtime, inbound)
        if answer.body:  # whatever the provider, the answer goes through the outbox now
            queue_reply(runtime, inbound, runtime.booking.phone(row.phone), answer)
    except Exception as exc:
        raise NotRetried(f"{ref}: failed again: {describe(exc)}") from exc
    with UnitOfWork(runtime.writer) as uow:
        uow.session.execute(
            update(InboundFailure)
            .where(InboundFailure.id == failure_id)
            .values(retried_at=runtime.clock.now())
            .execution_options(synchronize_session=False)
        )
        uow.commit()
    return f"{ref}: handled again" + ("; its answer is queued" if answer.body else "")
