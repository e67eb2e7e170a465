"""Every USSD hop, IVR turn and kiosk call is answered within the hop deadline, whatever hangs.

A database that accepts connections and then never answers (a partition, a dead host that
sends no RST) blocks the driver in recv, where no statement_timeout can help. So the work of
each call runs on a small pool of this process, and the request thread waits for it only
until `timeouts.hop_deadline`, then answers the caller's apology. Gunicorn's few request
threads stay free, so /healthz still answers at once. Work that finishes later on its pool
thread commits nothing (gateway.booking.sql.deadline): the caller was told the truth.

A circuit breaker (gateway.web.breaker) spares callers the wait while the fault lasts. The
pool is bounded: when all its workers are still busy with abandoned work, a call waits for a
free one only until its deadline, so no queue grows behind a hung database.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import partial
from typing import TypeVar

from flask import Flask, current_app
from flask.sansio.app import App
from prometheus_client import Counter, Gauge

from gateway.booking.sql.deadline import LateCommit, commit_deadline, refuse_late_commits
from gateway.web.breaker import CLOSED, Admission, CircuitBreaker, is_outage
from kiosk import api as kiosk_api

T = TypeVar("T")
WORKERS = 16  # per process; far more than gunicorn's threads, so only abandoned work fills it
# With `seats` set (gunicorn's threads less one), a call that finds every seat taken waits up
# to SEAT_PATIENCE for one, then apologises: hops take milliseconds when the database answers,
# so a seat frees at once. When every seated call has waited longer than STUCK, the database
# is hanging: a call then apologises without waiting, so the last request thread is held for
# microseconds at a time and /healthz and /readyz always find it.
SEAT_PATIENCE_SECONDS = 0.1
COMMIT_MARGIN_SECONDS = 0.5
STUCK_SECONDS = 0.15
EXTENSION = "ors_hops"

APOLOGIES = Counter(
    "ors_hop_apologies_total",
    "Calls answered with an apology because their work could not be waited for",
    ["channel", "reason"],  # reason: breaker | saturated | deadline
)
BREAKER_OPEN = Gauge(
    "ors_hop_breaker_open",
    "1 while this process's database circuit breaker answers calls at once",
    multiprocess_mode="livemax",
)


class HopUnavailable(TimeoutError):
    """The call's work could not be waited for; `reason` says why (never personal data)."""

    def __init__(self, reason: str):
        super().__init__(f"hop not answered: {reason}")
        self.reason = reason


class HopGuard:
    """Run calls' work on a bounded pool within the deadline, behind the circuit breaker."""

    def __init__(
        self,
        deadline_seconds: float,
        breaker: CircuitBreaker,
        workers: int = WORKERS,
        seats: int | None = None,
    ):
        self.deadline_seconds, self.breaker = deadline_seconds, breaker
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ors-hop")
        self._free = threading.BoundedSemaphore(workers)
        # Request threads that may wait on calls at once (None: no limit, e.g. the test client).
        self._seats = Seats(seats) if seats else None

    def run(self, channel: str, work: Callable[[], T]) -> T:
        """Return `work()`, run on the pool in a copy of this thread's context (Flask's request,
        `g` and app work there); raise HopUnavailable when it cannot be waited for."""
        due = time.monotonic() + self.deadline_seconds
        seat: object | None = None
        try:
            if self._seats is not None:
                seat = self._seats.take()
                if seat is None:
                    raise HopUnavailable("busy")
            admission = self.breaker.admit()
            if admission is None:
                raise HopUnavailable("breaker")
            return self._within(due, work, admission)
        except HopUnavailable as unavailable:
            APOLOGIES.labels(channel, unavailable.reason).inc()
            raise
        finally:
            if seat is not None:
                assert self._seats is not None
                self._seats.give_back(seat)
            BREAKER_OPEN.set(0 if self.breaker.state == CLOSED else 1)

    def _within(self, due: float, work: Callable[[], T], admission: Admission) -> T:
        outage = False  # only a missed deadline or an outage error opens the breaker
        try:
            future = self._submit(due, work)
            done, _ = wait([future], timeout=_left(due))
            if not done:
                future.cancel()  # still queued: it never starts; running: it commits nothing
                raise HopUnavailable("deadline")
            return future.result()
        except HopUnavailable:
            outage = True
            raise
        except LateCommit:  # finished just as its caller stopped waiting: nothing was kept
            outage = True
            raise HopUnavailable("deadline") from None
        except Exception as error:
            outage = is_outage(error)  # any other error: the database did answer
            raise
        finally:
            if outage:
                self.breaker.failed()
            else:
                self.breaker.succeeded(admission)

    def _submit(self, due: float, work: Callable[[], T]) -> Future[T]:
        if not self._free.acquire(timeout=_left(due)):
            raise HopUnavailable("saturated")
        context = contextvars.copy_context()
        try:
            # Commits stop a little before the caller's answer is due, so a COMMIT under way when
            # the deadline passes has that margin to be acknowledged.
            cutoff = due - min(COMMIT_MARGIN_SECONDS, self.deadline_seconds / 10)
            future = self._pool.submit(context.run, _until, cutoff, work)
        except BaseException:
            self._free.release()
            raise
        future.add_done_callback(lambda _: self._free.release())
        return future


class Seats:
    """Request threads that may wait on calls at once, and since when each has waited."""

    def __init__(self, count: int):
        self.count = count
        self._since: dict[object, float] = {}
        self._changed = threading.Condition()

    def take(
        self, patience: float = SEAT_PATIENCE_SECONDS, stuck: float = STUCK_SECONDS
    ) -> object | None:
        """A seat, or None when none frees within `patience`, or at once when every seated
        call has waited longer than `stuck` (none is about to free its seat)."""
        give_up = time.monotonic() + patience
        with self._changed:
            while len(self._since) >= self.count:
                now = time.monotonic()
                if now >= give_up or now - max(self._since.values()) > stuck:
                    return None
                self._changed.wait(give_up - now)
            seat = object()
            self._since[seat] = time.monotonic()
            return seat

    def give_back(self, seat: object) -> None:
        with self._changed:
            del self._since[seat]
            self._changed.notify()


def _until(due: float, work: Callable[[], T]) -> T:
    with commit_deadline(due):
        return work()


def _left(due: float) -> float:
    return max(0.0, due - time.monotonic())


_installing = threading.Lock()


def install(app: App) -> HopGuard:
    """Give the app its guard, once: its write engine refuses late commits, and the kiosk API
    runs its calls under the same deadline and breaker (`kiosk.api.BOUND`)."""
    with _installing:
        guard: HopGuard | None = app.extensions.get(EXTENSION)
        if guard is None:
            runtime = app.extensions["ors"]
            refuse_late_commits(runtime.engine)
            breaker = CircuitBreaker(runtime.clock)
            settings = runtime.settings
            # Under gunicorn (`ors serve`), one request thread is kept from calls that may wait.
            seats = settings.web_threads - 1 if settings.web_threads > 1 else None
            guard = HopGuard(settings.timeouts.hop_deadline, breaker, seats=seats)
            app.extensions[EXTENSION] = guard
            app.extensions[kiosk_api.BOUND] = partial(guard.run, "kiosk")
    return guard


def bounded(channel: str, work: Callable[[], T]) -> T:
    """Run a request's database work under the current app's guard: its answer, or
    HopUnavailable when it cannot be waited for (callers answer 503, so providers retry)."""
    return guard(current_app).run(channel, work)


def guard(app: Flask) -> HopGuard:
    """The app's guard (installed when the hooks' blueprints were registered)."""
    found: HopGuard = app.extensions[EXTENSION]
    return found
