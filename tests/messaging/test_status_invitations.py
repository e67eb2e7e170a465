"""STATUS lists the phone's open invitations first (issue #18): one line each, a dependant's
named, a sensitive department hidden, within the answer's two segments."""

from __future__ import annotations

from datetime import date, datetime

from gateway.booking.operations.invitations import InvitationInfo, Offer
from gateway.booking.sql.persons import PersonInfo
from gateway.messaging.segments import count_segments
from gateway.runtime import Runtime
from tcode.codes import group
from tests.booking.conftest import slot_id
from tests.messaging.conftest import A, B
from tests.messaging.sms_phone import Texter

TUESDAY, THURSDAY = date(2026, 11, 24), date(2026, 11, 26)
TUESDAY_9 = datetime(2026, 11, 24, 9, 0)
WINDOW = Offer(window_from=TUESDAY, window_to=THURSDAY, expires=THURSDAY)


def invite(
    rt: Runtime, dept: str = "CARD", person: PersonInfo | None = None, offer: Offer = WINDOW
) -> InvitationInfo:
    return rt.booking.invite(A, "KNH", dept, "dr-x", offer, person.id if person else None)


def test_status_lists_open_invitations_before_the_bookings(texter: Texter) -> None:
    rt = texter.rt
    invite(rt)
    booked = rt.booking.book(A, slot_id(rt, "DERM", TUESDAY_9), "ussd")

    assert texter.send(A, "STATUS") == (
        "Your appointments: Kenyatta Cardiology: choose a time by Thu 26 Nov; "
        f"Kenyatta Dermatology Tue 24 Nov 09:00 T-code {group(booked.tcode)}. "
        "To cancel one reply CANCEL and its T-code"
    )
    assert texter.send(B, "STATUS").startswith("You have no upcoming appointments.")


def test_a_dependants_invitation_names_her_and_a_sensitive_department_stays_hidden(
    texter: Texter,
) -> None:
    rt = texter.rt
    amina = rt.booking.add_person(A, "Amina")
    invite(rt, "CCC", amina)
    early = Offer(window_from=TUESDAY, window_to=THURSDAY, expires=TUESDAY)
    invite(rt, offer=early)

    reply = texter.send(A, "HALI")

    # Soonest expiry first; an expiry before the window's end is the last day to choose.
    assert reply.startswith(
        "Miadi yako: Kenyatta Cardiology: chagua saa hadi Jumanne 24 Nov; Amina: Kenyatta, chagua saa hadi "
    )
    assert "CCC" not in reply and "Comprehensive" not in reply


def test_a_taken_up_or_withdrawn_invitation_is_no_longer_listed(texter: Texter) -> None:
    rt = texter.rt
    taken, withdrawn = invite(rt), invite(rt, "DERM")
    booked = rt.booking.book_invitation(A, taken.ref, slot_id(rt, "CARD", TUESDAY_9))
    rt.booking.withdraw_invitation(withdrawn.ref, "dr-x", "Referred elsewhere")

    reply = texter.send(A, "STATUS")

    assert reply.startswith("Your appointments: Kenyatta Cardiology Tue 24 Nov 09:00 T-code ")
    assert group(booked.tcode) in reply and "choose a time" not in reply


def test_many_invitations_stay_within_two_segments(texter: Texter) -> None:
    rt = texter.rt
    names = ["Wanjiku-Nyambura-Ann", "Christabel-Achieng", "Nyaboke-Moraa-Grace"]
    for person in [rt.booking.add_person(A, name) for name in names]:
        for dept in ("CARD", "DERM"):
            invite(rt, dept, person)

    reply = texter.send(A, "STATUS")

    assert count_segments(reply) <= 2
    assert reply.startswith(
        "Your appointments: Wanjiku-Nyambura-Ann: Kenyatta Cardiology, choose a"
    )
    assert reply.endswith("). To cancel one reply CANCEL and its T-code")  # the rest counted
