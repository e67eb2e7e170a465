"""`ors worker` stops promptly: its RQ pubsub thread is stopped without a minute's wait."""

from __future__ import annotations

import threading

import pytest
from redis import Redis
from rq import Queue

from gateway.messaging.queues import QUEUE_NAME
from gateway.messaging.worker import OrsWorker
from tests.messaging.test_messaging_embedded import eventually


@pytest.mark.redis
def test_unsubscribing_does_not_wait_when_the_thread_reads_the_reply_first(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = OrsWorker([Queue(QUEUE_NAME, connection=redis_client)], connection=redis_client)
    worker.subscribe()
    pubsub, thread = worker.pubsub, worker.pubsub_thread
    assert pubsub is not None and thread is not None
    send_unsubscribe = pubsub.unsubscribe

    def unsubscribe_then_let_the_thread_read_the_reply(*args: str) -> None:
        send_unsubscribe(*args)
        # The interleaving that stalled shutdowns: the thread handles the reply before it is
        # told to stop, then waits RQ's sleep_time (60 s) for a new subscription.
        assert eventually(lambda: not pubsub.subscribed or not thread.is_alive(), 10)

    monkeypatch.setattr(pubsub, "unsubscribe", unsubscribe_then_let_the_thread_read_the_reply)
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(timeout=30)  # an upper bound only: without the fix this takes 60 s
    assert not stopping.is_alive()
    assert not thread.is_alive()
