"""Security review findings 7 and 12 on the USSD and voice hooks: caller ids checked at the edge.

A caller id that is no phone number the booking core accepts (a SIP URI, `client:alice`, over
80 characters, with a NUL or another control character) or a malformed session/call id gets
the hook's polite apology: 200, never a 500, and nothing written (no event the relay cannot
store, no message, no hold, no citizen). Every request is the provider's own payload shape;
Twilio's are signed as Twilio signs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.booking.models import Booking, Citizen, Event, Hold
from gateway.messaging.models import Message
from gateway.messaging.relay import relay_all
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets
from tests.booking.conftest import slot_id
from tests.channels.conftest import EVENTS, HOOK, SERVICE_CODE
from tests.channels.voice_calls import (
    ACCOUNT_SID,
    AT_HOOK,
    IVR_NUMBER,
    SILENT_CALL,
    TWILIO_HOOK,
    AtCall,
    TwilioCall,
    says,
)

AT_TOKEN, TWILIO_TOKEN = "at-webhook-token", "twilio-auth-token"
PUBLIC = "https://ors.example.org"
GOOD_PHONE = "+254700000001"
GOOD_ID = "ATUid_3f9a0c1b"
APOLOGY = "Sorry, the service is not available now."
SIP = "sip:caller-with-a-long-name@pbx.example.org"  # finding 7's reproduction

MALFORMED_CALLERS = [
    pytest.param(SIP, id="sip-uri"),
    pytest.param("client:alice", id="twilio-client"),
    pytest.param("anonymous", id="withheld"),
    pytest.param("12", id="not-a-number"),
    pytest.param("+254" + "7" * 77, id="over-80"),
    pytest.param("+2547000\x0000001", id="nul"),
    pytest.param("+254700000001\x1b", id="escape"),
    pytest.param("+254700000001\n", id="newline"),
    pytest.param("", id="missing"),
]
MALFORMED_IDS = [
    pytest.param("ATUid_" + "a" * 75, id="over-80"),
    pytest.param("ATUid_\x00abc", id="nul"),
    pytest.param("ATUid_\x1b[2J", id="escape"),
    pytest.param("", id="missing"),
]


@dataclass(frozen=True)
class Hook:
    """One provider hook: how it is posted, and how its answer shows the apology."""

    post: Callable[[FlaskClient, str, str], TestResponse]
    mimetype: str
    apologises: Callable[[str], bool]


def post_at_ussd(client: FlaskClient, caller: str, session_id: str) -> TestResponse:
    form = {
        "sessionId": session_id,
        "serviceCode": SERVICE_CODE,
        "phoneNumber": caller,
        "networkCode": "63902",
        "text": "",
    }
    return client.post(f"{HOOK}?token={AT_TOKEN}", data=form)


def post_at_voice(client: FlaskClient, caller: str, call_id: str) -> TestResponse:
    form = {
        "isActive": "1",
        "sessionId": call_id,
        "callerNumber": caller,
        "destinationNumber": IVR_NUMBER,
        "direction": "Inbound",
    }
    return client.post(f"{AT_HOOK}?token={AT_TOKEN}", data=form)


def post_twilio_voice(client: FlaskClient, caller: str, call_id: str, **extra: str) -> TestResponse:
    params = {
        "CallSid": call_id,
        "AccountSid": ACCOUNT_SID,
        "From": caller,
        "To": IVR_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + TWILIO_HOOK, params)
    return client.post(TWILIO_HOOK, data=params, headers={"X-Twilio-Signature": signature})


def ussd_apology(body: str) -> bool:
    return body.startswith(f"END {APOLOGY}")


def spoken_apology(body: str) -> bool:
    root = ET.fromstring(body)
    listens = root.find("GetDigits") is not None or root.find("Gather") is not None
    return APOLOGY in " ".join(says(root)) and not listens


HOOKS = {
    "at-ussd": Hook(post_at_ussd, "text/plain", ussd_apology),
    "at-voice": Hook(post_at_voice, "application/xml", spoken_apology),
    "twilio-voice": Hook(post_twilio_voice, "text/xml", spoken_apology),
}


def secured(base: Runtime) -> Runtime:
    """A runtime on the same database that requires the AT token and Twilio signatures."""
    settings = base.settings.with_overrides(
        public_base_url=PUBLIC,
        secrets=Secrets(at_webhook_token=AT_TOKEN, twilio_auth_token=TWILIO_TOKEN),
    )
    return build_runtime(settings, engine=base.engine, clock=base.clock, keys=base.keys)


@pytest.fixture
def rt(catalog: Runtime) -> Runtime:
    return secured(catalog)


@pytest.fixture
def client(rt: Runtime) -> FlaskClient:
    return create_app(runtime=rt).test_client()


@pytest.fixture
def bare(runtime: Runtime) -> Runtime:
    """No catalogue: a refused request must not get as far as needing one (and it is faster)."""
    return secured(runtime)


@pytest.fixture
def bare_client(bare: Runtime) -> FlaskClient:
    return create_app(runtime=bare).test_client()


def stored(rt: Runtime) -> dict[str, int]:
    """How many rows each table a caller could leave behind holds."""
    with rt.reader() as s:
        return {
            model.__tablename__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Event, Message, Hold, Citizen, Booking)
        }


def answered_with_apology(response: TestResponse, hook: Hook) -> None:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == hook.mimetype
    body = response.get_data(as_text=True)
    assert hook.apologises(body), body


@pytest.mark.parametrize("caller", MALFORMED_CALLERS)
@pytest.mark.parametrize("hook", list(HOOKS))
def test_a_malformed_caller_id_gets_the_apology_and_leaves_nothing(
    bare_client: FlaskClient, bare: Runtime, hook: str, caller: str
) -> None:
    before = stored(bare)

    response = HOOKS[hook].post(bare_client, caller, GOOD_ID)

    answered_with_apology(response, HOOKS[hook])
    assert stored(bare) == before


@pytest.mark.parametrize("session_id", MALFORMED_IDS)
@pytest.mark.parametrize("hook", list(HOOKS))
def test_a_malformed_session_or_call_id_gets_the_apology_and_leaves_nothing(
    bare_client: FlaskClient, bare: Runtime, hook: str, session_id: str
) -> None:
    before = stored(bare)

    response = HOOKS[hook].post(bare_client, GOOD_PHONE, session_id)

    answered_with_apology(response, HOOKS[hook])
    assert stored(bare) == before


@pytest.mark.parametrize("hook", list(HOOKS))
def test_the_same_request_with_good_ids_is_answered_normally(
    client: FlaskClient, hook: str
) -> None:
    response = HOOKS[hook].post(client, GOOD_PHONE, GOOD_ID)

    assert response.status_code == 200
    assert not HOOKS[hook].apologises(response.get_data(as_text=True))


# --- the end-of-session notice ----------------------------------------------------------------


def post_session_notice(client: FlaskClient, phone: str, session_id: str) -> TestResponse:
    form = {
        "date": "2026-11-23 06:01:00",
        "sessionId": session_id,
        "serviceCode": SERVICE_CODE,
        "networkCode": "63902",
        "phoneNumber": phone,
        "status": "Incomplete",
        "cost": "KES 0.00",
        "durationInMillis": "30210",
        "hopsCount": "7",
        "input": "1*2*1*1*1*1",
        "lastAppResponse": "CON Cardiology",
        "errorMessage": "",
    }
    return client.post(f"{EVENTS}?token={AT_TOKEN}", data=form)


@pytest.fixture
def holding(rt: Runtime) -> str:
    """GOOD_PHONE holds a place, so a dropped session of theirs would be noticed."""
    rt.booking.hold(GOOD_PHONE, GOOD_ID, slot_id(rt, "CARD", datetime(2026, 11, 23, 8, 0)))
    return GOOD_PHONE


@pytest.mark.parametrize(
    ("phone", "session_id"),
    [
        *[pytest.param(p.values[0], GOOD_ID, id=f"caller-{p.id}") for p in MALFORMED_CALLERS],
        *[pytest.param(GOOD_PHONE, p.values[0], id=f"session-{p.id}") for p in MALFORMED_IDS],
    ],
)
def test_a_malformed_session_notice_writes_nothing_and_answers_ok(
    client: FlaskClient, rt: Runtime, holding: str, phone: str, session_id: str
) -> None:
    before = stored(rt)

    response = post_session_notice(client, phone, session_id)

    assert (response.status_code, response.get_data(as_text=True)) == (200, "OK")
    assert stored(rt) == before


def test_a_well_formed_session_notice_is_still_recorded(
    client: FlaskClient, rt: Runtime, holding: str
) -> None:
    post_session_notice(client, holding, GOOD_ID)

    with rt.reader() as s:
        [event] = s.scalars(select(Event).where(Event.type == "ussd.dropped"))
    assert (event.payload["phone"], event.payload["session_key"]) == (holding, GOOD_ID)


# --- finding 7's reproduction, and the E.164 form a call uses ------------------------------


@pytest.mark.parametrize("provider", ["twilio", "africastalking"])
def test_a_sip_caller_silent_three_times_leaves_no_event_the_relay_cannot_store(
    client: FlaskClient, rt: Runtime, provider: str
) -> None:
    before = stored(rt)
    answers = []
    if provider == "twilio":
        answers.append(post_twilio_voice(client, SIP, "CApoison1"))
        for _ in range(3):
            answers.append(
                post_twilio_voice(client, SIP, "CApoison1", CallStatus="in-progress", Digits="")
            )
        hook = HOOKS["twilio-voice"]
    else:
        for _ in range(4):  # the dial, then AT's Redirect after each silence
            answers.append(post_at_voice(client, SIP, "ATVId_poison1"))
        hook = HOOKS["at-voice"]

    for response in answers:
        answered_with_apology(response, hook)
    assert stored(rt) == before  # no ivr.gave_up with the raw SIP address
    assert relay_all(rt) == 0


@pytest.mark.parametrize("provider", ["twilio", "africastalking"])
def test_a_call_uses_the_e164_form_of_its_caller_everywhere(
    client: FlaskClient, rt: Runtime, provider: str
) -> None:
    national = "0712345678"  # a Kenyan caller id without the country code
    call = (
        TwilioCall(client, number=national, token=TWILIO_TOKEN, base_url=PUBLIC)
        if provider == "twilio"
        else AtCall(client, number=national, token=AT_TOKEN)
    )

    call.run(SILENT_CALL)

    with rt.reader() as s:
        [event] = s.scalars(select(Event).where(Event.type == "ivr.gave_up"))
    assert event.payload["phone"] == "+254712345678"
    relay_all(rt)
    with rt.reader() as s:
        [message] = s.scalars(select(Message).where(Message.event_id == event.id))
    assert message.to_phone == "+254712345678"
