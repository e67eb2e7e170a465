"""Write what a batch of send attempts came to, in one transaction when it can.

Each row is written only if its attempt still holds the claim (still `sending`, same attempt
number): an attempt that outlived its lease never overwrites the one that took over. Provider
ids are recorded under `reports.serialize`, and delivery reports that came before them are
applied in the same transaction. If the batch's transaction fails (a provider id recorded
already, a deadlock, an attempt that lost its claim), it is rolled back and each result is
written in a transaction of its own, so one bad row never costs the others their record.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from gateway.booking.sql.uow import UnitOfWork
from gateway.db import rowcount
from gateway.messaging import reports, statuses
from gateway.messaging.claims import Claim
from gateway.messaging.models import Message
from gateway.messaging.redaction import SECRET_TEMPLATES, redact

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """What one claimed message came to, before it is written."""

    claim: Claim
    status: str  # the message's next status: sent, queued (retry or released) or failed
    provider_id: str = ""
    error: str = ""  # for last_error
    retry_in: float | None = None  # seconds until the next attempt, for a retry
    opt_out: bool = False  # the recipient refuses our SMS
    released: bool = False  # never attempted (the batch ran short of lease): not counted

    def without_provider_id(self) -> Result:
        return replace(self, provider_id="", error=f"duplicate provider id {self.provider_id}")


def record(runtime: Runtime, results: Sequence[Result]) -> dict[int, bool]:
    """Write every result; return, per message id, whether its attempt still held the claim."""
    now = runtime.clock.now()
    if len(results) > 1:
        try:
            return _write(runtime, results, now)
        except (IntegrityError, OperationalError, _NotAllHeld) as exc:
            log.warning("recording %d sends together failed (%r); one by one", len(results), exc)
    return {r.claim.id: _write_alone(runtime, r, now) for r in results}


class _NotAllHeld(Exception):
    """An attempt of the batch lost its claim: only writing them one by one tells which."""


def _write_alone(runtime: Runtime, result: Result, now: datetime) -> bool:
    try:
        return _write(runtime, [result], now)[result.claim.id]
    except IntegrityError:
        if not result.provider_id:
            raise
        # The provider reused an id: keep the send, not the id.
        log.error(
            "message %s: provider id %s already recorded", result.claim.id, result.provider_id
        )
        return _write(runtime, [result.without_provider_id()], now)[result.claim.id]


def _write(runtime: Runtime, results: Sequence[Result], now: datetime) -> dict[int, bool]:
    accepted = [(r.claim.provider, r.provider_id) for r in results if r.provider_id]
    with UnitOfWork(runtime.writer) as uow:
        session = uow.session
        reports.serialize_many(session, accepted)
        for r in results:
            if r.opt_out:
                reports.mark_opted_out(session, r.claim.to_phone)
        held = _update(session, results, now) == len(results)
        if not held and len(results) > 1:
            raise _NotAllHeld(f"{len(results)} results")
        reports.apply_pending_many(session, accepted if held else [], now)
        uow.commit()
    return {r.claim.id: held for r in results}


_MESSAGES = Message.__table__
# Written only if this attempt still holds the claim; the SET clause is the parameters' keys.
_HELD = update(_MESSAGES).where(
    _MESSAGES.c.id == bindparam("claim_id"),
    _MESSAGES.c.status == statuses.SENDING,
    _MESSAGES.c.attempts == bindparam("claim_attempts"),
)


def _update(session: Session, results: Sequence[Result], now: datetime) -> int:
    """Write the outcomes whose attempt still holds its claim; return how many were written.

    One executemany per kind of outcome (the columns it sets), usually one for the batch.
    """
    kinds: dict[tuple[str, ...], list[dict[str, object]]] = defaultdict(list)
    for r in results:
        values = {"status": r.status, "lease_until": None, "updated_at": now, **_values(r, now)}
        row = {"claim_id": r.claim.id, "claim_attempts": r.claim.attempts, **values}
        kinds[tuple(sorted(values))].append(row)
    written = 0
    for rows in kinds.values():
        written += rowcount(session.execute(_HELD, rows))
    return written


def _values(result: Result, now: datetime) -> dict[str, object]:
    if result.status == statuses.SENT:
        return {
            "provider_message_id": result.provider_id or None,
            "sent_at": now,
            "last_error": result.error or None,
            **_redacted(result),
        }
    if result.released:
        return {"attempts": result.claim.attempts - 1}
    values: dict[str, object] = {"last_error": result.error[:300]}
    if result.retry_in is not None:
        values["next_attempt_at"] = now + timedelta(seconds=result.retry_in)
    else:
        values |= _redacted(result)  # failed for good: the code will never be sent
    return values


def _redacted(result: Result) -> dict[str, object]:
    """A one-time code leaves the outbox once no attempt will send it again."""
    if result.claim.template not in SECRET_TEMPLATES:
        return {}
    return {"body": redact(result.claim.body)}
