"""The circuit breaker of one process: after the database could not answer in time, callers
are answered at once for a short cool-down instead of each waiting for the deadline.

Closed, calls go through. One call that timed out, or that could not reach the database in
time (connect or pool timeout, refused connection), opens it. Open, calls are refused until
the cool-down has passed; then one probe goes through (half-open) while the others are still
refused. The probe's success closes the breaker, its failure opens it for another cool-down.
So once the fault ends, the next call after at most one cool-down finds the database again,
with nobody resetting anything.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from sqlalchemy import exc as sa_exc

from gateway.clock import Clock

COOL_DOWN = timedelta(seconds=2)
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
# What libpq and psycopg say when a connection is refused or its connect timeout expires.
_UNREACHABLE = re.compile(r"connection refused|timeout expired", re.IGNORECASE)


@dataclass(frozen=True)
class Admission:
    """A call let through; `probe`: the one call that tests whether the fault is over."""

    probe: bool


class CircuitBreaker:
    """Thread-safe; the cool-down is measured on `clock` (tests move it instead of sleeping)."""

    def __init__(self, clock: Clock, cool_down: timedelta = COOL_DOWN):
        self.clock, self.cool_down = clock, cool_down
        self._lock = threading.Lock()
        self._state = CLOSED
        self._opened_at: datetime | None = None

    @property
    def state(self) -> str:
        return self._state

    def admit(self) -> Admission | None:
        """Let a call through (its outcome must be reported), or None: answer it at once."""
        with self._lock:
            if self._state == CLOSED:
                return Admission(probe=False)
            if self._state == OPEN and self._cooled_down():
                self._state = HALF_OPEN
                return Admission(probe=True)
            return None

    def succeeded(self, admission: Admission) -> None:
        """The database answered the call. Only the probe closes an open breaker: a call let
        through before the fault may well finish after it without saying it is over."""
        with self._lock:
            if admission.probe and self._state == HALF_OPEN:
                self._state = CLOSED

    def failed(self) -> None:
        """A call timed out or could not reach the database: refuse calls for a cool-down."""
        with self._lock:
            self._state, self._opened_at = OPEN, self.clock.now()

    def _cooled_down(self) -> bool:
        assert self._opened_at is not None
        elapsed = self.clock.now() - self._opened_at
        # A wall clock stepped back would otherwise keep the breaker open for as long.
        return not timedelta(0) <= elapsed < self.cool_down


def is_outage(error: BaseException) -> bool:
    """True when `error` means the database cannot be reached in time, as opposed to a
    database that answered with an error (a constraint, a statement or lock timeout). Redis
    errors are no outage here: its client gives up within a second on its own."""
    for link in _causes(error):
        if isinstance(link, sa_exc.TimeoutError):
            return True  # no pooled connection came free in time
        if isinstance(link, psycopg.errors.ConnectionTimeout):
            return True
        if isinstance(link, psycopg.OperationalError) and _UNREACHABLE.search(str(link)):
            return True
    return False


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what SQLAlchemy wrapped (`orig`), and what each was raised from."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        orig = getattr(link, "orig", None)
        link = orig if isinstance(orig, BaseException) else link.__cause__
