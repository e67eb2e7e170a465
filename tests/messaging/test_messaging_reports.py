"""Delivery reports on /hooks/at/dlr and /hooks/twilio/status, with the providers' own
payloads: every status, out of order, twice, and before we recorded the provider's id."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from gateway.app import create_app
from gateway.messaging import statuses
from gateway.messaging.relay import relay_once
from gateway.messaging.sending import send
from gateway.runtime import Runtime
from tests.clocks import clock_of
from tests.messaging.conftest import (
    MONDAY_8,
    PUBLIC,
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    A,
    MakeRuntime,
    book,
    message,
    opted_out,
    pending_reports,
)
from tests.messaging.fake_provider import AT, TWILIO, FakeProvider, accept

STATUS_URL = f"{PUBLIC}/hooks/twilio/status"


def at_report(message_id: str, status: str, reason: str = "") -> dict[str, str]:
    """An AT delivery report as AT posts it to the delivery-reports callback."""
    form = {
        "id": message_id,
        "status": status,
        "phoneNumber": A,
        "networkCode": "63902",
        "retryCount": "0",
    }
    if reason:
        form["failureReason"] = reason
    return form


def twilio_report(sid: str, status: str, error_code: str = "") -> dict[str, str]:
    """A Twilio status callback as Twilio posts it to a StatusCallback URL."""
    form = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": A,
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": TWILIO_FROM,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        form["ErrorCode"] = error_code
    return form


def sign(form: dict[str, str], url: str = STATUS_URL) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}


class Hooks:
    def __init__(self, rt: Runtime, fake: FakeProvider):
        self.rt, self.fake = rt, fake
        self.client: FlaskClient = create_app(runtime=rt).test_client()

    def sent(self, provider: str, provider_id: str = "") -> tuple[int, str]:
        """Book, relay and send one message; return (our id, the provider's id)."""
        book(self.rt)
        relay_once(self.rt)
        self.fake.script(provider, accept(provider_id))
        assert send(self.rt, 1).status == statuses.SENT
        return 1, self.fake.accepted()[-1].message_id

    def at(self, form: dict[str, str], query: str = "") -> int:
        return self.client.post(f"/hooks/at/dlr{query}", data=form).status_code

    def twilio(self, form: dict[str, str]) -> int:
        return self.client.post("/hooks/twilio/status", data=form, headers=sign(form)).status_code


@pytest.fixture
def hooks(make_runtime: MakeRuntime, fake: FakeProvider) -> Hooks:
    return Hooks(make_runtime("africastalking", providers_by_prefix={}), fake)


@pytest.fixture
def twilio_hooks(make_runtime: MakeRuntime, fake: FakeProvider) -> Hooks:
    return Hooks(make_runtime("twilio"), fake)


AT_STATUSES = [
    ("Sent", "", statuses.SENT),
    ("Submitted", "", statuses.SENT),
    ("Buffered", "", statuses.SENT),
    ("Success", "", statuses.DELIVERED),
    ("Rejected", "InsufficientCredit", statuses.FAILED),
    ("Failed", "DeliveryFailure", statuses.FAILED),
    ("AbsentSubscriber", "", statuses.UNDELIVERED),
    ("Expired", "", statuses.UNDELIVERED),
]


@pytest.mark.parametrize(("status", "reason", "ours"), AT_STATUSES)
def test_at_every_status(hooks: Hooks, status: str, reason: str, ours: str) -> None:
    mid, pid = hooks.sent(AT)
    assert hooks.at(at_report(pid, status, reason)) == 200
    m = message(hooks.rt, mid)
    assert m.status == ours
    if ours != statuses.SENT:  # a report that does not move it leaves everything as it was
        assert (m.provider_status, m.last_error) == (status, reason or None)
    assert (m.delivered_at is not None) is (ours == statuses.DELIVERED)


def test_the_at_mapping_covers_every_documented_status() -> None:
    from gateway.channels.africastalking.dlr import STATUS_MAPPING

    assert set(STATUS_MAPPING) == {s for s, _, _ in AT_STATUSES}


TWILIO_STATUSES = [
    ("queued", statuses.SENT),
    ("accepted", statuses.SENT),
    ("scheduled", statuses.SENT),
    ("sending", statuses.SENT),
    ("sent", statuses.SENT),
    ("partially_delivered", statuses.SENT),
    ("delivered", statuses.DELIVERED),
    ("read", statuses.DELIVERED),
    ("undelivered", statuses.UNDELIVERED),
    ("failed", statuses.FAILED),
    ("canceled", statuses.FAILED),
    ("receiving", statuses.SENT),  # inbound statuses: acknowledged, nothing changes
    ("received", statuses.SENT),
]


@pytest.mark.parametrize(("status", "ours"), TWILIO_STATUSES)
def test_twilio_every_status(twilio_hooks: Hooks, status: str, ours: str) -> None:
    mid, sid = twilio_hooks.sent(TWILIO)
    code = "30003" if status in ("failed", "undelivered") else ""
    assert twilio_hooks.twilio(twilio_report(sid, status, code)) == 200
    m = message(twilio_hooks.rt, mid)
    assert m.status == ours
    if code:
        assert m.last_error == f"Twilio error {code}"


def test_the_twilio_mapping_covers_every_sdk_status() -> None:
    from twilio.rest.api.v2010.account.message import MessageInstance

    from gateway.channels.twilio.status import STATUS_MAPPING

    assert set(STATUS_MAPPING) == {s for s, _ in TWILIO_STATUSES}
    sdk = {v for k, v in vars(MessageInstance.Status).items() if k.isupper()}
    assert set(STATUS_MAPPING) == sdk


@pytest.mark.parametrize(
    ("reports", "final"),
    [
        (["Success", "Sent"], statuses.DELIVERED),  # a late Sent never undoes Delivered
        (["Buffered", "Success", "Submitted"], statuses.DELIVERED),
        (["Failed", "Success"], statuses.FAILED),  # final stays final
        (["Success", "Failed"], statuses.DELIVERED),
        (["AbsentSubscriber", "Sent"], statuses.UNDELIVERED),
    ],
)
def test_at_reports_out_of_order(hooks: Hooks, reports: list[str], final: str) -> None:
    mid, pid = hooks.sent(AT)
    for status in reports:
        assert hooks.at(at_report(pid, status)) == 200
    assert message(hooks.rt, mid).status == final


@pytest.mark.parametrize(
    ("reports", "final"),
    [
        (["delivered", "sent"], statuses.DELIVERED),
        (["sent", "queued", "delivered", "sending"], statuses.DELIVERED),
        (["undelivered", "delivered"], statuses.UNDELIVERED),
        (["read", "delivered", "failed"], statuses.DELIVERED),
    ],
)
def test_twilio_reports_out_of_order(twilio_hooks: Hooks, reports: list[str], final: str) -> None:
    mid, sid = twilio_hooks.sent(TWILIO)
    for status in reports:
        assert twilio_hooks.twilio(twilio_report(sid, status)) == 200
    assert message(twilio_hooks.rt, mid).status == final


def test_the_same_report_twice_changes_nothing(hooks: Hooks) -> None:
    mid, pid = hooks.sent(AT)
    assert hooks.at(at_report(pid, "Success")) == 200
    first = message(hooks.rt, mid)
    clock_of(hooks.rt).advance(minutes=5)
    assert hooks.at(at_report(pid, "Success")) == 200
    again = message(hooks.rt, mid)
    assert (again.status, again.delivered_at, again.updated_at) == (
        first.status,
        first.delivered_at,
        first.updated_at,
    )


@pytest.mark.parametrize("provider", [AT, TWILIO])
def test_reports_that_come_before_the_id_is_recorded(
    make_runtime: MakeRuntime, fake: FakeProvider, provider: str
) -> None:
    hooks = Hooks(make_runtime(provider), fake)
    early = "ATXid_early0001" if provider == AT else "SM" + "e" * 32
    for status in ("Success", "Sent") if provider == AT else ("delivered", "sent"):
        code = (
            hooks.at(at_report(early, status))
            if provider == AT
            else hooks.twilio(twilio_report(early, status))
        )
        assert code == 200
    assert [p.status for p in pending_reports(hooks.rt)] == [statuses.DELIVERED, statuses.SENT]
    mid, pid = hooks.sent(provider, early)
    assert pid == early
    m = message(hooks.rt, mid)
    assert (m.status, m.provider_message_id) == (statuses.DELIVERED, early)
    assert pending_reports(hooks.rt) == []


def test_a_report_for_an_unknown_id_is_kept_with_its_payload(hooks: Hooks) -> None:
    form = at_report("ATXid_nobody", "Failed", "UserInBlackList")
    assert hooks.at(form) == 200
    (kept,) = pending_reports(hooks.rt)
    assert (kept.provider, kept.provider_message_id, kept.status, kept.raw) == (
        AT,
        "ATXid_nobody",
        statuses.FAILED,
        form,
    )


def test_old_unmatched_reports_are_purged(hooks: Hooks) -> None:
    from gateway.messaging.reports import purge_pending

    hooks.at(at_report("ATXid_nobody", "Success"))
    clock_of(hooks.rt).advance(days=6)
    assert purge_pending(hooks.rt) == 0
    clock_of(hooks.rt).advance(days=2)
    assert purge_pending(hooks.rt) == 1 and pending_reports(hooks.rt) == []


def test_a_blacklisting_report_opts_the_citizen_out(hooks: Hooks) -> None:
    _, pid = hooks.sent(AT)
    assert hooks.at(at_report(pid, "Failed", "UserInBlackList")) == 200
    assert opted_out(hooks.rt, A)


def test_a_stop_error_code_opts_the_citizen_out(twilio_hooks: Hooks) -> None:
    _, sid = twilio_hooks.sent(TWILIO)
    assert twilio_hooks.twilio(twilio_report(sid, "failed", "21610")) == 200
    assert opted_out(twilio_hooks.rt, A)


@pytest.mark.parametrize(
    "form",
    [
        {"id": "ATXid_1", "status": "Delivered"},  # not an AT status
        {"id": "ATXid_1", "status": ""},
        {"id": "ATXid_1"},
        {"status": "Success"},
        {},
    ],
    ids=["unknown status", "empty status", "no status", "no id", "empty"],
)
def test_at_reports_we_cannot_read_are_400(hooks: Hooks, form: dict[str, str]) -> None:
    assert hooks.at(form) == 400
    assert pending_reports(hooks.rt) == []


@pytest.mark.parametrize(
    "form",
    [
        twilio_report("SM" + "1" * 32, "lost"),
        {"MessageSid": "SM" + "1" * 32, "AccountSid": TWILIO_SID},
        {"MessageStatus": "delivered", "AccountSid": TWILIO_SID},
    ],
    ids=["unknown status", "no status", "no sid"],
)
def test_twilio_reports_we_cannot_read_are_400(twilio_hooks: Hooks, form: dict[str, str]) -> None:
    assert twilio_hooks.twilio(form) == 400


def test_the_at_hook_needs_the_token_when_one_is_set(
    make_runtime: MakeRuntime, fake: FakeProvider
) -> None:
    rt = make_runtime()
    rt.settings = rt.settings.with_overrides(
        secrets=replace(rt.settings.secrets, at_webhook_token="s3cret")
    )
    hooks = Hooks(rt, fake)
    form = at_report("ATXid_x", "Success")
    assert hooks.at(form) == 403
    assert hooks.at(form, "?token=wrong") == 403
    assert hooks.at(form, "?token=s3cret") == 200


# --- Twilio signatures ------------------------------------------------------------------------


def test_a_valid_signature_is_accepted(twilio_hooks: Hooks) -> None:
    assert twilio_hooks.twilio(twilio_report("SM" + "2" * 32, "delivered")) == 200


def test_a_tampered_parameter_is_403(twilio_hooks: Hooks) -> None:
    signed = twilio_report("SM" + "2" * 32, "failed")
    sent = {**signed, "MessageStatus": "delivered"}
    response = twilio_hooks.client.post("/hooks/twilio/status", data=sent, headers=sign(signed))
    assert response.status_code == 403
    assert pending_reports(twilio_hooks.rt) == []


def test_a_missing_signature_is_403(twilio_hooks: Hooks) -> None:
    form = twilio_report("SM" + "2" * 32, "delivered")
    assert twilio_hooks.client.post("/hooks/twilio/status", data=form).status_code == 403


def test_behind_a_proxy_the_public_address_is_what_is_signed(twilio_hooks: Hooks) -> None:
    form = twilio_report("SM" + "3" * 32, "delivered")
    internal = "http://10.0.0.5:8000"
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "ors.example"}

    def post(signature_url: str) -> int:
        return twilio_hooks.client.post(
            "/hooks/twilio/status",
            base_url=internal,
            data=form,
            headers={**proxied, **sign(form, signature_url)},
        ).status_code

    assert post(STATUS_URL) == 200
    assert post(f"{internal}/hooks/twilio/status") == 403


