"""The periodic sweeps, in a thread: relay the outbox, requeue lost jobs, reminders, expire holds,
and the data lifetime passes (retention).

Every round is independent and guarded: a failing round (database restarting) is logged and
tried again next time, and never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from gateway.messaging.relay import relay_all
from gateway.messaging.reminders import send_due_reminders
from gateway.messaging.reports import purge_pending
from gateway.messaging.requeue import requeue_stale
from gateway.messaging.retention import sweep_retention

if TYPE_CHECKING:
    from gateway.runtime import Runtime

Round = tuple[str, float, Callable[[], object]]  # name, every how many seconds, what to run
log = logging.getLogger(__name__)


def messaging_rounds(runtime: Runtime) -> list[Round]:
    return [
        ("relay", 0, lambda: relay_all(runtime)),
        ("requeue", 0, lambda: requeue_stale(runtime)),
        ("purge reports", 3600, lambda: purge_pending(runtime)),
        # Reminders are decided to the minute; the ledger makes a doubled round harmless.
        ("reminders", 30, lambda: send_due_reminders(runtime)),
        # Bounded batches from marks, so a backlog drains over several rounds and a round never
        # holds up the relay for long; several workers share the passes safely.
        ("retention", 60, lambda: sweep_retention(runtime)),
    ]


def worker_rounds(runtime: Runtime) -> list[Round]:
    """What `ors worker` sweeps: the messaging rounds, the expiry of holds every round, and
    the booking core's own sweep (no-shows, invitations, walk-in return, slots ahead)."""
    return [
        *messaging_rounds(runtime),
        ("expire holds", 0, runtime.booking.release_expired_holds),
        ("booking sweep", 30, runtime.booking.sweep),
    ]


class Sweeper:
    def __init__(self, rounds: list[Round], every: float, stop: threading.Event | None = None):
        self.rounds, self.every = rounds, every
        self.stop = stop or threading.Event()
        self._last: dict[str, float] = {}
        self.thread: threading.Thread | None = None

    def run_once(self) -> None:
        """Run every round that is due, each guarded on its own."""
        now = time.monotonic()
        for name, every, run in self.rounds:
            if every and now - self._last.get(name, -every) < every:
                continue
            self._last[name] = now
            try:
                run()
            except Exception:
                log.exception("sweep %r failed; it runs again next round", name)

    def start(self) -> threading.Thread:
        self.thread = threading.Thread(target=self._loop, name="ors-sweeper", daemon=True)
        self.thread.start()
        return self.thread

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.run_once()
            self.stop.wait(self.every)
