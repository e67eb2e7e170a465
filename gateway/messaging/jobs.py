"""The send job: what RQ (or the embedded dispatcher) runs for one message id.

RQ imports `send_message` by name, so this module builds nothing at import time; a worker
binds its runtime once (`bind`), and a bare `rq worker` builds one from the settings on first
use, after it has forked.
"""

from __future__ import annotations

import logging
import threading
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


def deliver(runtime: Runtime, message_id: int) -> str:
    """Send the message and, after a temporary failure, schedule its next attempt."""
    outcome = sending.send(runtime, message_id)
    if outcome.retry_in is not None:
        # If this fails too (Redis down), requeue_stale picks the message up when it is due.
        runtime.messaging.jobs.enqueue_in(message_id, outcome.retry_in, outcome.attempts)
    return outcome.status


def _current() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            from gateway.runtime import build_runtime
            from gateway.settings import load_settings

            _runtime = build_runtime(load_settings())
        return _runtime
