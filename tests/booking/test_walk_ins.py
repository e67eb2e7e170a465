"""Walk-ins at the desk: walk-in places counted apart from remote bookings, the remote places
nobody took usable once they returned to walk-in, one queue counter with the kiosk, refusals
when none is left, the database's capacity guard, the migration, and a walk-in racing phones
for the last places (PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from gateway import migrate
from gateway.booking.domain.errors import DepartmentSameDay, NotFound, SlotFull, WalkInFull
from gateway.booking.models import Base, Booking, Citizen, Slot
from gateway.runtime import Runtime
from tests.booking.conftest import (
    NAIROBI,
    POSTGRES_ONLY,
    at,
    events,
    last_event_id,
    set_capacity,
    slot_id,
    slot_row,
    staff_actions,
)
from tests.booking.races import race
from tests.booking.test_names_migration import migrate_to
from tests.seed import TEST_CATALOG

CARD_0800, CARD_0830 = datetime(2026, 11, 23, 8, 0), datetime(2026, 11, 23, 8, 30)
CARD_1100, CARD_1130 = datetime(2026, 11, 23, 11, 0), datetime(2026, 11, 23, 11, 30)
DESK = "clerk@knh.example"


def walk_in(
    rt: Runtime, at: datetime | None = None, person_id: int | None = None
) -> tuple[str, int | None, int]:
    """A walk-in into KNH cardiology: (its slot's start as HH:MM, queue number, person id)."""
    done = rt.booking.walk_in("KNH", "CARD", DESK, at=at, person_id=person_id)
    return f"{done.ticket.starts_at:%H:%M}", done.ticket.queue_number, done.person_id


def booking(rt: Runtime, ref: str) -> Booking:
    with rt.reader() as s:
        query = select(Booking).where(Booking.ref == ref).options(selectinload(Booking.vouchers))
        return s.scalars(query).one()


def places_used(rt: Runtime, sid: int) -> tuple[int, int, int]:
    """(remote taken, walk-ins taken, bookings holding a place) of the slot."""
    slot = slot_row(rt, sid)
    with rt.reader() as s:
        held = s.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.slot_id == sid, Booking.status.in_(("confirmed", "checked_in")))
        )
    return slot.remote_taken, slot.walk_in_taken, held or 0


# --- walk-in places ---------------------------------------------------------------------------


def test_walk_ins_take_the_places_the_remote_share_leaves(catalog: Runtime) -> None:
    # 06:30: the 08:00 slot's remote places return to walk-in only at 07:00.
    at(catalog, 2026, 11, 23, 6, 30)
    sid = slot_id(catalog, "CARD", CARD_0800)
    for i in range(2):  # the remote share (2 of 4) is full …
        catalog.booking.book(f"+25470000010{i}", sid, "ussd")
    # … and the walk-in places (the other 2) are counted apart: then the next slot's.
    walked = [walk_in(catalog)[:2] for _ in range(3)]
    assert walked == [("08:00", 1), ("08:00", 2), ("08:30", 3)]
    assert places_used(catalog, sid) == (2, 2, 4)
    assert places_used(catalog, slot_id(catalog, "CARD", CARD_0830)) == (0, 1, 1)


@pytest.mark.parametrize(
    "wall, fit_at_0800",
    [
        pytest.param((6, 59), 2, id="before-return: only the walk-in share"),
        pytest.param((7, 0), 3, id="at-return: the remote place nobody took too"),
        pytest.param((8, 10), 3, id="running-slot: the same"),
    ],
)
def test_remote_places_nobody_took_are_walk_in_places_once_returned(
    catalog: Runtime, wall: tuple[int, int], fit_at_0800: int
) -> None:
    sid = slot_id(catalog, "CARD", CARD_0800)
    catalog.booking.book("+254700000100", sid, "ussd")  # one of the 2 remote places taken
    at(catalog, 2026, 11, 23, *wall)  # the sweep has not run: remote_capacity is still 2
    starts = [walk_in(catalog)[0] for _ in range(fit_at_0800 + 1)]
    assert starts == ["08:00"] * fit_at_0800 + ["08:30"]
    assert places_used(catalog, sid) == (1, fit_at_0800, 1 + fit_at_0800)


