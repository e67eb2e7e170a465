"""Delivery reports, inbound SMS and the voucher page never hold a request thread past the
hop deadline either, and a database that is away asks the provider to send again (503).

A hanging database is played by a gate around the route's database work; the deadline is
0.5 s for the call that hangs. A database error that a retry can cure (OperationalError) is a
503 too; a report that fails for any other reason stays a logged 200 (test_hook_ids.py).
"""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from gateway.booking.sql.deadline import LateCommit
from gateway.channels.africastalking import dlr
from gateway.channels.africastalking import sms as at_sms_hook
from gateway.channels.twilio import sms as twilio_sms_hook
from gateway.channels.twilio import status
from gateway.web import hops, vouchers
from tests.channels.test_hook_ids import at_sms, client, post, twilio_sms  # noqa: F401
from tests.gates import Gate

DEADLINE = 0.5
ANSWERED_WITHIN = DEADLINE + 1.0  # the acceptance bound, with slack for a loaded machine

ROUTES = [
    (dlr, "record_report", "/hooks/at/dlr", {"id": "ATXid_9", "status": "Success"}),
    (
        status,
        "record_report",
        "/hooks/twilio/status",
        {"MessageSid": "SM9", "MessageStatus": "sent"},
    ),
    (at_sms_hook, "take", "/hooks/at/sms", at_sms(text="HELP")),
    (twilio_sms_hook, "take", "/hooks/twilio/sms", twilio_sms(Body="HELP")),
]
IDS = ["at dlr", "twilio status", "at sms", "twilio sms"]


@pytest.mark.parametrize(("module", "name", "path", "form"), ROUTES, ids=IDS)
def test_a_hook_whose_database_hangs_answers_503_within_the_deadline(
    client: FlaskClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    name: str,
    path: str,
    form: dict[str, str],
) -> None:
    gate = Gate()
    monkeypatch.setattr(module, name, gate.wrap(getattr(module, name)))
    hops.guard(client.application).deadline_seconds = DEADLINE

    started = time.monotonic()
    response = post(client, path, form)
    waited = time.monotonic() - started

    assert response.status_code == 503 and waited < ANSWERED_WITHIN, waited
    outcomes = gate.open_and_settle()
    [late] = outcomes  # a read returns; a write finishing late is refused its commit
    assert late is None or isinstance(late, LateCommit), late


@pytest.mark.parametrize(("module", "name", "path", "form"), ROUTES[:2], ids=IDS[:2])
def test_a_report_the_database_could_not_take_is_asked_for_again(
    client: FlaskClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    name: str,
    path: str,
    form: dict[str, str],
) -> None:
    def away(*args: object) -> None:
        raise OperationalError("INSERT …", {}, Exception("server closed the connection"))

    monkeypatch.setattr(module, name, away)
    assert post(client, path, form).status_code == 503


def test_the_voucher_page_answers_503_while_the_database_hangs(
    client: FlaskClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = Gate()
    monkeypatch.setattr(vouchers, "voucher_by_ref", gate.wrap(vouchers.voucher_by_ref))
    hops.guard(client.application).deadline_seconds = DEADLINE

    started = time.monotonic()
    response = client.get("/v/AbCdEfGhIjK")
    waited = time.monotonic() - started

    assert response.status_code == 503 and waited < ANSWERED_WITHIN, waited
    assert response.headers["Retry-After"] == "2"
    assert response.headers["Cache-Control"] == "no-store"
    assert gate.open_and_settle() == [None]  # a read: nothing to refuse
