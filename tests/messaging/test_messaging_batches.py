"""Sending in batches: one claim and one record for many messages, and each message still sent
once and recorded exactly as it would be alone — through the real SDK and the fake provider."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event

from gateway.messaging import statuses
from gateway.messaging.claims import claim
from gateway.messaging.dispatcher import ThreadDispatcher
from gateway.messaging.jobs import deliver_batch
from gateway.messaging.recording import Result, record
from gateway.messaging.relay import relay_once
from gateway.messaging.reports import Report, record_report
from gateway.messaging.sending import RELEASED, RETRY, send_batch
from gateway.runtime import Runtime
from tests.clocks import clock_of
from tests.messaging.conftest import (
    MONDAY_8,
    POLICY,
    MakeRuntime,
    book,
    dispatcher,
    message,
    messages,
    opted_out,
    pending_reports,
)
from tests.messaging.fake_provider import (
    AT,
    FakeProvider,
    Step,
    accept,
    at_recipients,
    reply,
    slow,
)

PHONES = [f"+2547000004{i:02d}" for i in range(8)]


def queued(rt: Runtime, count: int) -> list[int]:
    """Book `count` phones (two per slot) and relay: `count` queued voucher messages.

    The relay's jobs then go to a fresh dispatcher that is never started, so a test sees in
    `rt.messaging.jobs` exactly what it enqueued itself.
    """
    for i, phone in enumerate(PHONES[:count]):
        book(rt, phone=phone, when=MONDAY_8 + timedelta(minutes=30 * (i // 2)))
    relay_once(rt)
    rt.messaging.jobs = ThreadDispatcher()
    return [m.id for m in messages(rt)]


def test_a_batch_claim_skips_messages_claimed_elsewhere_or_not_due(
    rt: Runtime, fake: FakeProvider
) -> None:
    ids = queued(rt, 4)
    fake.script(AT, reply(500, "down", "text/plain"))
    assert send_batch(rt, [ids[2]])[ids[2]].status == RETRY  # the third waits for its retry
    assert [c.id for c in claim(rt, [ids[1]])] == [ids[1]]  # another worker holds the second

    outcomes = send_batch(rt, ids)

    assert sorted(outcomes) == [ids[0], ids[3]]
    assert [r.to for r in fake.accepted()] == [PHONES[0], PHONES[3]]
    held, waiting = message(rt, ids[1]), message(rt, ids[2])
    assert (held.status, held.attempts) == (statuses.SENDING, 1)  # the other claim, untouched
    assert (waiting.status, waiting.attempts) == (statuses.QUEUED, 1)


def test_workers_claiming_overlapping_batches_at_once_take_each_message_once(
    make_runtime: MakeRuntime,
) -> None:
    rt = make_runtime()
    ids = queued(rt, 8)
    workers = [make_runtime() for _ in range(4)]
    start = threading.Barrier(len(workers))
    taken: list[int] = []

    def run(worker: Runtime, batch: list[int]) -> None:
        start.wait()
        taken.extend(c.id for c in claim(worker, batch))

    # Each batch overlaps its neighbours: every id is asked for by two workers.
    batches = [ids[0:4], ids[2:6], ids[4:8], ids[6:8] + ids[0:2]]
    threads = [threading.Thread(target=run, args=wb) for wb in zip(workers, batches, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == ids
    assert all((m.status, m.attempts) == (statuses.SENDING, 1) for m in messages(rt))


MIXED: list[tuple[Step, str, str, bool]] = [
    # (the provider's answer, our status after the batch, in last_error, recipient opted out)
    (accept(), statuses.SENT, "", False),
    (reply(500, "down", "text/plain"), statuses.QUEUED, "http_error", False),
    (reply(201, at_recipients(403, "InvalidPhoneNumber")), statuses.FAILED, "InvalidPhone", False),
    (reply(201, at_recipients(406, "UserInBlacklist")), statuses.FAILED, "UserInBlacklist", True),
    (accept(), statuses.SENT, "", False),
]


def test_a_batch_with_mixed_outcomes_records_each_in_one_transaction(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    rt = make_runtime(policy=replace(POLICY, record_every=60))
    ids = queued(rt, len(MIXED))
    fake.script(AT, *(step for step, *_ in MIXED))
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(rt.engine, "commit", count)
    try:
        outcomes = deliver_batch(rt, ids)
    finally:
        event.remove(rt.engine, "commit", count)
    assert len(commits) == 2  # the claim and the record, for the whole batch

    accepted = iter(fake.accepted())
    for mid, (_, status, error, opt_out), phone in zip(ids, MIXED, PHONES[: len(ids)], strict=True):
        m = message(rt, mid)
        assert (m.status, m.attempts, m.lease_until) == (status, 1, None), mid
        assert error in (m.last_error or ""), mid
        assert opted_out(rt, phone) is opt_out, mid
        if status == statuses.SENT:
            assert m.provider_message_id == next(accepted).message_id
            assert (m.sent_at, m.last_error) == (rt.clock.now(), None)
        if status == statuses.QUEUED:
            wait = (m.next_attempt_at - rt.clock.now()).total_seconds()
            assert 5 <= wait <= 10 and outcomes[mid].retry_in == pytest.approx(wait)
    assert [outcomes[mid].status for mid in ids] == ["sent", "retry", "failed", "failed", "sent"]
    assert dispatcher(rt).pending() == 1  # the retry, scheduled


@pytest.mark.parametrize("reused", [False, True], ids=["fresh ids", "a reused provider id"])
def test_early_reports_and_a_reused_provider_id_in_one_batch(
    rt: Runtime, fake: FakeProvider, reused: bool
) -> None:
    ids = queued(rt, 3)
    assert record_report(rt, Report(AT, "ATXid_early", statuses.DELIVERED, "Success")) == "pending"
    second = accept("ATXid_first") if reused else accept()
    fake.script(AT, accept("ATXid_first"), second, accept("ATXid_early"))

    assert {o.status for o in send_batch(rt, ids).values()} == {statuses.SENT}

    first, other, early = (message(rt, mid) for mid in ids)
    assert (first.status, first.provider_message_id) == (statuses.SENT, "ATXid_first")
    assert (early.status, early.provider_message_id) == (statuses.DELIVERED, "ATXid_early")
    assert pending_reports(rt) == []
    if reused:  # the send is kept, the id is not (a batch transaction would fail: one by one)
        assert (other.status, other.provider_message_id, other.last_error) == (
            statuses.SENT,
            None,
            "duplicate provider id ATXid_first",
        )
    else:
        assert other.status == statuses.SENT and other.last_error is None
        assert other.provider_message_id == fake.accepted()[1].message_id


def test_an_attempt_that_lost_its_claim_writes_nothing_and_the_others_are_recorded(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    ids = queued(rt, 3)
    claims = claim(rt, ids)
    clock_of(rt).advance(seconds=POLICY.lease_seconds + 1)
    assert [c.id for c in claim(rt, [ids[1]])] == [ids[1]]  # the lease ended: taken over
    results = [Result(c, statuses.SENT, provider_id=f"ATXid_late{c.id}") for c in claims]

    assert record(rt, results) == {ids[0]: True, ids[1]: False, ids[2]: True}

    first, taken, last = (message(rt, mid) for mid in ids)
    assert (first.status, first.provider_message_id) == (statuses.SENT, f"ATXid_late{ids[0]}")
    assert (last.status, last.provider_message_id) == (statuses.SENT, f"ATXid_late{ids[2]}")
    assert (taken.status, taken.attempts, taken.provider_message_id) == (statuses.SENDING, 2, None)
    assert "one by one" in caplog.text


def test_the_same_batch_run_twice_sends_each_message_once(rt: Runtime, fake: FakeProvider) -> None:
    ids = queued(rt, 3)
    assert {o.status for o in deliver_batch(rt, ids).values()} == {statuses.SENT}
    assert deliver_batch(rt, ids) == {}
    assert len(fake.accepted()) == 3


def test_batch_jobs_running_at_once_send_each_message_once(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    rt = make_runtime()
    ids = queued(rt, 8)
    workers = [make_runtime() for _ in range(3)]
    start = threading.Barrier(len(workers))
    batches = [ids, ids[::-1], ids[2:]]  # a doubled job, and an overlapping one

    def run(worker: Runtime, batch: list[int]) -> None:
        start.wait()
        deliver_batch(worker, batch)

    threads = [threading.Thread(target=run, args=wb) for wb in zip(workers, batches, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(r.to for r in fake.accepted()) == Counter(PHONES)
    assert [(m.status, m.attempts) for m in messages(rt)] == [(statuses.SENT, 1)] * 8


def test_what_the_lease_cannot_cover_is_released_and_enqueued_again(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    # Sends may start for 0.5 s after the claim (lease 2.5 s - 2 x 1 s provider timeout).
    rt = make_runtime(policy=replace(POLICY, lease_seconds=2.5))
    ids = queued(rt, 3)
    fake.script(AT, slow(0.6))

    outcomes = deliver_batch(rt, ids)

    assert [outcomes[mid].status for mid in ids] == [statuses.SENT, RELEASED, RELEASED]
    assert len(fake.requests()) == 1
    for mid in ids[1:]:  # back as they were before the claim: queued, due, no attempt counted
        m = message(rt, mid)
        assert (m.status, m.attempts, m.lease_until) == (statuses.QUEUED, 0, None)
        assert m.next_attempt_at <= rt.clock.now()
    assert dispatcher(rt).pending() == 2  # enqueued again
    assert {o.status for o in deliver_batch(rt, ids[1:]).values()} == {statuses.SENT}
    assert Counter(r.to for r in fake.accepted()) == Counter(PHONES[:3])
