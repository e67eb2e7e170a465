"""Invitations: staff offer a booked slot or a window; the citizen books it, or it expires."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import (
    InvalidInvitation,
    InvitationClosed,
    NotFound,
    NotOwner,
    OutsideInvitation,
    SlotFull,
)
from gateway.booking.models import Booking, Citizen, Invitation
from gateway.booking.operations.invitations import Offer
from gateway.runtime import Runtime
from tests.booking.conftest import (
    NAIROBI,
    at,
    events,
    last_event_id,
    set_capacity,
    slot_id,
    slot_row,
    staff_actions,
)
from tests.booking.helpers import refuse_if_blocked

A, B = "+254700000001", "+254700000002"
TUE, FRI = date(2026, 11, 24), date(2026, 11, 27)
WINDOW = Offer(window_from=TUE, window_to=FRI, expires=date(2026, 11, 26))


def card(rt: Runtime, day: int, hour: int, minute: int = 0) -> int:
    return slot_id(rt, "CARD", datetime(2026, 11, day, hour, minute))


def booking_kind(rt: Runtime, ref: str) -> str:
    with rt.reader() as s:
        return s.scalars(select(Booking.kind).where(Booking.ref == ref)).one()


def test_open_invitation_booked_by_the_citizen_then_checked_in(catalog: Runtime) -> None:
    bk = catalog.booking
    before = last_event_id(catalog)
    issued = bk.invite(A, "KNH", "CARD", "dr-otieno", WINDOW)
    assert (issued.status, issued.booking_ref, issued.department) == ("open", None, "Cardiology")
    assert issued.expires_at == datetime(2026, 11, 27, 0, 0, tzinfo=NAIROBI)  # end of Thu
    assert [i.ref for i in bk.open_invitations(A)] == [issued.ref]
    assert bk.open_invitations(B) == []
    sid = card(catalog, 25, 10)
    booked = bk.book_invitation(A, issued.ref, sid)
    assert booked.created and booked.status == "confirmed" and len(booked.tcode) == 10
    assert booking_kind(catalog, booked.ref) == "invitation"
    assert slot_row(catalog, sid).remote_taken == 1
    assert bk.open_invitations(A) == [] and [u.ref for u in bk.upcoming(A)] == [booked.ref]
    at(catalog, 2026, 11, 25, 9, 30)
    assert bk.check_in(booked.tcode, "KNH").queue_number == 1
    written = events(catalog, before)
    assert [(e.type, e.subject_id) for e in written] == [
        ("invitation.issued", issued.ref),
        ("invitation.booked", issued.ref),
        ("booking.checked_in", booked.ref),
    ]
    assert written[1].payload["booking_ref"] == booked.ref and written[1].payload["phone"] == A
    assert [(a.actor, a.action, a.subject) for a in staff_actions(catalog)] == [
        ("dr-otieno", "invite", issued.ref)
    ]


def test_invitation_with_a_slot_is_booked_at_once(catalog: Runtime) -> None:
    sid = card(catalog, 24, 8)
    before = last_event_id(catalog)
    issued = catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", Offer(slot_id=sid))
    assert issued.status == "booked" and issued.booking_ref
    assert issued.expires_at == datetime(2026, 11, 24, 8, 0, tzinfo=NAIROBI)
    assert booking_kind(catalog, issued.booking_ref) == "invitation"
    assert slot_row(catalog, sid).remote_taken == 1  # from the remote pool
    written = events(catalog, before)
    assert [e.type for e in written] == ["invitation.issued"]  # one message, with the voucher
    assert written[0].payload["booking_ref"] == issued.booking_ref
    assert written[0].payload["voucher_id"] and written[0].payload["phone"] == A
    upcoming = catalog.booking.upcoming(A)
    assert [u.ref for u in upcoming] == [issued.booking_ref] and upcoming[0].tcode


def test_invitation_to_a_full_slot_is_refused(catalog: Runtime) -> None:
    sid = card(catalog, 24, 8)
    set_capacity(catalog, sid, capacity=4, remote=0)
    with pytest.raises(SlotFull):
        catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", Offer(slot_id=sid))
    with catalog.reader() as s:
        assert s.scalars(select(Invitation)).all() == []


def test_open_invitation_expires_in_the_sweep(catalog: Runtime) -> None:
    issued = catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", WINDOW)
    at(catalog, 2026, 11, 26, 23, 59, 59)
    catalog.booking.sweep()
    assert [i.ref for i in catalog.booking.open_invitations(A)] == [issued.ref]
    at(catalog, 2026, 11, 27, 0, 0)
    before = last_event_id(catalog)
    assert catalog.booking.sweep().invitations_expired == 1
    written = [e for e in events(catalog, before) if e.type.startswith("invitation.")]
    assert [(e.type, e.subject_id) for e in written] == [("invitation.expired", issued.ref)]
    assert catalog.booking.open_invitations(A) == []
    with pytest.raises(InvitationClosed) as refused:
        catalog.booking.book_invitation(A, issued.ref, card(catalog, 27, 8))
    assert refused.value.facts == {"status": "expired"}
    catalog.booking.sweep()
    assert [e.type for e in events(catalog, before)].count("invitation.expired") == 1


def test_an_expired_invitation_is_refused_even_before_the_sweep(catalog: Runtime) -> None:
    issued = catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", WINDOW)
    at(catalog, 2026, 11, 27, 6, 0)
    with pytest.raises(InvitationClosed):
        catalog.booking.book_invitation(A, issued.ref, card(catalog, 27, 8))


@pytest.mark.parametrize(
    ("dept", "when"),
    [("CARD", (23, 8)), ("CARD", (30, 8)), ("DERM", (25, 8))],  # before, after, other department
)
def test_slots_outside_the_invitation_are_refused(
    catalog: Runtime, dept: str, when: tuple[int, int]
) -> None:
    issued = catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", WINDOW)
    catalog.booking.generate_slots(15)
    sid = slot_id(catalog, dept, datetime(2026, 11, *when))
    with pytest.raises(OutsideInvitation):
        catalog.booking.book_invitation(A, issued.ref, sid)


def test_only_the_invited_phone_may_book_it(catalog: Runtime) -> None:
    issued = catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", WINDOW)
    with pytest.raises(NotOwner):
        catalog.booking.book_invitation(B, issued.ref, card(catalog, 25, 8))
    with pytest.raises(NotFound):
        catalog.booking.book_invitation(A, "NOPE2345", card(catalog, 25, 8))


def test_a_retried_booking_returns_the_first(catalog: Runtime) -> None:
    issued = catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", WINDOW)
    first = catalog.booking.book_invitation(A, issued.ref, card(catalog, 25, 8))
    again = catalog.booking.book_invitation(A, issued.ref, card(catalog, 25, 8))
    assert (again.ref, again.created) == (first.ref, False)
    with pytest.raises(InvitationClosed):
        catalog.booking.book_invitation(A, issued.ref, card(catalog, 26, 8))


def test_the_public_guards_do_not_apply_to_an_invitation(catalog: Runtime) -> None:
    """A block and the release horizon keep the public out, not the hospital's own offer."""
    catalog.booking.generate_slots(20)
    refuse_if_blocked(catalog, A)  # creates the citizen
    with catalog.writer() as s:
        s.scalars(select(Citizen).where(Citizen.phone == A)).one().blocked_until = datetime(
            2026, 12, 31, tzinfo=NAIROBI
        )
        s.commit()
    far = Offer(window_from=date(2026, 12, 9), window_to=date(2026, 12, 11), expires=FRI)
    issued = catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", far)
    beyond_horizon = slot_id(catalog, "CARD", datetime(2026, 12, 10, 8, 0))
    booked = catalog.booking.book_invitation(A, issued.ref, beyond_horizon)
    assert booked.status == "confirmed"


