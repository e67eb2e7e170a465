"""Processes that send: `ors worker` (RQ + sweeps) and the embedded mode's threads.

The RQ worker is a SimpleWorker: jobs run in the worker process itself, so the database
engine and Redis client built for this process are the ones jobs use (never shared across a
fork, gateway/db.py), and a job costs no process start — the throughput the voucher SMS needs. It
stores failed jobs' tracebacks masked (gateway/messaging/masked_worker.py).

One-time codes have a relay round of their own in a thread of its own, polled every
URGENT_SWEEP_SECONDS, and a queue of their own that is served first, so a caller waiting for
the code waits neither behind a backlog nor behind the slower sweeps.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from redis import ConnectionPool, Redis
from rq import Queue

from gateway.logs import configure_logging
from gateway.messaging import jobs
from gateway.messaging.dispatcher import ThreadDispatcher
from gateway.messaging.masked_worker import MaskedFailuresWorker
from gateway.messaging.queues import QUEUE_NAME, with_urgent_first
from gateway.messaging.relay import relay_urgent
from gateway.messaging.sweeper import Round, Sweeper, messaging_rounds, worker_rounds

if TYPE_CHECKING:
    from gateway.runtime import Runtime

DEFAULT_QUEUES = (QUEUE_NAME, "default")
URGENT_SWEEP_SECONDS = 0.25
log = logging.getLogger(__name__)


def run_worker(
    runtime: Runtime,
    queues: Sequence[str] = DEFAULT_QUEUES,
    sweep_seconds: float = 2.0,
    burst: bool = False,
) -> None:
    """Work the queues (with RQ's scheduler, for retries) and sweep in a thread until stopped."""
    if runtime.redis is None:
        raise RuntimeError("the RQ worker needs Redis")
    configure_logging(runtime.settings.log_level)  # phone numbers masked in every line
    jobs.bind(runtime)
    # RQ forks its scheduler: the child must not touch (or close) this process's connections.
    os.register_at_fork(after_in_child=lambda: runtime.engine.dispose(close=False))
    sweeper = Sweeper(worker_rounds(runtime), every=sweep_seconds)
    sweeper.start()
    urgent_relay(runtime, sweeper.stop).start()
    try:
        rq_redis = _blocking_client(runtime.redis)
        worker = OrsWorker(
            [Queue(name, connection=rq_redis) for name in with_urgent_first(queues)],
            connection=rq_redis,
            # RQ takes over a killed worker's scheduler only at maintenance time (600 s by
            # default); until then scheduled SMS retries wait for requeue_stale.
            maintenance_interval=60,
        )
        worker.work(with_scheduler=True, burst=burst)
    finally:
        sweeper.stop.set()


class OrsWorker(MaskedFailuresWorker):
    """The worker `ors worker` runs: failures stored masked, and a shutdown that does not wait
    a minute on RQ's pubsub thread."""

    def unsubscribe(self) -> None:
        """Stop the pubsub thread's loop first, then let RQ unsubscribe and join it.

        RQ (3.0) unsubscribes and only then stops the thread. If the thread reads the
        UNSUBSCRIBE reply in between, it loops into redis-py's wait for a new subscription
        (RQ's sleep_time, 60 s), and redis-py 8.2's stop() joins it: a warm shutdown, and every
        burst run, could take a minute. With the loop stopped first, that reply ends it.
        """
        if self.pubsub_thread is not None:
            self.pubsub_thread.stop(timeout=0)  # clears the run flag; the join is RQ's
        super().unsubscribe()


def _blocking_client(redis: Redis) -> Redis:
    """A client of RQ's own: RQ raises its client's socket timeout above its blocking dequeue
    (415 s), which would unbound the runtime's client that the sweeps and the relay use."""
    pool = redis.connection_pool
    kwargs = {k: v for k, v in pool.connection_kwargs.items() if k != "socket_timeout"}
    return Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **kwargs))


def start_embedded(runtime: Runtime, stop: threading.Event, sweep_seconds: float = 1.0) -> None:
    """Embedded mode: the same send job in a thread, and the messaging sweeps in another."""
    dispatcher = runtime.messaging.jobs
    if isinstance(dispatcher, ThreadDispatcher):
        dispatcher.start(lambda message_id: jobs.deliver(runtime, message_id), stop)
    else:
        log.warning("messages are sent by `ors worker` (jobs go to Redis)")
    Sweeper(messaging_rounds(runtime), every=sweep_seconds, stop=stop).start()
    urgent_relay(runtime, stop).start()


def urgent_relay(runtime: Runtime, stop: threading.Event) -> Sweeper:
    """The one-time codes' own relay round (a cheap indexed query when there is none)."""
    rounds: list[Round] = [("relay codes", 0, lambda: relay_urgent(runtime))]
    return Sweeper(rounds, every=URGENT_SWEEP_SECONDS, stop=stop)
