"""Send a batch of messages: claim the due ones at once, hand each to its provider, record all.

The claim (claims.py) is one conditional UPDATE for the batch, and the record (recording.py)
one transaction, so a batch of 50 costs two transactions instead of 150; a single message is
a batch of one. Claimed messages are `sending` under a lease until recorded: a worker killed
in between loses none of them, and a duplicate SMS is possible only for a message the provider
had already accepted. Results are written at least every `record_every` seconds, which bounds
those duplicates when the provider is slow. Sends start only within the policy's send window
after the claim; the rest of the batch is released unattempted, so no send can still be
running when the lease ends and another worker takes the message over.

A message that cannot go is a dead letter: `failed`, with a last_error that starts with
DEAD_LETTER, once the provider's temporary errors outlast the policy's attempts, or once an
unexpected error (a bug, not a provider's answer) has come back `dead_letter_after` times.
`ors outbox dead` lists them and `ors outbox retry` puts one back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.messaging import statuses
from gateway.messaging.claims import Claim, claim
from gateway.messaging.failures import describe
from gateway.messaging.providers import Permanent, Retryable, SendError
from gateway.messaging.recording import Result, record
from gateway.metrics import DEAD_LETTERS

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)
RETRY, SKIPPED, RELEASED = "retry", "skipped", "released"
DEAD_LETTER = "dead letter: "  # how last_error of a message that was given up on starts
INTERNAL_ERROR = "internal_error"


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
    dead = sum(1 for r in results if held[r.claim.id] and r.error.startswith(DEAD_LETTER))
    if dead:
        DEAD_LETTERS.labels("message").inc(dead)
    return {r.claim.id: _outcome(r) for r in results}


def _attempt(runtime: Runtime, claim: Claim) -> Result:
    if claim.attempts > runtime.messaging.policy.max_attempts:
        return _dead(claim, f"gave_up: after {claim.attempts - 1} attempts")
    try:
        provider_id = runtime.messaging.router.get(claim.provider).send(claim.to_phone, claim.body)
    except Permanent as exc:
        return _failed(claim, exc)
    except Retryable as exc:
        return _retry(runtime, claim, exc)
    except Exception as exc:  # a bug or a missing setting: retry (bounded), never lose it
        log.exception("message %s: unexpected error from %s", claim.id, claim.provider)
        return _internal_error(runtime, claim, exc)
    return Result(claim, statuses.SENT, provider_id=provider_id)


def _internal_error(runtime: Runtime, claim: Claim, exc: Exception) -> Result:
    """Retry a bug like a provider's trouble, but only `dead_letter_after` times: a bug does
    not go away with backoff, and the message must not wait hours behind it.

    The bound counts every attempt of the message, whatever failed before (the row keeps no
    separate count of its internal errors): at worst a message gives up on a bug sooner.
    """
    error = Retryable(INTERNAL_ERROR, describe(exc))
    if claim.attempts >= runtime.settings.dead_letter_after:
        return _dead(claim, f"{error} (after {claim.attempts} attempts)")
    return _retry(runtime, claim, error)


def _retry(runtime: Runtime, claim: Claim, error: Retryable) -> Result:
    policy = runtime.messaging.policy
    if claim.attempts >= policy.max_attempts:
        return _dead(claim, f"{error} (gave up after {claim.attempts} attempts)")
    delay = policy.delay(claim.attempts, runtime.messaging.rng)
    return Result(claim, statuses.QUEUED, error=str(error)[:300], retry_in=delay)


def _dead(claim: Claim, reason: str) -> Result:
    return Result(claim, statuses.FAILED, error=f"{DEAD_LETTER}{reason}"[:300])


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