def test_the_query_string_is_part_of_what_is_signed(twilio_hooks: Hooks) -> None:
    form = twilio_report("SM" + "4" * 32, "delivered")
    client = twilio_hooks.client
    ok = client.post(
        "/hooks/twilio/status?src=sms", data=form, headers=sign(form, f"{STATUS_URL}?src=sms")
    )
    assert ok.status_code == 200
    assert ok.mimetype == "text/xml" and b"<Response/>" in ok.data
    dropped = client.post("/hooks/twilio/status?src=sms", data=form, headers=sign(form))
    assert dropped.status_code == 403


def test_a_report_racing_the_recording_of_its_id_is_applied_once(
    make_runtime: MakeRuntime,
) -> None:
    """The DLR and our write of the provider id, started together, many times over."""
    from gateway.messaging.claims import claim
    from gateway.messaging.recording import Result, record
    from gateway.messaging.reports import Report, record_report

    rt = make_runtime()
    rounds = 10
    for i in range(rounds):
        book(rt, phone=f"+25470000030{i}", when=MONDAY_8 + timedelta(minutes=30 * (i // 2)))
    relay_once(rt)
    for mid in range(1, rounds + 1):
        (taken,) = claim(rt, [mid])
        pid = f"ATXid_race{mid}"
        report = Report(AT, pid, statuses.DELIVERED, "Success")
        start = threading.Barrier(2)

        def deliver_report(report: Report = report, start: threading.Barrier = start) -> None:
            start.wait()
            record_report(rt, report)

        thread = threading.Thread(target=deliver_report)
        thread.start()
        start.wait()
        record(rt, [Result(taken, statuses.SENT, provider_id=pid)])
        thread.join()
        m = message(rt, mid)
        assert (m.status, m.provider_message_id) == (statuses.DELIVERED, pid), mid
    assert pending_reports(rt) == []
