"""The send jobs: what RQ (or the embedded dispatcher) runs for message ids.

`send_messages` takes a batch (what the relay and the sweeps enqueue); `send_message` one id
(retries, and jobs enqueued before batches existed). RQ imports them by name, so this module
builds nothing at import time; a worker binds its runtime once (`bind`), and a bare
`rq worker` builds one from the settings on first use, after it has forked.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gateway.messaging import sending

if TYPE_CHECKING:
    from gateway.runtime import Runtime

log = logging.getLogger(__name__)
_runtime: Runtime | None = None
_lock = threading.Lock()


def bind(runtime: Runtime | None) -> None:
    """Make `runtime` the one this process's jobs use (None unbinds)."""
    global _runtime
    with _lock:
        _runtime = runtime


def send_message(message_id: int) -> str:
    """RQ job: send one message (ids only; the state is re-read and claimed)."""
    return deliver(_current(), message_id)


def send_messages(message_ids: list[int]) -> dict[str, int]:
    """RQ job: send a batch of messages; returns how many came to what."""
    outcomes = deliver_batch(_current(), message_ids)
    return dict(Counter(o.status for o in outcomes.values()))


def deliver(runtime: Runtime, message_id: int) -> str:
    """Send one message and, after a temporary failure, schedule its next attempt."""
    outcome = deliver_batch(runtime, [message_id]).get(message_id)
    return outcome.status if outcome else sending.SKIPPED


def deliver_batch(runtime: Runtime, message_ids: Sequence[int]) -> dict[int, sending.Outcome]:
    """Send a batch, schedule each temporary failure's next attempt, enqueue what was released."""
    outcomes = sending.send_batch(runtime, message_ids)
    queue = runtime.messaging.jobs
    for message_id, outcome in outcomes.items():
        if outcome.retry_in is not None:
            # If this fails too (Redis down), requeue_stale picks the message up when it is due.
            queue.enqueue_in(message_id, outcome.retry_in, outcome.attempts, outcome.urgent)
    released = [mid for mid, o in outcomes.items() if o.status == sending.RELEASED]
    if urgent := [mid for mid in released if outcomes[mid].urgent]:
        queue.enqueue(urgent, urgent=True)
    if normal := [mid for mid in released if not outcomes[mid].urgent]:
        queue.enqueue(normal)
    return outcomes


def _current() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            from gateway.runtime import build_runtime
            from gateway.settings import load_settings

            _runtime = build_runtime(load_settings())
        return _runtime
