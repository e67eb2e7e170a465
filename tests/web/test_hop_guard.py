"""The hop guard's parts on their own: the breaker's states, what counts as an outage, and a
pool that is full of abandoned work.

The hooks' behaviour under a hanging dependency is in tests/channels/test_hop_deadline.py and
tests/kiosk/test_kiosk_deadline.py; this file covers what those cannot provoke cheaply.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis
from sqlalchemy import exc as sa_exc

from gateway.clock import FixedClock
from gateway.web.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, is_outage
from gateway.web.hops import HopGuard, HopUnavailable, Seats
from tests.gates import Gate

START = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def wrapped(
    orig: BaseException, kind: type[sa_exc.DBAPIError] = sa_exc.OperationalError
) -> BaseException:
    """The error SQLAlchemy raises for a driver error, chained as it chains it."""
    error = kind("SELECT 1", {}, orig)
    error.__cause__ = orig
    return error


@pytest.mark.parametrize(
    ("label", "error", "outage"),
    [
        ("no pooled connection in time", sa_exc.TimeoutError("QueuePool limit"), True),
        (
            "connect timeout",
            wrapped(psycopg.errors.ConnectionTimeout("connection timeout expired")),
            True,
        ),
        (
            "connection refused",
            wrapped(
                psycopg.OperationalError(
                    'connection failed: connection to server at "127.0.0.1", port 5439 failed: '
                    "Connection refused\n\tIs the server running on that host?"
                )
            ),
            True,
        ),
        (
            "statement timeout: the server answered",
            wrapped(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")),
            False,
        ),
        (
            "a dropped connection (a restart), retried elsewhere",
            wrapped(psycopg.OperationalError("server closed the connection unexpectedly")),
            False,
        ),
        (
            "a constraint",
            wrapped(psycopg.errors.UniqueViolation("duplicate key"), sa_exc.IntegrityError),
            False,
        ),
        ("Redis refused: its client gives up on its own", redis.ConnectionError("refused"), False),
        ("a bug", RuntimeError("boom"), False),
    ],
)
def test_what_counts_as_an_outage(label: str, error: BaseException, outage: bool) -> None:
    assert is_outage(error) is outage, label


def test_a_refused_redis_connection_is_no_database_outage() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as refused:
            raise redis.ConnectionError("Error 111 connecting") from refused
    except redis.ConnectionError as error:
        assert not is_outage(error)


# --- the breaker, step by step ----------------------------------------------------------------

COOL = timedelta(seconds=2)
# (what happens, the state after it, whether a call is let through right after)
Step = tuple[str, str, bool]


def play(breaker: CircuitBreaker, clock: FixedClock, steps: list[Step]) -> None:
    admitted = None
    for action, state, lets_through in steps:
        if action == "fail":
            breaker.failed()
        elif action == "succeed" and admitted is not None:
            breaker.succeeded(admitted)
        elif action == "cool down":
            clock.advance(seconds=COOL.total_seconds())
        elif action == "clock steps back":
            clock.advance(hours=-1)
        if action in ("admit", "cool down", "clock steps back"):
            let_through = breaker.admit()
            assert (let_through is not None) is lets_through, (action, breaker.state)
            admitted = let_through or admitted  # "succeed" reports the last call let through
        assert breaker.state == state, (action, breaker.state)


@pytest.mark.parametrize(
    ("label", "steps"),
    [
        ("closed lets every call through", [("admit", CLOSED, True), ("admit", CLOSED, True)]),
        (
            "one failure opens it; it refuses during the cool-down",
            [("fail", OPEN, False), ("admit", OPEN, False), ("admit", OPEN, False)],
        ),
        (
            "after the cool-down one probe goes, the others wait for it",
            [
                ("fail", OPEN, False),
                ("cool down", HALF_OPEN, True),
                ("admit", HALF_OPEN, False),
                ("succeed", CLOSED, True),
                ("admit", CLOSED, True),
            ],
        ),
        (
            "a failed probe opens it for another cool-down",
            [
                ("fail", OPEN, False),
                ("cool down", HALF_OPEN, True),
                ("fail", OPEN, False),
                ("admit", OPEN, False),
                ("cool down", HALF_OPEN, True),
            ],
        ),
        (
            "a call let through before the fault cannot close it",
            [("admit", CLOSED, True), ("fail", OPEN, False), ("succeed", OPEN, False)],
        ),
        (
            "a wall clock stepped back does not keep it open",
            [("fail", OPEN, False), ("clock steps back", HALF_OPEN, True)],
        ),
    ],
)
def test_breaker_states(label: str, steps: list[Step]) -> None:
    clock = FixedClock(START)
    play(CircuitBreaker(clock, COOL), clock, steps)


# --- the guard ----------------------------------------------------------------------------


def test_the_work_runs_with_its_answer_and_errors_unchanged() -> None:
    guard = HopGuard(5, CircuitBreaker(FixedClock(START)))

    assert guard.run("ussd", lambda: threading.current_thread().name).startswith("ors-hop")

    def bug() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        guard.run("ussd", bug)
    assert guard.breaker.state == CLOSED  # a bug is no outage


def test_an_outage_error_opens_the_breaker() -> None:
    guard = HopGuard(5, CircuitBreaker(FixedClock(START)))

    def no_pooled_connection() -> None:
        raise sa_exc.TimeoutError("QueuePool limit of size 10 overflow 20 reached")

    with pytest.raises(sa_exc.TimeoutError):
        guard.run("ussd", no_pooled_connection)
    assert guard.breaker.state == OPEN
    with pytest.raises(HopUnavailable, match="breaker"):
        guard.run("ussd", lambda: "never run")


def test_a_full_pool_answers_at_the_deadline_without_queueing_the_work() -> None:
    guard = HopGuard(0.2, CircuitBreaker(FixedClock(START)), workers=1)
    gate, ran = Gate(), threading.Event()
    stuck = threading.Thread(target=lambda: _swallow(guard, gate.wrap(lambda: None)))
    stuck.start()
    # Wait (bounded) until the one worker is taken and the stuck call has given up on it.
    stuck.join(timeout=10)
    assert gate.entered == 1 and not stuck.is_alive()
    guard.breaker = CircuitBreaker(FixedClock(START))  # a closed breaker: only the pool is full

    with pytest.raises(HopUnavailable, match="saturated"):
        guard.run("kiosk", ran.set)

    assert gate.open_and_settle() == [None]
    assert not ran.is_set()  # the refused call's work was never queued behind the stuck one


def _swallow(guard: HopGuard, work: Callable[[], None]) -> None:
    with contextlib.suppress(HopUnavailable):
        guard.run("ussd", work)


def test_calls_never_take_the_request_thread_kept_for_liveness() -> None:
    """Under gunicorn, `seats` is its threads less one: while calls wait on a hung database,
    a further call apologises at once instead of taking the thread /healthz needs."""
    guard = HopGuard(5, CircuitBreaker(FixedClock(START)), seats=1)
    gate, ran = Gate(), threading.Event()
    waiting = threading.Thread(target=lambda: _swallow(guard, gate.wrap(lambda: None)))
    waiting.start()
    with gate.changed:  # bounded wait until the first call holds the one seat
        assert gate.changed.wait_for(lambda: gate.entered == 1, timeout=10)

    with pytest.raises(HopUnavailable, match="busy"):
        guard.run("ussd", ran.set)

    assert gate.open_and_settle() == [None]
    waiting.join(timeout=10)
    assert not ran.is_set()
    assert guard.run("ussd", lambda: "answered") == "answered"  # the seat is free again


def test_a_call_waits_briefly_for_a_seat_unless_the_seated_ones_are_stuck() -> None:
    seats = Seats(1)
    first = seats.take()
    assert first is not None
    # The seated call is fresh: the next one waits its patience, then gives up.
    assert seats.take(patience=0.05, stuck=60) is None
    # Every seated call has waited longer than `stuck`: no waiting at all.
    began = time.monotonic()
    assert seats.take(patience=60, stuck=0) is None
    assert time.monotonic() - began < 30  # returned without spending its 60 s patience
    freed = threading.Timer(0.01, seats.give_back, [first])
    freed.start()
    assert seats.take(patience=30, stuck=60) is not None  # a seat freed while it waited
    freed.join()


def test_a_seat_is_refused_at_once_only_when_every_seated_call_is_stuck() -> None:
    seats = Seats(2)
    older = seats.take()
    assert older is not None
    # One seated call is old and one is fresh: a seat may free soon, so the call waits.
    seats._since[older] -= 60
    fresh = seats.take()
    assert fresh is not None
    freed = threading.Timer(0.01, seats.give_back, [fresh])
    freed.start()
    assert seats.take(patience=30, stuck=1) is not None
    freed.join()
