"""An inbound SMS is marked handled only after its command committed (issue #16 item 2, review
finding 14): a failed command is answered 5xx so the provider delivers it again, a crash between
the commit and the mark means it is handled again, once, and after `dead_letter_after` failures
it is set aside as a dead letter that `ors outbox retry` runs again."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.booking.models import Booking, Event
from gateway.messaging import intake
from gateway.messaging.inbound import PROCESSING_SECONDS, MemoryGate, RedisGate
from gateway.messaging.models import InboundFailure
from gateway.runtime import Runtime
from tcode.codes import group
from tests.booking.conftest import slot_id
from tests.conftest import Ors
from tests.messaging.conftest import PUBLIC, TWILIO_TOKEN, A, MakeRuntime
from tests.messaging.sms_phone import AT_HOOK, TWILIO_HOOK, at_form, sign, twilio_form

TUESDAY_9 = datetime(2026, 11, 24, 9, 0)
PROVIDERS = ["at", "twilio"]


class Crash(BaseException):
    """The process dies here: nothing after it runs, no handler catches it."""


class Ticks:
    """The gate's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Sms:
    """One inbound SMS, delivered (and delivered again) as its provider would."""

    client: FlaskClient
    provider: str
    text: str
    form: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.form = at_form(A, self.text) if self.provider == "at" else twilio_form(A, self.text)

    def deliver(self) -> TestResponse:
        if self.provider == "at":
            return self.client.post(AT_HOOK, data=self.form)
        return self.client.post(TWILIO_HOOK, data=self.form, headers=sign(self.form))

    def in_band(self, response: TestResponse) -> str:
        """The answer carried in Twilio's TwiML response ("" for none, and for AT)."""
        found = re.search(r"<Message>(.*)</Message>", response.get_data(as_text=True))
        return found[1] if found else ""


def hooks_of(rt: Runtime) -> Runtime:
    """`rt` with Twilio's token and address, and a gate on a clock the test moves."""
    rt.settings = rt.settings.with_overrides(
        public_base_url=PUBLIC,
        secrets=replace(rt.settings.secrets, twilio_auth_token=TWILIO_TOKEN),
    )
    rt.messaging.inbound = MemoryGate(clock=Ticks())
    return rt


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    return hooks_of(make_runtime())


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    return create_app(runtime=rt).test_client()


@pytest.fixture(autouse=True)
def _single_process_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def booked_tcode(rt: Runtime) -> str:
    booked = rt.booking.book(A, slot_id(rt, "CARD", TUESDAY_9), "ussd")
    assert booked.tcode
    return booked.tcode


def status_of_booking(rt: Runtime) -> str:
    with rt.reader() as s:
        return s.scalars(select(Booking.status)).one()


def events_of(rt: Runtime, type_: str) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.type == type_).order_by(Event.id)))


def queued_replies(rt: Runtime) -> list[str]:
    """The templates of the answers queued through the outbox (Africa's Talking's way)."""
    return [str(e.payload["template"]) for e in events_of(rt, "sms.reply")]


def failing_cancel(rt: Runtime, monkeypatch: pytest.MonkeyPatch, times: int) -> Callable[[], int]:
    """Make the database fail under the next `times` cancellations; returns the call count."""
    real, calls = rt.booking.cancel, [0]

    def cancel(*args: Any, **kwargs: Any) -> object:
        calls[0] += 1
        if calls[0] <= times:
            raise OperationalError("UPDATE bookings …", {}, Exception("connection lost"))
        return real(*args, **kwargs)

    monkeypatch.setattr(rt.booking, "cancel", cancel)
    return lambda: calls[0]


def dead_letters_counted(client: FlaskClient) -> float:
    body = client.get("/metrics").get_data(as_text=True)
    found = re.search(r'^ors_dead_letters_total{kind="sms"} (\S+)$', body, re.M)
    return float(found[1]) if found else 0.0


