"""Voice bookings are claims (a caller id can be forged): they count toward no limit and no
block until the phone's owner confirms them, one per phone, a ceiling per hospital-day, and
the sweep releases them before the slot. Also: idempotency keys scoped to the citizen."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.booking.domain.errors import (
    Blocked,
    DepartmentSameDay,
    UnconfirmedPending,
    VoiceFull,
)
from gateway.booking.models import Booking, Citizen
from gateway.booking.operations.claims import release_at
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy, BookingRules
from tests.booking.conftest import (
    NAIROBI,
    POSTGRES_ONLY,
    at,
    events,
    last_event_id,
    slot_id,
    slot_row,
    use_rules,
)
from tests.booking.races import race

VICTIM, OTHER, THIRD = "+254700000001", "+254700000002", "+254700000003"
TUE_0800 = datetime(2026, 11, 24, 8, 0)
WED_0800 = datetime(2026, 11, 25, 8, 0)


def card(rt: Runtime, local: datetime) -> int:
    return slot_id(rt, "CARD", local)


def booking_row(rt: Runtime, ref: str) -> Booking:
    with rt.reader() as s:
        return s.scalars(select(Booking).where(Booking.ref == ref)).one()


def test_a_voice_booking_is_unconfirmed_and_counts_toward_no_limit(catalog: Runtime) -> None:
    voice = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "CA1")
    assert booking_row(catalog, voice.ref).unconfirmed
    confirmed = [e for e in events(catalog) if e.type == "booking.confirmed"]
    assert confirmed[-1].payload["unconfirmed"] is True
    # The owner's own booking over USSD in the same department that day is still allowed.
    own = catalog.booking.book(VICTIM, card(catalog, TUE_0800 + timedelta(hours=1)), "ussd")
    assert not booking_row(catalog, own.ref).unconfirmed


@pytest.mark.parametrize("channel", ["ussd", "sms", "desk"])
def test_network_vouched_channels_book_confirmed(catalog: Runtime, channel: str) -> None:
    made = catalog.booking.book(VICTIM, card(catalog, TUE_0800), channel)
    assert not booking_row(catalog, made.ref).unconfirmed


def test_a_phone_holds_one_unconfirmed_voice_booking(catalog: Runtime) -> None:
    catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "CA1")
    with pytest.raises(UnconfirmedPending):
        catalog.booking.book(VICTIM, card(catalog, WED_0800), "ivr", "CA2")
    catalog.booking.confirm_claims(VICTIM)
    catalog.booking.book(VICTIM, card(catalog, WED_0800), "ivr", "CA3")


def test_a_hospital_day_holds_at_most_its_ceiling_of_claims(catalog: Runtime) -> None:
    use_rules(catalog, "KNH", unconfirmed_voice_per_day=2)
    catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "CA1")
    catalog.booking.book(OTHER, slot_id(catalog, "DERM", datetime(2026, 11, 24, 9, 0)), "ivr", "C2")
    with pytest.raises(VoiceFull):
        catalog.booking.book(THIRD, card(catalog, TUE_0800), "ivr", "CA3")
    catalog.booking.book(THIRD, card(catalog, WED_0800), "ivr", "CA4")  # another day
    catalog.booking.book(THIRD, card(catalog, TUE_0800), "ussd")  # not a claim


def test_confirming_makes_it_count(catalog: Runtime) -> None:
    voice = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "CA1")
    before = last_event_id(catalog)
    kept = catalog.booking.confirm_claims(VICTIM)
    assert [k.ref for k in kept] == [voice.ref]
    assert not booking_row(catalog, voice.ref).unconfirmed
    assert [e.type for e in events(catalog, before)] == ["booking.claim_confirmed"]
    with pytest.raises(DepartmentSameDay):
        catalog.booking.book(VICTIM, card(catalog, TUE_0800 + timedelta(hours=1)), "ussd")
    assert catalog.booking.confirm_claims(VICTIM) == []  # nothing left to confirm


def test_keeping_a_claim_that_would_pass_the_limits_is_refused(catalog: Runtime) -> None:
    voice = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "CA1")
    catalog.booking.book(VICTIM, card(catalog, TUE_0800 + timedelta(hours=1)), "ussd")
    with pytest.raises(DepartmentSameDay):
        catalog.booking.confirm_claims(VICTIM)
    assert booking_row(catalog, voice.ref).unconfirmed


def test_a_stranger_cannot_confirm_anothers_claim(catalog: Runtime) -> None:
    voice = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "CA1")
    assert catalog.booking.confirm_claims(OTHER) == []
    assert catalog.booking.confirm_claims(OTHER, voice.ref) == []
    assert booking_row(catalog, voice.ref).unconfirmed


def test_the_sweep_releases_an_unconfirmed_claim_a_day_before(catalog: Runtime) -> None:
    sid = card(catalog, WED_0800)
    voice = catalog.booking.book(VICTIM, sid, "ivr", "CA1")  # Monday 06:00
    taken = slot_row(catalog, sid).remote_taken
    at(catalog, 2026, 11, 24, 7, 59)
    assert catalog.booking.sweep().claims_released == 0
    at(catalog, 2026, 11, 24, 8, 0)
    before = last_event_id(catalog)
    assert catalog.booking.sweep().claims_released == 1
    released = booking_row(catalog, voice.ref)
    assert (released.status, released.cancelled_by) == ("cancelled", "system")
    assert slot_row(catalog, sid).remote_taken == taken - 1
    cancelled = [e for e in events(catalog, before) if e.type == "booking.cancelled"]
    assert [e.payload["because"] for e in cancelled] == ["unconfirmed"]
    assert catalog.booking.sweep().claims_released == 0  # once


def test_a_confirmed_claim_is_never_released(catalog: Runtime) -> None:
    voice = catalog.booking.book(VICTIM, card(catalog, WED_0800), "ivr", "CA1")
    catalog.booking.confirm_claims(VICTIM, voice.ref)
    at(catalog, 2026, 11, 24, 9, 0)
    assert catalog.booking.sweep().claims_released == 0
    assert booking_row(catalog, voice.ref).status == "confirmed"


@pytest.mark.parametrize(
    ("made", "deadline"),
    [
        (datetime(2026, 11, 23, 6, 0), datetime(2026, 11, 24, 8, 0)),  # a day before
        (datetime(2026, 11, 24, 8, 30), datetime(2026, 11, 25, 6, 0)),  # later: two hours
        (datetime(2026, 11, 25, 6, 30), None),  # later still: only check-in settles it
    ],
)
def test_release_deadline(made: datetime, deadline: datetime | None) -> None:
    starts = WED_0800.replace(tzinfo=NAIROBI)
    expected = deadline.replace(tzinfo=NAIROBI) if deadline else None
    assert release_at(starts, made.replace(tzinfo=NAIROBI), BookingRules()) == expected


def test_forged_voice_no_shows_and_cancellations_never_block_the_owner(catalog: Runtime) -> None:
    use_rules(
        catalog,
        no_show_block=BlockPolicy(count=1, window_days=90, block_days=30),
        cancel_block=BlockPolicy(count=1, window_days=30, block_days=7),
    )
    # Made an hour before the slot: no release deadline, so it runs into a no-show.
    at(catalog, 2026, 11, 24, 7, 0)
    catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "CA1")
    at(catalog, 2026, 11, 24, 9, 0)
    assert catalog.booking.sweep().no_shows == 1
    cancelled = catalog.booking.book(VICTIM, card(catalog, WED_0800), "ivr", "CA2")
    catalog.booking.cancel(cancelled.ref, by="citizen", phone=VICTIM)
    with catalog.reader() as s:
        citizen = s.scalars(select(Citizen).where(Citizen.phone == VICTIM)).one()
    assert citizen.blocked_until is None
    catalog.booking.book(VICTIM, card(catalog, WED_0800), "ussd")  # not blocked


def test_a_confirmed_voice_no_show_does_block(catalog: Runtime) -> None:
    use_rules(catalog, no_show_block=BlockPolicy(count=1, window_days=90, block_days=30))
    catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "CA1")
    catalog.booking.confirm_claims(VICTIM)
    at(catalog, 2026, 11, 24, 9, 0)
    assert catalog.booking.sweep().blocked == 1
    with pytest.raises(Blocked):
        catalog.booking.book(VICTIM, card(catalog, WED_0800), "ussd")


# --- idempotency scoped to the citizen (review finding 3) --------------------------------------


def test_a_reused_session_id_never_returns_another_callers_booking(catalog: Runtime) -> None:
    first = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ussd", "dupsess2:book")
    second = catalog.booking.book(OTHER, card(catalog, WED_0800), "ussd", "dupsess2:book")
    assert second.created and second.ref != first.ref and second.tcode != first.tcode
    assert second.starts_at == WED_0800.replace(tzinfo=NAIROBI)
    retried = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ussd", "dupsess2:book")
    assert (retried.created, retried.ref) == (False, first.ref)


def test_the_same_key_on_another_channel_is_another_request(catalog: Runtime) -> None:
    first = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ivr", "S1")
    catalog.booking.confirm_claims(VICTIM)
    other = catalog.booking.book(VICTIM, card(catalog, WED_0800), "ussd", "S1")
    assert other.created and other.ref != first.ref


def test_a_very_long_provider_session_id_still_fits(catalog: Runtime) -> None:
    key = "ATUid_" + "x" * 300
    first = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ussd", key)
    again = catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ussd", key)
    assert (again.created, again.ref) == (False, first.ref)


# --- races on PostgreSQL ------------------------------------------------------------------------


@POSTGRES_ONLY
def test_one_phone_racing_ten_voice_bookings_gets_one_claim(catalog: Runtime) -> None:
    slots = [
        slot_id(catalog, "DEMO", datetime(2026, 11, 24, 8 + i, 0), hospital="MCH")
        for i in range(10)
    ]
    outcomes = race(10, lambda i: catalog.booking.book(VICTIM, slots[i], "ivr", f"CA{i}"))
    assert outcomes == Counter({"ok": 1, "unconfirmed_pending": 9})


@POSTGRES_ONLY
def test_confirm_and_release_racing_settle_each_claim_once(catalog: Runtime) -> None:
    phones = [f"+2547009{i:05d}" for i in range(8)]
    for i, phone in enumerate(phones):
        sid = slot_id(catalog, "DEMO", WED_0800 + timedelta(minutes=30 * i), hospital="MCH")
        catalog.booking.book(phone, sid, "ivr")
    at(catalog, 2026, 11, 24, 12, 0)  # past every release deadline: confirmations race the sweep
    kept: list[object] = []
    outcomes = race(
        9,
        lambda i: (
            catalog.booking.sweep()
            if i == 8
            else kept.extend(catalog.booking.confirm_claims(phones[i]))
        ),
    )
    assert outcomes == Counter({"ok": 9})
    with catalog.reader() as s:
        rows = s.execute(
            select(Booking.status, Booking.unconfirmed).where(Booking.channel == "ivr")
        ).all()
    # Each claim is either kept (confirmed, counted) or released (cancelled), never both.
    assert len(rows) == 8
    assert all(
        (status, unconfirmed) in {("confirmed", False), ("cancelled", True)}
        for status, unconfirmed in rows
    )
    assert sum(status == "confirmed" for status, _ in rows) == len(kept)


def test_a_voice_caller_learns_nothing_from_the_owners_limits(catalog: Runtime) -> None:
    # The owner's own booking in a department; a caller who forged the number asks for a place
    # in that department the same day. A refusal ("you already have this department that day")
    # would name the owner's clinic: the claim is taken, and the limits wait for the owner.
    catalog.booking.book(VICTIM, card(catalog, TUE_0800), "ussd")
    later = card(catalog, TUE_0800 + timedelta(hours=1))
    catalog.booking.hold(VICTIM, "CA1", later, "ivr")
    voice = catalog.booking.book(VICTIM, later, "ivr", "CA1")
    assert booking_row(catalog, voice.ref).unconfirmed
    with pytest.raises(DepartmentSameDay):  # over USSD the owner is told, as before
        catalog.booking.hold(VICTIM, "S1", card(catalog, TUE_0800 + timedelta(hours=2)))
    with pytest.raises(DepartmentSameDay):  # and keeping the claim checks the limits then
        catalog.booking.confirm_claims(VICTIM)


def test_a_blocked_owner_cannot_keep_a_claim(catalog: Runtime) -> None:
    voice = catalog.booking.book(VICTIM, card(catalog, WED_0800), "ivr", "CA1")
    with catalog.writer() as s:
        citizen = s.scalars(select(Citizen).where(Citizen.phone == VICTIM)).one()
        citizen.blocked_until = catalog.clock.now() + timedelta(days=7)
        s.commit()
    with pytest.raises(Blocked):
        catalog.booking.confirm_claims(VICTIM)
    assert booking_row(catalog, voice.ref).unconfirmed