@pytest.mark.parametrize(
    ("offer", "reason"),
    [
        (Offer(expires=FRI), "give either a slot or a window of days"),
        (Offer(window_from=TUE, window_to=FRI), "an open invitation needs an expiry date"),
        (Offer(window_from=FRI, window_to=TUE, expires=FRI), "the window ends before it starts"),
        (
            Offer(window_from=TUE, window_to=FRI, expires=date(2026, 11, 22)),
            "the expiry is in the past",
        ),
        (
            Offer(window_from=date(2026, 11, 1), window_to=date(2026, 11, 20), expires=FRI),
            "the window is in the past",
        ),
    ],
)
def test_invitations_that_cannot_work_are_refused(
    catalog: Runtime, offer: Offer, reason: str
) -> None:
    with pytest.raises(InvalidInvitation) as refused:
        catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", offer)
    assert refused.value.facts == {"reason": reason}


def test_unknown_department_and_slot_of_another_department(catalog: Runtime) -> None:
    with pytest.raises(NotFound):
        catalog.booking.invite(A, "KNH", "NOPE", "dr-otieno", WINDOW)
    derm = slot_id(catalog, "DERM", datetime(2026, 11, 24, 8, 0))
    with pytest.raises(InvalidInvitation):
        catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", Offer(slot_id=derm))


def test_withdrawn_invitation_can_no_longer_be_booked(catalog: Runtime) -> None:
    issued = catalog.booking.invite(A, "KNH", "CARD", "dr-otieno", WINDOW)
    before = last_event_id(catalog)
    withdrawn = catalog.booking.withdraw_invitation(issued.ref, "dr-otieno", "referred elsewhere")
    assert withdrawn.status == "cancelled" and catalog.booking.open_invitations(A) == []
    assert [e.type for e in events(catalog, before)] == ["invitation.cancelled"]
    with pytest.raises(InvitationClosed) as refused:
        catalog.booking.book_invitation(A, issued.ref, card(catalog, 25, 8))
    assert refused.value.facts == {"status": "cancelled"}


def test_events_of_a_day_of_invitations_are_counted(catalog: Runtime) -> None:
    bk = catalog.booking
    before = last_event_id(catalog)
    opened = [bk.invite(f"+25470000010{i}", "KNH", "CARD", "dr-x", WINDOW) for i in range(3)]
    bk.invite(B, "KNH", "CARD", "dr-x", Offer(slot_id=card(catalog, 24, 9)))
    bk.book_invitation("+254700000100", opened[0].ref, card(catalog, 25, 8))
    at(catalog, 2026, 11, 27, 0, 1)
    bk.sweep()
    counted: dict[str, int] = {}
    for e in events(catalog, before):
        if e.type.startswith("invitation."):
            counted[e.type] = counted.get(e.type, 0) + 1
    assert counted == {"invitation.issued": 4, "invitation.booked": 1, "invitation.expired": 2}
