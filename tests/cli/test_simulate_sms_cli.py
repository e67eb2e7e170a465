"""`ors simulate sms`: posts exactly what Africa's Talking or Twilio posts and prints our answer.

The simulator's HTTP requests go to the app's test client (no server); after an AT post the
relay runs, as the gateway's background round would.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from gateway.app import create_app
from gateway.cli import ors
from gateway.messaging.relay import relay_all
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Secrets, Settings

AT_TOKEN, TWILIO_TOKEN, PUBLIC = "at-cli", "tw-cli", "https://ors.example.org"
SENDER = "+254700000078"


@pytest.fixture
def hooked(
    catalog: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> tuple[Runtime, list[dict[str, Any]]]:
    secured = settings.with_overrides(
        public_base_url=PUBLIC,
        secrets=Secrets(at_webhook_token=AT_TOKEN, twilio_auth_token=TWILIO_TOKEN),
    )
    rt = build_runtime(secured, engine=catalog.engine, clock=catalog.clock, keys=catalog.keys)
    client = create_app(runtime=rt).test_client()
    posted: list[dict[str, Any]] = []

    def post(url: str, data: dict[str, str], headers: dict[str, str], timeout: float) -> Any:
        parts = urlsplit(url)
        posted.append({"url": url, "form": dict(data), "headers": dict(headers)})
        response = client.post(
            parts.path + (f"?{parts.query}" if parts.query else ""), data=data, headers=headers
        )
        relay_all(rt)
        return SimpleNamespace(status_code=response.status_code, text=response.get_data(True))

    monkeypatch.setattr("gateway.cli.simulate.requests.post", post)
    monkeypatch.setattr("gateway.cli.context.settings", lambda: secured)
    monkeypatch.setattr("gateway.cli.context.runtime", lambda s=None: rt)
    monkeypatch.setattr(rt, "close", lambda: None)
    return rt, posted


def test_simulate_sms_over_africas_talking_shows_the_queued_reply(
    hooked: tuple[Runtime, list[dict[str, Any]]],
) -> None:
    _, posted = hooked
    result = CliRunner().invoke(ors, ["simulate", "sms", "--phone", SENDER, "HELP"])
    assert result.exit_code == 0, result.output
    assert "reply queued" in result.output
    assert "ORS hospital bookings: dial *384*123#" in result.output
    (request,) = posted
    assert set(request["form"]) == {"from", "to", "text", "id", "date", "linkId", "networkCode"}
    assert request["form"]["text"] == "HELP" and f"token={AT_TOKEN}" in request["url"]


def test_simulate_sms_over_twilio_prints_the_twiml_answer(
    hooked: tuple[Runtime, list[dict[str, Any]]],
) -> None:
    _, posted = hooked
    args = ["simulate", "sms", "--phone", SENDER, "--provider", "twilio", "hali"]
    result = CliRunner().invoke(ors, args)
    assert result.exit_code == 0, result.output
    assert "<Message>Huna miadi ijayo." in result.output.replace("\n", "")
    (request,) = posted
    assert {"MessageSid", "AccountSid", "From", "To", "Body", "NumMedia"} <= set(request["form"])
    assert "X-Twilio-Signature" in request["headers"]
