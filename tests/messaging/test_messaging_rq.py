"""Send jobs on RQ: one pending job per batch of messages, retries scheduled, lost jobs found
again, and bookings made while Redis is down all confirmed once it is back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from gateway.messaging import jobs, statuses
from gateway.messaging.queues import QUEUE_NAME, SEND_BATCH_JOB, SEND_JOB, batch_job_id, batches
from gateway.messaging.relay import relay_once
from gateway.messaging.requeue import requeue_stale
from gateway.runtime import Runtime
from tests.clocks import clock_of
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
from tests.messaging.rq_workers import BurstWorker

PHONES = [f"+2547000002{i:02d}" for i in range(6)]


@pytest.fixture(autouse=True)
def _unbind() -> Iterator[None]:
    yield
    jobs.bind(None)


def work(rt: Runtime) -> None:
    """Run a real RQ worker until the queue is empty, jobs using this runtime."""
    jobs.bind(rt)
    queue = Queue(QUEUE_NAME, connection=rt.redis)
    BurstWorker([queue], connection=rt.redis).work(burst=True)


def queued_ids(redis: Redis) -> list[str]:
    return Queue(QUEUE_NAME, connection=redis).get_job_ids()


@pytest.mark.redis
def test_the_relay_enqueues_one_job_per_batch_and_a_worker_sends_it(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    rt = make_runtime(redis=redis_client)
    for i, phone in enumerate(PHONES[:3]):
        book(rt, phone=phone, when=MONDAY_8 + timedelta(minutes=30 * i))
    relay_once(rt)
    assert queued_ids(redis_client) == ["msgs-1-3"]
    job = Job.fetch("msgs-1-3", connection=redis_client)
    assert (job.func_name, job.args) == (SEND_BATCH_JOB, ([1, 2, 3],))
    work(rt)
    assert [m.status for m in messages(rt)] == [statuses.SENT] * 3
    assert len(fake.accepted()) == 3
    # result_ttl=0: a finished job leaves nothing, so the id is free for a later requeue
    assert not redis_client.exists(Job.key_for("msgs-1-3"))


def test_batches_are_sorted_split_and_named_by_their_ids() -> None:
    assert batches([5, 3, 4, 3, 9], 2) == [[3, 4], [5, 9]]
    assert batch_job_id([3, 4, 5]) == "msgs-3-5"  # a run of ids: named by its ends
    gapped = batch_job_id([3, 5])
    assert gapped.startswith("msgs-3-5-") and gapped == batch_job_id([3, 5])
    assert gapped != batch_job_id([3, 4, 5]) != batch_job_id([3, 4, 6])


@pytest.mark.redis
def test_a_backlog_is_enqueued_in_batches_once_however_often_it_is_enqueued(
    make_runtime: MakeRuntime, redis_client: Redis
) -> None:
    rt = make_runtime(redis=redis_client)
    ids = list(range(1, 121))
    assert rt.messaging.jobs.enqueue(ids)
    assert rt.messaging.jobs.enqueue(ids[::-1])  # a doubled relay pass: the same jobs
    assert queued_ids(redis_client) == ["msgs-1-50", "msgs-51-100", "msgs-101-120"]
    assert Job.fetch("msgs-101-120", connection=redis_client).args == (ids[100:],)


@pytest.mark.redis
def test_overlapping_and_doubled_jobs_send_each_message_once(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    rt = make_runtime(redis=redis_client)
    for i, phone in enumerate(PHONES):
        book(rt, phone=phone, when=MONDAY_8 + timedelta(minutes=30 * (i // 2)))
    relay_once(rt)  # msgs-1-6
    assert rt.messaging.jobs.enqueue([2, 4, 6])  # e.g. a sweep that found some of them
    queue = Queue(QUEUE_NAME, connection=redis_client)
    queue.enqueue(SEND_JOB, 3, job_id="msg-3")  # a job from before batches
    assert len(queued_ids(redis_client)) == 3
    work(rt)
    assert [(m.status, m.attempts) for m in messages(rt)] == [(statuses.SENT, 1)] * len(PHONES)
    assert sorted(r.to for r in fake.accepted()) == sorted(PHONES)


@pytest.mark.redis
def test_a_single_message_job_from_before_batches_still_sends(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    queue = Queue(QUEUE_NAME, connection=redis_client)
    queue.remove(Job.fetch("msgs-1-1", connection=redis_client))
    queue.enqueue(SEND_JOB, 1, job_id="msg-1")
    work(rt)
    assert message(rt, 1).status == statuses.SENT
    assert len(fake.accepted()) == 1


@pytest.mark.redis
def test_enqueueing_again_while_a_job_waits_adds_nothing(
    make_runtime: MakeRuntime, redis_client: Redis
) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    clock_of(rt).advance(seconds=POLICY.requeue_grace + 1)
    assert requeue_stale(rt) == 1  # still due, still queued: enqueue() keeps the one job
    assert rt.messaging.jobs.enqueue([1])
    assert queued_ids(redis_client) == ["msgs-1-1"]


@pytest.mark.redis
def test_a_job_abandoned_by_a_dead_worker_is_replaced(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    queue = Queue(QUEUE_NAME, connection=redis_client)
    job = Job.fetch("msgs-1-1", connection=redis_client)
    queue.remove(job)  # a worker took it ...
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now().astimezone() - timedelta(seconds=POLICY.lease_seconds + 5)
    job.save()  # ... and died long ago
    assert rt.messaging.jobs.enqueue([1])
    assert queued_ids(redis_client) == ["msgs-1-1"]
    assert Job.fetch("msgs-1-1", connection=redis_client).get_status() == JobStatus.QUEUED
    work(rt)
    assert message(rt, 1).status == statuses.SENT


@pytest.mark.redis
def test_a_job_running_now_is_not_doubled(make_runtime: MakeRuntime, redis_client: Redis) -> None:
    rt = make_runtime(redis=redis_client)
    book(rt)
    relay_once(rt)
    queue = Queue(QUEUE_NAME, connection=redis_client)
    job = Job.fetch("msgs-1-1", connection=redis_client)
    queue.remove(job)
    job.set_status(JobStatus.STARTED)
    job.started_at = datetime.now().astimezone()
    job.save()
    assert rt.messaging.jobs.enqueue([1])
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
    retry_in = m.next_attempt_at - rt.clock.now()  # the test clock stands still
    assert timedelta(seconds=5) <= retry_in <= timedelta(seconds=10)  # attempt 1: 10 s, half jitter
    registry = ScheduledJobRegistry(QUEUE_NAME, connection=redis_client)
    assert registry.get_job_ids() == ["msg-1-a1"]
    # RQ schedules on the wall clock: the job is due `retry_in` after RQ created it.
    job = Job.fetch("msg-1-a1", connection=redis_client)
    due = registry.get_scheduled_time("msg-1-a1")
    assert abs(due - job.created_at - retry_in) < timedelta(seconds=1)


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
    clock_of(up).advance(seconds=POLICY.requeue_grace + 1)
    assert requeue_stale(up) == len(PHONES)
    work(up)
    assert [m.status for m in messages(up)] == [statuses.SENT] * len(PHONES)
    assert sorted(r.to for r in fake.accepted()) == sorted(PHONES)