# --- a failed command is delivered again ------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_database_failure_during_cancel_is_a_500_and_the_retry_cancels(
    rt: Runtime, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    sms = Sms(client, provider, f"CANCEL {booked_tcode(rt)}")
    calls = failing_cancel(rt, monkeypatch, times=1)
    assert sms.deliver().status_code == 500
    assert status_of_booking(rt) == "confirmed"
    assert sms.deliver().status_code == 200  # the provider's retry
    assert status_of_booking(rt) == "cancelled"
    assert sms.deliver().status_code == 200  # a late duplicate is dropped
    assert calls() == 2 and len(events_of(rt, "booking.cancelled")) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_after_five_failures_the_sms_is_set_aside_and_answered_200(
    rt: Runtime, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    tcode = booked_tcode(rt)
    sms = Sms(client, provider, f"CANCEL {tcode}")
    calls = failing_cancel(rt, monkeypatch, times=100)
    counted = dead_letters_counted(client)
    limit = rt.settings.dead_letter_after
    assert [sms.deliver().status_code for _ in range(limit)] == [500] * (limit - 1) + [200]
    assert sms.deliver().status_code == 200 and calls() == limit  # the provider stops: done
    with rt.reader() as s:
        (parked,) = s.scalars(select(InboundFailure))
    name = "africastalking" if provider == "at" else "twilio"
    assert (parked.provider, parked.phone, parked.text, parked.attempts) == (
        name,
        A,
        f"CANCEL {tcode}",
        limit,
    )
    assert parked.last_error == "Exception: connection lost" and parked.retried_at is None
    assert dead_letters_counted(client) == counted + 1
    assert status_of_booking(rt) == "confirmed"


def test_an_sms_that_cannot_even_be_set_aside_is_logged_and_answered_200(
    rt: Runtime,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sms = Sms(client, "at", f"CANCEL {booked_tcode(rt)}")
    failing_cancel(rt, monkeypatch, times=100)

    def no_database(*args: object) -> None:
        raise OperationalError("INSERT INTO inbound_failures …", {}, Exception("still down"))

    monkeypatch.setattr(intake, "park", no_database)
    codes = [sms.deliver().status_code for _ in range(rt.settings.dead_letter_after)]
    assert codes[-1] == 200
    assert "could not be set aside, and is lost: Exception: still down" in caplog.text
    assert A not in caplog.text and "CANCEL" not in caplog.text


# --- a crash between the commit and the mark --------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_crash_after_the_commit_means_the_sms_is_handled_again_once(
    rt: Runtime, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    tcode = booked_tcode(rt)
    sms = Sms(client, provider, f"CANCEL {tcode}")
    gate = rt.messaging.inbound
    assert isinstance(gate, MemoryGate)
    mark = gate.done

    def crash_once(provider: str, message_id: str) -> None:
        monkeypatch.setattr(gate, "done", mark)
        raise Crash

    monkeypatch.setattr(gate, "done", crash_once)
    with pytest.raises(Crash):
        sms.deliver()
    assert status_of_booking(rt) == "cancelled"  # committed before the crash
    assert sms.deliver().status_code == 503  # the dead process's claim still holds
    assert isinstance(gate.clock, Ticks)
    gate.clock.now += PROCESSING_SECONDS + 1
    again = sms.deliver()
    assert again.status_code == 200
    inactive = f"T-code {group(tcode)} is no longer active"
    if provider == "at":
        assert queued_replies(rt) == ["cancel_inactive"]
    else:
        assert sms.in_band(again).startswith(inactive) and queued_replies(rt) == []
    assert sms.deliver().status_code == 200 and sms.in_band(sms.deliver()) == ""  # once
    assert len(events_of(rt, "booking.cancelled")) == 1  # nothing doubled
    assert len(queued_replies(rt)) == (1 if provider == "at" else 0)


# --- the gate ---------------------------------------------------------------------------------


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def gate(request: pytest.FixtureRequest) -> Iterator[MemoryGate | RedisGate]:
    if request.param == "memory":
        yield MemoryGate(clock=Ticks())
        return
    yield RedisGate(request.getfixturevalue("redis_client"))


STEPS = [
    # (call, expected)
    ("claim", "new"),
    ("claim", "busy"),  # a second delivery while the first runs
    ("release", 1),
    ("claim", "new"),  # the retry runs it again
    ("release", 2),
    ("claim", "new"),
    ("done", None),
    ("claim", "done"),
    ("claim", "done"),
]


def test_the_gate_claims_releases_counts_and_marks(gate: MemoryGate | RedisGate) -> None:
    for call, expected in STEPS:
        assert getattr(gate, call)("africastalking", "ATXid_1") == expected, call
    assert gate.claim("twilio", "ATXid_1") == "new"  # ids are per provider


def test_a_processing_claim_is_short_and_a_handled_one_lasts_a_day(redis_client: Redis) -> None:
    gate = RedisGate(redis_client)
    key = "ors:sms-in:seen:twilio:SM1"
    assert gate.claim("twilio", "SM1") == "new"
    assert 0 < redis_client.ttl(key) <= PROCESSING_SECONDS
    gate.done("twilio", "SM1")
    assert redis_client.ttl(key) > 23 * 3600
    redis_client.set("ors:sms-in:seen:twilio:SM2", 1)  # marked before claims existed
    assert gate.claim("twilio", "SM2") == "done"


# --- the command line -------------------------------------------------------------------------


def test_a_dead_inbound_sms_is_listed_masked_and_retried_from_the_cli(
    catalog: Runtime, monkeypatch: pytest.MonkeyPatch, ors_cli: Ors
) -> None:
    rt = hooks_of(catalog)  # the runtime `ors` runs on
    client = create_app(runtime=rt).test_client()
    tcode = booked_tcode(rt)
    sms = Sms(client, "at", f"CANCEL {tcode}")
    failing_cancel(rt, monkeypatch, times=rt.settings.dead_letter_after)
    for _ in range(rt.settings.dead_letter_after):
        sms.deliver()

    code, out, _ = ors_cli("outbox", "dead", "--json")
    (row,) = json.loads(out)
    assert (row["kind"], row["id"], row["what"], row["phone"]) == (
        "sms",
        "sms:1",
        "cancel (africastalking)",
        A,
    )
    code, out, _ = ors_cli("outbox", "dead")
    assert code == 0 and "sms:1" in out and "+2547•••••001" in out
    assert A not in out and tcode not in out

    code, out, _ = ors_cli("outbox", "retry", "sms:1")  # the database is back
    assert (code, out.strip()) == (0, "sms:1: handled again")
    assert status_of_booking(rt) == "cancelled"
    with rt.reader() as s:
        assert s.scalars(select(InboundFailure.retried_at)).one() == rt.clock.now()
    assert ors_cli("outbox", "dead", "--json")[1] == "[]\n"
    code, _, err = ors_cli("outbox", "retry", "sms:1")
    assert code != 0 and "sms:1" in err  # retried already


def test_a_retried_sms_command_queues_its_answer(
    catalog: Runtime, monkeypatch: pytest.MonkeyPatch, ors_cli: Ors
) -> None:
    rt = hooks_of(catalog)  # the runtime `ors` runs on
    client = create_app(runtime=rt).test_client()
    sms = Sms(client, "twilio", "STATUS")
    real = rt.booking.upcoming

    def down(phone: str) -> object:
        raise OperationalError("SELECT …", {}, Exception("connection lost"))

    monkeypatch.setattr(rt.booking, "upcoming", down)
    for _ in range(rt.settings.dead_letter_after):
        sms.deliver()
    monkeypatch.setattr(rt.booking, "upcoming", real)
    code, out, _ = ors_cli("outbox", "retry", "sms:1")
    assert (code, out.strip()) == (0, "sms:1: handled again; its answer is queued")
    assert queued_replies(rt) == ["status_none"]  # Twilio's, through the outbox this time
