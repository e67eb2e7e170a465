"""Send jobs on RQ: one pending job per message, retries scheduled, lost jobs found again,
and bookings made while Redis is down all confirmed once it is back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from gateway.messaging import jobs, statuses
from gateway.messaging.queues import QUEUE_NAME, SEND_JOB
from gateway.messaging.relay import relay_once
from gateway.messaging.requeue import requeue_stale
from gateway.runtime import Runtime
from tests.messaging.conftest import (
    MONDAY_8,
    POLICY,
    MakeRuntime,
    book,
    dead_redis,
    message,
    messages,
)
from tests.messaging.fake_provider import AT, FakeProvider, reply

PHONES = [f"+2547000002{i:02d}" for i in range(6)]


@pytest.fixture(autouse=True)
def _unbind() -> Iterator[None]:
    yield
    jobs.bind(None)


def work(rt: Runtime) -> None:
    """Run a real RQ worker until the queue is empty, jobs using this runtime."""
    jobs.bind(rt)
    queue = Queue(QUEUE_NAME, connection=rt.redis)
    SimpleWorker([queue], connection=rt.redis).work(burst=True)


def queued_ids(redis: Redis) -> list[str]:
    return Queue(QUEUE_NAME, connection=redis).get_job_ids()


@pytest.mark.redis
def test_the_relay_enqueues_one_job_per_message_and_a_worker_sends_it(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    assert queued_ids(redis_client) == ["msg-1"]
    job = Job.fetch("msg-1", connection=redis_client)
    assert (job.func_name, job.args) == (SEND_JOB, (1,))
    work(rt)
    assert message(rt, 1).status == statuses.SENT
    assert len(fake.accepted()) == 1
    # result_ttl=0: a finished job leaves nothing, so the id is free for a later requeue
    assert not redis_client.exists(Job.key_for("msg-1"))


@pytest.mark.redis
def test_enqueueing_again_while_a_job_waits_adds_nothing(
    make_runtime: MakeRuntime, redis_client: Redis
) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    rt.clock.advance(seconds=POLICY.requeue_grace + 1)
    assert requeue_stale(rt) == 1  # still due, still queued: enqueue() keeps the one job
    assert rt.messaging.jobs.enqueue(1)
    assert queued_ids(redis_client) == ["msg-1"]


@pytest.mark.redis
def test_a_job_abandoned_by_a_dead_worker_is_replaced(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    queue = Queue(QUEUE_NAME, connection=redis_client)
    job = Job.fetch("msg-1", connection=redis_client)
    queue.remove(job)  # a worker took it ...
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now().astimezone() - timedelta(seconds=POLICY.lease_seconds + 5)
    job.save()  # ... and died long ago
    assert rt.messaging.jobs.enqueue(1)
    assert queued_ids(redis_client) == ["msg-1"]
    assert Job.fetch("msg-1", connection=redis_client).get_status() == JobStatus.QUEUED
    work(rt)
    assert message(rt, 1).status == statuses.SENT


@pytest.mark.redis
def test_a_job_running_now_is_not_doubled(make_runtime: MakeRuntime, redis_client: Redis) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    queue = Queue(QUEUE_NAME, connection=redis_client)
    job = Job.fetch("msg-1", connection=redis_client)
    queue.remove(job)
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now().astimezone()
    job.save()
    assert rt.messaging.jobs.enqueue(1)
    assert queued_ids(redis_client) == []


@pytest.mark.redis
def test_a_temporary_failure_schedules_the_next_attempt_with_rq(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    fake.script(AT, reply(500, "down", "text/plain"))
    work(rt)
    m = message(rt, 1)
    assert (m.status, m.attempts) == (statuses.QUEUED, 1)
    registry = ScheduledJobRegistry(QUEUE_NAME, connection=redis_client)
    assert registry.get_job_ids() == ["msg-1-a1"]
    due = registry.get_scheduled_time("msg-1-a1")
    assert timedelta(seconds=4) < due - datetime.now().astimezone() <= timedelta(seconds=10)


@pytest.mark.redis
def test_bookings_made_while_redis_is_down_are_all_confirmed_when_it_is_back(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    down = make_runtime(redis=dead_redis())
    for i, phone in enumerate(PHONES):
        book(down, phone=phone, when=MONDAY_8 + timedelta(minutes=30 * (i // 2)))
    assert relay_once(down) == len(PHONES)  # the relay commits even though Redis is down
    assert [m.status for m in messages(down)] == [statuses.QUEUED] * len(PHONES)
    assert requeue_stale(down) == 0

    up = make_runtime(redis=redis_client)
    assert requeue_stale(up) == 0  # not overdue yet: their first jobs may still be on the way
    up.clock.advance(seconds=POLICY.requeue_grace + 1)
    assert requeue_stale(up) == len(PHONES)
    work(up)
    assert [m.status for m in messages(up)] == [statuses.SENT] * len(PHONES)
    assert sorted(r.to for r in fake.accepted()) == sorted(PHONES)
