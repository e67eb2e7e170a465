"""Where send jobs go: RQ in production (this module), a thread of the process when embedded.

Jobs carry a message id only; the job re-reads and claims the message, so a duplicate job is
harmless. Job ids still deduplicate: `msg-<id>` is the message's one pending job, and a retry
scheduled after attempt n is `msg-<id>-a<n>`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from gateway.messaging.policy import SendingPolicy

SEND_JOB = "gateway.messaging.jobs.send_message"
QUEUE_NAME = "messages"
PENDING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)
log = logging.getLogger(__name__)


class JobQueue(Protocol):
    def enqueue(self, message_id: int) -> bool:
        """Make sure a send job for the message is pending; False if that is not possible now."""
        ...

    def enqueue_in(self, message_id: int, seconds: float, attempt: int) -> bool:
        """Schedule the retry that follows failed attempt `attempt`."""
        ...


class RQQueue:
    def __init__(self, redis: Redis, policy: SendingPolicy, name: str = QUEUE_NAME):
        self.queue = Queue(name, connection=redis)
        self.policy = policy

    def enqueue(self, message_id: int) -> bool:
        try:
            self._enqueue_once(f"msg-{message_id}", message_id)
        except RedisError as exc:
            # The message stays `queued`: requeue_stale enqueues it once Redis is back.
            log.warning("could not enqueue message %s: %s", message_id, exc)
            return False
        return True

    def enqueue_in(self, message_id: int, seconds: float, attempt: int) -> bool:
        try:
            self.queue.enqueue_in(
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

    def _enqueue_once(self, job_id: str, message_id: int) -> None:
        for _ in range(2):
            try:
                self.queue.enqueue(
                    SEND_JOB, message_id, job_id=job_id, unique=True, **self._options()
                )
                return
            except DuplicateJobError:
                if self._replace_if_dead(job_id):
                    continue
                return  # a live job is already pending for this message

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
        # A job still "started" after a whole lease lost its worker (killed mid-send): the
        # message's lease has expired too, so another worker may claim it.
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
