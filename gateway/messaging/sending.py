"""Send one message: claim it, hand it to its provider, record what happened.

The claim is one conditional UPDATE (queued and due, or sending with an expired lease), so two
jobs for the same message never both send it. Between the claim and the record the message is
`sending` under a lease: a worker killed there leaves it to be claimed again once the lease
ends — a duplicate SMS is then possible only if the provider had already accepted it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.booking.uow import UnitOfWork
from gateway.messaging import reports, statuses
from gateway.messaging.models import Message
from gateway.messaging.providers import Permanent, Retryable, SendError

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    id: int
    to_phone: str
    body: str
    provider: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | failed | skipped
    attempts: int = 0
    retry_in: float | None = None


SKIPPED = Outcome("skipped")


def send(runtime: Runtime, message_id: int) -> Outcome:
    """Claim the message if it is due, send it, record the result (never raises a SendError)."""
    claim = _claim(runtime, message_id)
    if claim is None:
        return SKIPPED
    if claim.attempts > runtime.messaging.policy.max_attempts:
        return _failed(runtime, claim, Permanent("gave_up", f"after {claim.attempts - 1} attempts"))
    try:
        provider_id = runtime.messaging.router.get(claim.provider).send(claim.to_phone, claim.body)
    except Permanent as exc:
        return _failed(runtime, claim, exc)
    except Retryable as exc:
        return _retry(runtime, claim, exc)
    except Exception as exc:  # a bug or a missing setting: retry (bounded), never lose it
        log.exception("message %s: unexpected error from %s", claim.id, claim.provider)
        return _retry(runtime, claim, Retryable("internal_error", type(exc).__name__))
    return _sent(runtime, claim, provider_id)


def _claim(runtime: Runtime, message_id: int) -> Claim | None:
    now = runtime.clock.now()
    lease = timedelta(seconds=runtime.messaging.policy.lease_seconds)
    due = or_(
        and_(Message.status == statuses.QUEUED, Message.next_attempt_at <= now),
        and_(Message.status == statuses.SENDING, Message.lease_until < now),
    )
    with UnitOfWork(runtime.writer) as uow:
        row = uow.session.execute(
            update(Message)
            .where(Message.id == message_id, due)
            .values(
                status=statuses.SENDING,
                attempts=Message.attempts + 1,
                lease_until=now + lease,
                updated_at=now,
            )
            .returning(
                Message.id, Message.to_phone, Message.body, Message.provider, Message.attempts
            )
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if row is None:
            return None  # sent already, not due yet, or another worker holds it
        uow.commit()
    return Claim(*row)


def _sent(runtime: Runtime, claim: Claim, provider_id: str) -> Outcome:
    now = runtime.clock.now()
    values = {"provider_message_id": provider_id, "sent_at": now, "last_error": None}
    try:
        recorded = _finish(runtime, claim, statuses.SENT, values, now)
    except IntegrityError:  # the provider reused an id: keep the send, not the id
        log.error("message %s: provider id %s already recorded", claim.id, provider_id)
        values.update(provider_message_id=None, last_error=f"duplicate provider id {provider_id}")
        recorded = _finish(runtime, claim, statuses.SENT, values, now)
    if not recorded:
        log.warning(
            "message %s was sent after its lease ended; another attempt may also send it", claim.id
        )
    return Outcome(statuses.SENT, claim.attempts)


def _retry(runtime: Runtime, claim: Claim, error: Retryable) -> Outcome:
    policy = runtime.messaging.policy
    if claim.attempts >= policy.max_attempts:
        reason = f"{error} (gave up after {claim.attempts} attempts)"
        return _failed(runtime, claim, Permanent(error.reason, reason))
    now = runtime.clock.now()
    delay = policy.delay(claim.attempts, runtime.messaging.rng)
    values = {"next_attempt_at": now + timedelta(seconds=delay), "last_error": str(error)[:300]}
    _finish(runtime, claim, statuses.QUEUED, values, now)
    log.info("message %s: %s; attempt %d in %.0f s", claim.id, error, claim.attempts + 1, delay)
    return Outcome("retry", claim.attempts, retry_in=delay)


def _failed(runtime: Runtime, claim: Claim, error: SendError) -> Outcome:
    now = runtime.clock.now()
    with UnitOfWork(runtime.writer) as uow:
        if error.opt_out:
            reports.mark_opted_out(uow.session, claim.to_phone)
        _update(uow.session, claim, statuses.FAILED, {"last_error": str(error)[:300]}, now)
        uow.commit()
    log.warning("message %s failed: %s", claim.id, error)
    return Outcome(statuses.FAILED, claim.attempts)


def _finish(
    runtime: Runtime,
    claim: Claim,
    status: str,
    values: dict[str, object],
    now: datetime,
) -> bool:
    """Record the attempt's outcome; with a provider id, apply the reports that beat it here."""
    provider_id = str(values.get("provider_message_id") or "")
    with UnitOfWork(runtime.writer) as uow:
        if provider_id:
            reports.serialize(uow.session, claim.provider, provider_id)
        recorded = _update(uow.session, claim, status, values, now)
        if recorded and provider_id:
            reports.apply_pending(uow.session, claim.provider, provider_id, now)
        uow.commit()
    return recorded


def _update(
    session: Session, claim: Claim, status: str, values: dict[str, object], now: datetime
) -> bool:
    """Record the outcome, only if this attempt still holds the claim."""
    result = session.execute(
        update(Message)
        .where(
            Message.id == claim.id,
            Message.status == statuses.SENDING,
            Message.attempts == claim.attempts,
        )
        .values(status=status, lease_until=None, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
