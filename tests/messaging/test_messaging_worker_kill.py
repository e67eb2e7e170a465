"""A worker killed mid-send loses no message (README, Reliability): real `run_worker` processes on
PostgreSQL and Redis, SIGKILLed with their whole process group while the fake provider holds
the request open.

- killed before the provider accepted: the next worker sends it, the provider saw it once;
- killed after the provider accepted (its reply never arrived): sent again, so at most twice.
Either way our table records the message sent exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import Engine

from gateway.messaging import statuses
from tests.booking.conftest import POSTGRES_ONLY
from tests.messaging.conftest import MONDAY_8, A, B, C, MakeRuntime, book, message, messages
from tests.messaging.fake_provider import (
    AT,
    FakeProvider,
    Step,
    accept,
    accept_then_block,
    block,
)

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker_main.py")
LEASE_SECONDS = 3.0  # short, so the second worker may take the message over quickly


class Workers:
    """Start and kill `run_worker` processes, each in its own process group."""

    def __init__(self, engine: Engine, fake: FakeProvider, tmp_path: Path):
        self.settings: dict[str, object] = {
            "database_url": engine.url.render_as_string(hide_password=False),
            "redis_url": os.environ["ORS_TEST_REDIS_URL"],
            "base_url": fake.base_url,
            "data_dir": str(tmp_path),
            "lease_seconds": LEASE_SECONDS,
            "provider_timeout": 2.0,
        }
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with (self.tmp_path / f"worker-{len(self.started)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, str(WORKER), json.dumps(self.settings)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,  # its own group: the kill takes RQ's scheduler child too
            )
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # RQ's warm shutdown
                try:
                    process.wait(2)
                except subprocess.TimeoutExpired:
                    self.kill(process)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp_path.glob("*.log")))


@pytest.fixture
def workers(engine: Engine, fake: FakeProvider, tmp_path: Path) -> Iterator[Workers]:
    running = Workers(engine, fake, tmp_path)
    yield running
    running.stop_all()


def wait_for(condition: Callable[[], bool], seconds: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")
        time.sleep(0.05)


@POSTGRES_ONLY
@pytest.mark.redis
@pytest.mark.parametrize(
    ("hold", "provider_saw"),
    [(block, 1), (accept_then_block, 2)],
    ids=["killed before the provider accepted", "killed after the provider accepted"],
)
def test_a_worker_killed_mid_send_loses_no_message(
    make_runtime: MakeRuntime,
    redis_client: Redis,
    fake: FakeProvider,
    workers: Workers,
    hold: Callable[[], Step],
    provider_saw: int,
) -> None:
    rt = make_runtime()  # the test's own view of the database (it books and reads)
    fake.script(AT, hold())
    book(rt)

    first = workers.start()
    wait_for(fake.arrived.is_set, 60, "the first worker's request", workers)
    workers.kill(first)  # mid-send: the provider holds the request open
    assert message(rt, 1).status == statuses.SENDING
    fake.release.set()  # the held connection is dropped; no reply ever reached anyone

    workers.start()  # takes the message over once its lease has expired
    wait_for(lambda: message(rt, 1).status == statuses.SENT, 60, "the resend", workers)

    (m,) = messages(rt)
    assert m.attempts == 2
    assert len(fake.requests(AT)) == 2
    assert len(fake.accepted(A)) == provider_saw
    assert m.provider_message_id == fake.accepted(A)[-1].message_id


@POSTGRES_ONLY
@pytest.mark.redis
@pytest.mark.parametrize(
    ("record_every", "first_seen"),
    [(60.0, 2), (0.0, 1)],
    ids=["killed before the batch was recorded", "killed after the first send was recorded"],
)
def test_a_worker_killed_mid_batch_loses_no_message(
    make_runtime: MakeRuntime,
    redis_client: Redis,
    fake: FakeProvider,
    workers: Workers,
    record_every: float,
    first_seen: int,
) -> None:
    rt = make_runtime()
    phones = [A, B, C]
    for i, phone in enumerate(phones):
        book(rt, phone=phone, when=MONDAY_8 + timedelta(minutes=30 * i))
    fake.script(AT, accept(), block())  # the first goes, the second hangs: one batch of three
    # A lease of 6 s leaves 2 s in which sends may start (2 x 2 s provider timeout): the batch.
    workers.settings.update(lease_seconds=6.0, record_every=record_every)

    first = workers.start()
    wait_for(fake.arrived.is_set, 60, "the first worker's second request", workers)
    workers.kill(first)
    recorded_first = message(rt, 1).status == statuses.SENT
    assert recorded_first is (first_seen == 1)
    assert [m.status for m in messages(rt)][1:] == [statuses.SENDING] * 2
    fake.release.set()

    workers.start()  # takes the batch over once its lease has expired
    wait_for(
        lambda: [m.status for m in messages(rt)] == [statuses.SENT] * 3, 60, "the resend", workers
    )
    # Only what the provider accepted and we had not recorded may go twice; nothing is lost.
    assert [len(fake.accepted(phone)) for phone in phones] == [first_seen, 1, 1]
    for m, phone in zip(messages(rt), phones, strict=True):
        assert m.provider_message_id == fake.accepted(phone)[-1].message_id