def test_a_phone_booking_never_takes_a_place_a_walk_in_took(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", CARD_0800)
    at(catalog, 2026, 11, 23, 7, 30)  # returned: 4 places, none taken
    for _ in range(4):
        walk_in(catalog)
    with pytest.raises(SlotFull):
        catalog.booking.book("+254700000100", sid, "ussd")
    with pytest.raises(SlotFull):
        catalog.booking.hold("+254700000101", "s1", sid)
    assert places_used(catalog, sid) == (0, 4, 4)
    # Nor is it offered: the menus list only what a claim would grant.
    with catalog.reader() as s:
        department = s.scalars(select(Slot.department_id).where(Slot.id == sid)).one()
    offered = catalog.booking.free_slots(department, CARD_0800.date())
    assert sid not in [f.id for f in offered]


def test_an_expired_hold_on_a_returned_place_never_keeps_a_walk_in_out(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", CARD_1130)
    set_capacity(catalog, sid, capacity=1, remote=1)
    at(catalog, 2026, 11, 23, 11, 0)
    catalog.booking.hold("+254700000100", "s1", sid)
    at(catalog, 2026, 11, 23, 11, 10)  # the hold ran out; no sweep since
    assert walk_in(catalog, at=datetime(2026, 11, 23, 11, 30, tzinfo=NAIROBI))[0] == "11:30"
    assert places_used(catalog, sid) == (0, 1, 1)


def test_refused_when_no_walk_in_place_is_left_today(catalog: Runtime) -> None:
    at(catalog, 2026, 11, 23, 11, 0)
    last = slot_id(catalog, "CARD", CARD_1130)
    set_capacity(catalog, last, capacity=1, remote=0)
    from_last = datetime(2026, 11, 23, 11, 30, tzinfo=NAIROBI)  # the 11:30 slot alone is left
    assert walk_in(catalog, at=from_last)[0] == "11:30"
    people = _count(catalog, Citizen)
    before = last_event_id(catalog)
    with pytest.raises(WalkInFull):
        walk_in(catalog, at=from_last)
    assert _count(catalog, Citizen) == people and events(catalog, before) == []
    at(catalog, 2026, 11, 23, 12, 0)  # the day's sessions are over
    with pytest.raises(WalkInFull):
        walk_in(catalog)


def test_a_closed_session_takes_no_walk_ins(catalog: Runtime) -> None:
    at(catalog, 2026, 11, 23, 7, 0)
    day = datetime(2026, 11, 23).date()
    catalog.booking.close_session("KNH", "CARD", day, "doctor ill", "admin")
    with pytest.raises(WalkInFull):
        walk_in(catalog)


# --- the walk-in's booking, ticket and person --------------------------------------------------


def test_a_walk_in_shares_the_kiosks_queue_numbers(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", CARD_0800)
    first = catalog.booking.book("+254700000100", sid, "ussd")
    later = catalog.booking.book("+254700000101", sid, "ussd")
    at(catalog, 2026, 11, 23, 7, 50)
    assert catalog.booking.check_in(first.tcode, "KNH").queue_number == 1
    assert walk_in(catalog)[1] == 2
    assert catalog.booking.desk_check_in(later.ref, DESK).queue_number == 3


def test_a_walk_in_is_a_checked_in_desk_booking_with_one_event(catalog: Runtime) -> None:
    at(catalog, 2026, 11, 23, 8, 5)
    before = last_event_id(catalog)
    done = catalog.booking.walk_in("KNH", "CARD", DESK)
    row = booking(catalog, done.ref)
    assert (row.kind, row.channel, row.remote, row.status) == (
        "walk_in",
        "desk",
        False,
        "checked_in",
    )
    assert row.queue_number == done.ticket.queue_number == 1 and row.vouchers == []
    assert [(e.type, e.payload["at"]) for e in events(catalog, before)] == [
        ("booking.checked_in", "desk")
    ]
    assert [(a.actor, a.action, a.subject) for a in staff_actions(catalog)] == [
        (DESK, "walk_in", done.ref)
    ]


def test_a_nameless_walk_in_is_a_person_without_a_phone(catalog: Runtime) -> None:
    at(catalog, 2026, 11, 23, 8, 5)
    done = catalog.booking.walk_in("KNH", "CARD", DESK)
    assert done.ticket.person is None
    with catalog.reader() as s:
        person = s.get_one(Citizen, done.person_id)
    assert person.name is None and person.phone.startswith("-")


def test_a_known_persons_walk_in_carries_their_name(catalog: Runtime) -> None:
    at(catalog, 2026, 11, 23, 8, 5)
    amina = catalog.booking.register_without_phone("Amina", DESK)
    done = catalog.booking.walk_in("KNH", "CARD", DESK, person_id=amina.id)
    assert (done.person_id, done.ticket.person) == (amina.id, "Amina")


def test_a_person_booked_in_the_department_checks_in_with_it_instead(catalog: Runtime) -> None:
    sid = slot_id(catalog, "CARD", CARD_0830)
    catalog.booking.book("+254700000100", sid, "ussd")
    holder = catalog.booking.persons("+254700000100")[0].id
    at(catalog, 2026, 11, 23, 8, 5)
    with pytest.raises(DepartmentSameDay):
        walk_in(catalog, person_id=holder)
    assert slot_row(catalog, slot_id(catalog, "CARD", CARD_0800)).walk_in_taken == 0


@pytest.mark.parametrize(
    "codes, what",
    [(("KNH", "NOPE"), "department"), (("NOPE", "CARD"), "department")],
)
def test_unknown_department_or_person_is_not_found(
    catalog: Runtime, codes: tuple[str, str], what: str
) -> None:
    with pytest.raises(NotFound) as missing:
        catalog.booking.walk_in(*codes, DESK)
    assert missing.value.facts == {"what": what}
    at(catalog, 2026, 11, 23, 8, 5)
    with pytest.raises(NotFound) as nobody:
        catalog.booking.walk_in("KNH", "CARD", DESK, person_id=10**6)
    assert nobody.value.facts == {"what": "person"}


def test_fewer_places_in_the_catalogue_never_drop_a_slot_below_its_walk_ins(
    catalog: Runtime, tmp_path: Path
) -> None:
    sid = slot_id(catalog, "CARD", CARD_1130)
    catalog.booking.book("+254700000100", sid, "ussd")
    from_last = datetime(2026, 11, 23, 11, 30, tzinfo=NAIROBI)
    walk_in(catalog, at=from_last)
    walk_in(catalog, at=from_last)  # 1 remote + 2 walk-ins of 4 places
    fewer = tmp_path / "catalog.yaml"
    fewer.write_text(TEST_CATALOG.read_text().replace("places: 4", "places: 2", 1))
    catalog.booking.load_catalog(fewer)
    catalog.booking.generate_slots(1)
    slot = slot_row(catalog, sid)
    assert (slot.capacity, slot.remote_capacity, slot.walk_in_taken) == (3, 1, 2)


# --- the database's guard and the migration ---------------------------------------------------


@pytest.mark.parametrize("walk_ins, remote_taken", [(3, 2), (-1, 0)])
def test_the_database_refuses_walk_ins_past_capacity(
    catalog: Runtime, walk_ins: int, remote_taken: int
) -> None:
    sid = slot_id(catalog, "CARD", CARD_0800)  # capacity 4, 2 of them remote
    with pytest.raises(IntegrityError), catalog.booking.engine.begin() as conn:
        conn.execute(
            update(Slot.__table__)
            .where(Slot.__table__.c.id == sid)
            .values(walk_in_taken=walk_ins, remote_taken=remote_taken)
        )


def test_the_walk_in_column_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    assert [d for d in diffs if "walk_in_taken" in repr(d)] == []
    checks = {c["name"] for c in inspect(engine).get_check_constraints("slots")}
    assert {"ck_slots_walk_in_not_negative", "ck_slots_within_capacity"} <= checks


def test_a_populated_database_upgrades_to_walk_ins(catalog: Runtime) -> None:
    engine = catalog.booking.engine
    sid = slot_id(catalog, "CARD", CARD_0800)
    catalog.booking.book("+254700000100", sid, "ussd")
    slots, bookings = _count(catalog, Slot), _count(catalog, Booking)

    migrate_to(engine, "0010")
    assert "walk_in_taken" not in _columns(engine)
    migrate.upgrade(engine)

    assert (_count(catalog, Slot), _count(catalog, Booking)) == (slots, bookings)
    with catalog.reader() as s:
        assert set(s.scalars(select(Slot.walk_in_taken))) == {0}
    at(catalog, 2026, 11, 23, 8, 5)
    assert walk_in(catalog)[:2] == ("08:00", 1)
    assert places_used(catalog, sid) == (1, 1, 2)


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("slots")}


def _count(rt: Runtime, model: type[Booking] | type[Citizen] | type[Slot]) -> int:
    with rt.reader() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


# --- races (PostgreSQL) ------------------------------------------------------------------------


@POSTGRES_ONLY
def test_walk_ins_racing_phones_for_the_last_places_never_pass_capacity(
    catalog: Runtime,
) -> None:
    # 11:00, the 11:30 slot alone from `at` on: its unused remote places have returned to
    # walk-in, and the sweep has not lowered the remote share, so both sides want all of it.
    at(catalog, 2026, 11, 23, 11, 0)
    sid = slot_id(catalog, "CARD", CARD_1130)
    set_capacity(catalog, sid, capacity=10, remote=6)
    from_last = datetime(2026, 11, 23, 11, 30, tzinfo=NAIROBI)

    def attempt(i: int) -> object:
        if i % 2:
            return catalog.booking.walk_in("KNH", "CARD", DESK, at=from_last)
        return catalog.booking.book(f"+2547300{i:05d}", sid, "ussd", f"k{i}")

    outcomes = race(40, attempt)
    # Every attempt answered: booked, or refused by the core (never by the table's CHECK).
    assert outcomes["ok"] == 10 and outcomes.total() == 40
    assert set(outcomes) <= {"ok", "slot_full", "walk_in_full"}
    remote, walked, held = places_used(catalog, sid)
    assert remote + walked == 10 == held and remote <= 6
    with catalog.reader() as s:
        found = s.scalars(select(Booking.queue_number).where(Booking.kind == "walk_in"))
        numbers = sorted(n for n in found if n is not None)
    assert numbers == list(range(1, walked + 1))


@POSTGRES_ONLY
def test_walk_ins_racing_each_other_fill_the_walk_in_places_once(catalog: Runtime) -> None:
    at(catalog, 2026, 11, 23, 6, 0)  # not yet returned: the walk-in share alone
    sids = [
        slot_id(catalog, "CARD", datetime(2026, 11, 23, h, m))
        for h in range(8, 12)
        for m in (0, 30)
    ]
    outcomes = race(20, lambda i: catalog.booking.walk_in("KNH", "CARD", DESK))
    assert outcomes == Counter({"ok": 16, "walk_in_full": 4})  # 8 slots x 2 walk-in places
    assert [places_used(catalog, s)[1] for s in sids] == [2] * 8
