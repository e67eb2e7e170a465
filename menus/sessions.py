"""Where sessions live between hops: process memory (embedded mode) or Redis (production)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from menus.session import Session

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 300


class SessionStore(Protocol):
    def get(self, key: str) -> Session | None: ...
    def put(self, session: Session) -> None: ...
    def delete(self, key: str) -> None: ...


def _decode(key: str, raw: str | bytes) -> Session | None:
    # A session written by an older release, or damaged, must not break the caller's next
    # dial: they simply start again.
    try:
        return Session.from_json(raw)
    except ValueError:
        log.warning("dropping unreadable menu session %s", key)
        return None


class MemorySessionStore:
    """Keep sessions in this process, each for `ttl_seconds` after its last write."""

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        # JSON, not the object: a caller mutating a Session after put() must not change the
        # stored one, just as with Redis.
        self._items: dict[str, tuple[float, str]] = {}
        self._next_sweep = clock() + ttl_seconds

    def get(self, key: str) -> Session | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, raw = item
            if expires <= self._clock():
                del self._items[key]
                return None
        return _decode(key, raw)

    def put(self, session: Session) -> None:
        raw = session.to_json()
        with self._lock:
            now = self._clock()
            self._items[session.key] = (now + self._ttl, raw)
            if now >= self._next_sweep:
                self._sweep(now)

    def delete(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for expires, _ in self._items.values() if expires > self._clock())

    def _sweep(self, now: float) -> None:
        # Abandoned sessions are never read again, so expiry on read alone would leak them.
        self._items = {k: v for k, v in self._items.items() if v[0] > now}
        self._next_sweep = now + self._ttl


class RedisSessionStore:
    """Keep sessions in Redis as JSON with a TTL; the client is created by the caller."""

    def __init__(
        self,
        redis_client: Any,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        prefix: str = "ors:menus:session:",
    ) -> None:
        self._redis = redis_client
        self._ttl = ttl_seconds
        self._prefix = prefix

    def get(self, key: str) -> Session | None:
        raw = self._redis.get(self._prefix + key)
        return None if raw is None else _decode(key, raw)

    def put(self, session: Session) -> None:
        self._redis.set(self._prefix + session.key, session.to_json(), ex=self._ttl)

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)
