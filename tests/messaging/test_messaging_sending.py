"""Sending through the real SDKs against the fake provider: success, throttling, refusals,
odd replies and slow replies, each as a row of a table (courier style)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from gateway.messaging import statuses
from gateway.messaging.jobs import deliver
from gateway.messaging.providers import Permanent
from gateway.messaging.relay import relay_once
from gateway.messaging.sending import send
from gateway.runtime import Runtime
from gateway.settings import ConfigError, Secrets
from tests.clocks import clock_of
from tests.messaging.conftest import (
    AT_KEY,
    POLICY,
    PUBLIC,
    TWILIO_FROM,
    MakeRuntime,
    book,
    dispatcher,
    message,
    opted_out,
)
from tests.messaging.fake_provider import (
    AT,
    TWILIO,
    FakeProvider,
    Step,
    accept,
    at_recipients,
    reply,
    slow,
    twilio_error,
)


@dataclass(frozen=True)
class Case:
    label: str
    provider: str
    steps: tuple[Step, ...]
    status: str  # ours after the first attempt
    error: str = ""  # in last_error
    opt_out: bool = False


CASES = [
    Case("at accepted", AT, (accept(),), statuses.SENT),
    Case(
        "at json with another content type",
        AT,
        (accept(content_type="application/json; charset=utf-8"),),
        statuses.SENT,
    ),
    Case("at json served as text", AT, (accept(content_type="text/plain"),), statuses.SENT),
    Case(
        "at 401",
        AT,
        (reply(401, "The supplied authentication is invalid", "text/plain"),),
        statuses.QUEUED,
        "authentication",
    ),
    Case(
        "at 429", AT, (reply(429, "Too many requests", "text/plain"),), statuses.QUEUED, "Too many"
    ),
    Case(
        "at 500 page",
        AT,
        (reply(500, "<html>Bad gateway</html>", "text/html"),),
        statuses.QUEUED,
        "http_error",
    ),
    Case(
        "at not json",
        AT,
        (reply(201, "<html>captive portal</html>", "text/html"),),
        statuses.QUEUED,
        "unreadable_reply",
    ),
    Case(
        "at recipient 500",
        AT,
        (reply(201, at_recipients(500, "InternalServerError")),),
        statuses.QUEUED,
        "InternalServerError",
    ),
    Case(
        "at recipient 501",
        AT,
        (reply(201, at_recipients(501, "GatewayError")),),
        statuses.QUEUED,
        "GatewayError",
    ),
    Case(
        "at insufficient balance",
        AT,
        (reply(201, at_recipients(405, "InsufficientBalance")),),
        statuses.QUEUED,
        "InsufficientBalance",
    ),
    Case(
        "at invalid number",
        AT,
        (reply(201, at_recipients(403, "InvalidPhoneNumber")),),
        statuses.FAILED,
        "InvalidPhoneNumber",
    ),
    Case(
        "at blacklisted",
        AT,
        (reply(201, at_recipients(406, "UserInBlacklist")),),
        statuses.FAILED,
        "UserInBlacklist",
        opt_out=True,
    ),
    Case(
        "at dnd as http 409",
        AT,
        (reply(409, at_recipients(409, "DoNotDisturbRejection")),),
        statuses.FAILED,
        "DoNotDisturbRejection",
    ),
    Case(
        "at sent to 0/1",
        AT,
        (reply(201, {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}),),
        statuses.FAILED,
        "InvalidSenderId",
    ),
    Case("at slow", AT, (slow(2.0),), statuses.QUEUED, "network"),
    Case("twilio accepted", TWILIO, (accept(),), statuses.SENT),
    Case(
        "twilio 429",
        TWILIO,
        (twilio_error(429, 20429, "Too Many Requests"),),
        statuses.QUEUED,
        "20429",
    ),
    Case(
        "twilio queue overflow",
        TWILIO,
        (twilio_error(400, 30001, "Queue overflow"),),
        statuses.QUEUED,
        "30001",
    ),
    Case(
        "twilio channel rate limit",
        TWILIO,
        (twilio_error(400, 63018, "Rate limit"),),
        statuses.QUEUED,
        "63018",
    ),
    Case(
        "twilio 500", TWILIO, (reply(500, "oops", "text/plain"),), statuses.QUEUED, "provider_error"
    ),
    Case(
        "twilio not json",
        TWILIO,
        (reply(201, "<html/>", "text/html"),),
        statuses.QUEUED,
        "unreadable_reply",
    ),
    Case(
        "twilio invalid to",
        TWILIO,
        (twilio_error(400, 21211, "Invalid 'To' Phone Number"),),
        statuses.FAILED,
        "21211",
    ),
    Case(
        "twilio not mobile",
        TWILIO,
        (twilio_error(400, 21614, "not a valid mobile number"),),
        statuses.FAILED,
        "21614",
    ),
    Case(
        "twilio unsubscribed",
        TWILIO,
        (twilio_error(400, 21610, "unsubscribed recipient"),),
        statuses.FAILED,
        "21610",
        opt_out=True,
    ),
    Case("twilio slow", TWILIO, (slow(2.0),), statuses.QUEUED, "network"),
]


def queued_message(make_runtime: MakeRuntime, provider: str) -> tuple[Runtime, int]:
    rt = make_runtime(provider)
    book(rt)
    relay_once(rt)
    return rt, 1


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_first_attempt(make_runtime: MakeRuntime, fake: FakeProvider, case: Case) -> None:
    rt, mid = queued_message(make_runtime, case.provider)
    fake.script(case.provider, *case.steps)
    outcome = send(rt, mid)
    m = message(rt, mid)
    assert (m.status, m.attempts) == (case.status, 1)
    assert case.error in (m.last_error or "")
    assert opted_out(rt, m.to_phone) is case.opt_out
    if case.status == statuses.SENT:
        assert m.provider_message_id == fake.accepted()[0].message_id
        assert m.sent_at == rt.clock.now() and m.lease_until is None
    if case.status == statuses.QUEUED:  # retried after 5–10 s (base 10 s: half fixed, half jitter)
        assert timedelta(seconds=5) <= m.next_attempt_at - rt.clock.now() <= timedelta(seconds=10)
        assert outcome.retry_in == pytest.approx(
            (m.next_attempt_at - rt.clock.now()).total_seconds()
        )
    else:
        assert outcome.retry_in is None


def test_africas_talking_gets_what_its_api_expects(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    rt, mid = queued_message(make_runtime, AT)
    send(rt, mid)
    (request,) = fake.requests(AT)
    assert request.headers["apiKey"] == AT_KEY
    assert request.form == {
        "username": "sandbox",
        "to": "+254700000001",
        "message": message(rt, mid).body,
        "bulkSMSMode": "1",
    }


def test_the_sender_id_goes_as_from(make_runtime: MakeRuntime, fake: FakeProvider) -> None:
    from gateway.channels.africastalking.sms_client import AfricasTalkingProvider

    provider = AfricasTalkingProvider(
        "sandbox", AT_KEY, sender_id="HOSPITAL", base_url=fake.base_url
    )
    provider.send("+254700000001", "hello")
    assert fake.requests(AT)[0].form["from"] == "HOSPITAL"


def test_the_configured_africas_talking_host_is_the_one_sent_to(
    rt: Runtime, fake: FakeProvider
) -> None:
    from gateway.messaging.setup import provider_factories
    from gateway.runtime import SMS_CLIENTS

    settings = rt.settings.with_overrides(
        at_username="sandbox",
        at_base_url=fake.base_url,
        secrets=Secrets(at_api_key=AT_KEY),
    )
    factories = provider_factories(settings, POLICY, SMS_CLIENTS)
    provider = factories["africastalking"]()  # as `ors worker` does
    assert provider.send("+254700000001", "hello") == fake.accepted()[0].message_id


def test_twilio_gets_the_status_callback_on_the_public_address(
    make_runtime: MakeRuntime, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A region or edge in the environment must not send the SDK elsewhere (twilio's Client
    # reads TWILIO_REGION / TWILIO_EDGE from os.environ unless given an environment).
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    rt, mid = queued_message(make_runtime, TWILIO)
    assert send(rt, mid).status == statuses.SENT
    (request,) = fake.requests(TWILIO)
    assert request.form == {
        "To": "+254700000001",
        "From": TWILIO_FROM,
        "Body": message(rt, mid).body,
        "StatusCallback": f"{PUBLIC}/hooks/twilio/status",
    }


def test_an_invalid_number_is_refused_by_the_sdk_before_any_request(fake: FakeProvider) -> None:
    from gateway.channels.africastalking.sms_client import AfricasTalkingProvider

    with pytest.raises(Permanent, match="invalid_number"):
        AfricasTalkingProvider("sandbox", AT_KEY, base_url=fake.base_url).send("0712345678", "x")
    assert fake.requests() == []


@pytest.mark.parametrize("provider", [AT, TWILIO])
def test_throttled_then_accepted(
    make_runtime: MakeRuntime, fake: FakeProvider, provider: str
) -> None:
    rt, mid = queued_message(make_runtime, provider)
    throttled = (
        reply(429, "Too many requests", "text/plain")
        if provider == AT
        else twilio_error(429, 20429)
    )
    fake.script(provider, throttled, accept())
    assert send(rt, mid).status == "retry"
    assert send(rt, mid).status == "skipped"  # not due yet
    clock_of(rt).advance(seconds=10)
    assert send(rt, mid).status == statuses.SENT
    m = message(rt, mid)
    assert (m.status, m.attempts, m.last_error) == (statuses.SENT, 2, None)
    assert len(fake.requests(provider)) == 2 and len(fake.accepted()) == 1


def test_retries_stop_at_the_limit(make_runtime: MakeRuntime, fake: FakeProvider) -> None:
    rt, mid = queued_message(make_runtime, AT)
    fake.script(AT, *[reply(500, "down", "text/plain")] * POLICY.max_attempts)
    delays = []
    for _ in range(POLICY.max_attempts):
        outcome = send(rt, mid)
        delays.append(outcome.retry_in)
        clock_of(rt).advance(seconds=120)
    m = message(rt, mid)
    assert (m.status, m.attempts) == (statuses.FAILED, POLICY.max_attempts)
    assert "gave up after 3 attempts" in (m.last_error or "")
    first, second, last = delays
    assert first is not None and second is not None and last is None
    assert 5 <= first <= 10 and 10 <= second <= 20  # backoff doubles


def test_the_backoff_grows_to_its_ceiling_with_jitter() -> None:
    import random

    rng = random.Random(1)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        waits = [POLICY.delay(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 4  # spread out, not all at one second


def test_a_message_is_sent_once_however_many_jobs_run(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    rt, mid = queued_message(make_runtime, AT)
    assert [deliver(rt, mid) for _ in range(3)] == ["sent", "skipped", "skipped"]
    assert len(fake.accepted()) == 1


def test_a_claim_whose_lease_expired_is_taken_over(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    from gateway.messaging.claims import claim

    rt, mid = queued_message(make_runtime, AT)
    assert [c.id for c in claim(rt, [mid])] == [mid]  # a worker claimed it, then died
    assert send(rt, mid).status == "skipped"
    clock_of(rt).advance(seconds=POLICY.lease_seconds + 1)
    assert send(rt, mid).status == statuses.SENT
    assert (message(rt, mid).attempts, len(fake.accepted())) == (2, 1)


def test_a_retry_is_scheduled_on_the_job_queue(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    rt, mid = queued_message(make_runtime, AT)
    fake.script(AT, reply(500, "down", "text/plain"))
    assert deliver(rt, mid) == "retry"
    assert dispatcher(rt).pending() == 2  # the relay's job, and the retry in 5-10 s


def test_a_provider_without_its_secret_is_retried_not_lost(make_runtime: MakeRuntime) -> None:
    from gateway.messaging.providers.router import ProviderRouter
    from gateway.messaging.setup import provider_factories
    from gateway.runtime import SMS_CLIENTS

    rt = make_runtime()
    unconfigured = rt.settings.with_overrides(secrets=Secrets())  # no Twilio secrets at all
    rt.messaging.router = ProviderRouter(
        "twilio", {}, provider_factories(unconfigured, POLICY, SMS_CLIENTS)
    )
    book(rt)
    relay_once(rt)
    assert send(rt, 1).status == "retry"
    assert "ConfigError" in (message(rt, 1).last_error or "")
    with pytest.raises(ConfigError, match="ORS_TWILIO_ACCOUNT_SID"):
        rt.messaging.router.check()  # what `ors worker` runs at start-up
