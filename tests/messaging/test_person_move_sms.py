"""A child grows up (issue #19 item 4): MOVE <name> <new number> from the guardian's phone, and
MOVE <code> back from the new phone, through the real SMS hooks with the providers' payloads
(Africa's Talking and Twilio). Every SMS is GSM-7 and one segment, in English and Swahili, and
no log line names a phone, a code or a person."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select

from gateway.booking.models import Booking, PersonMove
from gateway.booking.service import Confirmation
from gateway.messaging.commands import Command, parse
from gateway.messaging.segments import count_segments
from gateway.runtime import Runtime
from menus.gsm7 import is_gsm7_basic
from tcode.codes import group
from tests.booking.conftest import slot_id
from tests.clocks import clock_of
from tests.messaging.conftest import A, B, C
from tests.messaging.fake_provider import FakeProvider
from tests.messaging.sms_phone import Texter, deliver, sent_to

TUESDAY_10 = datetime(2026, 11, 24, 10, 0)
B_LOCAL = "0700000002"  # B as a guardian types it
SENT_EN = (
    "We sent a code to the phone ending 002. Amina moves there when that phone replies with "
    "the code within 24 hours"
)
SENT_SW = (
    "Tumetuma namba kwa simu inayoishia 002. Amina atahamia huko simu hiyo ikijibu kwa namba "
    "hiyo ndani ya saa 24"
)
TAKEN_EN = (
    "The phone ending 002 already has bookings or a name of its own, so Amina cannot move to "
    "it by SMS. Please ask at the hospital desk"
)
SPENT_EN = (
    "No move is waiting for this phone, or its code has expired. The other phone can ask again "
    "by sending MOVE, the name and this number"
)


def book_for(rt: Runtime, person_id: int | None = None, phone: str = A) -> Confirmation:
    return rt.booking.book(phone, slot_id(rt, "CARD", TUESDAY_10), "ussd", person_id=person_id)


def code_sent_to(fake: FakeProvider, phone: str) -> str:
    """The code of the newest move SMS the provider delivered to `phone`."""
    bodies = [
        r.body for r in fake.accepted(to=phone) if re.match(r"(Reply MOVE|Jibu HAMISHA) ", r.body)
    ]
    match = re.search(r"\b(\d{4})\b", bodies[-1])
    assert match is not None
    return match[1]


def owner_of(rt: Runtime, ref: str) -> int:
    with rt.reader() as s:
        return s.scalars(select(Booking.citizen_id).where(Booking.ref == ref)).one()


def pending(rt: Runtime) -> list[PersonMove]:
    with rt.reader() as s:
        return list(
            s.scalars(
                select(PersonMove).where(
                    PersonMove.done_at.is_(None), PersonMove.cancelled_at.is_(None)
                )
            )
        )


def assert_one_gsm7_segment(*bodies: str) -> None:
    for body in bodies:
        assert is_gsm7_basic(body) and count_segments(body) == 1, body


# --- the happy path -----------------------------------------------------------------------------


def test_both_phones_confirm_and_the_new_phone_holds_her_future_bookings(
    texter: Texter, fake: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    hers = book_for(rt, amina.id)
    caplog.set_level(logging.DEBUG)
    assert texter.send(A, f"MOVE Amina {B_LOCAL}") == SENT_EN
    deliver(rt)
    code = code_sent_to(fake, B)
    (to_b,) = [r.body for r in fake.accepted(to=B)]
    assert to_b == (
        f"Reply MOVE {code} within 24 hours to get Amina's appointments on this phone. Ignore "
        "this SMS if you do not know Amina"
    )
    assert code not in sent_to(rt, B, "move_code")[0].body  # masked in the outbox once sent
    assert texter.send(B, f"move {code}") == ""  # the move's own SMS answer it
    deliver(rt)
    (away,) = [m.body for m in sent_to(rt, A, "moved_away")]
    (here,) = [m.body for m in sent_to(rt, B, "moved_here")]
    assert away == "Amina's future appointments are now on the phone ending 002, not on this phone"
    assert here == (
        "Amina's future appointments are now on this phone. Dial *384*123# or reply STATUS to "
        "see them"
    )
    assert_one_gsm7_segment(SENT_EN, to_b, away, here)
    (holder,) = rt.booking.persons(B)
    assert owner_of(rt, hers.ref) == holder.id and (holder.name, holder.me) == ("Amina", True)
    assert texter.send(B, "STATUS") == (
        f"Your appointments: Kenyatta Cardiology Tue 24 Nov 10:00 T-code {group(hers.tcode)}. "
        "To cancel one reply CANCEL and its T-code"
    )
    assert texter.send(A, "STATUS").startswith("You have no upcoming appointments.")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (A, B, B_LOCAL, code, "Amina", A[1:], B[1:]):
        assert secret not in logged


def test_in_swahili_each_phone_is_answered_in_its_words(texter: Texter, fake: FakeProvider) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    book_for(rt, amina.id)
    assert texter.send(A, f"HAMISHA amina {B_LOCAL}") == SENT_SW
    deliver(rt)
    code = code_sent_to(fake, B)
    (to_b,) = [r.body for r in fake.accepted(to=B)]
    assert to_b == (
        f"Jibu HAMISHA {code} ndani ya saa 24 kupata miadi ya Amina kwenye simu hii. Puuza SMS "
        "hii kama humjui Amina"
    )
    assert texter.send(B, f"Hamisha {code}") == ""
    deliver(rt)
    (away,) = sent_to(rt, A, "moved_away")
    (here,) = sent_to(rt, B, "moved_here")
    assert (away.language, away.body) == (
        "sw",
        "Miadi ijayo ya Amina sasa iko kwenye simu inayoishia 002, si kwenye simu hii",
    )
    assert (here.language, here.body) == (
        "sw",
        "Miadi ijayo ya Amina sasa iko kwenye simu hii. Piga *384*123# au jibu HALI kuiona",
    )
    assert_one_gsm7_segment(SENT_SW, to_b, away.body, here.body)


def test_the_new_phones_own_language_comes_first_for_the_code(
    texter: Texter, fake: FakeProvider
) -> None:
    rt = texter.rt
    rt.booking.add_person(A, "Amina")
    rt.booking.set_language(B, "en")
    assert texter.send(A, f"HAMISHA Amina {B_LOCAL}") == SENT_SW
    deliver(rt)
    (to_b,) = fake.accepted(to=B)
    assert to_b.body.startswith("Reply MOVE ") and "Amina" in to_b.body


# --- refusals, table-driven ----------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    label: str
    text: str
    reply: str
    setup: Callable[[Runtime], None] = lambda rt: None
    sender: str = A


def _two_aminas(rt: Runtime) -> None:
    rt.booking.add_person(A, "Amina Achieng")


def _hide_amina(rt: Runtime) -> None:
    amina = next(p for p in rt.booking.persons(A) if p.first_name == "Amina")
    rt.booking.hide_person(A, amina.id)


def _b_books(rt: Runtime) -> None:
    book_for(rt, phone=B)


REFUSALS = [
    Refusal(
        "unknown name",
        f"MOVE Zawadi {B_LOCAL}",
        "No one called Zawadi is on this phone. Names here: Amina Wanjiru, Baraka. Reply MOVE, "
        "the name and the new number",
    ),
    Refusal(
        "ambiguous name",
        f"MOVE amina {B_LOCAL}",
        "More than one person on this phone is called amina: Amina Wanjiru, Baraka, Amina "
        "Achieng. Reply MOVE, the full name and the new number, or ask at the hospital desk",
        _two_aminas,
    ),
    Refusal(
        "the hidden person",
        f"MOVE Amina {B_LOCAL}",
        "No one called Amina is on this phone. Names here: Baraka. Reply MOVE, the name and the "
        "new number",
        _hide_amina,
    ),
    Refusal("a phone in use", f"MOVE Amina {B_LOCAL}", TAKEN_EN, _b_books),
    Refusal("the guardian's own phone", "MOVE Amina 0700000001", TAKEN_EN.replace("002", "001")),
    Refusal(
        "not a phone",
        "MOVE Amina 12",
        "We cannot send SMS to 12. Check the number and reply MOVE, the name and the new number "
        "again",
    ),
    Refusal(
        "a number outside the allowed regions",
        "MOVE Amina +12025550143",
        "We cannot send SMS to +12025550143. Check the number and reply MOVE, the name and the "
        "new number again",
    ),
    Refusal(
        "no number",
        "MOVE Amina",
        "To move someone on this phone to a phone of their own, reply MOVE, their name and the "
        "new number, e.g. MOVE Amina 0712345678. The new phone then gets a code to send back",
    ),
    Refusal(
        "a phone without dependants",
        f"MOVE Amina {B_LOCAL}",
        "This phone has no one to move. Only someone added to this phone can move to a phone of "
        "their own",
        sender=C,
    ),
    Refusal(
        "unknown name, in Swahili",
        f"HAMISHA Zawadi {B_LOCAL}",
        "Hakuna mtu anayeitwa Zawadi kwenye simu hii. Majina hapa: Amina Wanjiru, Baraka. Jibu "
        "HAMISHA, jina na namba mpya",
    ),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.label)
def test_a_request_that_cannot_be_done_is_answered_and_sends_no_code(
    texter: Texter, case: Refusal
) -> None:
    rt = texter.rt
    rt.booking.add_person(A, "Amina Wanjiru")
    rt.booking.add_person(A, "Baraka")
    case.setup(rt)
    reply = texter.send(case.sender, case.text)
    assert reply == case.reply
    assert count_segments(reply) <= 2 and is_gsm7_basic(reply)
    deliver(rt)
    assert pending(rt) == [] and sent_to(rt, B, "move_code") == []


def test_three_wrong_codes_drop_the_move_and_the_right_one_comes_too_late(
    texter: Texter, fake: FakeProvider
) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    hers = book_for(rt, amina.id)
    texter.send(A, f"MOVE Amina {B_LOCAL}")
    deliver(rt)
    code = code_sent_to(fake, B)
    wrong = f"{(int(code) + 1) % 10_000:04d}"
    replies = [texter.send(B, f"MOVE {wrong}") for _ in range(3)]
    assert replies == [
        "That code is not right. Check the SMS with the code and reply MOVE and the code again. "
        "Tries left: 2",
        "That code is not right. Check the SMS with the code and reply MOVE and the code again. "
        "Tries left: 1",
        "Wrong code 3 times: the move is cancelled. The other phone can ask again by sending MOVE, "
        "the name and this number",
    ]
    assert texter.send(B, f"MOVE {code}") == SPENT_EN
    assert owner_of(rt, hers.ref) == amina.id
    assert_one_gsm7_segment(*replies, SPENT_EN)


def test_an_expired_code_moves_no_one(texter: Texter, fake: FakeProvider) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    hers = book_for(rt, amina.id)
    texter.send(A, f"MOVE Amina {B_LOCAL}")
    deliver(rt)
    clock_of(rt).advance(hours=24, minutes=1)
    assert texter.send(B, f"MOVE {code_sent_to(fake, B)}") == SPENT_EN
    assert owner_of(rt, hers.ref) == amina.id


def test_a_phone_that_booked_since_the_request_is_refused_at_the_reply(
    texter: Texter, fake: FakeProvider
) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    hers = book_for(rt, amina.id)
    texter.send(A, f"MOVE Amina {B_LOCAL}")
    deliver(rt)
    book_for(rt, phone=B)
    assert texter.send(B, f"MOVE {code_sent_to(fake, B)}") == (
        "This phone already has bookings or a name of its own, so Amina cannot move to it by SMS. "
        "Please ask at the hospital desk"
    )
    assert owner_of(rt, hers.ref) == amina.id and pending(rt) == []


def test_a_code_from_a_phone_nobody_asked_for_is_spent(texter: Texter) -> None:
    assert texter.send(C, "MOVE 4821") == SPENT_EN


@pytest.mark.parametrize(
    ("text", "language"),
    [("MOVE Amina 0712345678", "en"), ("hamisha 4821", "sw"), ("Move: Zoé, +254 7", "en")],
)
def test_move_and_hamisha_are_commands_that_keep_the_typed_text(text: str, language: str) -> None:
    command = parse(text)
    assert command == Command("move", language, command.argument)
    assert command.text == text
