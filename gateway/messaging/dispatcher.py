"""The embedded mode's job queue: the send job, one message at a time, in a background thread.

Jobs wait in time-ordered heaps, one for urgent jobs (one-time codes) and one for the rest;
one thread runs each when it is due, an urgent job that is due before any other. Nothing here survives
the process, and nothing needs to: the messages table is the record, and the periodic
requeue_stale enqueues again whatever a restart dropped.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)


class ThreadDispatcher:
    def __init__(self) -> None:
        self._urgent: list[tuple[float, int, int]] = []
        self._heap: list[tuple[float, int, int]] = []
        self._waiting: Counter[int] = Counter()  # message id -> jobs waiting in the heap
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._busy = False

    # --- the JobQueue protocol ----------------------------------------------------------------

    def enqueue(self, message_ids: Sequence[int], urgent: bool = False) -> bool:
        # One job per id: the embedded mode sends little, and a per-id job is what lets a
        # message already waiting be recognised (batches buy throughput, which RQ needs).
        with self._cond:
            for message_id in message_ids:
                if urgent or not self._waiting[message_id]:  # else a job is already waiting
                    self._push(message_id, 0.0, urgent)
        return True

    def enqueue_in(
        self, message_id: int, seconds: float, attempt: int, urgent: bool = False
    ) -> bool:
        with self._cond:
            self._push(message_id, seconds, urgent)
        return True

    # --- running ------------------------------------------------------------------------------

    def start(self, handler: Callable[[int], object], stop: threading.Event | None = None) -> None:
        """Run `handler(message_id)` for each job as it falls due, in a daemon thread."""
        if stop is not None:
            self._stop = stop
        self._thread = threading.Thread(
            target=self._loop, args=(handler,), name="ors-sms-dispatcher", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def pending(self) -> int:
        with self._cond:
            return len(self._urgent) + len(self._heap) + int(self._busy)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job is due now or running (jobs scheduled later do not count)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy or self._due(time.monotonic()) is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def _push(self, message_id: int, seconds: float, urgent: bool = False) -> None:
        """Add a job (the caller holds the lock)."""
        due = time.monotonic() + max(0.0, seconds)
        self._waiting[message_id] += 1
        heapq.heappush(self._urgent if urgent else self._heap, (due, next(self._order), message_id))
        self._cond.notify_all()

    def _due(self, now: float) -> list[tuple[float, int, int]] | None:
        """The heap whose first job is due now, the urgent one first (the caller holds the lock)."""
        return next(
            (heap for heap in (self._urgent, self._heap) if heap and heap[0][0] <= now), None
        )

    def _next(self) -> int | None:
        with self._cond:
            while not self._stop.is_set():
                now = time.monotonic()
                if (heap := self._due(now)) is not None:
                    _, _, message_id = heapq.heappop(heap)
                    self._waiting[message_id] -= 1
                    if self._waiting[message_id] <= 0:
                        del self._waiting[message_id]
                    self._busy = True
                    return message_id
                firsts = [heap[0][0] for heap in (self._urgent, self._heap) if heap]
                wait = min(firsts) - now if firsts else 0.5
                self._cond.wait(min(wait, 0.5))
        return None

    def _loop(self, handler: Callable[[int], object]) -> None:
        while (message_id := self._next()) is not None:
            try:
                handler(message_id)
            except Exception:  # keep the thread alive; the sweep re-enqueues the message
                log.exception("sending message %s failed", message_id)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
