"""No USSD hop or IVR turn holds its caller past the hop deadline, and none lies to them.

A booking operation that hangs (a database that accepts and never answers) is played by a
gate: the operation waits until the test opens it. The caller hears the polite apology within
the deadline; the work, let go afterwards, commits nothing; the circuit breaker answers the
next callers at once; once its cool-down has passed (the test moves the clock) a probe goes
through and bookings succeed again. The deadline is 0.5 s for the call that hangs, and stays
5 s for the rest of a walk, so a slow hop on a loaded machine never opens the breaker.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.booking.models import Booking, Hold
from gateway.booking.sql.deadline import LateCommit
from gateway.clock import FixedClock
from gateway.db import make_engine
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets, Settings
from gateway.voucher_keys import VoucherKeys
from gateway.web import hops
from gateway.web.breaker import COOL_DOWN
from tests.channels.conftest import AtPhone, other_phone
from tests.channels.voice_calls import AtCall, TwilioCall, VoiceCall
from tests.gates import Gate

DEADLINE = 0.5
# The acceptance bound: the caller is answered within the deadline plus one second of slack
# for a loaded test machine (the request thread waits exactly until the deadline).
ANSWERED_WITHIN = DEADLINE + 1.0
TWILIO_TOKEN = "twilio-auth-token"
PUBLIC = "https://ors.example.org"
KEYS_TO_TIMES = ("1", "2", "1", "1", "1")  # Book > Nairobi > KNH > Cardiology > Mon 23 Nov
PICK_0800, CONFIRM = "1", "1"
APOLOGY = "Sorry, the service is not available now."


Caller = AtPhone | VoiceCall  # a phone on one of the hooks: USSD, voice (AT or Twilio)


def ussd_caller(app: Flask, number: str) -> Caller:
    return AtPhone(app.test_client(), number=number)


def at_voice_caller(app: Flask, number: str) -> Caller:
    return AtCall(app.test_client(), number=number)


def twilio_voice_caller(app: Flask, number: str) -> Caller:
    return TwilioCall(app.test_client(), number=number, token=TWILIO_TOKEN, base_url=PUBLIC)


CALLERS: dict[str, Callable[[Flask, str], Caller]] = {
    "ussd": ussd_caller,
    "at_voice": at_voice_caller,
    "twilio_voice": twilio_voice_caller,
}


def answer(caller: Caller) -> str:
    return caller.body if isinstance(caller, AtPhone) else caller.heard


def apologised(caller: Caller) -> bool:
    if isinstance(caller, AtPhone):
        return caller.body.startswith(f"END {APOLOGY}")
    return APOLOGY in caller.heard and caller.over


def walk_to_times(caller: Caller) -> None:
    caller.dial()
    for key in KEYS_TO_TIMES:
        caller.press(key)
    # The first time of the day: written on the USSD screen, said in words on a call.
    first = "08:00" if isinstance(caller, AtPhone) else "For eight o'clock in the morning,"
    assert first in answer(caller), answer(caller)


def hurry(app: Flask, deadline: float = DEADLINE) -> None:
    """From the next call on, the app's calls wait `deadline` (the guard reads it per call)."""
    hops.guard(app).deadline_seconds = deadline


@pytest.fixture
def rt(catalog: Runtime, settings: Settings) -> Runtime:
    """The test catalogue's runtime with Twilio signatures on (and the default deadline)."""
    changed = settings.with_overrides(
        public_base_url=PUBLIC,
        secrets=Secrets(twilio_auth_token=TWILIO_TOKEN),
    )
    return build_runtime(changed, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)


@pytest.fixture
def app(rt: Runtime) -> Flask:
    return create_app(runtime=rt)


def apologies(app: Flask, channel: str, reason: str) -> float:
    """`ors_hop_apologies_total` for a channel and reason, read from /metrics."""
    text = app.test_client().get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "ors_hop_apologies_total" and sample.labels == {
                "channel": "voice" if "voice" in channel else channel,
                "reason": reason,
            }:
                return sample.value
    return 0.0


def holds_and_bookings(rt: Runtime, phone: str) -> tuple[int, int]:
    with rt.reader() as s:
        held = s.execute(
            select(func.count()).select_from(Hold).where(Hold.phone == phone)
        ).scalar_one()
        booked = s.execute(
            select(func.count()).select_from(Booking).where(Booking.citizen.has(phone=phone))
        ).scalar_one()
    return held, booked


