"""Data lifetime: the retention round (`retention:` settings, defaults 30 and 730 days).

Message bodies are redacted `message_bodies_days` after creation, delivered or not; events lose
what was said then, and who it was about after `inactive_days`; phone holders idle that long
are anonymised, their bookings kept for the counts. The round is idempotent, resumes a backlog
from its marks, and is safe on several workers at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gateway.booking.domain.events import sms_reply
from gateway.booking.models import Booking, Citizen, Event, PhoneChallenge, StaffAction
from gateway.booking.operations.invitations import Offer
from gateway.booking.privacy import retention as booking_retention
from gateway.messaging import retention
from gateway.messaging.models import Message
from gateway.messaging.relay import relay_all
from gateway.messaging.retention import REDACTED, sweep_retention
from gateway.messaging.sending import send
from gateway.runtime import Runtime
from tests.booking.conftest import POSTGRES_ONLY, slot_id, use_id_hash_key
from tests.clocks import clock_of
from tests.conftest import MONDAY_0600

A, B = "+254700000501", "+254700000502"


def later(rt: Runtime, days: float) -> datetime:
    """Put the clock `days` after Monday 23 November 2026, 06:00 in Nairobi."""
    clock_of(rt).at = MONDAY_0600 + timedelta(days=days)
    return rt.clock.now()


def book(rt: Runtime, phone: str, day: date, hour: int, key: str | None = None) -> str:
    sid = slot_id(rt, "CARD", datetime(day.year, day.month, day.day, hour, 0))
    return rt.booking.book(phone, sid, "ussd", idempotency_key=key).ref


def deliver(rt: Runtime) -> None:
    """Relay the outbox and send every queued message once (console provider)."""
    relay_all(rt)
    with rt.reader() as s:
        queued = list(s.scalars(select(Message.id).where(Message.status == "queued")))
    for message_id in queued:
        send(rt, message_id)


def messages(rt: Runtime, phone: str | None = None) -> list[Message]:
    with rt.reader() as s:
        query = select(Message).order_by(Message.id)
        if phone is not None:
            query = query.where(Message.to_phone == phone)
        return list(s.scalars(query))


def all_events(rt: Runtime) -> list[Event]:
    with rt.reader() as s:
        return list(s.scalars(select(Event).order_by(Event.id)))


def citizen(rt: Runtime, citizen_id: int) -> Citizen:
    with rt.reader() as s:
        return s.get_one(Citizen, citizen_id)


def citizen_id(rt: Runtime, phone: str) -> int:
    with rt.reader() as s:
        holder = select(Citizen.id).where(Citizen.phone == phone, Citizen.guardian_id.is_(None))
        return s.scalars(holder).one()


def reply(rt: Runtime, phone: str, body: str) -> None:
    """What the SMS command handler writes to answer a text (an `sms.reply` event)."""
    rt.booking.notice(
        sms_reply(f"at:{phone}", phone=phone, template="status", language="en", body=body)
    )


# --- message bodies ---------------------------------------------------------------------------


def test_message_bodies_are_redacted_after_their_days_delivered_or_not(catalog: Runtime) -> None:
    book(catalog, A, date(2026, 11, 24), 9)
    deliver(catalog)  # A's voucher: sent
    reply(catalog, A, "Your appointments: Kenyatta Cardiology Tue 24 Nov 09:00 T-code 482 913 5575")
    book(catalog, B, date(2026, 11, 24), 10)
    relay_all(catalog)  # B's voucher and A's reply: still queued
    bodies = {m.id: m.body for m in messages(catalog)}

    later(catalog, 29.9)
    assert sweep_retention(catalog).bodies == 0
    assert {m.id: m.body for m in messages(catalog)} == bodies

    later(catalog, 30.1)
    report = sweep_retention(catalog)
    assert (report.bodies, report.failed) == (3, [])
    assert {m.body for m in messages(catalog)} == {REDACTED}
    assert [m.status for m in messages(catalog, A)] == ["sent", "refused"]  # never to go out
    assert [m.status for m in messages(catalog, B)] == ["refused"]
    [answer] = [e for e in all_events(catalog) if e.type == "sms.reply"]
    assert "body" not in answer.payload and answer.payload["phone"] == A  # who: kept 730 days

    again = sweep_retention(catalog)
    assert (again.bodies, again.event_contents) == (0, 0)


# --- idle people ------------------------------------------------------------------------------


def test_idle_citizens_are_anonymised_and_their_bookings_kept_for_the_counts(
    catalog: Runtime,
) -> None:
    use_id_hash_key(catalog)
    ref = book(catalog, A, date(2026, 11, 24), 9, key="ATUid_1")
    catalog.booking.reassign_id(A, "12345678", "desk-1", "lost card")  # ID, and an audit row
    catalog.booking.send_phone_code(A, "en")
    book(catalog, B, date(2026, 11, 24), 10)
    deliver(catalog)
    a_id, b_id = citizen_id(catalog, A), citizen_id(catalog, B)
    with catalog.writer() as s:  # a dependant of A (no channel registers them yet)
        child = Citizen(phone=A, guardian_id=a_id, name="Child", created_at=MONDAY_0600)
        s.add(child)
        s.commit()
        child_id = child.id

    later(catalog, 399)  # Monday 27 December 2027: B books again, A stays away
    catalog.booking.generate_slots(2)
    book(catalog, B, date(2027, 12, 27), 9)
    deliver(catalog)

    # Two years after A's last booking day (24 Nov 2026), and the margin of a booking's day.
    now = later(catalog, 735)
    report = sweep_retention(catalog)
    assert (report.anonymised, report.failed) == (1, [])

    gone = citizen(catalog, a_id)
    assert gone.phone == f"~{a_id}" and gone.anonymised_at == now
    assert (gone.name, gone.national_id_hash, gone.national_id_key, gone.national_id_last3) == (
        None,
        None,
        None,
        None,
    )
    child = citizen(catalog, child_id)
    assert (child.phone, child.name, child.anonymised_at) == (f"~{child_id}", None, now)
    kept = citizen(catalog, b_id)
    assert (kept.phone, kept.anonymised_at) == (B, None)
    with catalog.reader() as s:
        booking = s.scalars(select(Booking).where(Booking.ref == ref)).one()
        assert (booking.day, booking.status, booking.idempotency_key) == (
            date(2026, 11, 24),
            "confirmed",
            None,
        )
        assert s.scalar(select(func.count()).select_from(Booking)) == 3  # the counts stay
        assert s.scalar(select(func.count()).select_from(PhoneChallenge)) == 0
        assert s.scalars(select(StaffAction.subject)).all() == [f"~{a_id}"]

    idle_since = now - timedelta(days=730)
    old_events = [e for e in all_events(catalog) if e.created_at < idle_since]
    assert old_events and not [e.type for e in old_events if "phone" in e.payload]
    assert [e.payload.get("phone") for e in all_events(catalog) if e.created_at >= idle_since] == [
        B
    ]
    recent = [m for m in messages(catalog) if m.created_at >= idle_since]
    assert [m.to_phone for m in recent] == [B]
    assert {m.to_phone for m in messages(catalog) if m.created_at < idle_since} == {"~"}

    again = sweep_retention(catalog)
    assert (again.anonymised, again.recipients, again.event_people) == (0, 0, 0)

    catalog.booking.generate_slots(2)  # A comes back: a new person to us
    book(catalog, A, now.date() + timedelta(days=1), 9)
    assert citizen_id(catalog, A) != a_id


def hold(rt: Runtime) -> None:
    rt.booking.generate_slots(2)
    rt.booking.hold(A, "ATUid_h", slot_id(rt, "CARD", datetime(2028, 11, 27, 9, 0)))


def invite(rt: Runtime) -> None:
    rt.booking.generate_slots(2)
    day = date(2028, 11, 27)
    rt.booking.invite(
        A, "KNH", "CARD", "dr-admin", Offer(window_from=day, window_to=day, expires=day)
    )


def text_back(rt: Runtime) -> None:
    reply(rt, A, "You have no upcoming appointments.")
    relay_all(rt)


def dependant_books(rt: Runtime) -> None:
    """A booking of a dependant of A (dependants share the holder's phone; made by hand here,
    as no channel registers dependants yet)."""
    rt.booking.generate_slots(2)
    book(rt, "+254700000509", date(2028, 11, 27), 9)
    with rt.writer() as s:
        child = s.scalars(select(Citizen).where(Citizen.phone == "+254700000509")).one()
        child.guardian_id, child.phone = citizen_id(rt, A), A
        s.commit()


def dependant(rt: Runtime) -> int:
    """A's dependant, added when A booked (so as old as A's own activity)."""
    return rt.booking.persons(A)[1].id


def dependant_invited(rt: Runtime) -> None:
    rt.booking.generate_slots(2)
    day = date(2028, 11, 27)
    offer = Offer(window_from=day, window_to=day, expires=day)
    rt.booking.invite(A, "KNH", "CARD", "dr-admin", offer, person_id=dependant(rt))


def dependant_added(rt: Runtime) -> None:
    rt.booking.add_person(A, "Baraka")


def dependant_hidden(rt: Runtime) -> None:
    rt.booking.hide_person(A, dependant(rt))


def dependant_moved(rt: Runtime) -> None:
    rt.booking.move_person(dependant(rt), B, actor="desk-1", reason="her own phone")


def dependants_block_lifted(rt: Runtime) -> None:
    with rt.writer() as s:  # blocked long ago, until far ahead
        s.get_one(Citizen, dependant(rt)).blocked_until = rt.clock.now() + timedelta(days=30)
        s.commit()
    rt.booking.unblock(A, "desk-1", "came in person", person_id=dependant(rt))


ACTIVITY: list[tuple[str, Callable[[Runtime], None]]] = [
    ("a message to the phone", text_back),
    ("an invitation from staff", invite),
    ("a place on hold", hold),
    ("a dependant's booking", dependant_books),
    # Anything a dependant does or has done to them is the phone's activity (issue #19).
    ("a dependant's invitation", dependant_invited),
    ("a dependant added", dependant_added),
    ("a dependant hidden", dependant_hidden),
    ("a dependant moved to a phone of their own", dependant_moved),
    ("a dependant's block lifted", dependants_block_lifted),
]


@pytest.mark.parametrize("activity", [a for _, a in ACTIVITY], ids=[label for label, _ in ACTIVITY])
def test_recent_activity_keeps_a_citizen(
    catalog: Runtime, activity: Callable[[Runtime], None]
) -> None:
    book(catalog, A, date(2026, 11, 24), 9)
    catalog.booking.add_person(A, "Amina")
    later(catalog, 735)  # Monday 27 November 2028, past the two years
    activity(catalog)
    report = sweep_retention(catalog)
    assert (report.anonymised, report.failed) == (0, [])
    assert citizen(catalog, citizen_id(catalog, A)).anonymised_at is None


def test_an_idle_household_goes_whole_but_not_the_phone_a_child_moved_to(
    catalog: Runtime,
) -> None:
    bk = catalog.booking
    amina = bk.add_person(A, "Amina", birth_year=2008)
    baraka = bk.add_person(A, "Baraka", birth_year=2015)
    book(catalog, A, date(2026, 11, 24), 9)
    bk.book(A, slot_id(catalog, "CARD", datetime(2026, 11, 24, 10, 0)), "ussd", person_id=amina.id)
    bk.hide_person(A, baraka.id)
    her_own = bk.move_person(amina.id, B, actor="desk-1", reason="her own phone")
    later(catalog, 735)
    catalog.booking.generate_slots(2)
    book(catalog, B, date(2028, 11, 27), 9)  # Amina, on her own phone, books again
    report = sweep_retention(catalog)
    assert (report.anonymised, report.failed) == (1, [])
    assert citizen_id(catalog, B) == her_own
    for person in (amina.id, baraka.id):
        gone = citizen(catalog, person)
        assert (gone.phone, gone.name, gone.birth_year) == (f"~{person}", None, None)
    kept = citizen(catalog, her_own)
    assert (kept.phone, kept.name, kept.birth_year, kept.anonymised_at) == (B, "Amina", 2008, None)


# --- bounded rounds and several workers -------------------------------------------------------


def test_a_backlog_drains_over_rounds_from_where_the_last_one_stopped(
    catalog: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for phone, hour in ((A, 8), (B, 9), ("+254700000503", 10)):
        book(catalog, phone, date(2026, 11, 24), hour)
    relay_all(catalog)
    monkeypatch.setattr(retention, "BATCH", 1)
    monkeypatch.setattr(booking_retention, "BUDGET", 1)
    later(catalog, 31)
    assert [sweep_retention(catalog).bodies for _ in range(4)] == [1, 1, 1, 0]
    assert {m.body for m in messages(catalog)} == {REDACTED}


@POSTGRES_ONLY
def test_several_workers_share_the_round_and_change_each_row_once(catalog: Runtime) -> None:
    phones = [f"+25470000060{i}" for i in range(8)]
    for i, phone in enumerate(phones):
        book(catalog, phone, date(2026, 11, 24), 8 + i // 2)
    deliver(catalog)
    count = len(messages(catalog))
    later(catalog, 735)
    start, reports = threading.Barrier(4), []

    def worker() -> None:
        start.wait()
        reports.append(sweep_retention(catalog))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(reports) == 4 and all(r.failed == [] for r in reports)
    assert sum(r.bodies for r in reports) == count
    assert sum(r.recipients for r in reports) == count
    assert sum(r.anonymised for r in reports) == len(phones)
    assert {m.body for m in messages(catalog)} == {REDACTED}
