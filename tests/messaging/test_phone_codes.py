"""One-time codes (`phone.code`): relayed and sent ahead of any backlog, in RQ and in the
embedded mode; never held by quiet hours; gone from the outbox and the event once sent, and
never in a log line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from gateway.booking.domain import events
from gateway.booking.models import Event
from gateway.messaging import jobs, statuses
from gateway.messaging.queues import URGENT_QUEUE_NAME, with_urgent_first
from gateway.messaging.relay import relay_once, relay_urgent
from gateway.messaging.worker import DEFAULT_QUEUES, start_embedded
from gateway.runtime import Runtime
from tests.booking.conftest import at
from tests.messaging.conftest import A, MakeRuntime, messages
from tests.messaging.fake_provider import FakeProvider
from tests.messaging.rq_workers import BurstWorker
from tests.messaging.sms_phone import deliver, sent_to
from tests.messaging.test_messaging_embedded import eventually

BACKLOG = 200
CODE_BODY = "ORS code 4821. Key it on the call to confirm it is you. Never share it."


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()
    eventually(lambda: not any(t.name.startswith("ors-") for t in threading.enumerate()), 5)


@pytest.fixture(autouse=True)
def _unbind() -> Iterator[None]:
    yield
    jobs.bind(None)


def send_code(rt: Runtime, phone: str = A, language: str | None = "en") -> None:
    """What the core writes when a voice caller asks for a code (subject: the challenge id)."""
    rt.booking.notice(events.phone_code(17, phone=phone, code="4821", language=language))


def queue_backlog(rt: Runtime) -> None:
    """BACKLOG queued messages to as many phones, relayed and enqueued."""
    for i in range(BACKLOG):
        rt.booking.notice(events.ivr_gave_up(f"call-{i}", phone=f"+2547001{i:05d}"))
    assert relay_once(rt, limit=BACKLOG) == BACKLOG


def test_the_relay_takes_codes_before_older_events(rt: Runtime) -> None:
    for i in range(30):
        rt.booking.notice(events.ivr_gave_up(f"call-{i}", phone=f"+2547001{i:05d}"))
    send_code(rt)
    assert relay_once(rt, limit=5) == 5
    assert [m.template for m in messages(rt)] == ["phone_code"] + ["ivr_retry"] * 4
    send_code(rt)
    assert relay_urgent(rt) == 1  # the codes' own round relays nothing else
    assert [m.template for m in messages(rt)][5:] == ["phone_code"]


@pytest.mark.redis
def test_with_rq_a_code_is_sent_before_a_backlog_of_queued_messages(
    make_runtime: MakeRuntime, redis_client: Redis, fake: FakeProvider
) -> None:
    rt = make_runtime(redis=redis_client)
    queue_backlog(rt)
    send_code(rt)
    assert relay_urgent(rt) == 1
    assert Queue(URGENT_QUEUE_NAME, connection=redis_client).count == 1
    jobs.bind(rt)
    served = with_urgent_first(DEFAULT_QUEUES)  # what `ors worker` listens to, in order
    assert served[0] == URGENT_QUEUE_NAME
    queues = [Queue(name, connection=redis_client) for name in served]
    BurstWorker(queues, connection=redis_client).work(burst=True)
    accepted = fake.accepted()
    assert len(accepted) == BACKLOG + 1
    assert (accepted[0].to, accepted[0].body) == (A, CODE_BODY)


def test_embedded_a_code_is_sent_before_a_backlog_of_queued_messages(
    rt: Runtime, fake: FakeProvider, stop: threading.Event
) -> None:
    queue_backlog(rt)  # waiting in the dispatcher, which has not started yet
    send_code(rt)
    relay_once(rt)
    start_embedded(rt, stop)
    assert eventually(lambda: len(fake.accepted()) == BACKLOG + 1, 60)
    assert (fake.accepted()[0].to, fake.accepted()[0].body) == (A, CODE_BODY)


def test_embedded_the_codes_own_round_relays_a_code_while_a_backlog_is_sent(
    rt: Runtime, fake: FakeProvider, stop: threading.Event
) -> None:
    queue_backlog(rt)
    start_embedded(rt, stop, sweep_seconds=60)  # the ordinary relay round waits a minute
    assert eventually(lambda: len(fake.accepted()) > 0)
    send_code(rt)
    assert eventually(lambda: any(r.to == A for r in fake.accepted()), 20)
    position = [r.to for r in fake.accepted()].index(A)
    assert position < BACKLOG  # it did not wait for the backlog to finish


def test_a_code_goes_out_in_the_quiet_hours_and_in_the_callers_language(
    rt: Runtime, fake: FakeProvider
) -> None:
    at(rt, 2026, 11, 23, 23, 30)
    send_code(rt, language="sw")
    deliver(rt)
    assert [r.body for r in fake.accepted()] == [
        "Namba ya ORS 4821. Iweke kwenye simu kuthibitisha ni wewe. Usimpe mtu yeyote."
    ]


def test_the_code_is_redacted_once_sent_and_dropped_from_the_event(
    rt: Runtime, fake: FakeProvider
) -> None:
    send_code(rt)
    relay_once(rt)
    with rt.reader() as s:
        event = s.scalars(select(Event).where(Event.type == "phone.code")).one()
    assert event.payload == {"phone": A, "language": "en"}
    (queued,) = sent_to(rt, A)
    assert queued.body == CODE_BODY  # until it is sent, the message needs it
    deliver(rt)
    (sent,) = sent_to(rt, A)
    assert sent.status == statuses.SENT
    assert sent.body == "ORS code ****. Key it on the call to confirm it is you. Never share it."
    assert [r.body for r in fake.accepted()] == [CODE_BODY]


def test_a_code_to_a_refused_number_is_stored_redacted(rt: Runtime) -> None:
    send_code(rt, phone="+254900223456")  # premium rate
    deliver(rt)
    (refused,) = sent_to(rt, "+254900223456")
    assert refused.status == statuses.REFUSED and "4821" not in refused.body


def test_the_console_provider_logs_no_code(
    make_runtime: MakeRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    rt = make_runtime("console")
    caplog.set_level(logging.INFO)
    send_code(rt)
    deliver(rt)
    assert "ORS code ****." in caplog.text
    assert "4821" not in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        "MLKH Dental Clinic Tue 8 Dec. T-code 237 400 5083. Show at kiosk",
        "T-code 237-400-5083",
        "Reply CANCEL 2374005083 to cancel",
    ],
)
def test_log_lines_keep_no_digit_group_of_a_tcode(body: str) -> None:
    from gateway.logs import mask
    from gateway.messaging.redaction import for_log

    line = mask(for_log(body))
    for group in ("237", "400", "5083"):
        assert f"{group} " not in line and f"{group}-" not in line and not line.count("5083")
