"""Sessions as JSON, and the stores that keep them between hops."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from menus.reply import Option, Reply
from menus.session import Session
from menus.sessions import MemorySessionStore, RedisSessionStore

REDIS_URL = os.environ.get("ORS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _session(key: str = "ATUid_1") -> Session:
    shown = Reply("slot", ("Tue 24 Nov: choose time",), (Option("S1", "09:30 (2 left)"),),
                  can_back=True, can_home=True)  # fmt: skip
    return Session(
        key=key,
        phone="+254700000001",
        language="sw",
        state="slot",
        stack=["main", "hospital", "day"],
        chosen={"hospital": "KNH", "department": "CARD", "day": "2026-11-24"},
        page=1,
        shown=shown,
        inputs=4,
    )


def test_json_round_trip_keeps_everything() -> None:
    session = _session()
    assert Session.from_json(session.to_json()) == session
    assert Session.from_json(session.to_json().encode()) == session
    fresh = Session.new("k", "+254700000001")
    assert Session.from_json(fresh.to_json()) == fresh


@pytest.mark.parametrize(
    "raw",
    ["", "not json", "[]", '{"v": 99}', '{"v": 1}', '{"v": 1, "key": "k"}'],
)
def test_unreadable_json_is_a_value_error(raw: str) -> None:
    with pytest.raises(ValueError):
        Session.from_json(raw)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_store_expires_after_ttl() -> None:
    clock = Clock()
    store = MemorySessionStore(ttl_seconds=300, clock=clock)
    store.put(_session())
    clock.now += 299
    assert store.get("ATUid_1") == _session()
    store.put(_session())  # each write starts the TTL again
    clock.now += 299
    assert store.get("ATUid_1") is not None
    clock.now += 301
    assert store.get("ATUid_1") is None
    assert store.get("never") is None


def test_memory_store_sweeps_abandoned_sessions() -> None:
    clock = Clock()
    store = MemorySessionStore(ttl_seconds=300, clock=clock)
    for n in range(50):
        store.put(_session(f"k{n}"))
    clock.now += 600
    store.put(_session("fresh"))
    assert len(store) == 1
    assert len(store._items) == 1  # swept, not just hidden


def test_memory_store_keeps_a_copy_and_deletes() -> None:
    store = MemorySessionStore()
    session = _session()
    store.put(session)
    session.stack.append("confirm")  # a later change, not yet put
    assert store.get("ATUid_1") == _session()
    store.delete("ATUid_1")
    store.delete("ATUid_1")  # deleting twice is fine
    assert store.get("ATUid_1") is None


def test_memory_store_is_thread_safe() -> None:
    store = MemorySessionStore()

    def work(worker: int) -> None:
        for n in range(200):
            key = f"w{worker}-{n}"
            store.put(_session(key))
            assert store.get(key) is not None
            if n % 2:
                store.delete(key)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store) == 8 * 100


def test_memory_store_drops_a_damaged_session(caplog: pytest.LogCaptureFixture) -> None:
    store = MemorySessionStore()
    store._items["bad"] = (float("inf"), "{broken")
    assert store.get("bad") is None
    assert "unreadable menu session bad" in caplog.text


@pytest.fixture
def redis_client() -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    yield client
    client.close()


@pytest.mark.redis
def test_redis_store_round_trip_with_ttl(redis_client: Any) -> None:
    prefix = f"ors:test:menus:{uuid.uuid4().hex}:"
    store = RedisSessionStore(redis_client, ttl_seconds=300, prefix=prefix)
    try:
        store.put(_session())
        assert store.get("ATUid_1") == _session()
        assert 295 <= redis_client.ttl(prefix + "ATUid_1") <= 300
        redis_client.set(prefix + "bad", b"\xff not json", ex=60)
        assert store.get("bad") is None
        store.delete("ATUid_1")
        assert store.get("ATUid_1") is None
        assert store.get("never") is None
    finally:
        for key in redis_client.scan_iter(match=prefix + "*"):
            redis_client.delete(key)
