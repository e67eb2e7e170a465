"""Whatever an authenticated caller posts to `POST /hooks/at/ussd`, AT gets a body it can show.

200, `text/plain`, a `CON `/`END ` prefix, at most 160 GSM-7 basic characters after it; only
the apology END may add a short reference and stays within the protocol's 182.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gateway.app import create_app
from gateway.clock import FixedClock
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets
from gateway.settings import Settings as GatewaySettings
from gateway.voucher_keys import VoucherKeys
from menus.gsm7 import bad_chars
from tests.channels.conftest import HOOK, SERVICE_CODE

TOKEN = "t0k"
APOLOGY = re.compile(r"END .+ \(ref [a-z]{8}\)")

keys = st.sampled_from(["1", "2", "3", "4", "0", "00", "98", "99", "", "x", "١", " 1 "])
answers = st.one_of(
    st.text(),  # any unicode, including control characters and "*"
    st.lists(keys, max_size=40).map("*".join),  # plausible key presses, some empty parts
    st.lists(st.text(max_size=5), max_size=60).map("*".join),  # many "*", empty parts
    st.integers(min_value=1, max_value=3000).map(lambda n: "*" * n),
    st.text(min_size=1900, max_size=2100, alphabet="1*"),  # around the length the hook refuses
    st.text(min_size=5000, max_size=6000),
)
session_ids = st.one_of(st.sampled_from(["ATUid_a", "ATUid_b"]), st.text(max_size=200))
phones = st.one_of(
    st.sampled_from(["+254700000001", "+254700000002", "0712345678"]),
    st.text(max_size=40),
)


@pytest.fixture
def secured_client(
    settings: GatewaySettings, catalog: Runtime, clock: FixedClock, voucher_keys: VoucherKeys
) -> FlaskClient:
    rt = build_runtime(
        settings.with_overrides(secrets=Secrets(at_webhook_token=TOKEN)),
        engine=catalog.engine,
        clock=clock,
        keys=voucher_keys,
    )
    return create_app(runtime=rt).test_client()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(session_id=session_ids, phone=phones, text=answers, network=st.text(max_size=10))
def test_any_post_gets_a_body_at_can_show(
    secured_client: FlaskClient, session_id: str, phone: str, text: str, network: str
) -> None:
    form = {
        "sessionId": session_id,
        "serviceCode": SERVICE_CODE,
        "phoneNumber": phone,
        "networkCode": network,
        "text": text,
    }

    response = secured_client.post(f"{HOOK}?token={TOKEN}", data=form)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert body.startswith(("CON ", "END ")), body
    assert len(body) <= (182 if APOLOGY.fullmatch(body) else 164), body
    assert not bad_chars(body), body
    event("apology" if APOLOGY.fullmatch(body) else body[:3])  # --hypothesis-show-statistics
