"""The embedded mode: the same send job in a background thread, the relay in another, as
the demo runs them; and the periodic sweeps that keep going when one round fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from gateway.clock import FixedClock
from gateway.demo import start_background
from gateway.messaging import statuses
from gateway.messaging.dispatcher import ThreadDispatcher
from gateway.messaging.providers.console import ConsoleProvider
from gateway.messaging.sweeper import Sweeper
from gateway.messaging.worker import start_embedded
from gateway.runtime import Runtime
from tests.messaging.conftest import POLICY, A, B, MakeRuntime, RunningClock, book, messages
from tests.messaging.fake_provider import AT, FakeProvider, reply


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()
    time.sleep(0.1)  # let the threads see it before the database goes away


def eventually(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def statuses_of(rt: Runtime) -> list[str]:
    return [m.status for m in messages(rt)]


def test_the_demo_relays_and_sends_in_the_background(
    make_runtime: MakeRuntime, stop: threading.Event
) -> None:
    rt = make_runtime("console")
    start_background(rt, stop)
    book(rt, phone=A)
    assert eventually(lambda: statuses_of(rt) == [statuses.SENT])
    console = rt.messaging.router.get("console")
    assert isinstance(console, ConsoleProvider)
    assert [m.to for m in console.sent] == [A]


def test_a_temporary_failure_is_retried_by_the_dispatcher(
    make_runtime: MakeRuntime, fake: FakeProvider, stop: threading.Event, clock: FixedClock
) -> None:
    quick = replace(POLICY, base_delay=0.2)  # the retry comes 0.1-0.2 s later
    rt = make_runtime(policy=quick, clock=RunningClock(clock.now()))
    fake.script(AT, reply(500, "down", "text/plain"))
    start_embedded(rt, stop, sweep_seconds=0.05)
    book(rt, phone=B)
    assert eventually(lambda: statuses_of(rt) == [statuses.SENT])
    (m,) = messages(rt)
    assert (m.attempts, len(fake.requests()), len(fake.accepted())) == (2, 2, 1)


def test_the_dispatcher_runs_jobs_when_they_fall_due() -> None:
    ran: list[int] = []
    dispatcher = ThreadDispatcher()
    dispatcher.enqueue_in(2, 0.2, attempt=1)
    dispatcher.enqueue([1])
    dispatcher.enqueue([1])  # already waiting: not doubled
    dispatcher.start(ran.append)
    try:
        assert eventually(lambda: ran == [1, 2], 5)
        assert dispatcher.wait_idle(1) and dispatcher.pending() == 0
    finally:
        dispatcher.stop()


def test_a_failing_sweep_round_does_not_stop_the_others() -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("database restarting")

    sweeper = Sweeper(
        [
            ("broken", 0, broken),
            ("relay", 0, lambda: ran.append("relay")),
            ("hourly", 3600, lambda: ran.append("hourly")),
        ],
        every=0.01,
    )
    sweeper.run_once()
    sweeper.run_once()
    assert ran == ["relay", "hourly", "relay"]


def test_the_worker_sweeps_relay_requeue_holds_and_the_booking_sweep(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    from gateway.messaging.sweeper import worker_rounds

    names = [name for name, _, _ in worker_rounds(rt)]
    assert names == [
        "relay",
        "requeue",
        "purge reports",
        "reminders",
        "retention",  # issue #16: data lifetime
        "expire holds",
        "booking sweep",
    ]
    book(rt)
    Sweeper(worker_rounds(rt), every=1).run_once()  # every round runs on a real database
    assert "failed" not in caplog.text
    assert statuses_of(rt) == [statuses.QUEUED]  # relayed; its job waits in the dispatcher
