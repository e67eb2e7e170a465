"""One delivery of an inbound SMS, start to end: claim its id, run the command, mark it done.

The id is marked handled only after the command has committed and its reply is queued (the
gate, inbound.py). When the command fails (the database is away in the middle of a CANCEL),
the claim is released and the provider is answered 500, so that a provider that retries
delivers the SMS again and the command runs again (Twilio retries only when its webhook URL
asks for it, see channels/twilio/sms.py; Africa's Talking documents no retry policy for it,
README, Reliability). After `dead_letter_after` failures of one id the SMS is set aside as an
InboundFailure row (a dead letter, `ors outbox dead`) and answered 200, so the provider stops.
A crash between the commit and the mark leaves only the short processing marker: once it
ends, the next delivery is handled again, once. Running a command twice is safe: CANCEL of a
booking already cancelled answers that the code is no longer active, and writes nothing.

Neither adapter catches anything itself (security review #14: both used to answer 200 on any
failure, and the SMS was lost).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from gateway.booking.domain.errors import InvalidPhone
from gateway.booking.sql.uow import UnitOfWork
from gateway.messaging.commands import SILENT, Answer, Inbound, queue_reply, receive
from gateway.messaging.failures import describe
from gateway.messaging.inbound import BUSY, DONE, failure_ref
from gateway.messaging.models import InboundFailure
from gateway.metrics import DEAD_LETTERS

if TYPE_CHECKING:
    from gateway.runtime import Runtime

OK, RETRY_LATER, BUSY_NOW = 200, 500, 503
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Handled:
    status: int  # for the provider: 200 done (or dropped), 500/503 deliver it again
    answer: Answer = SILENT  # the answer to give in the webhook's own response, if any


def take(runtime: Runtime, inbound: Inbound, in_band: bool) -> Handled:
    """Handle one delivery. `in_band`: the provider carries the answer in the webhook's
    response (Twilio's TwiML); otherwise it goes through the outbox (Africa's Talking)."""
    gate = runtime.messaging.inbound
    claim = gate.claim(inbound.provider, inbound.message_id)
    if claim == DONE:
        log.info("inbound SMS %s seen before: dropped", inbound.message_id)
        return Handled(OK)
    if claim == BUSY:  # a delivery of it is running now; if that one fails, this retry counts
        log.info("inbound SMS %s is being handled: the provider retries later", inbound.message_id)
        return Handled(BUSY_NOW)
    try:
        answer = _run(runtime, inbound, in_band)
    except Exception as exc:
        return _failed(runtime, inbound, exc)
    gate.done(inbound.provider, inbound.message_id)
    return Handled(OK, answer if in_band else SILENT)


def _run(runtime: Runtime, inbound: Inbound, in_band: bool) -> Answer:
    try:
        received = receive(runtime, inbound)
    except InvalidPhone:  # a sender id like "Safaricom": no retry will make it a phone
        log.info("inbound SMS %s is not from a phone number: ignored", inbound.message_id)
        return SILENT
    if received is None:  # over the phone's rate limit
        return SILENT
    phone, answer = received
    if answer.body and not in_band:
        queue_reply(runtime, inbound, phone, answer)
    return answer


def _failed(runtime: Runtime, inbound: Inbound, exc: Exception) -> Handled:
    gate, limit = runtime.messaging.inbound, runtime.settings.dead_letter_after
    failures = gate.release(inbound.provider, inbound.message_id)
    ref = failure_ref()
    log.error(
        "inbound SMS failed (ref %s), %d of %d times: %s",
        ref,
        failures,
        limit,
        describe(exc),
        exc_info=exc,
    )
    if failures < limit:
        return Handled(RETRY_LATER)
    try:
        park(runtime, inbound, failures, describe(exc))
    except Exception as parking:  # nowhere to keep it: say so, and still stop the retries
        log.error(
            "inbound SMS %s (ref %s) could not be set aside, and is lost: %s",
            inbound.message_id,
            ref,
            describe(parking),
        )
    else:
        DEAD_LETTERS.labels("sms").inc()
        log.error("inbound SMS %s (ref %s) set aside as a dead letter", inbound.message_id, ref)
    gate.done(inbound.provider, inbound.message_id)
    return Handled(OK)


def park(runtime: Runtime, inbound: Inbound, attempts: int, error: str) -> None:
    """Keep the SMS as a dead letter (again, if it was parked and retried before)."""
    now = runtime.clock.now()
    with UnitOfWork(runtime.writer) as uow:
        row = uow.session.scalar(
            select(InboundFailure).where(
                InboundFailure.provider == inbound.provider,
                InboundFailure.provider_message_id == inbound.message_id,
            )
        )
        if row is None:
            row = InboundFailure(provider=inbound.provider, provider_message_id=inbound.message_id)
            uow.session.add(row)
        row.phone, row.text = _phone(runtime, inbound.phone), inbound.text
        row.attempts, row.last_error, row.dead_at, row.retried_at = attempts, error, now, None
        uow.commit()


def _phone(runtime: Runtime, raw: str) -> str:
    try:
        return runtime.booking.phone(raw)
    except InvalidPhone:
        return raw[:20]
