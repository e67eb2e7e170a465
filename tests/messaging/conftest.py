"""Messaging fixtures: a fake provider server and runtimes whose real SDKs point at it."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import Engine, select

from gateway.booking.models import Citizen
from gateway.booking.service import Confirmation
from gateway.channels.africastalking.sms_client import AfricasTalkingProvider
from gateway.channels.twilio.sms_client import TwilioProvider
from gateway.clock import Clock, FixedClock
from gateway.messaging.dispatcher import ThreadDispatcher
from gateway.messaging.models import Message, PendingReport
from gateway.messaging.policy import SendingPolicy
from gateway.messaging.providers.console import ConsoleProvider
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings
from gateway.voucher_keys import VoucherKeys
from tests.booking.conftest import slot_id
from tests.conftest import TEST_CATALOG
from tests.messaging.fake_provider import FakeProvider

AT_KEY = "at-test-key"
TWILIO_SID = "AC" + "a" * 32
TWILIO_TOKEN = "twilio-test-token"
TWILIO_FROM = "+15005550006"
PUBLIC = "https://ors.example"
A, B, C = "+254700000001", "+254700000002", "+254700000003"
US = "+12025550143"
# Small numbers so tests read easily: attempts 10 s, 20 s, … (half fixed, half jitter).
POLICY = SendingPolicy(
    max_attempts=3,
    base_delay=10,
    max_delay=60,
    lease_seconds=30,
    provider_timeout=1.0,
    requeue_grace=30,
)
MONDAY_8 = datetime(2026, 11, 23, 8, 0)

MakeRuntime = Callable[..., Runtime]


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider(AT_KEY, TWILIO_SID, TWILIO_TOKEN) as server:
        yield server


def local_providers(base_url: str, policy: SendingPolicy = POLICY) -> dict[str, object]:
    """The real SDK-backed providers, pointed at the fake server."""
    return {
        "africastalking": AfricasTalkingProvider(
            "sandbox", AT_KEY, base_url=base_url, timeout=(1.0, policy.provider_timeout)
        ),
        "twilio": TwilioProvider(
            TWILIO_SID,
            TWILIO_TOKEN,
            TWILIO_FROM,
            status_callback=f"{PUBLIC}/hooks/twilio/status",
            base_url=base_url,
            timeout=policy.provider_timeout,
        ),
        "console": ConsoleProvider(),
    }


@pytest.fixture
def make_runtime(
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    voucher_keys: VoucherKeys,
    fake: FakeProvider,
) -> Iterator[MakeRuntime]:
    """Build runtimes on the test database and clock (the catalogue is loaded once)."""
    made: list[Runtime] = []

    def make(
        provider: str = "africastalking",
        redis: Redis | None = None,
        policy: SendingPolicy = POLICY,
        clock: Clock = clock,
        **changes: object,
    ) -> Runtime:
        secrets = replace(settings.secrets, twilio_auth_token=TWILIO_TOKEN)
        rt = build_runtime(
            settings.with_overrides(
                sms_provider=provider, public_base_url=PUBLIC, secrets=secrets, **changes
            ),
            engine=engine,
            clock=clock,
            keys=voucher_keys,
            redis=redis,
            sms_providers=local_providers(fake.base_url, policy),
            messaging_policy=policy,
            rng=random.Random(7),
        )
        if not made:
            rt.booking.load_catalog(TEST_CATALOG)
            rt.booking.generate_slots(2)  # today and tomorrow are all these tests book
        made.append(rt)
        return rt

    yield make
    if engine.dialect.name == "sqlite":
        engine.dispose()


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    """A runtime sending through Africa's Talking (the fake), jobs in the embedded dispatcher."""
    return make_runtime()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_redis() -> Redis:
    """A client for a Redis that is not there: every command fails fast (no retries)."""
    return Redis(
        host="127.0.0.1",
        port=closed_port(),
        socket_connect_timeout=0.2,
        socket_timeout=0.2,
        retry=Retry(NoBackoff(), 0),
    )


def book(
    rt: Runtime, phone: str = A, dept: str = "CARD", when: datetime = MONDAY_8
) -> Confirmation:
    return rt.booking.book(phone, slot_id(rt, dept, when), "ussd")


def dispatcher(rt: Runtime) -> ThreadDispatcher:
    """The runtime's job queue, which is the embedded dispatcher when it has no Redis."""
    assert isinstance(rt.messaging.jobs, ThreadDispatcher)
    return rt.messaging.jobs


def messages(rt: Runtime) -> list[Message]:
    with rt.reader() as s:
        return list(s.scalars(select(Message).order_by(Message.id)))


def message(rt: Runtime, message_id: int) -> Message:
    with rt.reader() as s:
        found = s.get(Message, message_id)
        assert found is not None
        return found


def pending_reports(rt: Runtime) -> list[PendingReport]:
    with rt.reader() as s:
        return list(s.scalars(select(PendingReport).order_by(PendingReport.id)))


def opted_out(rt: Runtime, phone: str) -> bool:
    with rt.reader() as s:
        return bool(s.scalar(select(Citizen.reminders_opt_out).where(Citizen.phone == phone)))


class RunningClock:
    """A clock that starts where the test clock stands and then runs with real time."""

    def __init__(self, start: datetime):
        self.start, self.started = start, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)


@pytest.fixture(params=["at", "twilio"])
def texter(request: pytest.FixtureRequest, make_runtime: MakeRuntime) -> Any:
    """A citizen texting the gateway (a `Texter`), over Africa's Talking and over Twilio."""
    # Imported here: sms_phone imports this module's constants.
    from gateway.app import create_app
    from tests.messaging.sms_phone import SmsPhone, Texter

    provider = "africastalking" if request.param == "at" else "twilio"
    rt = make_runtime(provider=provider)
    return Texter(rt, SmsPhone(create_app(runtime=rt).test_client(), request.param))
