"""Real threads racing on PostgreSQL for the persons of one phone (issue #19, acceptance 4).

Every booking of a household, over the phone or at the desk, locks the holder's row first, so
the per-person limits, the per-phone cap on live bookings and the lifetime cap on persons see
each other however the requests interleave. Each test asserts on the rows at the end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from gateway.booking.domain.errors import Blocked, LimitPerPhone
from gateway.booking.models import Booking, Citizen
from gateway.runtime import Runtime
from gateway.settings import BlockPolicy
from tests.booking.conftest import POSTGRES_ONLY, at, set_capacity, slot_id, slot_row, use_rules
from tests.booking.races import race

MOTHER = "+254700000401"
TUE, WED = 24, 25
# Two departments a day: CARD every 30 minutes from 08:00, DERM every hour from 08:00.
SLOTS = {"CARD": [(8, 0), (8, 30), (9, 0)], "DERM": [(8, 0), (9, 0)]}
LIMITS = {"ok", "limit_per_phone", "limit_per_day", "department_same_day"}


@dataclass(frozen=True)
class Attempt:
    """One request of the race: book `slot` for person `person` (None: "Me")."""

    person: int | None
    slot: int
    desk: bool  # staff at the desk (book_at_desk) rather than the phone's own USSD


def roomy_slots(rt: Runtime, days: tuple[int, ...]) -> dict[tuple[int, str], list[int]]:
    """The race's slots by (day, department), with room for everyone: only the person's and
    the phone's rules can refuse."""
    found: dict[tuple[int, str], list[int]] = {}
    for day in days:
        for dept, times in SLOTS.items():
            ids = [slot_id(rt, dept, datetime(2026, 11, day, h, m)) for h, m in times]
            for sid in ids:
                set_capacity(rt, sid, capacity=40, remote=40)
            found[(day, dept)] = ids
    return found


def each(rt: Runtime, holder: int, attempts: list[Attempt]) -> Callable[[int], object]:
    """`race`'s attempt: the i-th request, over the phone or at the desk."""

    def attempt(i: int) -> object:
        a = attempts[i]
        if a.desk:
            return rt.booking.book_at_desk(a.person or holder, a.slot, actor="desk-1")
        return rt.booking.book(MOTHER, a.slot, "ussd", person_id=a.person)

    return attempt


def live_rows(rt: Runtime, holder: int) -> list[tuple[int, date, int]]:
    """(person, day, department) of every live booking of the household."""
    household = select(Citizen.id).where((Citizen.id == holder) | (Citizen.guardian_id == holder))
    with rt.reader() as s:
        rows = s.execute(
            select(Booking.citizen_id, Booking.day, Booking.department_id).where(
                Booking.citizen_id.in_(household), Booking.status == "confirmed"
            )
        ).all()
    return [(person, day, dept) for person, day, dept in rows]


def assert_person_limits(rows: list[tuple[int, date, int]], per_day: int) -> None:
    per_person_day = Counter((person, day) for person, day, _ in rows)
    per_department_day = Counter(rows)
    assert max(per_person_day.values()) <= per_day
    assert max(per_department_day.values()) == 1


def places_taken(rt: Runtime, slots: dict[tuple[int, str], list[int]]) -> int:
    return sum(slot_row(rt, sid).remote_taken for ids in slots.values() for sid in ids)


def holder_id(rt: Runtime) -> int:
    return rt.booking.persons(MOTHER)[0].id


@POSTGRES_ONLY
def test_four_persons_of_one_phone_racing_never_pass_six_live_bookings(catalog: Runtime) -> None:
    bk = catalog.booking
    kids = [bk.add_person(MOTHER, name).id for name in ("Amina", "Baraka", "Chiku")]
    holder = holder_id(catalog)
    slots = roomy_slots(catalog, (TUE, WED))
    # Every person tries every slot of both days, a third of them through the desk: sixteen
    # (person, day, department) places to fill, of which the phone may keep six.
    pairs = [(person, sid) for person in (None, *kids) for ids in slots.values() for sid in ids]
    attempts = [Attempt(person, sid, desk=i % 3 == 0) for i, (person, sid) in enumerate(pairs)]
    assert len(attempts) == 40
    outcomes = race(len(attempts), each(catalog, holder, attempts))
    assert outcomes.total() == len(attempts), outcomes
    assert outcomes["ok"] == 6 and set(outcomes) <= LIMITS, outcomes
    assert outcomes["limit_per_phone"] >= 10  # a place of its own for each of the other ten
    rows = live_rows(catalog, holder)
    assert len(rows) == 6 == places_taken(catalog, slots)
    assert_person_limits(rows, per_day=2)
    with pytest.raises(LimitPerPhone):
        bk.book(MOTHER, slots[(WED, "CARD")][0], "ussd", person_id=kids[0])


