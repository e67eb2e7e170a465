"""Families on one phone (issue #19): a dependant's messages name her and go to the holder's
phone, in the holder's language and under the holder's STOP; a person without a phone gets
nothing; STATUS lists every person's appointments and CANCEL takes a dependant's code."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from gateway.booking.models import Event
from gateway.booking.operations import staff
from gateway.booking.operations.invitations import Offer
from gateway.booking.service import Confirmation
from gateway.booking.sql.persons import PersonInfo
from gateway.messaging.reminders import send_due_reminders
from gateway.messaging.segments import count_segments
from gateway.runtime import Runtime
from tcode.codes import group
from tests.booking.conftest import at, slot_id
from tests.messaging.conftest import MONDAY_8, PUBLIC, A, B, MakeRuntime, messages
from tests.messaging.fake_provider import FakeProvider
from tests.messaging.sms_phone import Texter, deliver, sent_to

TUESDAY_9 = datetime(2026, 11, 24, 9, 0)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0)
MONDAY_9 = datetime(2026, 11, 23, 9, 0)  # the sensitive CCC's hour


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    return make_runtime()


def book(
    rt: Runtime, when: datetime, person: PersonInfo | None = None, dept: str = "CARD"
) -> Confirmation:
    person_id = person.id if person else None
    return rt.booking.book(A, slot_id(rt, dept, when), "ussd", person_id=person_id)


def voucher_text(booked: Confirmation) -> str:
    return f"{PUBLIC}/v/{booked.voucher_ref}. Reply CANCEL {booked.tcode} to cancel"


# --- what the messages say, and to whom -------------------------------------------------------


def test_a_dependants_voucher_names_her_and_the_holders_is_unchanged(rt: Runtime) -> None:
    amina = rt.booking.add_person(A, "Amina Wanjiru")
    mine = book(rt, TUESDAY_9)
    hers = book(rt, TUESDAY_10, amina)
    deliver(rt)
    assert [(m.to_phone, m.template) for m in messages(rt)] == [(A, "voucher"), (A, "voucher")]
    me, her = sent_to(rt, A, "voucher")
    assert me.body == (
        f"Kenyatta Cardiology Tue 24 Nov 09:00. T-code {group(mine.tcode)}. Show at kiosk: "
        + voucher_text(mine)
    )
    assert her.body == (
        f"T-code {group(hers.tcode)} for Amina, Kenyatta Cardiology Tue 24 Nov 10:00. Kiosk: "
        + voucher_text(hers)
    )
    assert count_segments(her.body) == 1


def test_a_dependants_sensitive_department_is_never_named(rt: Runtime) -> None:
    amina = rt.booking.add_person(A, "Amina")
    booked = book(rt, MONDAY_9, amina, dept="CCC")
    deliver(rt)
    (sms,) = sent_to(rt, A, "voucher")
    assert sms.body.startswith(
        f"T-code {group(booked.tcode)} for Amina, Kenyatta Mon 23 Nov 09:00."
    )
    for word in ("HIV", "Comprehensive", "Care", "Clinic"):
        assert word not in sms.body


def test_a_dependants_messages_are_in_the_holders_language(rt: Runtime) -> None:
    rt.booking.set_language(A, "sw")
    amina = rt.booking.add_person(A, "Amina")
    booked = book(rt, TUESDAY_10, amina)
    deliver(rt)
    (sms,) = sent_to(rt, A, "voucher")
    assert sms.language == "sw"
    assert sms.body.startswith(
        f"T-code {group(booked.tcode)} ya Amina, Kenyatta Cardiology Jumanne 24 Nov 10:00. Kiosk: "
    )


def test_a_dependants_reminder_and_cancellations_name_her(rt: Runtime) -> None:
    amina = rt.booking.add_person(A, "Amina")
    first = book(rt, TUESDAY_10, amina)
    second = book(rt, TUESDAY_9, amina, dept="DERM")
    at(rt, 2026, 11, 23, 10, 0)  # 24 h before her Cardiology appointment
    assert send_due_reminders(rt) == 2  # DERM's 24 h one (due at 09:00) too
    deliver(rt)
    rt.booking.cancel(first.ref, by="citizen", phone=A)
    rt.booking.cancel(second.ref, by="staff", reason="Doctor ill", actor="desk-1")
    deliver(rt)
    reminder = next(m for m in sent_to(rt, A, "reminder") if group(second.tcode) in m.body)
    assert reminder.body.startswith("Reminder for Amina: Kenyatta Dermatology Tue 24 Nov 09:00. ")
    (mine,) = sent_to(rt, A, "cancelled")
    assert mine.body == (
        f"Amina's Kenyatta Cardiology appointment on Tue 24 Nov 10:00 (T-code {group(first.tcode)}) "
        "is cancelled. To book again dial *384*123#"
    )
    (staffs,) = sent_to(rt, A, "cancelled_by_staff")
    assert staffs.body == (
        "Sorry, Kenyatta cancelled Amina's Dermatology appointment on Tue 24 Nov 09:00 "
        f"(T-code {group(second.tcode)}). Reason: Doctor ill. To book again dial *384*123#"
    )


def test_the_holders_stop_ends_a_dependants_notices_but_not_her_voucher(rt: Runtime) -> None:
    amina = rt.booking.add_person(A, "Amina")
    rt.booking.set_reminders(A, False)  # STOP, from the phone
    booked = book(rt, TUESDAY_10, amina)
    at(rt, 2026, 11, 23, 10, 0)
    assert send_due_reminders(rt) == 0
    rt.booking.cancel(booked.ref, by="staff", reason="Doctor ill", actor="desk-1")
    deliver(rt)
    assert [m.template for m in sent_to(rt, A)] == ["voucher"]


def test_a_staff_invitation_for_a_dependant_names_her(rt: Runtime) -> None:
    amina = rt.booking.add_person(A, "Amina")
    offer = Offer(slot_id=slot_id(rt, "DERM", TUESDAY_9))
    with rt.booking.engine.begin() as conn:  # the console's call; the service has no person yet
        staff.invite(
            conn, rt.booking.catalogue, rt.booking.rules, rt.booking.signing_key, A, "KNH",
            "DERM", offer, "dr-x", rt.clock.now(), person_id=amina.id,
        )  # fmt: skip
    deliver(rt)
    (sms,) = sent_to(rt, A, "invited")
    assert sms.body.startswith(
        "Kenyatta booked a Dermatology appointment for Amina on Tue 24 Nov 09:00"
    )


# --- a person without a phone -----------------------------------------------------------------


def test_a_person_without_a_phone_gets_nothing_and_nothing_fails(
    rt: Runtime, fake: FakeProvider
) -> None:
    baraka = rt.booking.register_without_phone("Baraka", "desk-1")
    booked = rt.booking.book_at_desk(baraka.id, slot_id(rt, "CARD", TUESDAY_10), "desk-1")
    at(rt, 2026, 11, 23, 10, 0)
    assert send_due_reminders(rt) == 0  # not even decided: no phone to remind
    rt.booking.cancel(booked.ref, by="staff", reason="Doctor ill", actor="desk-1")
    deliver(rt)
    assert messages(rt) == []  # not even a refused one
    assert fake.requests() == []
    with rt.reader() as s:
        relayed = s.execute(select(Event.type, Event.relayed_at, Event.attempts)).all()
    assert {t for t, _, _ in relayed} >= {"booking.confirmed", "booking.cancelled"}
    assert all(when is not None and not attempts for _, when, attempts in relayed)


def test_a_desk_booking_for_a_dependant_is_sent_to_the_holders_phone(rt: Runtime) -> None:
    amina = rt.booking.add_person(A, "Amina")
    booked = rt.booking.book_at_desk(amina.id, slot_id(rt, "CARD", TUESDAY_10), "desk-1")
    deliver(rt)
    (sms,) = sent_to(rt, A, "voucher")
    assert sms.body.startswith(f"T-code {group(booked.tcode)} for Amina, Kenyatta Cardiology")


# --- SMS commands -----------------------------------------------------------------------------


def test_status_lists_every_persons_appointments_naming_the_dependants(texter: Texter) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    mine = book(rt, TUESDAY_9)
    hers = book(rt, TUESDAY_9, amina, dept="DERM")
    assert texter.send(A, "STATUS") == (
        f"Your appointments: Kenyatta Cardiology Tue 24 Nov 09:00 T-code {group(mine.tcode)}; "
        f"Amina: Kenyatta Dermatology Tue 24 Nov 09:00 T-code {group(hers.tcode)}. "
        "To cancel one reply CANCEL and its T-code"
    )


def test_status_of_a_full_household_stays_within_two_segments(texter: Texter) -> None:
    rt = texter.rt
    names = ["Wanjiku-Nyambura-Ann", "Christabel-Achieng", "Nyaboke-Moraa-Grace", "Baraka", "Ali"]
    persons = [rt.booking.add_person(A, name) for name in names]
    book(rt, MONDAY_8)
    for i, person in enumerate(persons):  # six live bookings: the phone's cap
        book(rt, TUESDAY_9.replace(hour=8 + i // 2, minute=30 * (i % 2)), person)
    reply = texter.send(A, "STATUS")
    assert count_segments(reply) <= 2
    assert reply.startswith("Your appointments: Kenyatta Cardiology Mon 23 Nov 08:00 T-code ")
    assert "Wanjiku-Nyambura-Ann: Kenyatta Cardiology Tue 24 Nov 08:00 T-code " in reply
    # The items that do not fit are counted, never cut in the middle.
    assert re.search(r"T-code \d{3} \d{3} \d{4} \(\+\d\)\. To cancel one reply", reply)


def test_cancel_of_a_dependants_code_from_the_holders_phone(texter: Texter) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    hers = book(rt, TUESDAY_10, amina)
    refused = texter.send(B, f"CANCEL {hers.tcode}")
    assert refused.startswith(f"We found no booking with T-code {group(hers.tcode)}")
    assert texter.send(A, f"CANCEL {group(hers.tcode)}") == ""  # the cancellation SMS answers
    assert rt.booking.booking(hers.ref).status == "cancelled"
    deliver(rt)
    (sms,) = sent_to(rt, A, "cancelled")
    assert sms.body.startswith("Amina's Kenyatta Cardiology appointment on Tue 24 Nov 10:00")
    assert sent_to(rt, B, "cancelled") == []


def test_too_late_to_cancel_a_dependants_booking_names_her(texter: Texter) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    hers = book(rt, TUESDAY_10, amina)
    at(rt, 2026, 11, 24, 8, 30)  # the deadline was 08:00, two hours before
    assert texter.send(A, f"CANCEL {hers.tcode}") == (
        "Too late to cancel Amina's Kenyatta Cardiology appointment on Tue 24 Nov 10:00 by SMS: the "
        "deadline was Tue 24 Nov 08:00. Please call the hospital"
    )
