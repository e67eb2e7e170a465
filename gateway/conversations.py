"""The USSD conversation stack: engine, renderer, session store and replay cache, per process."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from redis import Redis

from gateway.booking.service import BookingService
from gateway.menus_port import BookingMenusPort
from gateway.settings import Settings
from menus import (
    Engine,
    EngineConfig,
    MemorySessionStore,
    RedisSessionStore,
    SessionStore,
    UssdRenderer,
    load_catalogues,
)


class ReplayCache(Protocol):
    """The answer given to (session, text), so a provider's retry gets it again unchanged."""

    def get(self, session_id: str, text: str) -> str | None: ...
    def put(self, session_id: str, text: str, body: str) -> None: ...


class MemoryReplayCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 50_000):
        self.ttl, self.max_entries = ttl_seconds, max_entries
        self._items: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str, text: str) -> str | None:
        with self._lock:
            item = self._items.get((session_id, text))
        return item[1] if item and item[0] > time.monotonic() else None

    def put(self, session_id: str, text: str, body: str) -> None:
        with self._lock:
            if len(self._items) >= self.max_entries:  # drop the expired, then the oldest half
                now = time.monotonic()
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
                if len(self._items) >= self.max_entries:
                    self._items = dict(list(self._items.items())[self.max_entries // 2 :])
            self._items[(session_id, text)] = (time.monotonic() + self.ttl, body)


class RedisReplayCache:
    def __init__(self, redis: Redis, ttl_seconds: int, prefix: str = "ors:ussd:replay:"):
        self.redis, self.ttl, self.prefix = redis, ttl_seconds, prefix

    def _key(self, session_id: str) -> str:
        return self.prefix + session_id

    def get(self, session_id: str, text: str) -> str | None:
        raw = self.redis.get(self._key(session_id))
        if raw is None:
            return None
        stored = json.loads(raw)
        return stored["body"] if stored.get("text") == text else None

    def put(self, session_id: str, text: str, body: str) -> None:
        # Only the latest answer per session: providers retry the hop they are waiting on.
        self.redis.set(self._key(session_id), json.dumps({"text": text, "body": body}), ex=self.ttl)


@dataclass
class UssdStack:
    engine: Engine
    renderer: UssdRenderer
    sessions: SessionStore
    replays: ReplayCache


def build_ussd(settings: Settings, booking: BookingService, redis: Redis | None) -> UssdStack:
    renderer = UssdRenderer()
    config = EngineConfig(
        shortcode=settings.ussd_service_code,
        default_language=settings.default_language,
        channel="ussd",
    )
    engine = Engine(BookingMenusPort(booking, "ussd"), load_catalogues(), config, keypad=renderer)
    ttl = settings.ussd_session_ttl
    if redis is not None:
        return UssdStack(
            engine,
            renderer,
            RedisSessionStore(redis, ttl_seconds=ttl),
            RedisReplayCache(redis, ttl),
        )
    return UssdStack(engine, renderer, MemorySessionStore(ttl_seconds=ttl), MemoryReplayCache(ttl))
