"""Provider message ids are checked at the edge, and NUL bytes never reach the database (review
finding 12): on /hooks/at/dlr, /hooks/twilio/status, /hooks/at/sms and /hooks/twilio/sms an id
over 80 characters, missing, or holding a control character is a plain 400 before anything is
stored; other text loses its NUL bytes. The reproductions of the finding failed with a 500 on
PostgreSQL only (SQLite stores anything), so every row runs on both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from gateway.app import create_app
from gateway.booking.models import Event
from gateway.channels.africastalking import dlr
from gateway.channels.twilio import status
from gateway.messaging.models import PendingReport
from gateway.runtime import Runtime

PUBLIC = "https://ors.example.org"
TWILIO_TOKEN = "twilio-auth-token"
PHONE = "+254700000001"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
Effect = Callable[[Runtime], None]


def nothing_stored(rt: Runtime) -> None:
    assert pending(rt) == [] and events(rt, "sms.reply") == []


def pending_report(id_: str, detail: str | None = None) -> Effect:
    def check(rt: Runtime) -> None:
        (row,) = pending(rt)
        assert row.provider_message_id == id_ and row.detail == detail
        assert not any("\x00" in f"{k}{v}" for k, v in row.raw.items())

    return check


def answered(template: str) -> Effect:
    def check(rt: Runtime) -> None:
        assert [e.payload["template"] for e in events(rt, "sms.reply")] == [template]

    return check


def no_effect(rt: Runtime) -> None:
    pass


@dataclass(frozen=True)
class Case:
    label: str
    path: str
    form: dict[str, str]
    status: int
    body: str | None  # None: not checked
    effect: Effect


def at_sms(**fields: str) -> dict[str, str]:
    return {"from": PHONE, "to": "20880", "text": "HELP", "id": "ATXid_1", **fields}


def twilio_sms(**fields: str) -> dict[str, str]:
    return {"From": PHONE, "To": "+15005550006", "Body": "HELP", "MessageSid": "SM1", **fields}


CASES = [
    # The finding's own reproductions.
    Case(
        "dlr id of 81 characters",
        "/hooks/at/dlr",
        {"id": "A" * 81, "status": "Success"},
        400,
        "bad message id",
        nothing_stored,
    ),
    Case(
        "dlr id of 80 characters",
        "/hooks/at/dlr",
        {"id": "A" * 80, "status": "Success"},
        200,
        "OK",
        pending_report("A" * 80),
    ),
    Case(
        "dlr id with a NUL",
        "/hooks/at/dlr",
        {"id": "AB\x00CD", "status": "Failed"},
        400,
        "bad message id",
        nothing_stored,
    ),
    Case(
        "dlr failureReason with a NUL",
        "/hooks/at/dlr",
        {"id": "ATXid_x1", "status": "Failed", "failureReason": "x\x00y"},
        200,
        "OK",
        pending_report("ATXid_x1", detail="xy"),
    ),
    Case(
        "status sid of 102 characters",
        "/hooks/twilio/status",
        {"MessageSid": "SM" + "a" * 100, "MessageStatus": "delivered"},
        400,
        None,
        nothing_stored,
    ),
    # Around them.
    Case(
        "dlr without an id",
        "/hooks/at/dlr",
        {"status": "Success"},
        400,
        "bad message id",
        nothing_stored,
    ),
    Case(
        "dlr id with a newline",
        "/hooks/at/dlr",
        {"id": "AB\nCD", "status": "Success"},
        400,
        "bad message id",
        nothing_stored,
    ),
    Case(
        "dlr with a NUL in another field",
        "/hooks/at/dlr",
        {"id": "ATXid_x2", "status": "Success", "networkCode": "639\x0002"},
        200,
        "OK",
        pending_report("ATXid_x2"),
    ),
    Case(
        "status sid of 80 characters",
        "/hooks/twilio/status",
        {"MessageSid": "SM" + "a" * 78, "MessageStatus": "delivered"},
        200,
        None,
        pending_report("SM" + "a" * 78),
    ),
    Case(
        "status error code with a NUL",
        "/hooks/twilio/status",
        {"MessageSid": "SM2", "MessageStatus": "failed", "ErrorCode": "30003\x00"},
        200,
        None,
        pending_report("SM2", detail="Twilio error 30003"),
    ),
    Case(
        "status sid with a tab",
        "/hooks/twilio/status",
        {"MessageSid": "SM\t3", "MessageStatus": "delivered"},
        400,
        None,
        nothing_stored,
    ),
    Case(
        "at sms id of 81 characters",
        "/hooks/at/sms",
        at_sms(id="A" * 81),
        400,
        "bad message id",
        nothing_stored,
    ),
    Case(
        "at sms id with a NUL",
        "/hooks/at/sms",
        at_sms(id="a\x00b"),
        400,
        "bad message id",
        nothing_stored,
    ),
    Case("at sms without an id", "/hooks/at/sms", at_sms(id=""), 400, None, nothing_stored),
    Case(
        "at sms text with a NUL",
        "/hooks/at/sms",
        at_sms(text="HE\x00LP"),
        200,
        "OK",
        answered("help"),
    ),
    Case(
        "twilio sms sid of 102 characters",
        "/hooks/twilio/sms",
        twilio_sms(MessageSid="SM" + "a" * 100),
        400,
        EMPTY_TWIML,
        nothing_stored,
    ),
    Case(
        "twilio sms body with a NUL",
        "/hooks/twilio/sms",
        twilio_sms(Body="HE\x00LP"),
        200,
        None,
        no_effect,
    ),
]


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    """The hooks on a runtime of the test database (no catalogue: no hook here needs one)."""
    runtime.settings = runtime.settings.with_overrides(
        public_base_url=PUBLIC,
        secrets=replace(runtime.settings.secrets, twilio_auth_token=TWILIO_TOKEN),
    )
    return create_app(runtime=runtime).test_client()


def post(client: FlaskClient, path: str, form: dict[str, str]) -> TestResponse:
    headers = {}
    if path.startswith("/hooks/twilio/"):
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path, form)
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=form, headers=headers)


def pending(rt: Runtime) -> list[PendingReport]:
    with rt.reader() as s:
        return list(s.scalars(select(PendingReport).order_by(PendingReport.id)))


def events(rt: Runtime, type_: str) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).where(Event.type == type_)))


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_hook_ids_and_nul_bytes(runtime: Runtime, client: FlaskClient, case: Case) -> None:
    response = post(client, case.path, case.form)
    assert response.status_code == case.status, response.get_data(as_text=True)
    if case.body is not None:
        assert response.get_data(as_text=True) == case.body
    case.effect(runtime)


def test_a_twilio_sms_with_a_nul_is_answered_without_it(client: FlaskClient) -> None:
    response = post(client, "/hooks/twilio/sms", twilio_sms(Body="HE\x00LP"))
    assert "<Message>" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("module", "path", "form"),
    [
        (dlr, "/hooks/at/dlr", {"id": "ATXid_1", "status": "Success"}),
        (status, "/hooks/twilio/status", {"MessageSid": "SM1", "MessageStatus": "delivered"}),
    ],
    ids=["at dlr", "twilio status"],
)
def test_a_report_that_cannot_be_recorded_is_a_logged_200(
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    module: object,
    path: str,
    form: dict[str, str],
) -> None:
    def down(*args: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(module, "record_report", down)
    assert post(client, path, form).status_code == 200
    assert "not recorded (ref " in caplog.text and "RuntimeError: database gone" in caplog.text
