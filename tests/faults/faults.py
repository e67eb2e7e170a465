"""The faults, each injected for a bounded time while the callers walk.

Each function blocks for the fault's duration and returns its `Window` (monotonic times), so
the checks can tell which provider accepts happened while a sender could not record them.
"Stopped" switches the proxy to refusing first, so a connect is refused exactly as by a
stopped server; "hung" leaves TCP up and moves no byte, on new and existing connections.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.stack import Proc
from tests.faults.rig import Rig

SECONDS = 10.0  # how long each store fault lasts
PROVIDER_PHASES = (("error", 10.0), ("timeout", 10.0), ("throttle", 10.0))
KILLS = 2
BUSY_LIMIT = 30.0  # how long to wait for a worker in the middle of a batch


@dataclass
class Window:
    started: float
    ended: float = 0.0
    kills: list[float] = field(default_factory=list)  # when a worker was SIGKILLed
    database_out: bool = False  # senders could not record what the provider accepted

    def close(self) -> Window:
        self.ended = time.monotonic()
        return self


def hold(window: Window, seconds: float) -> None:
    """Keep the fault on until `seconds` after it began."""
    time.sleep(max(0.0, window.started + seconds - time.monotonic()))


def postgres_stopped(rig: Rig) -> Window:
    rig.pg_proxy.switch("refuse")
    window = Window(time.monotonic(), database_out=True)
    rig.pg.stop("immediate")  # a crash: no shutdown checkpoint, every client cut
    hold(window, SECONDS)
    rig.pg.start()
    rig.pg_proxy.switch("forward")
    return window.close()


def postgres_hung(rig: Rig) -> Window:
    rig.pg_proxy.switch("hang")
    window = Window(time.monotonic(), database_out=True)
    hold(window, SECONDS)
    rig.pg_proxy.switch("forward")
    return window.close()


def redis_stopped(rig: Rig) -> Window:
    rig.redis_proxy.switch("refuse")
    window = Window(time.monotonic())
    rig.redis.stop()  # no persistence: sessions, queued jobs and markers are gone
    hold(window, SECONDS)
    rig.redis.start()
    rig.redis_proxy.switch("forward")
    return window.close()


def redis_hung(rig: Rig) -> Window:
    rig.redis_proxy.switch("hang")
    window = Window(time.monotonic())
    hold(window, SECONDS)
    rig.redis_proxy.switch("forward")
    return window.close()


def workers_killed(rig: Rig) -> Window:
    """SIGKILL an `ors worker` while it sends a batch, restart it; twice."""
    rig.provider.set_mode("slow")  # each send takes a while: a batch is long enough to hit
    window = Window(time.monotonic())
    try:
        for _ in range(KILLS):
            victim = busy_worker(rig)
            window.kills.append(time.monotonic())
            rig.kill_worker(victim)
            rig.start_worker(victim.name)
    finally:
        rig.provider.set_mode("accept")
    return window.close()


def provider_failing(rig: Rig) -> Window:
    """The SMS provider answers 500, then times out, then answers 429."""
    window = Window(time.monotonic())
    try:
        for mode, seconds in PROVIDER_PHASES:
            rig.provider.set_mode(mode)
            time.sleep(seconds)
    finally:
        rig.provider.set_mode("accept")
    return window.close()


def busy_worker(rig: Rig) -> Proc:
    """A worker of ours that RQ reports busy while the provider has a send in flight."""
    deadline = time.monotonic() + BUSY_LIMIT
    while time.monotonic() < deadline:
        if rig.provider.in_flight:
            states = rig.rq_workers()
            busy = [p for p in rig.workers if states.get(p.pid) == "busy"]
            if busy:
                return busy[0]
        time.sleep(0.02)
    raise TimeoutError(f"no ors worker was in the middle of a batch within {BUSY_LIMIT:.0f} s")
