"""The gate in front of the SMS commands: a rate limit per phone, and each delivery handled once.

Providers retry a webhook they think failed, so the same inbound message can come twice. Its
provider id is claimed before the command runs, with a short "processing" marker (a crash
mid-command frees it after PROCESSING_SECONDS), and marked done for a day only after the
command has committed and its reply is queued: a failed command is released, so the
provider's retry runs it again. Failures are counted per id, so the caller can set an SMS
aside as a dead letter after `dead_letter_after` of them instead of failing for ever.

A phone that sends more than `per_minute` messages in a minute is dropped (answered 200, never
429: a 429 only makes the provider retry). Redis holds all of it in production, so every web
process shares it; the embedded mode keeps it in memory. When Redis is away the gate lets
messages through: losing a citizen's CANCEL is worse than answering a flood.
"""

from __future__ import annotations

import logging
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal, Protocol

from redis import Redis
from redis.exceptions import RedisError

PER_MINUTE = 10
SEEN_SECONDS = 24 * 3600  # a handled id is remembered this long; so are its failures
PROCESSING_SECONDS = 60  # longer than any command takes; a crashed one's claim ends then
Claim = Literal["new", "busy", "done"]
NEW: Claim = "new"
BUSY: Claim = "busy"
DONE: Claim = "done"
log = logging.getLogger(__name__)


class InboundGate(Protocol):
    def admit(self, phone: str) -> bool:
        """True while the phone is under its rate limit (each call counts one message)."""
        ...

    def claim(self, provider: str, message_id: str) -> Claim:
        """NEW: this delivery may run the command (marked processing); BUSY: another delivery
        of it is running now; DONE: it was handled already."""
        ...

    def done(self, provider: str, message_id: str) -> None:
        """The command committed: drop every later delivery of this id for a day."""
        ...

    def release(self, provider: str, message_id: str) -> int:
        """The command failed: free the claim for a retry; return how often it has failed."""
        ...


class MemoryGate:
    def __init__(self, per_minute: int = PER_MINUTE, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self.clock = per_minute, clock
        self._recent: dict[str, deque[float]] = {}
        self._claims: dict[str, tuple[Claim, float]] = {}  # key -> (BUSY or DONE, until)
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (count, until)
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

    def claim(self, provider: str, message_id: str) -> Claim:
        now, key = self.clock(), f"{provider}:{message_id}"
        with self._lock:
            self._forget_expired(now)
            state, until = self._claims.get(key, (NEW, 0.0))
            if until > now:
                return state
            self._claims[key] = (BUSY, now + PROCESSING_SECONDS)
            return NEW

    def done(self, provider: str, message_id: str) -> None:
        now = self.clock()
        with self._lock:
            self._claims[f"{provider}:{message_id}"] = (DONE, now + SEEN_SECONDS)

    def release(self, provider: str, message_id: str) -> int:
        now, key = self.clock(), f"{provider}:{message_id}"
        with self._lock:
            self._claims.pop(key, None)
            count, until = self._failures.get(key, (0, 0.0))
            count = (count if until > now else 0) + 1
            self._failures[key] = (count, now + SEEN_SECONDS)
            return count

    def _forget_expired(self, now: float) -> None:
        """Now and then, drop what has expired, so the maps never grow without end."""
        if len(self._claims) > 100_000:
            self._claims = {k: v for k, v in self._claims.items() if v[1] > now}
        if len(self._failures) > 100_000:
            self._failures = {k: v for k, v in self._failures.items() if v[1] > now}


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

    def claim(self, provider: str, message_id: str) -> Claim:
        key = self._seen(provider, message_id)
        try:
            if self.redis.set(key, BUSY, nx=True, ex=PROCESSING_SECONDS):
                return NEW
            state = self.redis.get(key)
        except RedisError as exc:
            log.warning("SMS duplicate check unavailable (%s): message let through", exc)
            return NEW
        # Ids marked before claims existed hold "1": handled. A marker that expired between
        # the two calls reads None: another delivery has just been running, so BUSY.
        return BUSY if state in (BUSY.encode(), None) else DONE

    def done(self, provider: str, message_id: str) -> None:
        try:
            self.redis.set(self._seen(provider, message_id), DONE, ex=SEEN_SECONDS)
        except RedisError as exc:
            log.warning("SMS handled, but not marked (%s): a retry would run it again", exc)

    def release(self, provider: str, message_id: str) -> int:
        failures = f"{self.prefix}:failed:{provider}:{message_id}"
        try:
            pipe = self.redis.pipeline()
            pipe.delete(self._seen(provider, message_id))
            pipe.incr(failures)
            pipe.expire(failures, SEEN_SECONDS)
            return int(pipe.execute()[1])
        except RedisError as exc:
            # Uncounted, the SMS is never set aside; the provider's own retry limit ends it.
            log.warning("SMS failure not counted (%s)", exc)
            return 1

    def _seen(self, provider: str, message_id: str) -> str:
        return f"{self.prefix}:seen:{provider}:{message_id}"


def build_gate(redis: Redis | None) -> InboundGate:
    return RedisGate(redis) if redis is not None else MemoryGate()


def failure_ref() -> str:
    """A short id that ties a logged traceback to the request that caused it.

    Letters only: a hex id that starts with digits looks like a phone number to the log masker.
    """
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
