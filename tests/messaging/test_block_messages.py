"""Telling people early (issue #18 item 5): one SMS when a citizen's cancellation leaves them
one short of a block, one when a block starts, to the phone that reaches the person, in its
holder's language and under the holder's STOP; a person without a phone gets nothing."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.booking.sql.persons import PersonInfo
from gateway.messaging.segments import count_segments
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import at, slot_id, use_rules
from tests.messaging.conftest import MONDAY_8, A, MakeRuntime, messages
from tests.messaging.sms_phone import deliver, sent_to

TUESDAY_9, TUESDAY_10 = datetime(2026, 11, 24, 9, 0), datetime(2026, 11, 24, 10, 0)
THREE_CANCELLATIONS = BlockPolicy(count=3, window_days=30, block_days=7)
LONGEST_NAME = "Nyokabimwangiwanjiru"  # 20 letters, the longest a first name may be


@pytest.fixture
def rt(make_runtime: MakeRuntime) -> Runtime:
    rt = make_runtime()
    use_rules(rt, cancel_block=THREE_CANCELLATIONS)
    return rt


def cancel_thrice(rt: Runtime, person: PersonInfo | None = None) -> None:
    """Three citizen cancellations from the phone, the clock at Mon 23 Nov 06:00 (Nairobi)."""
    for when, dept in ((TUESDAY_9, "CARD"), (TUESDAY_9, "DERM"), (TUESDAY_10, "CARD")):
        person_id = person.id if person else None
        booked = rt.booking.book(A, slot_id(rt, dept, when), "ussd", person_id=person_id)
        rt.booking.cancel(booked.ref, by="citizen", phone=A)
        deliver(rt)


# The warning's day is the hospital's (Wed 23 Dec: the first strike leaves the 30-day window);
# the block's end is told in UTC, as the test catalogue's hospitals are in two time zones
# (Mon 30 Nov 03:00 UTC: seven days after 06:00 in Nairobi).
CASES = [
    (
        "en", None,
        "You cancelled 2 appointments. One more cancellation before Wed 23 Dec and you cannot "
        "book by phone for 7 days",
        "You cancelled 3 appointments, so you cannot book by phone until Mon 30 Nov. Ask at "
        "the hospital desk if this is wrong",
    ),
    (
        "en", "Amina Wanjiru",
        "2 of Amina's appointments were cancelled. One more before Wed 23 Dec and Amina cannot "
        "book by phone for 7 days",
        "Amina cannot book by phone until Mon 30 Nov after 3 cancelled appointments. Ask at the "
        "hospital desk if this is wrong",
    ),
    (
        "sw", None,
        "Umeghairi miadi 2. Ukighairi mmoja zaidi kabla ya Jumatano 23 Des, hutaweza kuweka "
        "miadi kwa simu kwa siku 7",
        "Ulighairi miadi 3, kwa hiyo huwezi kuweka miadi kwa simu hadi Jumatatu 30 Nov. Uliza "
        "hospitalini ikiwa si kweli",
    ),
    (
        "sw", "Amina",
        "Miadi 2 ya Amina imeghairiwa. Mmoja zaidi kabla ya Jumatano 23 Des na Amina hataweza "
        "kuwekewa miadi kwa simu kwa siku 7",
        "Amina hawezi kuwekewa miadi kwa simu hadi Jumatatu 30 Nov baada ya kughairi miadi 3. "
        "Uliza hospitalini ikiwa si kweli",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("language", "name", "warning", "blocked"), CASES)
def test_one_warning_then_one_block_notice(
    rt: Runtime, language: str, name: str | None, warning: str, blocked: str
) -> None:
    rt.booking.set_language(A, language)
    person = rt.booking.add_person(A, name) if name else None
    cancel_thrice(rt, person)
    sent = [(m.template, m.language, m.body) for m in sent_to(rt, A) if "block" in m.template]
    assert sent == [
        ("block_warning", language, warning),
        ("blocked_cancellation", language, blocked),
    ]


@pytest.mark.parametrize("language", ["en", "sw"])
def test_the_longest_name_and_date_fit_one_segment(rt: Runtime, language: str) -> None:
    rt.booking.set_language(A, language)
    cancel_thrice(rt, rt.booking.add_person(A, LONGEST_NAME))
    notices = [m for m in sent_to(rt, A) if "block" in m.template]
    assert len(notices) == 2
    assert all(count_segments(m.body) == 1 for m in notices), [m.body for m in notices]


def test_a_no_show_block_says_the_appointments_were_missed(make_runtime: MakeRuntime) -> None:
    rt = make_runtime()
    use_rules(rt, no_show_block=BlockPolicy(count=2, window_days=90, block_days=30))
    for dept in ("CARD", "DERM"):
        rt.booking.book(A, slot_id(rt, dept, MONDAY_8), "ussd")
    at(rt, 2026, 11, 23, 9, 0)
    rt.booking.sweep()
    deliver(rt)
    (sms,) = sent_to(rt, A, "blocked_no_show")
    assert sms.body == (  # 30 days after 06:00 UTC
        "You missed 2 appointments, so you cannot book by phone until Wed 23 Dec. Ask at the "
        "hospital desk if this is wrong"
    )


def test_the_holders_stop_ends_both_notices(rt: Runtime) -> None:
    rt.booking.set_reminders(A, False)
    cancel_thrice(rt, rt.booking.add_person(A, "Amina"))
    assert [m.template for m in sent_to(rt, A)] == ["voucher", "cancelled"] * 3


def test_a_person_without_a_phone_gets_nothing(rt: Runtime) -> None:
    baraka = rt.booking.register_without_phone("Baraka", "desk-1")
    for when in (TUESDAY_9, TUESDAY_10):
        booked = rt.booking.book_at_desk(baraka.id, slot_id(rt, "CARD", when), "desk-1")
        rt.booking.cancel(booked.ref, by="citizen")
    deliver(rt)
    assert messages(rt) == []


def test_a_block_lifted_before_the_relay_comes_to_it_is_not_announced(rt: Runtime) -> None:
    for when, dept in ((TUESDAY_9, "CARD"), (TUESDAY_9, "DERM"), (TUESDAY_10, "CARD")):
        booked = rt.booking.book(A, slot_id(rt, dept, when), "ussd")
        rt.booking.cancel(booked.ref, by="citizen", phone=A)
    rt.booking.unblock(A, "desk-1", "came in person")  # before any SMS went out
    deliver(rt)
    assert sent_to(rt, A, "blocked_cancellation") == []
    assert len(sent_to(rt, A, "block_warning")) == 1  # the warning still stands
