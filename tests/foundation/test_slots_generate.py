"""Slot generation: idempotent, capacity from the catalogue, local time zones, safe updates."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, select, text

from gateway.booking.catalogue.slots import GenerateReport, local_start, remote_places
from gateway.booking.models import Department, Doctor, Hospital, Slot
from gateway.clock import FixedClock
from gateway.runtime import Runtime, build_runtime
from gateway.settings import BookingRules, BookingSettings, Settings
from gateway.voucher_keys import VoucherKeys
from tests.clocks import clock_of

TEST_CATALOG = Path(__file__).resolve().parent.parent / "data" / "catalog.yaml"
NAIROBI = ZoneInfo("Africa/Nairobi")
LONDON = ZoneInfo("Europe/London")
NOTHING = GenerateReport(created=0, updated=0, removed=0)
TIMEZONES = {"KNH": NAIROBI, "MCH": NAIROBI, "STH": LONDON}


def all_slots(rt: Runtime) -> list[tuple[Any, ...]]:
    """Every column of every slot, in a stable order."""
    with rt.reader() as s:
        return [
            (
                x.id,
                x.department_id,
                x.doctor_id,
                x.day,
                x.starts_at,
                x.ends_at,
                x.capacity,
                x.remote_capacity,
                x.remote_taken,
            )
            for x in s.scalars(select(Slot).order_by(Slot.department_id, Slot.starts_at))
        ]


def slots_of(rt: Runtime, hospital: str, dept: str) -> list[Slot]:
    with rt.reader() as s:
        return list(
            s.scalars(
                select(Slot)
                .join(Department)
                .join(Hospital)
                .where(Hospital.code == hospital, Department.code == dept)
                .order_by(Slot.starts_at)
            )
        )


def slot_at(rt: Runtime, hospital: str, dept: str, local: datetime) -> Slot:
    wanted = local.replace(tzinfo=TIMEZONES[hospital])
    [slot] = [s for s in slots_of(rt, hospital, dept) if s.starts_at == wanted]
    return slot


def wall_times(slots: list[Slot], day: date, tz: ZoneInfo = LONDON) -> list[str]:
    return [s.starts_at.astimezone(tz).strftime("%H:%M") for s in slots if s.day == day]


def set_remote_taken(engine: Engine, slot_id: int, taken: int) -> None:
    """Simulate holds and remote bookings on a slot."""
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE slots SET remote_taken = :n WHERE id = :id"), {"n": taken, "id": slot_id}
        )


def changed_catalogue(tmp_path: Path, *changes: Callable[[dict[str, Any]], Any]) -> Path:
    """A copy of the test catalogue with `changes` applied to its departments (by code)."""
    raw = yaml.safe_load(TEST_CATALOG.read_text(encoding="utf-8"))
    for change in changes:
        change(raw)
    path = tmp_path / "changed-catalog.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def dept(raw: dict[str, Any], code: str) -> dict[str, Any]:
    return next(
        d
        for c in raw["cities"]
        for h in c["hospitals"]
        for d in h["departments"]
        if d["code"] == code
    )


@pytest.fixture
def runtime_at(runtime: Runtime) -> Callable[[datetime], Runtime]:
    """The runtime with its clock moved to an instant and the test catalogue loaded."""

    def at(instant: datetime) -> Runtime:
        assert isinstance(runtime.clock, FixedClock)
        clock_of(runtime).at = instant
        runtime.booking.load_catalog(TEST_CATALOG)
        return runtime

    return at


# --- idempotence and capacity -----------------------------------------------------------------


def test_generating_again_changes_nothing(catalog: Runtime) -> None:
    before = all_slots(catalog)
    assert len(before) > 500
    assert catalog.booking.generate_slots(15) == NOTHING
    catalog.booking.load_catalog(TEST_CATALOG)  # schedules are re-created with new ids
    assert catalog.booking.generate_slots(15) == NOTHING
    assert all_slots(catalog) == before


def test_slots_cover_fifteen_local_days_from_today(catalog: Runtime) -> None:
    days = {s.day for s in slots_of(catalog, "MCH", "DEMO")}
    today = date(2026, 11, 23)
    assert days == {today + timedelta(days=n) for n in range(15)}


CAPACITIES = [
    # (hospital, department, places, remote places): 4 × 0.5, 3 × default 0.5 → 1, …
    ("KNH", "CARD", 4, 2),
    ("KNH", "DERM", 3, 1),
    ("KNH", "CCC", 2, 2),
    ("MCH", "DEMO", 6, 6),
    ("STH", "NIGHT", 2, 2),
]


@pytest.mark.parametrize(
    ("hospital", "dept_code", "capacity", "remote"),
    CAPACITIES,
    ids=[f"{h}-{d}" for h, d, _, _ in CAPACITIES],
)
def test_capacity_comes_from_places_and_remote_share(
    catalog: Runtime, hospital: str, dept_code: str, capacity: int, remote: int
) -> None:
    slots = slots_of(catalog, hospital, dept_code)
    assert slots
    assert {(s.capacity, s.remote_capacity, s.remote_taken) for s in slots} == {
        (capacity, remote, 0)
    }


def test_a_schedules_doctor_is_on_its_slots(catalog: Runtime) -> None:
    with catalog.reader() as s:
        d001 = s.scalars(select(Doctor.id).where(Doctor.code == "D001")).one()
    assert {s.doctor_id for s in slots_of(catalog, "KNH", "CARD")} == {d001}
    assert {s.doctor_id for s in slots_of(catalog, "KNH", "DERM")} == {None}


@pytest.mark.parametrize(
    ("defaults_share", "knh_share", "derm_remote", "card_remote"),
    [
        (0.5, None, 1, 2),  # DERM omits remote_share: 3 × 0.5 rounded down
        (0.7, None, 2, 2),  # 3 × 0.7 = 2.1 → 2; CARD says 0.5 itself
        (1.0, None, 3, 2),
        (0.5, 0.0, 0, 2),  # KNH's own default wins over the global one
        (0.2, 0.34, 1, 2),  # 3 × 0.34 = 1.02 → 1
    ],
)
def test_schedules_without_a_share_take_the_configured_default(
    settings: Settings,
    engine: Engine,
    clock: FixedClock,
    voucher_keys: VoucherKeys,
    defaults_share: float,
    knh_share: float | None,
    derm_remote: int,
    card_remote: int,
) -> None:
    defaults = replace(BookingRules(), remote_share=defaults_share)
    hospitals = {} if knh_share is None else {"KNH": replace(defaults, remote_share=knh_share)}
    rt = build_runtime(
        settings.with_overrides(booking=BookingSettings(defaults, hospitals)),
        engine=engine,
        clock=clock,
        keys=voucher_keys,
    )
    rt.booking.load_catalog(TEST_CATALOG)
    rt.booking.generate_slots(3)
    assert {s.remote_capacity for s in slots_of(rt, "KNH", "DERM")} == {derm_remote}
    assert {s.remote_capacity for s in slots_of(rt, "KNH", "CARD")} == {card_remote}


@pytest.mark.parametrize(
    ("places", "share", "remote"),
    [
        (4, 0.5, 2),
        (3, 0.5, 1),
        (5, 0.3, 1),
        (10, 0.3, 3),
        (3, 0.7, 2),
        (10, 0.7, 7),
        (100, 0.29, 29),
        (100, 0.57, 57),
        (6, 1.0, 6),
        (6, 0.0, 0),
        (1, 0.99, 0),
    ],
)
def test_remote_places_are_the_share_rounded_down(places: int, share: float, remote: int) -> None:
    assert remote_places(places, share) == remote


def test_no_slot_is_made_in_the_past(runtime_at: Callable[[datetime], Runtime]) -> None:
    now = datetime(2026, 11, 23, 10, 10, tzinfo=NAIROBI)  # mid-morning, Monday
    rt = runtime_at(now)
    rt.booking.generate_slots(15)
    assert min(row[4] for row in all_slots(rt)) > now
    today = date(2026, 11, 23)
    assert wall_times(slots_of(rt, "KNH", "CARD"), today, NAIROBI) == ["10:30", "11:00", "11:30"]
    assert wall_times(slots_of(rt, "MCH", "DEMO"), today, NAIROBI)[0] == "10:30"
    assert wall_times(slots_of(rt, "KNH", "DERM"), today, NAIROBI) == []  # 08:00–10:00 is over


# --- daylight saving (Europe/London) ----------------------------------------------------------


def assert_one_slot_per_wall_time_in_order(slots: list[Slot]) -> None:
    local = [s.starts_at.astimezone(LONDON) for s in slots]
    keys = [(t.date(), t.strftime("%H:%M")) for t in local]
    assert len(set(keys)) == len(keys), "two slots at one local wall time"
    by_wall_time = [
        s.starts_at for _, s in sorted(zip(keys, slots, strict=True), key=lambda pair: pair[0])
    ]
    assert all(a < b for a, b in itertools.pairwise(by_wall_time))
    for s, t in zip(slots, local, strict=True):
        assert s.day == t.date()
        assert s.ends_at - s.starts_at == timedelta(minutes=30)
        # The wall time really exists: read back from its parts, it is the same instant.
        assert local_start(t.date(), t.hour * 60 + t.minute, LONDON) == t


def test_spring_forward_skips_the_hour_that_does_not_exist(
    runtime_at: Callable[[datetime], Runtime],
) -> None:
    rt = runtime_at(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))  # clocks go forward on the 28th
    rt.booking.generate_slots(3)
    night = slots_of(rt, "STH", "NIGHT")
    assert wall_times(night, date(2027, 3, 28)) == [
        "00:00",
        "00:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]
    assert len(wall_times(night, date(2027, 3, 29))) == 8
    assert_one_slot_per_wall_time_in_order(night)
    before = all_slots(rt)
    assert rt.booking.generate_slots(3) == NOTHING
    assert all_slots(rt) == before


def test_fall_back_makes_one_slot_per_wall_time_of_the_repeated_hour(
    runtime_at: Callable[[datetime], Runtime],
) -> None:
    rt = runtime_at(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))  # clocks go back on the 25th
    rt.booking.generate_slots(3)
    night = slots_of(rt, "STH", "NIGHT")
    sunday = [s for s in night if s.day == date(2026, 10, 25)]
    assert wall_times(sunday, date(2026, 10, 25)) == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]
    # 01:00 and 01:30 happen twice; their one slot is the first time round (BST, UTC+1).
    assert [s.starts_at.strftime("%H:%M") for s in sunday] == [
        "23:00",
        "23:30",
        "00:00",
        "00:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]
    assert_one_slot_per_wall_time_in_order(night)
    before = all_slots(rt)
    assert rt.booking.generate_slots(3) == NOTHING
    assert all_slots(rt) == before


# --- catalogue changes ------------------------------------------------------------------------


def test_fewer_places_update_future_slots_but_never_below_what_is_taken(
    catalog: Runtime, tmp_path: Path
) -> None:
    # The clock stands at Monday 06:00 Nairobi; places go back to walk-in 60 minutes before.
    taken = slot_at(catalog, "KNH", "CARD", datetime(2026, 11, 30, 8, 0))
    free = slot_at(catalog, "KNH", "CARD", datetime(2026, 11, 30, 8, 30))
    about_to_start = slot_at(catalog, "MCH", "DEMO", datetime(2026, 11, 23, 6, 30))
    later_today = slot_at(catalog, "MCH", "DEMO", datetime(2026, 11, 23, 8, 0))
    set_remote_taken(catalog.engine, taken.id, 2)

    def fewer_places(raw: dict[str, Any]) -> None:
        dept(raw, "CARD")["schedules"][0]["places"] = 2  # remote share 0.5 → 1
        dept(raw, "DEMO")["schedules"][0]["places"] = 2  # remote share 1.0 → 2

    catalog.booking.load_catalog(changed_catalogue(tmp_path, fewer_places))
    report = catalog.booking.generate_slots(15)
    assert report.created == report.removed == 0 and report.updated > 0

    def row(slot: Slot) -> tuple[int, int, int]:
        [found] = [x for x in all_slots(catalog) if x[0] == slot.id]
        return found[6], found[7], found[8]  # capacity, remote capacity, remote taken

    assert row(taken) == (2, 2, 2)
    assert row(free) == (2, 1, 0)
    assert row(about_to_start) == (6, 6, 0)  # inside the walk-in return window: left alone
    assert row(later_today) == (2, 2, 0)
    assert catalog.booking.generate_slots(15) == NOTHING


def test_more_places_raise_future_capacity(catalog: Runtime, tmp_path: Path) -> None:
    catalog.booking.load_catalog(
        changed_catalogue(tmp_path, lambda raw: dept(raw, "CARD")["schedules"][0].update(places=9))
    )
    catalog.booking.generate_slots(15)
    assert {(s.capacity, s.remote_capacity) for s in slots_of(catalog, "KNH", "CARD")} == {(9, 4)}


def test_a_removed_schedule_removes_future_unbooked_slots_only(
    catalog: Runtime, tmp_path: Path
) -> None:
    ccc_before = slots_of(catalog, "KNH", "CCC")
    demo_before = slots_of(catalog, "MCH", "DEMO")
    kept = slot_at(catalog, "KNH", "CCC", datetime(2026, 11, 25, 9, 0))
    set_remote_taken(catalog.engine, kept.id, 1)

    def no_sessions(raw: dict[str, Any]) -> None:
        dept(raw, "CCC")["schedules"] = []
        dept(raw, "DEMO")["schedules"] = []

    catalog.booking.load_catalog(changed_catalogue(tmp_path, no_sessions))
    report = catalog.booking.generate_slots(15)
    assert [s.id for s in slots_of(catalog, "KNH", "CCC")] == [kept.id]
    # 06:30 and 07:00 today start within the 60-minute walk-in return window: left alone.
    demo_after = slots_of(catalog, "MCH", "DEMO")
    assert wall_times(demo_after, date(2026, 11, 23), NAIROBI) == ["06:30", "07:00"]
    assert [s.id for s in demo_after] == [s.id for s in demo_before[:2]]
    assert report == GenerateReport(
        created=0, updated=0, removed=len(ccc_before) - 1 + len(demo_before) - 2
    )
    assert catalog.booking.generate_slots(15) == NOTHING


def test_unchanged_departments_keep_their_slots_when_another_changes(
    catalog: Runtime, tmp_path: Path
) -> None:
    card_before = [(s.id, s.starts_at, s.capacity) for s in slots_of(catalog, "KNH", "CARD")]
    catalog.booking.load_catalog(
        changed_catalogue(tmp_path, lambda raw: dept(raw, "DERM")["schedules"][0].update(places=5))
    )
    catalog.booking.generate_slots(15)
    assert [
        (s.id, s.starts_at, s.capacity) for s in slots_of(catalog, "KNH", "CARD")
    ] == card_before


def test_changed_catalogue_copy_is_a_faithful_copy(tmp_path: Path) -> None:
    original = yaml.safe_load(TEST_CATALOG.read_text(encoding="utf-8"))
    assert yaml.safe_load(changed_catalogue(tmp_path).read_text(encoding="utf-8")) == copy.deepcopy(
        original
    )
