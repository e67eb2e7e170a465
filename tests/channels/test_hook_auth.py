"""Who may call the provider hooks: AT tokens in rotation, AT source networks behind trusted
proxies, fail-closed without a token, and Twilio's signature (review findings 8 and 23)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from gateway.app import create_app
from gateway.runtime import Runtime

NEW_TOKEN = "new-at-token-0123456789abcdef0123"
OLD_TOKEN = "old-at-token-0123456789abcdef0123"
AT_NETWORK = "196.201.214.0/24"
AT_ADDRESS = "196.201.214.10"
PROXY = "10.0.0.5"
STRANGER = "203.0.113.7"
TWILIO_TOKEN = "twilio-auth-token"
PUBLIC = "https://ors.example.org"
CALLER = "+254700000001"

# Each Africa's Talking route with a payload as AT posts it, and its answer once admitted.
AT_ROUTES = [
    (
        "/hooks/at/ussd",
        {
            "sessionId": "ATUid_auth",
            "serviceCode": "*384*123#",
            "phoneNumber": CALLER,
            "networkCode": "63902",
            "text": "",
        },
        200,
    ),
    ("/hooks/at/ussd/events", {"sessionId": "ATUid_auth", "status": "Success"}, 200),
    (
        "/hooks/at/voice",
        {"isActive": "1", "sessionId": "ATVId_auth", "callerNumber": CALLER},
        200,
    ),
    ("/hooks/at/dlr", {"id": "ATXid_auth", "status": "NoSuchStatus"}, 400),
]

CASES = [
    # (label, ?token=, peer address, X-Forwarded-For, networks configured, admitted?)
    ("no token", None, AT_ADDRESS, None, False, False),
    ("current token", NEW_TOKEN, AT_ADDRESS, None, False, True),
    ("previous token, during the rotation", OLD_TOKEN, AT_ADDRESS, None, False, True),
    ("wrong token", NEW_TOKEN[:-1] + "x", AT_ADDRESS, None, False, False),
    ("a prefix of the token", NEW_TOKEN[:20], AT_ADDRESS, None, False, False),
    ("token from AT's network", NEW_TOKEN, AT_ADDRESS, None, True, True),
    ("token from another network", NEW_TOKEN, STRANGER, None, True, False),
    ("token via our proxy, from AT's network", NEW_TOKEN, PROXY, AT_ADDRESS, True, True),
    ("token via our proxy, from elsewhere", NEW_TOKEN, PROXY, STRANGER, True, False),
    ("stranger claiming AT's address", NEW_TOKEN, STRANGER, AT_ADDRESS, True, False),
]


def configure(rt: Runtime, networks: bool) -> Runtime:
    rt.settings = rt.settings.with_overrides(
        public_base_url=PUBLIC,
        trusted_proxies=("10.0.0.0/8",),
        at_allowed_networks=(AT_NETWORK,) if networks else (),
        secrets=replace(
            rt.settings.secrets,
            at_webhook_token=f"{NEW_TOKEN}, {OLD_TOKEN}",  # the first is the current one
            twilio_auth_token=TWILIO_TOKEN,
        ),
    )
    return rt


def post(
    client: FlaskClient,
    path: str,
    form: dict[str, str],
    token: str | None,
    peer: str,
    forwarded: str | None = None,
) -> Any:
    query = f"?token={token}" if token is not None else ""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(path + query, data=form, headers=headers, environ_base={"REMOTE_ADDR": peer})


@pytest.mark.parametrize(
    ("token", "peer", "forwarded", "networks", "admitted"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_africas_talking_routes_admit_listed_tokens_from_allowed_networks(
    runtime: Runtime,
    token: str | None,
    peer: str,
    forwarded: str | None,
    networks: bool,
    admitted: bool,
) -> None:
    client = create_app(runtime=configure(runtime, networks)).test_client()
    for path, form, status in AT_ROUTES:
        response = post(client, path, form, token, peer, forwarded)
        assert response.status_code == (status if admitted else 403), path


def test_voice_callbacks_carry_the_current_token_only(runtime: Runtime) -> None:
    client = create_app(runtime=configure(runtime, networks=False)).test_client()
    path, form, _ = AT_ROUTES[2]
    xml = post(client, path, form, OLD_TOKEN, AT_ADDRESS).get_data(as_text=True)
    assert f"token={NEW_TOKEN}" in xml
    assert OLD_TOKEN not in xml


def test_production_without_a_token_refuses_every_at_route(runtime: Runtime) -> None:
    """Belt and braces behind the start-up check: the hooks themselves fail closed."""
    client = create_app(runtime=runtime).test_client()  # built embedded, then production:
    runtime.settings = runtime.settings.with_overrides(
        database_url="postgresql+psycopg://ors@db.invalid/ors"
    )
    assert runtime.settings.secrets.at_webhook_tokens == ()
    for path, form, _ in AT_ROUTES:
        assert post(client, path, form, None, AT_ADDRESS).status_code == 403, path
        assert post(client, path, form, "", AT_ADDRESS).status_code == 403, path


def test_the_embedded_demo_without_a_token_stays_open(runtime: Runtime) -> None:
    client = create_app(runtime=runtime).test_client()
    for path, form, status in AT_ROUTES:
        assert post(client, path, form, None, "127.0.0.1").status_code == status, path


STATUS_FORM = {"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "nosuch"}


def signature(form: dict[str, str], path: str = "/hooks/twilio/status") -> str:
    return RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, form)


TWILIO_CASES = [
    # (label, X-Twilio-Signature, expected status)
    ("no signature", None, 403),
    ("forged signature", "c2lnbmF0dXJl", 403),
    ("signed by Twilio", signature(STATUS_FORM), 400),  # admitted: then refused as unknown
]


@pytest.mark.parametrize(
    ("sig", "status"),
    [case[1:] for case in TWILIO_CASES],
    ids=[case[0] for case in TWILIO_CASES],
)
def test_twilio_routes_admit_only_signed_requests(
    runtime: Runtime, sig: str | None, status: int
) -> None:
    client = create_app(runtime=configure(runtime, networks=False)).test_client()
    headers = {"X-Twilio-Signature": sig} if sig else {}
    assert client.post("/hooks/twilio/status", data=STATUS_FORM, headers=headers).status_code == (
        status
    )
