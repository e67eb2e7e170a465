"""Who may get an SMS (security review #22): allowed regions, textable number types, and a
daily cap on notices that leaves vouchers and one-time codes alone."""

from __future__ import annotations

import itertools

import pytest
from prometheus_client import REGISTRY

from gateway.app import create_app
from gateway.booking.domain import events
from gateway.messaging import recipients, statuses
from gateway.messaging.relay import relay_all
from gateway.runtime import Runtime
from tests.clocks import clock_of
from tests.messaging.conftest import US, A, B, MakeRuntime, book
from tests.messaging.fake_provider import FakeProvider
from tests.messaging.sms_phone import SmsPhone, deliver, sent_to, twiml_message

KE_ONLY = frozenset({"KE"})
_subjects = itertools.count(1)


def refused_count(reason: str) -> float:
    return REGISTRY.get_sample_value("ors_sms_refused_total", {"reason": reason}) or 0.0


def gave_up(rt: Runtime, phone: str) -> None:
    """The IVR's notice after a call it ended: one `ivr_retry` SMS to the caller id."""
    rt.booking.notice(events.ivr_gave_up(f"call-{next(_subjects)}", phone=phone, language="en"))


NUMBERS = [
    ("Kenyan mobile", "+254712123456", KE_ONLY, None),
    ("Kenyan fixed line", "+254202012345", KE_ONLY, None),
    ("US number, KE only", "+12015550123", KE_ONLY, recipients.REGION),
    ("US number, US allowed", "+12015550123", frozenset({"KE", "US"}), None),
    ("Kenyan premium rate", "+254900223456", KE_ONLY, recipients.NUMBER_TYPE),
    ("Kenyan toll free", "+254800223456", KE_ONLY, recipients.NUMBER_TYPE),
    ("UK VoIP", "+445612345678", frozenset({"GB"}), recipients.NUMBER_TYPE),
    ("UK UAN", "+445512345678", frozenset({"GB"}), recipients.NUMBER_TYPE),
    ("UK personal number", "+447012345678", frozenset({"GB"}), recipients.NUMBER_TYPE),
    ("UK pager", "+447640123456", frozenset({"GB"}), recipients.NUMBER_TYPE),
    ("US premium rate", "+19002345678", frozenset({"US"}), recipients.NUMBER_TYPE),
    ("short code", "+25422141", KE_ONLY, recipients.INVALID),
    ("too short to be a number", "+2547000000", KE_ONLY, recipients.INVALID),
    ("not a number", "hello", KE_ONLY, recipients.INVALID),
]


@pytest.mark.parametrize(
    ("label", "phone", "regions", "reason"), NUMBERS, ids=[n[0] for n in NUMBERS]
)
def test_numbers_are_refused_by_region_and_type(
    label: str, phone: str, regions: frozenset[str], reason: str | None
) -> None:
    assert recipients.number_refusal(phone, regions) == reason


def test_a_caller_from_another_region_gets_no_sms_and_is_counted(
    rt: Runtime, fake: FakeProvider
) -> None:
    before = refused_count(recipients.REGION)
    gave_up(rt, US)
    gave_up(rt, A)
    deliver(rt)
    (refused,) = sent_to(rt, US)
    assert (refused.status, refused.last_error) == (statuses.REFUSED, "refused: region")
    assert [r.to for r in fake.accepted()] == [A]
    assert refused_count(recipients.REGION) == before + 1


def test_allowed_regions_come_from_the_settings(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    rt = make_runtime(sms_allowed_regions=("KE", "US"))
    gave_up(rt, US)
    deliver(rt)
    assert [r.to for r in fake.accepted()] == [US]


def test_a_premium_rate_caller_id_gets_no_sms(rt: Runtime, fake: FakeProvider) -> None:
    before = refused_count(recipients.NUMBER_TYPE)
    gave_up(rt, "+254900223456")
    deliver(rt)
    assert [m.status for m in sent_to(rt, "+254900223456")] == [statuses.REFUSED]
    assert fake.accepted() == []
    assert refused_count(recipients.NUMBER_TYPE) == before + 1


@pytest.mark.parametrize("provider", ["at", "twilio"])
def test_an_inbound_sms_from_another_region_gets_no_answer(
    make_runtime: MakeRuntime, provider: str
) -> None:
    rt = make_runtime(provider="africastalking" if provider == "at" else "twilio")
    phone = SmsPhone(create_app(runtime=rt).test_client(), provider)
    before = refused_count(recipients.REGION)
    http_body = phone.text(US, "HELP")
    relay_all(rt)
    assert sent_to(rt, US) == []
    if provider == "twilio":
        assert twiml_message(http_body) == ""
    assert refused_count(recipients.REGION) == before + 1
    http_body = phone.text(A, "HELP")  # a Kenyan phone is answered as before
    relay_all(rt)
    answer = twiml_message(http_body) if provider == "twilio" else sent_to(rt, A)[0].body
    assert answer.startswith("ORS hospital bookings")


def test_the_eleventh_notice_of_the_day_is_refused_but_vouchers_and_codes_still_go(
    rt: Runtime, fake: FakeProvider
) -> None:
    before = refused_count(recipients.DAILY_LIMIT)
    for _ in range(rt.settings.daily_notice_limit + 1):
        gave_up(rt, A)
    gave_up(rt, B)  # another phone has its own count
    book(rt, phone=A)
    rt.booking.notice(events.phone_code(1, phone=A, code="4821", language="en"))
    deliver(rt)
    sent = [(m.template, m.status) for m in sent_to(rt, A)]
    assert sent == [
        ("phone_code", statuses.SENT),  # relayed first, whenever it was written
        *[("ivr_retry", statuses.SENT)] * 10,
        ("ivr_retry", statuses.REFUSED),
        ("voucher", statuses.SENT),
    ]
    assert [m.status for m in sent_to(rt, B)] == [statuses.SENT]
    assert refused_count(recipients.DAILY_LIMIT) == before + 1
    clock_of(rt).advance(hours=24, minutes=1)  # a rolling day
    gave_up(rt, A)
    deliver(rt)
    assert sent_to(rt, A)[-1].status == statuses.SENT
