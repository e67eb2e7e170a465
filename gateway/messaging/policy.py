"""How sending retries: attempts, backoff with jitter, the lease of a claimed batch.

The backoff is ours (not RQ's Retry): the next attempt time is stored on the message, so it
survives a lost job, a dead worker or Redis going away, and a sweep can always find it again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class SendingPolicy:
    max_attempts: int = 8
    base_delay: float = 30.0  # seconds before the 2nd attempt; doubles each time
    max_delay: float = 3600.0
    # A claimed message is the claimer's until the lease ends; after that a sweep hands it to
    # another worker. It must outlast the provider call (timeouts below) with room to spare.
    lease_seconds: float = 90.0
    provider_timeout: float = 20.0
    # A queued message due this long ago without being sent has lost its job: enqueue again.
    requeue_grace: float = 30.0
    pending_report_days: int = 7  # early delivery reports never matched are dropped after this
    # Message ids per send job: one claim, one RQ job and one recording transaction per batch
    # instead of per message.
    batch_size: int = 50
    # Results of a batch are written at least this often (seconds), so a worker killed
    # mid-batch can send again only what the provider accepted within the last interval.
    record_every: float = 1.0

    @property
    def send_window(self) -> float:
        """Seconds after a batch's claim in which another send of it may still start.

        A send started later could still be waiting for the provider when the lease ends and
        another worker takes the message over: the rest of the batch is released instead.
        """
        return self.lease_seconds - 2 * self.provider_timeout

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): half fixed, half jitter.

        Exponential growth spaces retries out; the random half spreads a burst of failures
        (a provider outage) so the retries do not all arrive at the same second.
        """
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)
