"""RQ workers for tests: burst runs without RQ's pubsub thread.

RQ's worker subscribes to a pubsub channel for `rq` commands (stop a job, shut down) in a
thread, and with redis-py 8.2 stopping that thread can wait a minute (see
gateway/messaging/worker.py: OrsWorker). A burst run in a test takes no commands, so these
workers do not subscribe at all.
"""

from __future__ import annotations

from rq import SimpleWorker

from gateway.messaging.masked_worker import MaskedFailuresWorker


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker (jobs run in this process) without the command channel."""

    def subscribe(self) -> None:
        """Take no commands: nothing to stop at the end of the burst."""


class MaskedBurstWorker(MaskedFailuresWorker):
    """`ors worker`'s masking worker without the command channel."""

    def subscribe(self) -> None:
        """Take no commands: nothing to stop at the end of the burst."""