@POSTGRES_ONLY
@pytest.mark.parametrize(
    ("max_per_day", "kept"),
    [
        (2, 4),  # one a department a day: CARD and DERM, both days
        (1, 2),  # one a day: either department, both days
    ],
)
def test_one_person_racing_from_the_phone_and_the_desk_keeps_their_own_limits(
    catalog: Runtime, max_per_day: int, kept: int
) -> None:
    bk = catalog.booking
    amina = bk.add_person(MOTHER, "Amina").id
    holder = holder_id(catalog)
    use_rules(catalog, max_per_day=max_per_day)
    slots = roomy_slots(catalog, (TUE, WED))
    attempts = [
        Attempt(amina, sid, desk=desk)
        for ids in slots.values()
        for sid in ids
        for desk in (False, True)
    ]
    outcomes = race(len(attempts), each(catalog, holder, attempts))
    assert outcomes.total() == len(attempts), outcomes
    assert outcomes["ok"] == kept and set(outcomes) <= LIMITS - {"limit_per_phone"}, outcomes
    rows = live_rows(catalog, holder)
    assert len(rows) == kept == places_taken(catalog, slots)
    assert {person for person, _, _ in rows} == {amina}
    assert_person_limits(rows, per_day=max_per_day)


@dataclass(frozen=True)
class AddCase:
    label: str
    added_before: int  # dependants added before the race …
    hidden_before: int  # … and of them hidden (they still count toward the lifetime cap)
    kept: int  # dependants the race adds
    refused_for: int  # the cap the refusals name


ADD_CASES = [
    # A phone never seen before: its holder row is made by the first request to get there.
    AddCase("five shown at once", added_before=0, hidden_before=0, kept=5, refused_for=5),
    # Five added, three hidden: room for three shown, but only two more ever ("Me" is the 8th).
    AddCase("eight ever", added_before=5, hidden_before=3, kept=2, refused_for=8),
]


@POSTGRES_ONLY
@pytest.mark.parametrize("case", ADD_CASES, ids=[c.label for c in ADD_CASES])
def test_parallel_additions_never_pass_the_phones_caps(catalog: Runtime, case: AddCase) -> None:
    bk = catalog.booking
    before = [bk.add_person(MOTHER, f"Kwanza {chr(65 + i)}").id for i in range(case.added_before)]
    for person in before[: case.hidden_before]:
        bk.hide_person(MOTHER, person)
    refusals: list[dict[str, object]] = []

    def add(i: int) -> object:
        try:
            return bk.add_person(MOTHER, f"Mtoto {chr(65 + i)}")
        except Exception as refused:
            refusals.append(getattr(refused, "facts", {}))
            raise

    outcomes = race(12, add)
    assert outcomes == Counter({"ok": case.kept, "person_limit": 12 - case.kept})
    assert all(facts == {"limit": case.refused_for} for facts in refusals)
    with catalog.reader() as s:
        holders = s.scalars(
            select(Citizen).where(Citizen.phone == MOTHER, Citizen.guardian_id.is_(None))
        ).all()
        [holder] = holders  # one holder, however many requests made the phone's first contact
        dependants = s.scalar(select(func.count()).where(Citizen.guardian_id == holder.id))
    assert dependants == holder.persons_added == case.added_before + case.kept
    shown = case.added_before - case.hidden_before + case.kept
    assert len(bk.persons(MOTHER)) == 1 + shown


@POSTGRES_ONLY
def test_a_sweep_blocking_a_second_person_while_bookings_race_blocks_the_phone(
    catalog: Runtime,
) -> None:
    bk = catalog.booking
    use_rules(catalog, no_show_block=BlockPolicy(count=1, window_days=90, block_days=30))
    bibi, amina, baraka = (bk.add_person(MOTHER, n).id for n in ("Bibi", "Amina", "Baraka"))
    bk.book(MOTHER, slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 0)), "ussd", person_id=bibi)
    bk.book(
        MOTHER, slot_id(catalog, "CARD", datetime(2026, 11, 23, 8, 30)), "ussd", person_id=amina
    )
    at(catalog, 2026, 11, 23, 8, 45)  # Bibi's check-in window has closed, Amina's not yet
    assert bk.sweep().blocked == 1  # one blocked person: the phone still books
    at(catalog, 2026, 11, 23, 9, 15)  # now Amina's has closed too
    slots = roomy_slots(catalog, (TUE, WED))
    attempts = [
        Attempt(person, ids[0], desk=False)
        for person in (None, baraka)
        for ids in (slots[(TUE, "CARD")], slots[(WED, "DERM")])
    ]
    holder = holder_id(catalog)
    swept: list[int] = []

    def sweep_until_marked() -> None:
        # The sweep skips a household whose holder row a booking holds (SKIP LOCKED) and takes
        # it on its next round: rounds until the no-show is marked, as the worker's would.
        for _ in range(500):
            report = bk.sweep()
            if report.no_shows:
                swept.append(report.blocked)
                return

    book = each(catalog, holder, attempts)
    outcomes = race(
        len(attempts) + 1, lambda i: book(i) if i < len(attempts) else sweep_until_marked()
    )
    assert outcomes.total() == len(attempts) + 1, outcomes
    assert swept == [1] and set(outcomes) <= {"ok", "blocked"}, (swept, outcomes)
    with catalog.reader() as s:
        blocked = s.scalar(
            select(func.count()).where(
                Citizen.phone == MOTHER, Citizen.blocked_until > catalog.clock.now()
            )
        )
    assert blocked == 2
    for person in (None, baraka):
        with pytest.raises(Blocked) as refused:
            bk.book(MOTHER, slots[(WED, "CARD")][1], "ussd", person_id=person)
        assert "person" not in refused.value.facts  # the phone itself
