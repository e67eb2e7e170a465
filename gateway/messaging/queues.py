"""Where send jobs go: RQ in production (this module), a thread of the process when embedded.

Jobs carry message ids only; the job re-reads and claims its messages, so a duplicate job is
harmless. Job ids still deduplicate: a batch of ids is the job `msgs-<first>-<last>` (a
contiguous run of ids, as the relay makes them) or `msgs-<first>-<last>-<digest of the ids>`,
so enqueueing the same batch twice makes one job; the retry scheduled after attempt n of one
message is `msg-<id>-a<n>`.

Urgent messages (one-time codes a caller waits for on the line) go to a queue of their own,
which every worker serving `messages` lists first: RQ takes a job from the first non-empty
queue, so a code is the next job a worker starts, however long the `messages` backlog.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from gateway.messaging.policy import SendingPolicy

SEND_JOB = "gateway.messaging.jobs.send_message"
SEND_BATCH_JOB = "gateway.messaging.jobs.send_messages"
QUEUE_NAME = "messages"
URGENT_QUEUE_NAME = "messages-urgent"
PENDING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)
log = logging.getLogger(__name__)


class JobQueue(Protocol):
    def enqueue(self, message_ids: Sequence[int], urgent: bool = False) -> bool:
        """Make sure send jobs for these messages are pending (`urgent`: ahead of all the
        others); False if not all could be."""
        ...

    def enqueue_in(
        self, message_id: int, seconds: float, attempt: int, urgent: bool = False
    ) -> bool:
        """Schedule the retry that follows failed attempt `attempt` of one message."""
        ...


def with_urgent_first(queues: Sequence[str]) -> list[str]:
    """The queue names a worker serves, the urgent one first whenever `messages` is served."""
    rest = [name for name in queues if name != URGENT_QUEUE_NAME]
    return [URGENT_QUEUE_NAME, *rest] if QUEUE_NAME in rest else rest


def batches(message_ids: Sequence[int], size: int) -> list[list[int]]:
    """The ids, sorted and without repeats, in batches of at most `size`."""
    ids = sorted(set(message_ids))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def batch_job_id(batch: Sequence[int]) -> str:
    """The job id of a sorted batch of ids: the same batch always gets the same id."""
    first, last = batch[0], batch[-1]
    if last - first + 1 == len(batch):
        return f"msgs-{first}-{last}"
    digest = hashlib.blake2b(",".join(map(str, batch)).encode(), digest_size=6).hexdigest()
    # "h" first: a digest starting with digits after two ids read as a grouped phone number
    # ("msgs-346-381-8454…"), which the log masking hid and the suite's log audit flagged.
    return f"msgs-{first}-{last}-h{digest}"


class RQQueue:
    def __init__(self, redis: Redis, policy: SendingPolicy, name: str = QUEUE_NAME):
        self.queue = Queue(name, connection=redis)
        self.urgent = Queue(URGENT_QUEUE_NAME, connection=redis)
        self.policy = policy

    def enqueue(self, message_ids: Sequence[int], urgent: bool = False) -> bool:
        queue = self.urgent if urgent else self.queue
        for batch in batches(message_ids, self.policy.batch_size):
            try:
                self._enqueue_once(queue, batch_job_id(batch), batch)
            except RedisError as exc:
                # The messages stay `queued`: requeue_stale enqueues them once Redis is back.
                log.warning("could not enqueue messages %s-%s: %s", batch[0], batch[-1], exc)
                return False
        return True

    def enqueue_in(
        self, message_id: int, seconds: float, attempt: int, urgent: bool = False
    ) -> bool:
        try:
            (self.urgent if urgent else self.queue).enqueue_in(
                timedelta(seconds=seconds),
                SEND_JOB,
                message_id,
                job_id=f"msg-{message_id}-a{attempt}",
                unique=True,
                **self._options(),
            )
        except DuplicateJobError:
            pass  # already scheduled
        except RedisError as exc:
            log.warning("could not schedule the retry of message %s: %s", message_id, exc)
            return False
        return True

    def _enqueue_once(self, queue: Queue, job_id: str, batch: list[int]) -> None:
        for _ in range(2):
            try:
                queue.enqueue(SEND_BATCH_JOB, batch, job_id=job_id, unique=True, **self._options())
                return
            except DuplicateJobError:
                if self._replace_if_dead(job_id):
                    continue
                return  # a live job is already pending for this batch

    def _replace_if_dead(self, job_id: str) -> bool:
        """Delete a job that will never run again (done, failed, or its worker died); True if so."""
        connection = self.queue.connection
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            return True  # gone since: enqueue again
        status = job.get_status(refresh=False)
        if status in PENDING:
            return False
        if status == JobStatus.STARTED and not self._abandoned(job):
            return False
        job.delete()
        return True

    def _abandoned(self, job: Job) -> bool:
        # A job still "started" after a whole lease lost its worker (killed mid-send): its
        # messages' lease has expired too, so another worker may claim them.
        started = job.started_at or job.enqueued_at
        if started is None:
            return True
        return datetime.now(UTC) - started > timedelta(seconds=self.policy.lease_seconds)

    def _options(self) -> dict[str, Any]:
        return {
            "result_ttl": 0,  # a finished job leaves nothing behind, so its id is free again
            "failure_ttl": 24 * 3600,
            "job_timeout": int(self.policy.lease_seconds),
        }
