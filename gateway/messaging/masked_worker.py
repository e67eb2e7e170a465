"""The RQ worker `ors worker` runs: RQ's SimpleWorker, storing failures masked.

RQ keeps a failed job's traceback in Redis (the job's result, the failed registry, webhooks)
for anyone with `rq info` or a dashboard to read, for as long as the failure TTL. Our jobs take
message ids only, but an exception's text can still carry a phone number or a T-code (a
database error prints its bound values), so the text is masked like a log line before RQ stores
it. RQ's own log line of the same traceback goes through the masking log handlers.
"""

from __future__ import annotations

from rq import SimpleWorker
from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue
from rq.registry import StartedJobRegistry

from gateway.logs import mask


class MaskedFailuresWorker(SimpleWorker):
    """A SimpleWorker (jobs run in the worker process) whose stored failures are masked."""

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: StartedJobRegistry | None = None,
        exc_string: str = "",
        execution: Execution | None = None,
    ) -> None:
        # Every place RQ stores or sends the failure text is fed from this one argument.
        super().handle_job_failure(
            job,
            queue,
            started_job_registry=started_job_registry,
            exc_string=mask(exc_string),
            execution=execution,
        )
