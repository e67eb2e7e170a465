"""The gate in front of the SMS commands: a rate limit per phone and duplicate deliveries.

Providers retry a webhook they think failed, so the same inbound message can come twice; the
gate remembers provider message ids for a day and lets each through once. A phone that sends
more than `per_minute` messages in a minute is dropped (answered 200, never 429: a 429 only
makes the provider retry). Redis holds both in production, so every web process shares them;
the embedded mode keeps them in memory. When Redis is away the gate lets messages through:
losing a citizen's CANCEL is worse than answering a flood.
"""

from __future__ import annotations

import logging
import secrets
import string
import threading
import time
from collections import deque
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError

PER_MINUTE = 10
SEEN_SECONDS = 24 * 3600
log = logging.getLogger(__name__)


class InboundGate(Protocol):
    def admit(self, phone: str) -> bool:
        """True while the phone is under its rate limit (each call counts one message)."""
        ...

    def first_time(self, provider: str, message_id: str) -> bool:
        """True the first time this provider message id is seen."""
        ...


class MemoryGate:
    def __init__(self, per_minute: int = PER_MINUTE, clock=time.monotonic):  # type: ignore[no-untyped-def]
        self.per_minute, self.clock = per_minute, clock
        self._recent: dict[str, deque[float]] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def admit(self, phone: str) -> bool:
        now = self.clock()
        with self._lock:
            recent = self._recent.setdefault(phone, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= self.per_minute:
                return False
            recent.append(now)
            return True

    def first_time(self, provider: str, message_id: str) -> bool:
        now, key = self.clock(), f"{provider}:{message_id}"
        with self._lock:
            if len(self._seen) > 100_000:  # forget the expired ones now and then
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            if self._seen.get(key, 0) > now:
                return False
            self._seen[key] = now + SEEN_SECONDS
            return True


class RedisGate:
    def __init__(self, redis: Redis, per_minute: int = PER_MINUTE, prefix: str = "ors:sms-in"):
        self.redis, self.per_minute, self.prefix = redis, per_minute, prefix

    def admit(self, phone: str) -> bool:
        key = f"{self.prefix}:rate:{phone}:{int(time.time() // 60)}"
        try:
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            count = pipe.execute()[0]
        except RedisError as exc:
            log.warning("SMS rate limit unavailable (%s): message let through", exc)
            return True
        return int(count) <= self.per_minute

    def first_time(self, provider: str, message_id: str) -> bool:
        try:
            return bool(
                self.redis.set(
                    f"{self.prefix}:seen:{provider}:{message_id}", 1, nx=True, ex=SEEN_SECONDS
                )
            )
        except RedisError as exc:
            log.warning("SMS duplicate check unavailable (%s): message let through", exc)
            return True


def build_gate(redis: Redis | None) -> InboundGate:
    return RedisGate(redis) if redis is not None else MemoryGate()


def failure_ref() -> str:
    """A short id that ties a logged traceback to the request that caused it.

    Letters only: a hex id that starts with digits looks like a phone number to the log masker.
    """
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
