"""Families on one phone: persons with limits, blocks and vouchers of their own (issue #19).

A mother books for her children and herself; a grandparent's no-shows block the grandparent
only, until enough persons of the phone are blocked to block the phone; persons are never
deleted, so the lifetime cap bounds re-adding a blocked person under another name.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import (
    Blocked,
    DepartmentSameDay,
    InvalidName,
    LimitPerDay,
    LimitPerPhone,
    NotBlocked,
    NotFound,
    NotOwner,
    PersonLimit,
    PhoneInUse,
    RegistrationRequired,
)
from gateway.booking.models import Booking, Citizen
from gateway.booking.operations.invitations import Offer
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import at, slot_id, use_rules

MOTHER, OTHER = "+254700000301", "+254700000302"


def card(rt: Runtime, day: int, hour: int = 8, minute: int = 0, month: int = 11) -> int:
    return slot_id(rt, "CARD", datetime(2026, month, day, hour, minute))


# CARD's weekdays after Monday 23 Nov, the tests' first day: (month, day).
WEEKDAYS = ((11, 24), (11, 25), (11, 26), (11, 27), (11, 30), (12, 1), (12, 2))


def owner_of(rt: Runtime, ref: str) -> int:
    with rt.reader() as s:
        return s.scalars(select(Booking.citizen_id).where(Booking.ref == ref)).one()


def test_a_mother_books_one_department_for_two_children_and_herself(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "amina")
    baraka = bk.add_person(MOTHER, "Baraka")
    assert [(p.first_name, p.me) for p in bk.persons(MOTHER)] == [
        ("", True),
        ("Amina", False),
        ("Baraka", False),
    ]
    day = 24
    first = bk.book(MOTHER, card(catalog, day, 8), "ussd", person_id=amina.id)
    second = bk.book(MOTHER, card(catalog, day, 8, 30), "ussd", person_id=baraka.id)
    mine = bk.book(MOTHER, card(catalog, day, 9), "ussd")
    assert (first.person, second.person, mine.person) == ("Amina", "Baraka", None)
    assert owner_of(catalog, first.ref) == amina.id
    assert owner_of(catalog, second.ref) == baraka.id
    with pytest.raises(DepartmentSameDay) as refused:
        bk.book(MOTHER, card(catalog, day, 9, 30), "ussd", person_id=amina.id)
    assert refused.value.facts == {"person": "Amina"}
    # The holder's own refusals read as they always have: no name.
    with pytest.raises(DepartmentSameDay) as mine_refused:
        bk.book(MOTHER, card(catalog, day, 10), "ussd")
    assert mine_refused.value.facts == {}
    # Everyone's appointments are the phone's: STATUS and "My appointments" list all three.
    listed = {(b.ref, b.person) for b in bk.upcoming(MOTHER)}
    assert listed == {(first.ref, "Amina"), (second.ref, "Baraka"), (mine.ref, None)}


def test_holds_belong_to_the_person_they_were_made_for(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    held = bk.hold(MOTHER, "s1", card(catalog, 24), person_id=amina.id)
    assert held.person_id == amina.id
    booked = bk.book(MOTHER, card(catalog, 24), "ussd", "s1:book", person_id=amina.id)
    assert owner_of(catalog, booked.ref) == amina.id
    with pytest.raises(LimitPerDay) as refused:
        use_rules(catalog, max_per_day=1)
        bk.hold(MOTHER, "s2", card(catalog, 24, 9), person_id=amina.id)
    assert refused.value.facts == {"limit": 1, "person": "Amina"}


def test_only_the_phones_own_shown_persons_can_be_booked_for(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    with pytest.raises(NotFound):
        bk.book(OTHER, card(catalog, 24), "ussd", person_id=amina.id)
    bk.hide_person(MOTHER, amina.id)
    with pytest.raises(NotFound):
        bk.book(MOTHER, card(catalog, 24), "ussd", person_id=amina.id)
    assert [p.me for p in bk.persons(MOTHER)] == [True]


def miss(rt: Runtime, day: int, person_id: int | None) -> None:
    """Book CARD 08:00 on `day` (Nov) for the person, then sweep at 09:00: a no-show."""
    rt.booking.book(MOTHER, card(rt, day), "ussd", person_id=person_id)
    at(rt, 2026, 11, day, 9, 0)
    rt.booking.sweep()


def blocked(rt: Runtime, person_id: int) -> bool:
    with rt.reader() as s:
        until = s.scalars(select(Citizen.blocked_until).where(Citizen.id == person_id)).one()
    return until is not None and until > rt.clock.now()


def test_a_grandparents_no_shows_block_the_grandparent_only(catalog: Runtime) -> None:
    bk = catalog.booking
    bibi = bk.add_person(MOTHER, "Bibi")
    amina = bk.add_person(MOTHER, "Amina")
    for day in (23, 24, 25):
        miss(catalog, day, bibi.id)
    assert blocked(catalog, bibi.id)
    with pytest.raises(Blocked) as refused:
        bk.book(MOTHER, card(catalog, 26), "ussd", person_id=bibi.id)
    assert refused.value.facts["person"] == "Bibi"
    # The holder and the children still book.
    bk.book(MOTHER, card(catalog, 26), "ussd")
    bk.book(MOTHER, card(catalog, 26, 8, 30), "ussd", person_id=amina.id)


def test_a_second_blocked_person_blocks_the_phone_and_the_lifetime_cap_holds(
    catalog: Runtime,
) -> None:
    bk = catalog.booking
    use_rules(catalog, no_show_block=BlockPolicy(count=1, window_days=90, block_days=30))
    bibi = bk.add_person(MOTHER, "Bibi")
    miss(catalog, 23, bibi.id)
    bk.book(MOTHER, card(catalog, 24), "ussd")  # one blocked person: the phone still books
    # Hiding the blocked grandmother and adding her again under another name escapes nothing:
    bk.hide_person(MOTHER, bibi.id)
    shosho = bk.add_person(MOTHER, "Shosho")
    miss(catalog, 25, shosho.id)
    with pytest.raises(Blocked) as refused:
        bk.book(MOTHER, card(catalog, 26), "ussd")
    assert "person" not in refused.value.facts  # the phone itself is blocked
    with pytest.raises(Blocked):
        bk.hold(MOTHER, "s", card(catalog, 26))
    # … and the lifetime cap (8 persons, "Me" included) ends re-adding under new names.
    for name in ("Nyokabi", "Wanjiru", "Akinyi", "Atieno"):
        bk.add_person(MOTHER, name)
    with pytest.raises(PersonLimit) as capped:
        bk.add_person(MOTHER, "Zawadi")
    assert capped.value.facts == {"limit": 5}  # five shown at once (Shosho and the rest)
    bk.hide_person(MOTHER, shosho.id)
    zawadi = bk.add_person(MOTHER, "Zawadi")  # the eighth person of the phone, "Me" included
    bk.hide_person(MOTHER, zawadi.id)
    with pytest.raises(PersonLimit) as lifetime:
        bk.add_person(MOTHER, "Imani")
    assert lifetime.value.facts == {"limit": 8}


def test_a_phone_with_dependants_holds_at_most_six_live_bookings(catalog: Runtime) -> None:
    bk = catalog.booking
    kids = [bk.add_person(MOTHER, name) for name in ("Amina", "Baraka", "Chiku")]
    people = [None, *(k.id for k in kids)]
    booked = 0
    for day in (24, 25):
        for hour, person in zip((8, 9, 10, 11), people, strict=True):
            if booked == 6:
                with pytest.raises(LimitPerPhone) as refused:
                    bk.book(MOTHER, card(catalog, day, hour), "ussd", person_id=person)
                assert refused.value.facts == {"limit": 6}
                return
            bk.book(MOTHER, card(catalog, day, hour), "ussd", person_id=person)
            booked += 1


@pytest.mark.parametrize("name", ["", "   ", "12345", "A" * 21, "Amina;DROP"])
def test_a_name_that_cannot_be_a_first_name_is_refused(catalog: Runtime, name: str) -> None:
    with pytest.raises(InvalidName):
        catalog.booking.add_person(MOTHER, name)
    assert [p.me for p in catalog.booking.persons(MOTHER)] == [True]


def test_a_person_without_a_phone_is_booked_at_the_desk(catalog: Runtime) -> None:
    bk = catalog.booking
    person = bk.register_without_phone("Mzee Juma", actor="desk-1", birth_year=1950)
    booked = bk.book_at_desk(person.id, card(catalog, 24), actor="desk-1")
    assert booked.status == "confirmed" and len(booked.tcode) == 10
    with catalog.reader() as s:
        phone = s.scalars(select(Citizen.phone).where(Citizen.id == person.id)).one()
    assert not phone.startswith("+")  # nothing is ever sent to it


def test_a_dependant_moves_to_their_own_phone_with_future_bookings_only(
    catalog: Runtime,
) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    past = bk.book(MOTHER, card(catalog, 23, 8), "ussd", person_id=amina.id)
    at(catalog, 2026, 11, 23, 8, 30)
    bk.desk_check_in(past.ref)
    future = bk.book(MOTHER, card(catalog, 25), "ussd", person_id=amina.id)
    now_holder = bk.move_person(amina.id, OTHER, actor="desk-1", reason="her own phone")
    assert [b.ref for b in bk.upcoming(OTHER)] == [future.ref]
    assert future.ref not in [b.ref for b in bk.upcoming(MOTHER)]
    assert owner_of(catalog, past.ref) == amina.id  # the history stays behind
    assert owner_of(catalog, future.ref) == now_holder
    assert [p.me for p in bk.persons(MOTHER)] == [True]
    assert [(p.first_name, p.me) for p in bk.persons(OTHER)] == [("Amina", True)]


def test_a_phone_without_dependants_keeps_todays_rules(catalog: Runtime) -> None:
    """No household cap for a phone that never added anyone: seven bookings over a week."""
    for month, day in WEEKDAYS:
        catalog.booking.book(MOTHER, card(catalog, day, month=month), "ussd")
    assert len(catalog.booking.upcoming(MOTHER)) == 7


def test_a_check_in_is_no_longer_a_live_booking_of_the_phone(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    first = bk.book(MOTHER, card(catalog, 23, 8), "ussd", person_id=amina.id)
    at(catalog, 2026, 11, 23, 7, 30)
    bk.desk_check_in(first.ref)
    for month, day in WEEKDAYS[:6]:  # six more live bookings: the check-in counts no more
        bk.book(MOTHER, card(catalog, day, month=month), "ussd", person_id=amina.id)
    with pytest.raises(LimitPerPhone):
        bk.book(MOTHER, card(catalog, 2, month=12), "ussd")


def test_real_name_mode_takes_a_birth_year_for_a_child(catalog: Runtime) -> None:
    bk = catalog.booking
    use_rules(catalog, real_name=True)
    child = bk.add_person(MOTHER, "Amina", birth_year=2019)
    unregistered = bk.add_person(MOTHER, "Baraka")
    bk.book(MOTHER, card(catalog, 24), "ussd", person_id=child.id)
    with pytest.raises(RegistrationRequired):
        bk.book(MOTHER, card(catalog, 24, 9), "ussd", person_id=unregistered.id)


def test_staff_lift_one_persons_block(catalog: Runtime) -> None:
    bk = catalog.booking
    use_rules(catalog, no_show_block=BlockPolicy(count=1, window_days=90, block_days=30))
    bibi = bk.add_person(MOTHER, "Bibi")
    miss(catalog, 23, bibi.id)
    with pytest.raises(NotBlocked):
        bk.unblock(MOTHER, "desk-1", "not her", person_id=None)  # "Me" is not blocked
    with pytest.raises(NotFound):
        bk.unblock(OTHER, "desk-1", "wrong phone", person_id=bibi.id)
    bk.unblock(MOTHER, "desk-1", "bus strike", person_id=bibi.id)
    assert not blocked(catalog, bibi.id)


def test_staff_invite_a_child_and_the_mothers_phone_takes_it_up(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    window = Offer(
        window_from=date(2026, 11, 24), window_to=date(2026, 11, 27), expires=date(2026, 11, 26)
    )
    invited = bk.invite(MOTHER, "KNH", "CARD", "dr-otieno", window, person_id=amina.id)
    assert [i.ref for i in bk.open_invitations(MOTHER)] == [invited.ref]
    booked = bk.book_invitation(MOTHER, invited.ref, card(catalog, 25))
    assert owner_of(catalog, booked.ref) == amina.id
    with pytest.raises(NotOwner):
        bk.book_invitation(OTHER, invited.ref, card(catalog, 26))


# --- what the review of #19 found -----------------------------------------------------------------


def test_real_name_mode_takes_a_birth_year_from_minors_only(catalog: Runtime) -> None:
    bk = catalog.booking
    use_rules(catalog, real_name=True)
    child = bk.register_without_phone("Juma", actor="desk-1", birth_year=2020)
    bk.book_at_desk(child.id, card(catalog, 24), actor="desk-1")  # no phone, no ID: a child
    grandmother = bk.add_person(MOTHER, "Bibi", birth_year=1940)
    with pytest.raises(RegistrationRequired):  # an adult is named by a national ID
        bk.book(MOTHER, card(catalog, 24), "ussd", person_id=grandmother.id)


def test_a_dependant_moves_once(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    bk.move_person(amina.id, OTHER, actor="desk-1", reason="her own phone")
    with pytest.raises(NotFound):
        bk.move_person(amina.id, "+254700000303", actor="desk-1", reason="again")
    baraka = bk.add_person(MOTHER, "Baraka")
    bk.hide_person(MOTHER, baraka.id)
    with pytest.raises(NotFound):
        bk.move_person(baraka.id, "+254700000303", actor="desk-1", reason="hidden")
    with pytest.raises(PhoneInUse):  # Amina holds OTHER now
        bk.move_person(bk.add_person(MOTHER, "Chiku").id, OTHER, actor="desk-1", reason="x")


def test_cancel_and_rebook_say_whose_booking_it_was(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    booked = bk.book(MOTHER, card(catalog, 24), "ussd", person_id=amina.id)
    moved = bk.rebook(booked.ref, card(catalog, 25), by="citizen", phone=MOTHER)
    assert moved.person == "Amina"
    cancelled = bk.cancel(booked.ref, by="citizen", phone=MOTHER)
    assert cancelled.person == "Amina"


def test_a_blocked_phone_rebooks_nobody(catalog: Runtime) -> None:
    bk = catalog.booking
    use_rules(catalog, no_show_block=BlockPolicy(count=1, window_days=90, block_days=30))
    amina = bk.add_person(MOTHER, "Amina")
    booked = bk.book(MOTHER, card(catalog, 26), "ussd", person_id=amina.id)
    for person in (bk.add_person(MOTHER, "Bibi"), bk.add_person(MOTHER, "Babu")):
        miss(catalog, 23 if person.first_name == "Bibi" else 24, person.id)
    with pytest.raises(Blocked):
        bk.rebook(booked.ref, card(catalog, 27), by="citizen", phone=MOTHER)


def test_a_hold_for_one_person_is_not_taken_by_a_booking_for_another(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    sid = card(catalog, 24)
    bk.hold(MOTHER, "s1", sid, person_id=amina.id)
    bk.book_at_desk(bk.persons(MOTHER)[0].id, sid, actor="desk-1")  # the mother, at the desk
    held = bk.current_hold(MOTHER)
    assert held is not None and held.person_id == amina.id  # Amina's place is still hers
    booked = bk.book(MOTHER, sid, "ussd", "s1:book", person_id=amina.id)
    assert owner_of(catalog, booked.ref) == amina.id


def test_a_claim_of_a_person_hidden_since_is_not_kept(catalog: Runtime) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina")
    bk.book(MOTHER, card(catalog, 25), "ivr", person_id=amina.id)
    bk.hide_person(MOTHER, amina.id)
    assert bk.confirm_claims(MOTHER) == []  # no refusal: the sweep releases it before the slot


def test_a_block_moves_with_the_person_who_moves(catalog: Runtime) -> None:
    bk = catalog.booking
    use_rules(catalog, no_show_block=BlockPolicy(count=1, window_days=90, block_days=30))
    bibi, babu = bk.add_person(MOTHER, "Bibi"), bk.add_person(MOTHER, "Babu")
    miss(catalog, 23, bibi.id)
    miss(catalog, 24, babu.id)
    with pytest.raises(Blocked):
        bk.book(MOTHER, card(catalog, 25), "ussd")
    now_holder = bk.move_person(babu.id, OTHER, actor="desk-1", reason="his own phone")
    bk.book(MOTHER, card(catalog, 25), "ussd")  # one blocked person left: the phone books
    assert blocked(catalog, now_holder)  # … and Babu is still blocked, on his own phone
