"""Readiness checks that answer within a budget whatever hangs (finding 6).

Each check runs on a thread of a small pool of this module's own and is given up on when the
budget runs out: the request thread never waits longer. A check given up on still ends by its
own bounds (connect timeout, statement timeout, Redis socket timeout) — or never, on a server
that accepts and then stays silent mid-statement — so the pool's threads are few and daemon
ones: stuck checks can neither pile up threads nor keep the process from exiting. While every
thread is stuck, further checks wait in the queue and count as timeouts, which they are.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from typing import Any

from sqlalchemy import Engine, text

BUDGET_SECONDS = 0.7  # all checks together: /readyz answers within 1 s on a loaded machine too
CHECK_THREADS = 4

Check = Callable[[], Any]


def database_check(engine: Engine) -> Check:
    def check() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return check


def problems(checks: Mapping[str, Check], budget: float = BUDGET_SECONDS) -> list[str]:
    """Run the checks in parallel; name each that failed ("redis: TimeoutError") or did not
    finish within the budget ("database: timeout"), in the order given."""
    futures = {name: _runner().submit(check) for name, check in checks.items()}
    wait(futures.values(), timeout=budget)
    found = []
    for name, future in futures.items():
        if not future.done():
            future.cancel()  # not started yet: skip it; started: it ends by its own bounds
            found.append(f"{name}: timeout")
        elif (exc := future.exception()) is not None:
            found.append(f"{name}: {type(exc).__name__}")
    return found


class _Runner:
    """A few daemon threads working a queue of checks."""

    def __init__(self, threads: int):
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Check]] = queue.SimpleQueue()
        for index in range(threads):
            name = f"readiness-check-{index}"
            threading.Thread(target=self._work, name=name, daemon=True).start()

    def submit(self, check: Check) -> Future[Any]:
        future: Future[Any] = Future()
        self._jobs.put((future, check))
        return future

    def _work(self) -> None:
        while True:
            future, check = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue  # given up on before it started
            try:
                future.set_result(check())
            except BaseException as exc:  # reported through the future, like an Executor
                future.set_exception(exc)


_runners: dict[int, _Runner] = {}  # by process id: threads do not survive a fork
_runners_lock = threading.Lock()


def _runner() -> _Runner:
    pid = os.getpid()
    runner = _runners.get(pid)
    if runner is None:
        with _runners_lock:
            runner = _runners.get(pid)
            if runner is None:
                _runners.clear()
                runner = _runners[pid] = _Runner(CHECK_THREADS)
    return runner
