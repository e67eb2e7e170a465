"""Send a batch of messages: claim the due ones at once, hand each to its provider, record all.

The claim (claims.py) is one conditional UPDATE for the batch, and the record (recording.py)
one transaction, so a batch of 50 costs two transactions instead of 150; a single message is
a batch of one. Claimed messages are `sending` under a lease until recorded: a worker killed
in between loses none of them, and a duplicate SMS is possible only for a message the provider
had already accepted. Results are written at least every `record_every` seconds, which bounds
those duplicates when the provider is slow. Sends start only within the policy's send window
after the claim; the rest of the batch is released unattempted, so no send can still be
running when the lease ends and another worker takes the message over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.messaging import statuses
from gateway.messaging.claims import Claim, claim
from gateway.messaging.providers import Permanent, Retryable, SendError
from gateway.messaging.recording import Result, record

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)
RETRY, SKIPPED, RELEASED = "retry", "skipped", "released"


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | failed | skipped | released
    attempts: int = 0
    retry_in: float | None = None
    urgent: bool = False  # a one-time code: retried and released on the urgent queue


def send(runtime: Runtime, message_id: int) -> Outcome:
    """Send one message if it is due (never raises a SendError)."""
    return send_batch(runtime, [message_id]).get(message_id, Outcome(SKIPPED))


def send_batch(runtime: Runtime, message_ids: Sequence[int]) -> dict[int, Outcome]:
    """Send the due messages among `message_ids`; the others are left out of the result."""
    policy = runtime.messaging.policy
    started = last_write = time.monotonic()
    outcomes: dict[int, Outcome] = {}
    results: list[Result] = []
    for i, taken in enumerate(claim(runtime, message_ids)):
        # The first send always starts, or a batch with a short lease would never move.
        in_window = i == 0 or time.monotonic() - started < policy.send_window
        results.append(_attempt(runtime, taken) if in_window else _released(taken))
        if time.monotonic() - last_write >= policy.record_every:
            outcomes |= _write(runtime, results)
            results, last_write = [], time.monotonic()
    return outcomes | _write(runtime, results)


def _write(runtime: Runtime, results: list[Result]) -> dict[int, Outcome]:
    held = record(runtime, results) if results else {}
    for result in results:
        _log(result, held[result.claim.id])
    return {r.claim.id: _outcome(r) for r in results}


def _attempt(runtime: Runtime, claim: Claim) -> Result:
    if claim.attempts > runtime.messaging.policy.max_attempts:
        return _failed(claim, Permanent("gave_up", f"after {claim.attempts - 1} attempts"))
    try:
        provider_id = runtime.messaging.router.get(claim.provider).send(claim.to_phone, claim.body)
    except Permanent as exc:
        return _failed(claim, exc)
    except Retryable as exc:
        return _retry(runtime, claim, exc)
    except Exception as exc:  # a bug or a missing setting: retry (bounded), never lose it
        log.exception("message %s: unexpected error from %s", claim.id, claim.provider)
        return _retry(runtime, claim, Retryable("internal_error", type(exc).__name__))
    return Result(claim, statuses.SENT, provider_id=provider_id)


def _retry(runtime: Runtime, claim: Claim, error: Retryable) -> Result:
    policy = runtime.messaging.policy
    if claim.attempts >= policy.max_attempts:
        reason = f"{error} (gave up after {claim.attempts} attempts)"
        return _failed(claim, Permanent(error.reason, reason))
    delay = policy.delay(claim.attempts, runtime.messaging.rng)
    return Result(claim, statuses.QUEUED, error=str(error)[:300], retry_in=delay)


def _failed(claim: Claim, error: SendError) -> Result:
    return Result(claim, statuses.FAILED, error=str(error)[:300], opt_out=error.opt_out)


def _released(claim: Claim) -> Result:
    return Result(claim, statuses.QUEUED, released=True)


def _outcome(result: Result) -> Outcome:
    attempts, urgent = result.claim.attempts, result.claim.urgent
    if result.released:
        return Outcome(RELEASED, attempts - 1, urgent=urgent)
    if result.retry_in is not None:
        return Outcome(RETRY, attempts, retry_in=result.retry_in, urgent=urgent)
    return Outcome(result.status, attempts, urgent=urgent)


def _log(result: Result, held: bool) -> None:
    mid = result.claim.id
    if result.status == statuses.SENT and not held:
        log.warning(
            "message %s was sent after its lease ended; another attempt may also send it", mid
        )
    elif result.status == statuses.FAILED:
        log.warning("message %s failed: %s", mid, result.error)
    elif result.released:
        log.info("message %s: the batch ran short of lease before its turn; released", mid)
    elif result.retry_in is not None:
        next_attempt = result.claim.attempts + 1
        log.info(
            "message %s: %s; attempt %d in %.0f s", mid, result.error, next_attempt, result.retry_in
        )
