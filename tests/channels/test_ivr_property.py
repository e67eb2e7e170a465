"""Whatever an authenticated provider posts to the voice hooks, it gets XML it can run.

200, the provider's content type, a `Response` root with the provider's verbs only, and
under 40 seconds of speech: for any digits, any status, and any field missing.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from gateway.app import create_app
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets
from gateway.settings import Settings as GatewaySettings
from tests.channels.voice_calls import (
    AT_HOOK,
    AT_VERBS,
    TWILIO_HOOK,
    TWILIO_STATUS,
    TWILIO_VERBS,
    check_voice_xml,
)

AT_TOKEN = "at-t0k"
TWILIO_TOKEN = "tw-t0k"
PUBLIC = "https://ors.example.org"
MISSING = None

keys = st.sampled_from(["1", "2", "3", "8", "9", "0", "*", "#", "1#", "", "12", "x", "١"])
digits = st.one_of(
    st.none(),  # the field is not there at all
    keys,
    st.lists(keys, max_size=30).map("".join),
    st.text(max_size=80),
    st.text(min_size=500, max_size=3000, alphabet="0123456789*#"),
)
call_ids = st.one_of(st.sampled_from(["CALL_A", "CALL_B"]), st.text(max_size=100), st.none())
phones = st.one_of(
    st.sampled_from(["+254700000001", "+254700000002", "0712345678"]),
    st.text(max_size=40),
    st.none(),
)
at_active = st.one_of(st.sampled_from(["1", "0"]), st.text(max_size=5), st.none())
call_statuses = st.one_of(
    st.sampled_from(
        ["ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"]
    ),
    st.text(max_size=15),
    st.none(),
)
hypothesis_settings = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def present(**fields: str | None) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value is not MISSING}


@pytest.fixture
def secured_client(catalog: Runtime, settings: GatewaySettings) -> FlaskClient:
    secured = settings.with_overrides(
        public_base_url=PUBLIC,
        secrets=Secrets(at_webhook_token=AT_TOKEN, twilio_auth_token=TWILIO_TOKEN),
    )
    rt = build_runtime(secured, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)
    return create_app(runtime=rt).test_client()


@hypothesis_settings
@given(
    call_id=call_ids,
    phone=phones,
    active=at_active,
    dtmf=digits,
    after_silence=st.booleans(),
)
def test_any_at_voice_post_gets_xml_at_can_run(
    secured_client: FlaskClient,
    call_id: str | None,
    phone: str | None,
    active: str | None,
    dtmf: str | None,
    after_silence: bool,
) -> None:
    form = present(
        isActive=active,
        sessionId=call_id,
        callerNumber=phone,
        destinationNumber="+254711082000",
        direction="Inbound",
        dtmfDigits=dtmf,
    )
    query = f"?token={AT_TOKEN}" + ("&after=silence" if after_silence else "")

    response = secured_client.post(AT_HOOK + query, data=form)

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = check_voice_xml(response.get_data(as_text=True), AT_VERBS)
    assert all(len(g) == 1 for g in root.iter("GetDigits"))
    event("listens" if root.find("GetDigits") is not None else "ends")


@hypothesis_settings
@given(
    call_id=call_ids,
    phone=phones,
    status=call_statuses,
    dtmf=digits,
    to_status_hook=st.booleans(),
)
def test_any_signed_twilio_voice_post_gets_twiml(
    secured_client: FlaskClient,
    call_id: str | None,
    phone: str | None,
    status: str | None,
    dtmf: str | None,
    to_status_hook: bool,
) -> None:
    path = TWILIO_STATUS if to_status_hook else TWILIO_HOOK
    params = present(
        CallSid=call_id,
        AccountSid="AC" + "0" * 32,
        From=phone,
        To="+254711082000",
        CallStatus=status,
        Direction="inbound",
        Digits=dtmf,
    )
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, params)

    response = secured_client.post(path, data=params, headers={"X-Twilio-Signature": signature})

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = check_voice_xml(response.get_data(as_text=True), TWILIO_VERBS)
    event("gathers" if root.find("Gather") is not None else "ends")


@hypothesis_settings
@given(dtmf=st.lists(keys, min_size=1, max_size=25))
def test_a_whole_call_of_random_keys_never_breaks(
    secured_client: FlaskClient, dtmf: list[str]
) -> None:
    """One call, key after key (and silences): every answer is valid until the call ends."""
    form = {"isActive": "1", "sessionId": "ATVId_walk", "callerNumber": "+254700000009"}
    query = f"?token={AT_TOKEN}"
    secured_client.post(AT_HOOK + query, data={**form, "isActive": "0"})  # a fresh call
    response = secured_client.post(AT_HOOK + query, data=form)
    for key in dtmf:
        root = check_voice_xml(response.get_data(as_text=True), AT_VERBS)
        if root.find("GetDigits") is None:
            break
        data = form if key == "" else {**form, "dtmfDigits": key}
        extra = "&after=silence" if key == "" else ""
        response = secured_client.post(AT_HOOK + query + extra, data=data)
        assert response.status_code == 200
    check_voice_xml(response.get_data(as_text=True), AT_VERBS)
