"""What RQ stores of a failed job (its result and the failed registry) carries nothing
personal: `ors worker`'s worker masks the traceback before RQ writes it to Redis."""

from __future__ import annotations

from typing import cast

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from tests.messaging.rq_workers import MaskedBurstWorker

PHONE, TCODE, GROUPED, VOUCHER_REF = "+254712345678", "3239005395", "323 900 5395", "OWbN09tVvfS"
SECRETS = (PHONE, TCODE, GROUPED, VOUCHER_REF, "12345")


def fail_with_personal_data() -> None:
    """A job whose exception text holds what a database error can print: bound values."""
    raise RuntimeError(
        f"could not send to {PHONE}: T-code {GROUPED} ({TCODE}), link https://ors.example/v/{VOUCHER_REF}"
    )


@pytest.mark.redis
def test_a_failed_jobs_stored_traceback_is_masked(redis_client: Redis) -> None:
    queue = Queue("masking", connection=redis_client)
    job = queue.enqueue(fail_with_personal_data)

    MaskedBurstWorker([queue], connection=redis_client).work(burst=True)

    assert FailedJobRegistry(queue=queue).get_job_ids() == [job.id]
    [result] = Job.fetch(job.id, connection=redis_client).results()
    stored = result.exc_string or ""
    assert "RuntimeError: could not send to +2547•••••678" in stored
    assert "T-code 323 ••• •395 (323••••395), link https://ors.example/v/•••" in stored
    # The job's own hash (RQ 2 kept the traceback there too) holds none either.
    fields = cast(dict[bytes, bytes], redis_client.hgetall(job.key))  # responses not decoded
    on_the_job = b" ".join(fields.values())
    for secret in SECRETS:
        assert secret not in stored
        assert secret.encode() not in on_the_job
