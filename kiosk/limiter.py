"""The kiosk's failed-code limit: a sliding log of guess-like codes per kiosk.

A code that might be a guess *reserves* one place in the log before anything is looked up,
and gives it back once the answer shows it was no guess. Reserving is one atomic step (a Lua
script in Redis, a lock in process), so parallel guesses can never pass the limit together,
as a check-then-count does. The `limits` library's moving window cannot give a place back,
which is why the log is ours.

The shared log lives in Redis, so every web process of every machine counts together. When
Redis fails or hangs (the client gives up after `timeout` seconds, with no retries), the kiosk
falls back to an in-process log for `pause` seconds: typed T-codes, all a feature-phone user
has, keep working and keep being limited, and only one request per pause waits for Redis.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from limits import parse as parse_limit
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

log = logging.getLogger(__name__)
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

# KEYS[1] the kiosk's log; ARGV: window in ms, limit, a fresh member. Redis's own clock, so
# web machines whose clocks differ still share one window.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""


class Log(Protocol):
    def reserve(self, key: str) -> str | None:
        """Take one place and return its token, or None when the log is full."""
        ...

    def refund(self, key: str, token: str) -> None: ...


class MemoryLog:
    """The log of one process: a dict of token → time per key, under one lock."""

    def __init__(self, amount: int, window: float):
        self.amount, self.window = amount, window
        self._lock = threading.Lock()
        self._logs: dict[str, dict[str, float]] = {}

    def reserve(self, key: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            entries = self._logs.setdefault(key, {})
            for token in [t for t, at in entries.items() if at <= now - self.window]:
                del entries[token]
            if len(entries) >= self.amount:
                return None
            token = secrets.token_hex(8)
            entries[token] = now
            return token

    def refund(self, key: str, token: str) -> None:
        with self._lock:
            self._logs.get(key, {}).pop(token, None)


class RedisLog:
    """The shared log: a sorted set per key, scored by Redis time in milliseconds."""

    def __init__(self, uri: str, amount: int, window: float, timeout: float):
        self.amount, self.window_ms = amount, int(window * 1000)
        self.redis = Redis.from_url(
            uri,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # one try: the fallback is the retry
        )
        self._reserve = self.redis.register_script(_RESERVE)

    def reserve(self, key: str) -> str | None:
        token = secrets.token_hex(8)
        taken = self._reserve(keys=[key], args=[self.window_ms, self.amount, token])
        return token if taken else None

    def refund(self, key: str, token: str) -> None:
        self.redis.zrem(key, token)


@dataclass(frozen=True)
class Reservation:
    log: Log
    key: str
    token: str


class FailedCodeLimit:
    """Guess-like codes per kiosk in a sliding window, e.g. "30 per minute"."""

    def __init__(
        self, limit: str, storage_uri: str, timeout: float = 0.2, pause: float = 5.0
    ) -> None:
        item = parse_limit(limit)  # ValueError names a malformed limit at start-up
        self.amount, self.window = item.amount, float(item.get_expiry())
        self.local = MemoryLog(self.amount, self.window)
        self.shared: RedisLog | None = None
        if storage_uri.startswith(REDIS_SCHEMES):
            self.shared = RedisLog(storage_uri, self.amount, self.window, timeout)
        elif storage_uri != "memory://":
            raise ValueError(f"unsupported limiter storage {storage_uri.split(':')[0]!r}")
        self.pause = pause
        self._shared_down_until = 0.0
        self._alerted_until: dict[int, float] = {}

    def reserve(self, kiosk_id: int) -> Reservation | None:
        """Take one place for a possible guess, or None (and an alert) when the kiosk is full."""
        key = f"ors:kiosk:failed-codes:{kiosk_id}"
        log_ = self._log()
        try:
            token = log_.reserve(key)
        except (RedisError, OSError) as exc:
            self._shared_failed(exc)
            log_ = self.local
            token = log_.reserve(key)
        if token is None:
            self._alert(kiosk_id)
            return None
        return Reservation(log_, key, token)

    def refund(self, reservation: Reservation) -> None:
        """Give the place back: the code was no guess."""
        try:
            reservation.log.refund(reservation.key, reservation.token)
        except (RedisError, OSError) as exc:
            self._shared_failed(exc)  # the place expires with the window instead

    def _log(self) -> Log:
        if self.shared is not None and time.monotonic() >= self._shared_down_until:
            return self.shared
        return self.local

    def _shared_failed(self, exc: Exception) -> None:
        self._shared_down_until = time.monotonic() + self.pause
        log.warning(
            "failed-code limit: Redis unavailable (%s); counting in this process for %.0f s",
            type(exc).__name__,
            self.pause,
        )

    def _alert(self, kiosk_id: int) -> None:
        # Once per window and process: a kiosk at its limit is being guessed at, or broken.
        now = time.monotonic()
        if self._alerted_until.get(kiosk_id, 0.0) <= now:
            self._alerted_until[kiosk_id] = now + self.window
            log.warning("kiosk %s reached its failed-code limit (%s)", kiosk_id, self.amount)
