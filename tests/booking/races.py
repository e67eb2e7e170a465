"""Race real threads against the real database: n attempts released at once, outcomes counted."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from gateway.booking.domain.errors import BookingError

Outcome = Callable[[Callable[[], object]], str]


def refusal_code(call: Callable[[], object]) -> str:
    """ "ok", or the code of the booking core's refusal (any other error fails the test)."""
    try:
        call()
    except BookingError as exc:
        return exc.code
    return "ok"


def race(n: int, attempt: Callable[[int], object], outcome: Outcome = refusal_code) -> Counter[str]:
    """Run `attempt(i)` for i in range(n) on n threads released at once; count `outcome`s."""
    barrier, lock, outcomes = threading.Barrier(n), threading.Lock(), Counter[str]()

    def run(i: int) -> None:
        barrier.wait()
        result = outcome(lambda: attempt(i))
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes
