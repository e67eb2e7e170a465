"""Catalogue loading (docs/catalogue.md): path-named errors, nothing half-loads, upserts by code."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from gateway.booking.catalogue.load import DEMO_CATALOG, CatalogError, read_catalog
from gateway.booking.models import Base, City, Department, Doctor, Hospital, Schedule, Slot
from gateway.cli import ors
from gateway.db import make_engine
from gateway.runtime import Runtime
from gateway.settings import REPO_CONFIG

Catalogue = dict[str, Any]

BASE: Catalogue = {
    "cities": [
        {
            "code": "NBO",
            "name": "Nairobi",
            "hospitals": [
                {
                    "code": "KNH",
                    "name": "Kenyatta National Hospital",
                    "timezone": "Africa/Nairobi",
                    "departments": [
                        {
                            "code": "CARD",
                            "name": "Cardiology",
                            "room": "Block B, Room 12",
                            "doctors": [{"code": "D001", "name": "Dr. Achieng Otieno"}],
                            "schedules": [
                                {
                                    "days": ["mon", "tue"],
                                    "start": "08:00",
                                    "end": "12:00",
                                    "slot_minutes": 30,
                                    "places": 4,
                                    "remote_share": 0.5,
                                    "doctor": "D001",
                                }
                            ],
                        },
                        {
                            "code": "DERM",
                            "name": "Dermatology",
                            "schedules": [
                                {
                                    "days": ["wed"],
                                    "start": "08:00",
                                    "end": "10:00",
                                    "slot_minutes": 60,
                                    "places": 3,
                                }
                            ],
                        },
                    ],
                },
                {
                    "code": "MCH",
                    "name": "Mbagathi County Hospital",
                    "timezone": "Africa/Nairobi",
                    "departments": [
                        {
                            "code": "OPD",
                            "name": "Outpatients",
                            "sensitive": False,
                            "schedules": [
                                {
                                    "days": ["mon", "tue", "wed", "thu", "fri"],
                                    "start": "07:00",
                                    "end": "17:00",
                                    "slot_minutes": 60,
                                    "places": 10,
                                    "remote_share": 0.3,
                                }
                            ],
                        },
                    ],
                },
            ],
        }
    ]
}


def catalogue(mutate: Callable[[Catalogue], Any] | None = None) -> Catalogue:
    cat = copy.deepcopy(BASE)
    if mutate is not None:
        mutate(cat)
    return cat


def write(path: Path, cat: Catalogue) -> Path:
    path.write_text(yaml.safe_dump(cat, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def hospital(cat: Catalogue, h: int = 0) -> dict[str, Any]:
    return cat["cities"][0]["hospitals"][h]


def department(cat: Catalogue, d: int = 0, h: int = 0) -> dict[str, Any]:
    return hospital(cat, h)["departments"][d]


def schedule(cat: Catalogue, d: int = 0, h: int = 0) -> dict[str, Any]:
    return department(cat, d, h)["schedules"][0]


def snapshot(engine: Engine) -> dict[str, Any]:
    """Row counts of every table plus the codes, ids and names of the registries."""
    with engine.connect() as conn:
        counts = {
            t.name: conn.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }
        registries = {
            model.__tablename__: sorted(
                conn.execute(select(model.code, model.id, model.name, model.name_gsm)).all()
            )
            for model in (City, Hospital, Department, Doctor)
        }
        schedules = sorted(
            conn.execute(
                select(
                    Schedule.department_id,
                    Schedule.weekday,
                    Schedule.doctor_id,
                    Schedule.start_minute,
                    Schedule.end_minute,
                    Schedule.slot_minutes,
                    Schedule.places,
                    Schedule.remote_share,
                )
            ).all(),
            key=repr,
        )
    return {"counts": counts, "registries": registries, "schedules": schedules}


# --- validation: every error names the path of the bad entry ---------------------------------

D0 = "cities[0].hospitals[0].departments[0]"
D1 = "cities[0].hospitals[0].departments[1]"

MALFORMED: list[tuple[str, Callable[[Catalogue], Any], str]] = [
    ("missing department code", lambda c: department(c, 1).pop("code"), f"{D1}.code: missing"),
    ("lower-case code", lambda c: department(c).update(code="card"), f"{D0}.code: "),
    (
        "code with a dash",
        lambda c: hospital(c).update(code="K-NH"),
        "cities[0].hospitals[0].code: ",
    ),
    ("code longer than 16", lambda c: c["cities"][0].update(code="N" * 17), "cities[0].code: "),
    ("code read as a bool", lambda c: department(c, 1).update(code=False), f"{D1}.code: "),
    ("code read as a number", lambda c: department(c, 1).update(code=12), f"{D1}.code: "),
    (
        "missing hospital name",
        lambda c: hospital(c, 1).pop("name"),
        "cities[0].hospitals[1].name: missing",
    ),
    (
        "bad timezone",
        lambda c: hospital(c).update(timezone="Africa/Nairobbi"),
        "cities[0].hospitals[0].timezone: ",
    ),
    (
        "missing timezone",
        lambda c: hospital(c, 1).pop("timezone"),
        "cities[0].hospitals[1].timezone: ",
    ),
    (
        "no departments",
        lambda c: hospital(c, 1).update(departments=[]),
        "cities[0].hospitals[1].departments: ",
    ),
    (
        "end before start",
        lambda c: schedule(c).update(start="12:00", end="08:00"),
        f"{D0}.schedules[0].end: ",
    ),
    (
        "end equal to start",
        lambda c: schedule(c, 1).update(end="08:00"),
        f"{D1}.schedules[0].end: ",
    ),
    ("time past midnight", lambda c: schedule(c).update(end="24:30"), f"{D0}.schedules[0].end: "),
    (
        "time read as a number",
        lambda c: schedule(c).update(start=480),
        f"{D0}.schedules[0].start: ",
    ),
    (
        "bad weekday",
        lambda c: schedule(c).update(days=["mon", "funday"]),
        f"{D0}.schedules[0].days: ",
    ),
    ("days not a list", lambda c: schedule(c).update(days="mon"), f"{D0}.schedules[0].days: "),
    (
        "doctor of another department",
        lambda c: schedule(c, 1).update(doctor="D001"),
        f"{D1}.schedules[0].doctor: ",
    ),
    ("unknown doctor", lambda c: schedule(c).update(doctor="D999"), f"{D0}.schedules[0].doctor: "),
    (
        "duplicate hospital code",
        lambda c: hospital(c, 1).update(code="KNH"),
        "cities[0].hospitals[1].code: ",
    ),
    (
        "duplicate department code",
        lambda c: department(c, 1).update(code="CARD"),
        "cities[0].hospitals[0].departments",
    ),
    ("places 0", lambda c: schedule(c).update(places=0), f"{D0}.schedules[0].places: "),
    ("places as text", lambda c: schedule(c).update(places="4"), f"{D0}.schedules[0].places: "),
    (
        "slot_minutes missing",
        lambda c: schedule(c).pop("slot_minutes"),
        f"{D0}.schedules[0].slot_minutes: ",
    ),
    (
        "remote_share 2",
        lambda c: schedule(c).update(remote_share=2),
        f"{D0}.schedules[0].remote_share: ",
    ),
    (
        "remote_share negative",
        lambda c: schedule(c).update(remote_share=-0.5),
        f"{D0}.schedules[0].remote_share: ",
    ),
    (
        "remote_share as a bool",
        lambda c: schedule(c).update(remote_share=True),
        f"{D0}.schedules[0].remote_share: ",
    ),
    (
        "sensitive as text",
        lambda c: department(c, 0, 1).update(sensitive="yes"),
        "cities[0].hospitals[1].departments[0].sensitive: ",
    ),
    ("room as a number", lambda c: department(c).update(room=12), f"{D0}.room: "),
    ("no cities", lambda c: c.pop("cities"), "cities: "),
]


@pytest.mark.parametrize(
    ("mutate", "path"), [(m, p) for _, m, p in MALFORMED], ids=[label for label, _, _ in MALFORMED]
)
def test_a_malformed_entry_is_reported_at_its_path(
    tmp_path: Path, mutate: Callable[[Catalogue], Any], path: str
) -> None:
    with pytest.raises(CatalogError) as error:
        read_catalog(write(tmp_path / "bad.yaml", catalogue(mutate)))
    assert len(error.value.problems) == 1, error.value.problems
    assert error.value.problems[0].startswith(path), error.value.problems
    assert str(error.value).startswith(path)


def test_the_base_catalogue_of_these_tests_is_valid(tmp_path: Path) -> None:
    cities = read_catalog(write(tmp_path / "good.yaml", catalogue()))
    assert [h.code for h in cities[0].hospitals] == ["KNH", "MCH"]


def test_a_yaml_norway_code_is_reported_as_read_as_a_bool(tmp_path: Path) -> None:
    text = yaml.safe_dump(catalogue(), sort_keys=False).replace("code: DERM", "code: NO")
    path = tmp_path / "no.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        read_catalog(path)
    assert error.value.problems[0].startswith(f"{D1}.code: ")
    assert "bool" in error.value.problems[0] and "quote" in error.value.problems[0]


def test_every_problem_of_the_file_is_listed(tmp_path: Path) -> None:
    def two_errors(c: Catalogue) -> None:
        department(c, 1).pop("code")
        schedule(c, 0, 1).update(places=0)

    with pytest.raises(CatalogError) as error:
        read_catalog(write(tmp_path / "bad.yaml", catalogue(two_errors)))
    assert error.value.problems == [
        f"{D1}.code: missing",
        "cities[0].hospitals[1].departments[0].schedules[0].places: expected a whole number "
        "above 0, got 0",
    ]
    assert str(error.value) == f"{D1}.code: missing (and 1 more)"


@pytest.mark.parametrize("content", ["cities: [unclosed", ""])
def test_an_unreadable_file_is_a_catalog_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError):
        read_catalog(path)
    with pytest.raises(CatalogError, match="file not found"):
        read_catalog(tmp_path / "missing.yaml")


# --- loading: atomic, idempotent, upsert by code (both backends) -----------------------------


def test_a_file_with_an_error_leaves_the_database_unchanged(
    runtime: Runtime, tmp_path: Path
) -> None:
    runtime.booking.load_catalog(write(tmp_path / "good.yaml", catalogue()))
    before = snapshot(runtime.engine)

    def renamed_and_broken(c: Catalogue) -> None:
        hospital(c).update(name="Renamed Hospital")  # would be written first if half-loaded
        department(c).update(name="Renamed Cardiology")
        c["cities"].insert(
            0,
            {
                "code": "MSA",
                "name": "Mombasa",
                "hospitals": copy.deepcopy([hospital(c, 1) | {"code": "CGH"}]),
            },
        )
        c["cities"][1]["hospitals"][0]["departments"][1].pop("code")

    with pytest.raises(CatalogError) as error:
        runtime.booking.load_catalog(write(tmp_path / "bad.yaml", catalogue(renamed_and_broken)))
    assert str(error.value).startswith("cities[1].hospitals[0].departments[1].code: missing")
    assert snapshot(runtime.engine) == before


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (
            lambda c: department(c).update(room="Block B, Room 12, " + "second corridor " * 7),
            f"{D0}.room: ",
        ),
        (lambda c: department(c, 1).update(name="Dermatology " * 14), f"{D1}.name: "),
    ],
    ids=["room longer than its column", "name longer than its column"],
)
def test_a_value_too_long_for_its_column_is_a_catalog_error_on_every_backend(
    runtime: Runtime, tmp_path: Path, mutate: Callable[[Catalogue], Any], path: str
) -> None:
    # SQLite stores any length while PostgreSQL refuses it mid-load: the validator must decide,
    # so a file loads (or is refused, naming the entry) the same way on both.
    runtime.booking.load_catalog(write(tmp_path / "good.yaml", catalogue()))
    before = snapshot(runtime.engine)
    with pytest.raises(CatalogError) as error:
        runtime.booking.load_catalog(write(tmp_path / "long.yaml", catalogue(mutate)))
    assert str(error.value).startswith(path)
    assert snapshot(runtime.engine) == before


def test_loading_the_same_file_twice_changes_nothing(runtime: Runtime, tmp_path: Path) -> None:
    path = write(tmp_path / "good.yaml", catalogue())
    first = runtime.booking.load_catalog(path)
    after_first = snapshot(runtime.engine)
    second = runtime.booking.load_catalog(path)
    assert snapshot(runtime.engine) == after_first
    assert (
        (first.cities, first.hospitals, first.departments, first.doctors, first.schedules)
        == (second.cities, second.hospitals, second.departments, second.doctors, second.schedules)
        == (1, 2, 3, 1, 8)
    )
    assert after_first["counts"]["schedules"] == 8  # one row per weekday of each session


def test_a_changed_name_is_updated_in_place(runtime: Runtime, tmp_path: Path) -> None:
    runtime.booking.load_catalog(write(tmp_path / "v1.yaml", catalogue()))
    before = snapshot(runtime.engine)

    def rename(c: Catalogue) -> None:
        hospital(c).update(name="Kenyatta National Referral Hospital")
        department(c, 1).update(name="Skin Clinic")
        department(c)["doctors"][0]["name"] = "Dr. A. Otieno"

    runtime.booking.load_catalog(write(tmp_path / "v2.yaml", catalogue(rename)))
    after = snapshot(runtime.engine)
    assert after["counts"] == before["counts"]
    ids = {t: [(code, i) for code, i, *_ in rows] for t, rows in after["registries"].items()}
    assert ids == {
        t: [(code, i) for code, i, *_ in rows] for t, rows in before["registries"].items()
    }
    names = {
        code: (name, gsm) for rows in after["registries"].values() for code, _, name, gsm in rows
    }
    assert names["KNH"] == ("Kenyatta National Referral Hospital",) * 2
    assert names["DERM"] == ("Skin Clinic",) * 2
    assert names["D001"] == ("Dr. A. Otieno",) * 2


def test_a_changed_schedule_replaces_the_departments_sessions(
    runtime: Runtime, tmp_path: Path
) -> None:
    runtime.booking.load_catalog(write(tmp_path / "v1.yaml", catalogue()))
    runtime.booking.load_catalog(
        write(tmp_path / "v2.yaml", catalogue(lambda c: schedule(c).update(days=["fri"], places=6)))
    )
    with runtime.reader() as s:
        card = s.scalars(select(Department.id).where(Department.code == "CARD")).one()
        rows = s.execute(
            select(Schedule.weekday, Schedule.places).where(Schedule.department_id == card)
        ).all()
    assert rows == [(4, 6)]


def test_names_are_transliterated_to_gsm7_with_a_warning_each(
    runtime: Runtime, tmp_path: Path
) -> None:
    def accented(c: Catalogue) -> None:
        hospital(c, 1).update(name="Hôpital Général")
        department(c, 1).update(name="Ear–Nose–Throat")
        department(c)["doctors"][0]["name"] = "Dr. Wanjiru O’Brien"

    report = runtime.booking.load_catalog(write(tmp_path / "gsm.yaml", catalogue(accented)))
    with runtime.reader() as s:
        named: list[Hospital | Department | Doctor] = [
            *s.scalars(select(Hospital)),
            *s.scalars(select(Department)),
            *s.scalars(select(Doctor)),
        ]
        rows = {row.code: (row.name, row.name_gsm) for row in named}
    assert rows["MCH"] == ("Hôpital Général", "Hopital General")
    assert rows["DERM"] == ("Ear–Nose–Throat", "Ear-Nose-Throat")
    assert rows["D001"] == ("Dr. Wanjiru O’Brien", "Dr. Wanjiru O'Brien")
    assert rows["KNH"] == ("Kenyatta National Hospital",) * 2
    assert len(report.warnings) == 3
    for code, gsm in (
        ("MCH", "Hopital General"),
        ("DERM", "Ear-Nose-Throat"),
        ("D001", "Dr. Wanjiru O'Brien"),
    ):
        assert any(code in w and gsm in w for w in report.warnings), report.warnings


def test_plain_gsm7_names_load_without_warnings(runtime: Runtime, tmp_path: Path) -> None:
    assert runtime.booking.load_catalog(write(tmp_path / "good.yaml", catalogue())).warnings == []


# --- the demo catalogue -----------------------------------------------------------------------


def test_the_demo_catalogue_has_the_shape_the_issue_asks_for(runtime: Runtime) -> None:
    report = runtime.booking.load_catalog(DEMO_CATALOG)
    assert report.warnings  # it exercises GSM-7 transliteration on purpose
    with runtime.reader() as s:
        assert s.scalars(select(func.count()).select_from(City)).one() >= 3
        hospitals = s.scalars(select(Hospital)).all()
        assert len(hospitals) >= 7
        per_hospital = dict(
            s.execute(
                select(Department.hospital_id, func.count()).group_by(Department.hospital_id)
            ).all()
        )
        assert max(per_hospital.values()) >= 25
        assert max(len(h.name) for h in hospitals) >= 40
        assert max(len(n) for n in s.scalars(select(Department.name))) >= 25
        # Every department whose name alone discloses health information is sensitive
        # (security review finding 5); the rest are not.
        sensitive = set(s.scalars(select(Department.code).where(Department.sensitive.is_(True))))
        assert {"CCC", "PSYC", "ONCO", "FP", "TB", "OBGY", "WHC"} <= sensitive
        assert "CARD" not in sensitive
        remote_shares = s.scalars(select(Schedule.remote_share)).all()
        assert None in remote_shares  # some sessions take the default share from config


def test_the_demo_catalogue_has_a_24_hour_clinic_at_the_demo_kiosks_hospital(
    runtime: Runtime,
) -> None:
    runtime.booking.load_catalog(DEMO_CATALOG)
    runtime.booking.generate_slots(2)  # the clock stands on Monday 06:00: Tuesday is whole
    tuesday = date(2026, 11, 24)
    local_times: dict[tuple[str, str], set[str]] = {}
    with runtime.reader() as s:
        rows = s.execute(
            select(Hospital.code, Hospital.timezone, Department.code, Slot.starts_at)
            .join(Department, Slot.department_id == Department.id)
            .join(Hospital, Department.hospital_id == Hospital.id)
            .where(Slot.day == tuesday)
        ).all()
    for h_code, tz, d_code, starts_at in rows:
        local_times.setdefault((h_code, d_code), set()).add(
            starts_at.astimezone(ZoneInfo(tz)).strftime("%H:%M")
        )
    all_day = [key for key, times in local_times.items() if {"00:00", "23:30"} <= times]
    assert all_day, "no department has slots at 00:00 and 23:30"
    assert any(h == "MCH" and len(local_times[(h, d)]) == 48 for h, d in all_day)


# --- through the command line (SQLite) --------------------------------------------------------


@pytest.fixture
def cli_config(tmp_path: Path) -> Path:
    raw = yaml.safe_load(REPO_CONFIG.read_text(encoding="utf-8"))
    raw["app"]["data_dir"] = str(tmp_path / "data")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def invoke(config: Path, *args: str) -> Any:
    env = {
        "ORS_CONFIG": str(config),
        "ORS_DATABASE_URL": None,
        "ORS_REDIS_URL": None,
        "ORS_VOUCHER_KEY": None,
    }
    return CliRunner().invoke(ors, list(args), env=env)


def test_cli_load_of_a_bad_file_fails_and_changes_nothing(cli_config: Path, tmp_path: Path) -> None:
    assert invoke(cli_config, "migrate").exit_code == 0
    good = invoke(cli_config, "catalog", "load", str(write(tmp_path / "good.yaml", catalogue())))
    assert good.exit_code == 0, good.output
    assert "loaded 1 cities, 2 hospitals, 3 departments, 1 doctors" in good.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'ors.sqlite3'}")
    try:
        before = snapshot(engine)

        def broken(c: Catalogue) -> None:
            hospital(c).update(name="Renamed Hospital")
            department(c, 1).pop("code")

        bad = invoke(
            cli_config, "catalog", "load", str(write(tmp_path / "bad.yaml", catalogue(broken)))
        )
        assert bad.exit_code != 0
        assert f"{D1}.code: missing" in bad.output + str(bad.exception)
        assert snapshot(engine) == before
    finally:
        engine.dispose()