@pytest.mark.parametrize("operation", ["hold", "book"])
@pytest.mark.parametrize("channel", list(CALLERS))
def test_a_hop_that_hangs_is_answered_in_time_and_its_late_work_commits_nothing(
    app: Flask, rt: Runtime, monkeypatch: pytest.MonkeyPatch, channel: str, operation: str
) -> None:
    phone = other_phone()
    caller = CALLERS[channel](app, phone)
    walk_to_times(caller)
    if operation == "book":
        caller.press(PICK_0800)  # the hold is placed; the confirmation will hang
    gate = Gate()
    monkeypatch.setattr(rt.booking, operation, gate.wrap(getattr(rt.booking, operation)))
    hurry(app)

    started = time.monotonic()
    caller.press(PICK_0800 if operation == "hold" else CONFIRM)
    waited = time.monotonic() - started

    assert apologised(caller), answer(caller)
    assert gate.entered == 1 and waited < ANSWERED_WITHIN, waited
    [late] = gate.open_and_settle()
    assert isinstance(late, LateCommit), late
    held_before_confirming = 1 if operation == "book" else 0
    assert holds_and_bookings(rt, phone) == (held_before_confirming, 0)


@pytest.mark.parametrize("channel", list(CALLERS))
def test_the_breaker_answers_at_once_then_a_probe_finds_the_database_back(
    app: Flask,
    rt: Runtime,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    channel: str,
) -> None:
    gate = Gate()
    real_hold = rt.booking.hold
    monkeypatch.setattr(rt.booking, "hold", gate.wrap(real_hold))
    first = CALLERS[channel](app, other_phone())
    walk_to_times(first)
    hurry(app)
    first.press(PICK_0800)  # hangs: the deadline passes and the breaker opens
    assert apologised(first)
    refused_before = apologies(app, channel, "breaker")

    second = CALLERS[channel](app, other_phone())
    second.dial()  # answered at once: its work never reaches the pool

    assert apologised(second), answer(second)
    assert apologies(app, channel, "breaker") == refused_before + 1
    [late] = gate.open_and_settle()  # the fault is over
    assert isinstance(late, LateCommit)
    monkeypatch.setattr(rt.booking, "hold", real_hold)
    hurry(app, rt.settings.timeouts.hop_deadline)

    clock.advance(seconds=COOL_DOWN.total_seconds())  # the cool-down has passed
    third_phone = other_phone()
    third = CALLERS[channel](app, third_phone)
    walk_to_times(third)  # the dial was the probe; it closed the breaker
    third.press(PICK_0800)
    third.press(CONFIRM)

    assert "Booked!" in answer(third), answer(third)
    assert holds_and_bookings(rt, third_phone) == (0, 1)


def test_a_failed_probe_opens_the_breaker_for_another_cool_down(
    app: Flask, rt: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate()
    monkeypatch.setattr(rt.booking, "caller", gate.wrap(rt.booking.caller))  # every dial reads it
    hurry(app)
    first = ussd_caller(app, other_phone())
    first.dial()
    assert apologised(first)

    clock.advance(seconds=COOL_DOWN.total_seconds())
    probe = ussd_caller(app, other_phone())
    probe.dial()  # still hanging: the probe times out too
    assert apologised(probe)
    refused_before = apologies(app, "ussd", "breaker")
    after_probe = ussd_caller(app, other_phone())
    after_probe.dial()

    assert apologised(after_probe)
    assert apologies(app, "ussd", "breaker") == refused_before + 1
    assert gate.open_and_settle() == [None, None]  # reads: nothing to refuse


# --- a real database that accepts connections and never answers -------------------------------


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A PostgreSQL URL whose server accepts TCP connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql+psycopg://postgres@127.0.0.1:{listener.getsockname()[1]}/ors"
    stop.set()
    thread.join(5)
    listener.close()
    for conn in held:  # the driver blocked in connect() now fails, and its pool thread ends
        conn.close()


def test_a_hung_database_costs_a_caller_the_deadline_and_the_next_ones_nothing(
    settings: Settings, clock: FixedClock, voucher_keys: VoucherKeys, black_hole: str
) -> None:
    engine = make_engine(black_hole)
    changed = settings.with_overrides(timeouts=replace(settings.timeouts, hop_deadline=DEADLINE))
    hung = build_runtime(changed, engine=engine, clock=clock, keys=voucher_keys)
    app = create_app(runtime=hung)
    phones = [ussd_caller(app, other_phone()) for _ in range(3)]
    try:
        started = time.monotonic()
        answers = [phone.dial() for phone in phones]
        waited = time.monotonic() - started

        assert all(body.startswith(f"END {APOLOGY}") for body in answers), answers
        # The first waited for the deadline; the breaker answered the two others at once.
        assert waited < ANSWERED_WITHIN, waited
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        engine.dispose()
