"""Inbound SMS commands on /hooks/at/sms and /hooks/twilio/sms, with the providers' payloads:
STATUS, CANCEL <T-code>, STOP, START, HELP, their Swahili words, typos and garbage."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask.testing import FlaskClient
from redis import Redis

from gateway.app import create_app
from gateway.booking.service import Confirmation
from gateway.messaging import commands
from gateway.messaging.commands import Command, code_of, parse
from gateway.messaging.inbound import MemoryGate
from gateway.messaging.reminders import send_due_reminders
from gateway.runtime import Runtime
from tcode.codes import group
from tests.booking.conftest import at, slot_id
from tests.messaging.conftest import A, B, MakeRuntime, opted_out
from tests.messaging.sms_phone import (
    AT_HOOK,
    EMPTY_TWIML,
    TWILIO_HOOK,
    SmsPhone,
    Texter,
    at_form,
    deliver,
    sent_to,
    sign,
    twilio_form,
)

TUESDAY_9 = datetime(2026, 11, 24, 9, 0)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0)


def book_tuesday(
    rt: Runtime, phone: str = A, when: datetime = TUESDAY_9, dept: str = "CARD"
) -> Confirmation:
    return rt.booking.book(phone, slot_id(rt, dept, when), "ussd")


def typo(code: str) -> str:
    """The code with its fifth digit changed: the Damm check catches it."""
    return code[:4] + str((int(code[4]) + 1) % 10) + code[5:]


# --- parsing ----------------------------------------------------------------------------------

PARSED = [
    ("STATUS", Command("status", "en")),
    ("  status  ", Command("status", "en")),
    ("Status?", Command("status", "en")),
    ("hali", Command("status", "sw")),
    ("CANCEL 4829135575", Command("cancel", "en", "4829135575")),
    ("cancel: 482-913-5575.", Command("cancel", "en", "482 913 5575")),
    ("Cancel4829135575", Command("cancel", "en", "4829135575")),
    ("futa 482 913 5575", Command("cancel", "sw", "482 913 5575")),
    ("stop", Command("stop", "en")),
    ("Simama!", Command("stop", "sw")),
    ("START", Command("start", "en")),
    ("anza", Command("start", "sw")),
    ("help", Command("help", "en")),
    ("MSAADA", Command("help", "sw")),
    ("", Command("help", None)),
    ("hello there", Command("unknown", None)),
    ("12345", Command("unknown", None)),
    ("😀", Command("unknown", None)),
    ("   ", Command("help", None)),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[repr(t) for t, _ in PARSED])
def test_commands_are_read_whatever_the_case_spacing_and_punctuation(
    text: str, expected: Command
) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("argument", "code"),
    [
        ("4829135575", "4829135575"),
        ("482 913 5575", "4829135575"),
        ("T4829135575", "4829135575"),
        ("T CODE 482 913 5575", "4829135575"),
        ("", ""),
    ],
)
def test_the_code_after_cancel_is_read_in_groups_or_with_a_t(argument: str, code: str) -> None:
    assert code_of(argument) == code


# --- the commands, on both providers ----------------------------------------------------------


def test_status_lists_upcoming_bookings_with_grouped_t_codes(texter: Texter) -> None:
    rt = texter.rt
    first = book_tuesday(rt)
    second = book_tuesday(rt, when=TUESDAY_9, dept="DERM")
    reply = texter.send(A, "status")
    assert reply.startswith("Your appointments: Kenyatta Cardiology Tue 24 Nov 09:00 T-code ")
    assert group(first.tcode) in reply and group(second.tcode) in reply
    assert "CANCEL and its T-code" in reply
    assert texter.send(B, "STATUS").startswith("You have no upcoming appointments.")


def test_cancel_from_the_owner_cancels_and_confirms_once(texter: Texter) -> None:
    rt = texter.rt
    booked = book_tuesday(rt)
    deliver(rt)  # the voucher
    assert texter.send(A, f"CANCEL {booked.tcode}") == ""  # no answer of its own
    assert rt.booking.booking(booked.ref).status == "cancelled"
    deliver(rt)
    confirmations = sent_to(rt, A, "cancelled")
    assert len(confirmations) == 1 and group(booked.tcode) in confirmations[0].body
    assert [m.template for m in sent_to(rt, A)] == ["voucher", "cancelled"]
    again = texter.send(A, f"CANCEL {booked.tcode}")  # a second CANCEL changes nothing
    assert "no longer active" in again
    assert len(sent_to(rt, A, "cancelled")) == 1


def test_cancel_from_another_phone_is_refused_and_changes_nothing(texter: Texter) -> None:
    rt = texter.rt
    booked = book_tuesday(rt)
    reply = texter.send(B, f"cancel {group(booked.tcode)}")
    assert reply.startswith(f"We found no booking with T-code {group(booked.tcode)} for this phone")
    assert rt.booking.booking(booked.ref).status == "confirmed"
    deliver(rt)
    assert sent_to(rt, A, "cancelled") == []


def test_cancel_after_the_deadline_is_refused_with_the_deadline(texter: Texter) -> None:
    rt = texter.rt
    booked = book_tuesday(rt)
    at(rt, 2026, 11, 24, 7, 30)  # the deadline was 07:00, two hours before
    reply = texter.send(A, f"CANCEL {booked.tcode}")
    assert reply == (
        "Too late to cancel your Kenyatta Cardiology appointment on Tue 24 Nov 09:00 by SMS: "
        "the deadline was Tue 24 Nov 07:00. Please call the hospital"
    )
    assert rt.booking.booking(booked.ref).status == "confirmed"


def test_a_typo_in_the_code_is_named_before_any_lookup(
    texter: Texter, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = texter.rt
    booked = book_tuesday(rt)
    wrong = typo(booked.tcode)

    def no_lookup(*args: object) -> None:
        raise AssertionError("a code with a bad check digit must not be looked up")

    monkeypatch.setattr(commands, "_booking_of", no_lookup)
    reply = texter.send(A, f"CANCEL {wrong}")
    assert reply.startswith(f"The code {group(wrong)} has a typo.")
    assert texter.send(A, "CANCEL 12345").startswith("The code 12345 has a typo.")
    assert rt.booking.booking(booked.ref).status == "confirmed"


def test_stop_ends_reminders_and_start_brings_them_back(texter: Texter) -> None:
    rt = texter.rt
    book_tuesday(rt, when=TUESDAY_10)
    assert texter.send(A, "STOP please").startswith("Reminders and notices are off.")
    assert opted_out(rt, A)
    at(rt, 2026, 11, 24, 7, 0)  # the 3 h reminder of 10:00 is due
    assert send_due_reminders(rt) == 0
    deliver(rt)
    assert sent_to(rt, A, "reminder") == []
    assert texter.send(A, "start").startswith("Reminders and notices are on again.")
    assert not opted_out(rt, A)
    assert send_due_reminders(rt) == 1
    deliver(rt)
    assert len(sent_to(rt, A, "reminder")) == 1


def test_help_says_how_to_book_by_ussd_and_ivr(texter: Texter) -> None:
    settings = texter.rt.settings
    reply = texter.send(A, "HELP")
    assert settings.ussd_service_code in reply and settings.ivr_number in reply
    assert reply.startswith("ORS hospital bookings: dial *384*123# or call +254711082000")
    assert "CANCEL and the T-code" in reply


def test_swahili_keywords_answer_in_swahili(texter: Texter) -> None:
    rt = texter.rt
    booked = book_tuesday(rt)
    assert texter.send(A, "Hali").startswith("Miadi yako: Kenyatta Cardiology Jumanne 24 Nov 09:00")
    assert texter.send(A, "MSAADA").startswith("Miadi ya hospitali ORS: piga *384*123#")
    assert texter.send(A, "simama").startswith("Vikumbusho na taarifa vimesimamishwa.")
    assert opted_out(rt, A)
    assert texter.send(A, "anza").startswith("Vikumbusho na taarifa vimeanzishwa tena.")
    assert not opted_out(rt, A)
    assert texter.send(A, f"futa {typo(booked.tcode)}").startswith("Namba ")
    assert texter.send(A, f"FUTA {booked.tcode}") == ""
    assert rt.booking.booking(booked.ref).status == "cancelled"


def test_a_citizen_who_chose_swahili_gets_unknown_texts_answered_in_swahili(
    texter: Texter,
) -> None:
    texter.rt.booking.set_language(A, "sw")
    assert texter.send(A, "habari yako").startswith("Samahani, hatukuelewa.")


@pytest.mark.parametrize("garbage", ["hello", "1", "CANCELLED?", "x" * 2000, "ÄÖÜ ß"])
def test_garbage_gets_the_help_text(texter: Texter, garbage: str) -> None:
    reply = texter.send(A, garbage)
    assert reply.startswith("Sorry, we did not understand. To book dial *384*123#")


# --- provider specifics -----------------------------------------------------------------------


@pytest.fixture
def client(make_runtime: MakeRuntime) -> FlaskClient:
    return create_app(runtime=make_runtime()).test_client()


def test_twilio_requires_its_signature(client: FlaskClient) -> None:
    form = twilio_form(A, "STATUS")
    assert client.post(TWILIO_HOOK, data=form).status_code == 403
    bad = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    assert client.post(TWILIO_HOOK, data=form, headers=bad).status_code == 403
    tampered = sign(form)
    assert (
        client.post(TWILIO_HOOK, data={**form, "Body": "CANCEL 1"}, headers=tampered).status_code
        == 403
    )
    assert client.post(TWILIO_HOOK, data=form, headers=sign(form)).status_code == 200


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Cancel", "END", "QUIT", "UNSUBSCRIBE", "stopall"]
)
def test_a_bare_twilio_opt_out_keyword_opts_out_silently(
    make_runtime: MakeRuntime, word: str
) -> None:
    rt = make_runtime(provider="twilio")
    client = create_app(runtime=rt).test_client()
    form = twilio_form(A, word)
    response = client.post(TWILIO_HOOK, data=form, headers=sign(form))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == EMPTY_TWIML  # Twilio answers it itself
    assert opted_out(rt, A)


def test_twilio_opt_out_type_is_honoured(make_runtime: MakeRuntime) -> None:
    rt = make_runtime(provider="twilio")
    client = create_app(runtime=rt).test_client()
    form = twilio_form(A, "Arrêt", OptOutType="STOP")
    response = client.post(TWILIO_HOOK, data=form, headers=sign(form))
    assert response.get_data(as_text=True) == EMPTY_TWIML and opted_out(rt, A)


def test_a_bare_cancel_on_africas_talking_explains_how_to_cancel(make_runtime: MakeRuntime) -> None:
    rt = make_runtime()
    texter = Texter(rt, SmsPhone(create_app(runtime=rt).test_client(), "at"))
    assert texter.send(A, "CANCEL").startswith("To cancel, reply CANCEL and the 10-digit T-code")
    assert not opted_out(rt, A)


def test_the_at_answer_is_an_outbox_message_sent_through_the_provider(
    make_runtime: MakeRuntime,
) -> None:
    rt = make_runtime()
    client = create_app(runtime=rt).test_client()
    assert client.post(AT_HOOK, data=at_form(A, "HELP")).get_data(as_text=True) == "OK"
    assert sent_to(rt, A) == []  # nothing is sent inside the webhook
    deliver(rt)
    (reply,) = sent_to(rt, A)
    assert (reply.template, reply.status, reply.provider) == ("help", "sent", "africastalking")


def test_a_repeated_delivery_is_answered_once(make_runtime: MakeRuntime) -> None:
    rt = make_runtime()
    client = create_app(runtime=rt).test_client()
    form = at_form(A, "HELP", message_id="ATXid_same")
    for _ in range(3):
        assert client.post(AT_HOOK, data=form).status_code == 200
    deliver(rt)
    assert len(sent_to(rt, A)) == 1


def test_over_the_rate_limit_messages_are_dropped_with_a_200(make_runtime: MakeRuntime) -> None:
    rt = make_runtime()
    rt.messaging.inbound = MemoryGate(per_minute=3)
    client = create_app(runtime=rt).test_client()
    answered = []
    for _ in range(5):
        form = twilio_form(A, "HELP")
        response = client.post(TWILIO_HOOK, data=form, headers=sign(form))
        assert response.status_code == 200
        answered.append(response.get_data(as_text=True) != EMPTY_TWIML)
    assert answered == [True, True, True, False, False]
    for _ in range(5):
        assert client.post(AT_HOOK, data=at_form(B, "HELP")).status_code == 200
    deliver(rt)
    assert len(sent_to(rt, B)) == 3


def test_the_redis_gate_limits_across_processes(
    make_runtime: MakeRuntime, redis_client: Redis
) -> None:
    from gateway.messaging.inbound import RedisGate

    gate = RedisGate(redis_client, per_minute=2)
    assert [gate.admit(A) for _ in range(3)] == [True, True, False]
    assert gate.admit(B)
    assert gate.claim("twilio", "SM1") == "new" and gate.claim("twilio", "SM1") == "busy"
    gate.done("twilio", "SM1")
    assert gate.claim("twilio", "SM1") == "done"


def test_an_internal_failure_is_a_500_logged_with_a_ref_so_the_provider_retries(
    make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue #16 changed this from a 200 (the SMS was lost, finding 14) to a 500.
    rt = make_runtime()
    client = create_app(runtime=rt).test_client()

    def broken(*args: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr("gateway.messaging.commands.handle", broken)
    response = client.post(AT_HOOK, data=at_form(A, "STATUS"))
    assert response.status_code == 500
    form = twilio_form(A, "STATUS")
    response = client.post(TWILIO_HOOK, data=form, headers=sign(form))
    assert (response.status_code, response.get_data(as_text=True)) == (500, EMPTY_TWIML)
    assert caplog.text.count("inbound SMS failed (ref ") == 2
    assert client.post(AT_HOOK, data={}).status_code == 400  # no id: nothing to count retries by
    bad = {"from": "not a phone", "text": "HELP", "id": "x"}
    assert client.post(AT_HOOK, data=bad).status_code == 200  # no retry makes it a phone
