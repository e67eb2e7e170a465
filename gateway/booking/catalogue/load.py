"""Load the catalogue file (docs/catalogue.md): validate everything first, then upsert by codes.

Validation walks the whole file and names the path of every bad entry
(`cities[0].hospitals[2].departments[0].code: missing`); nothing is written unless the whole
file is valid, and the upsert runs in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.booking.domain.names import SMS_NAME_MAX
from gateway.booking.models import City, Department, Doctor, Hospital, Schedule
from gateway.gsm7 import to_gsm7

CODE = re.compile(r"^[A-Z0-9]{1,16}$")
TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEMO_CATALOG = Path(__file__).resolve().parents[2] / "demo" / "catalog.yaml"


class CatalogError(ValueError):
    """The file is invalid; `problems` lists every `path: what is wrong`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


@dataclass(frozen=True)
class ScheduleSpec:
    weekdays: tuple[int, ...]
    start_minute: int
    end_minute: int
    slot_minutes: int
    places: int
    remote_share: float | None
    doctor: str | None


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    room: str | None
    sensitive: bool
    doctors: dict[str, str]
    schedules: list[ScheduleSpec]
    names: dict[str, str] = field(default_factory=dict)  # language -> the name in it


@dataclass(frozen=True)
class HospitalSpec:
    code: str
    name: str
    timezone: str
    departments: list[DepartmentSpec]
    names: dict[str, str] = field(default_factory=dict)
    sms_name: str | None = None  # the short name SMS use; None: the name, shortened
    sms_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CitySpec:
    code: str
    name: str
    hospitals: list[HospitalSpec]
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadReport:
    cities: int = 0
    hospitals: int = 0
    departments: int = 0
    doctors: int = 0
    schedules: int = 0
    warnings: list[str] = field(default_factory=list)


def read_catalog(path: str | Path, languages: Collection[str] | None = None) -> list[CitySpec]:
    """Parse and validate a catalogue file, raising CatalogError with every problem found.

    `languages`: those `names` may be given in (the deployment's `app.languages`); None
    accepts any language code.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError([f"{path}: file not found"]) from None
    except yaml.YAMLError as exc:
        raise CatalogError([f"{path}: not valid YAML: {exc}".replace("\n", " ")]) from None
    return _Validator(languages).catalog(raw)


class _Validator:
    def __init__(self, languages: Collection[str] | None = None) -> None:
        self.languages = languages
        self.problems: list[str] = []
        self.first_seen: dict[tuple[str, str], str] = {}

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def catalog(self, raw: Any) -> list[CitySpec]:
        if not isinstance(raw, dict) or not isinstance(raw.get("cities"), list):
            raise CatalogError(["cities: missing (expected a list of cities)"])
        cities = [self.city(f"cities[{i}]", c) for i, c in enumerate(raw["cities"])]
        if self.problems:
            raise CatalogError(self.problems)
        return [city for city in cities if city is not None]

    def claim(self, scope: str, code: str, path: str) -> None:
        """Codes are unique within their scope; a repeat is reported where it stands."""
        if not code:
            return
        first = self.first_seen.setdefault((scope, code), path)
        if first != path:
            self.fail(f"{path}.code", f"{code} appears twice (first at {first}.code)")

    def code(self, path: str, node: dict[str, Any], scope: str) -> str:
        value = node.get("code")
        if value is None:
            self.fail(f"{path}.code", "missing")
        elif not isinstance(value, str):
            self.fail(
                f"{path}.code",
                f"must be text; quote it ({value!r} was read as {type(value).__name__})",
            )
        elif not CODE.match(value):
            self.fail(f"{path}.code", f"{value!r}: use 1-16 upper-case letters and digits")
        else:
            self.claim(scope, value, path)
            return value
        return ""

    def name(self, path: str, node: dict[str, Any], limit: int = 160) -> str:
        value = node.get("name")
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{path}.name", "missing")
            return ""
        self.fit(f"{path}.name", value.strip(), limit)
        return value.strip()

    def fit(self, path: str, value: str, limit: int) -> None:
        # Transliteration can lengthen a name (€ → EUR): both forms must fit their column.
        if max(len(value), len(to_gsm7(value))) > limit:
            self.fail(path, f"longer than {limit} characters")

    def names(
        self, path: str, node: dict[str, Any], key: str = "names", limit: int = 160
    ) -> dict[str, str]:
        """`{language: text}` of an entry's other languages; empty when left out."""
        raw = node.get(key)
        if raw is None:
            return {}
        if not isinstance(raw, dict) or not raw:
            self.fail(f"{path}.{key}", "expected a mapping of languages to names, e.g. {sw: ...}")
            return {}
        found: dict[str, str] = {}
        for language, value in raw.items():
            where = f"{path}.{key}.{language}"
            if not isinstance(language, str) or not LANGUAGE.match(language):
                self.fail(where, "expected a language code such as sw")
            elif self.languages is not None and language not in self.languages:
                known = ", ".join(sorted(self.languages))
                self.fail(where, f"{language!r} is not one of the languages ({known})")
            elif not isinstance(value, str) or not value.strip():
                self.fail(where, "expected text")
            else:
                self.fit(where, value.strip(), limit)
                found[language] = value.strip()
        return found

    def short_names(self, path: str, node: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
        """A hospital's `sms_name` and `sms_names`: short enough for a one-segment voucher."""
        short = node.get("sms_name")
        if short is not None and (not isinstance(short, str) or not short.strip()):
            self.fail(f"{path}.sms_name", "expected text")
            short = None
        elif short is not None:
            short = short.strip()
            self.fit(f"{path}.sms_name", short, SMS_NAME_MAX)
        return short, self.names(path, node, "sms_names", SMS_NAME_MAX)

    def mapping(self, path: str, node: Any) -> dict[str, Any] | None:
        if not isinstance(node, dict):
            self.fail(path, "expected a mapping")
            return None
        return node

    def items(self, path: str, node: dict[str, Any], key: str, required: bool = True) -> list[Any]:
        value = node.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or (required and not value):
            self.fail(f"{path}.{key}", "missing" if value is None else "expected a non-empty list")
            return []
        return value

    def city(self, path: str, raw: Any) -> CitySpec | None:
        node = self.mapping(path, raw)
        if node is None:
            return None
        code = self.code(path, node, "city")
        hospitals = [
            self.hospital(f"{path}.hospitals[{i}]", h)
            for i, h in enumerate(self.items(path, node, "hospitals"))
        ]
        return CitySpec(
            code,
            self.name(path, node, 120),
            [h for h in hospitals if h],
            names=self.names(path, node, limit=120),
        )

    def hospital(self, path: str, raw: Any) -> HospitalSpec | None:
        node = self.mapping(path, raw)
        if node is None:
            return None
        code = self.code(path, node, "hospital")
        tz = node.get("timezone")
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(f"{path}.timezone", f"{tz!r} is not an IANA time zone (e.g. Africa/Nairobi)")
        depts = [
            self.department(f"{path}.departments[{i}]", d)
            for i, d in enumerate(self.items(path, node, "departments"))
        ]
        found = [d for d in depts if d is not None]
        short, shorts = self.short_names(path, node)
        return HospitalSpec(
            code,
            self.name(path, node),
            str(tz),
            found,
            names=self.names(path, node),
            sms_name=short,
            sms_names=shorts,
        )

    def department(self, path: str, raw: Any) -> DepartmentSpec | None:
        node = self.mapping(path, raw)
        if node is None:
            return None
        hospital_path = path.rsplit(".departments[", 1)[0]
        code = self.code(path, node, f"{hospital_path}:department")
        doctors: dict[str, str] = {}
        for i, d in enumerate(self.items(path, node, "doctors", required=False)):
            doc = self.mapping(f"{path}.doctors[{i}]", d)
            if doc is not None:
                doc_path = f"{path}.doctors[{i}]"
                doc_code = self.code(doc_path, doc, f"{hospital_path}:doctor")
                doctors[doc_code] = self.name(doc_path, doc)
        schedules = [
            self.schedule(f"{path}.schedules[{i}]", s, doctors)
            for i, s in enumerate(self.items(path, node, "schedules", required=False))
        ]
        sensitive = node.get("sensitive", False)
        if not isinstance(sensitive, bool):
            self.fail(f"{path}.sensitive", "expected true or false")
        room = node.get("room")
        if room is not None and not isinstance(room, str):
            self.fail(f"{path}.room", "expected text")
        elif room is not None:
            self.fit(f"{path}.room", room, 120)
        return DepartmentSpec(
            code,
            self.name(path, node),
            room,
            bool(sensitive),
            doctors,
            [s for s in schedules if s],
            names=self.names(path, node),
        )

    def schedule(self, path: str, raw: Any, doctors: dict[str, str]) -> ScheduleSpec | None:
        node = self.mapping(path, raw)
        if node is None:
            return None
        days = node.get("days")
        if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
            self.fail(f"{path}.days", f"expected a list of {', '.join(WEEKDAYS)}")
            days = []
        start, end = (
            self.minute(f"{path}.start", node.get("start")),
            self.minute(f"{path}.end", node.get("end")),
        )
        if start is not None and end is not None and start >= end:
            self.fail(f"{path}.end", "must be after start")
        slot_minutes = self.positive(f"{path}.slot_minutes", node.get("slot_minutes"))
        places = self.positive(f"{path}.places", node.get("places"))
        share = node.get("remote_share")
        if share is not None and (
            isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1
        ):
            self.fail(f"{path}.remote_share", "expected a number between 0 and 1")
        doctor = node.get("doctor")
        if doctor is not None and doctor not in doctors:
            self.fail(f"{path}.doctor", f"{doctor!r} is not a doctor of this department")
        if start is None or end is None or not slot_minutes or not places:
            return None
        return ScheduleSpec(
            tuple(WEEKDAYS.index(d) for d in days),
            start,
            end,
            slot_minutes,
            places,
            None if share is None else float(share),
            doctor,
        )

    def minute(self, path: str, value: Any) -> int | None:
        if not isinstance(value, str) or not TIME.match(value):
            self.fail(
                path, f'expected a quoted time "HH:MM" (24:00 allowed as an end), got {value!r}'
            )
            return None
        hours, minutes = value.split(":")
        return int(hours) * 60 + int(minutes)

    def positive(self, path: str, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            self.fail(path, f"expected a whole number above 0, got {value!r}")
            return 0
        return value


def load_catalog(session: Session, cities: list[CitySpec]) -> LoadReport:
    """Upsert a validated catalogue by codes inside the caller's transaction."""
    report = LoadReport()
    for city_spec in cities:
        city = _upsert(
            session, City, {"code": city_spec.code}, city_spec.name, report, city_spec.names
        )
        report.cities += 1
        for h in city_spec.hospitals:
            hospital = _upsert(
                session,
                Hospital,
                {"code": h.code},
                h.name,
                report,
                h.names,
                city=city,
                timezone=h.timezone,
                **_short_names(h, report),
            )
            report.hospitals += 1
            for d in h.departments:
                _load_department(session, hospital, d, report)
    return report


def _load_department(
    session: Session, hospital: Hospital, spec: DepartmentSpec, report: LoadReport
) -> None:
    dept = _upsert(
        session,
        Department,
        {"hospital_id": hospital.id, "code": spec.code},
        spec.name,
        report,
        spec.names,
        room=spec.room,
        sensitive=spec.sensitive,
    )
    report.departments += 1
    doctor_ids: dict[str, int] = {}
    for code, name in spec.doctors.items():
        doctor = _upsert(
            session,
            Doctor,
            {"hospital_id": hospital.id, "code": code},
            name,
            report,
            department_id=dept.id,
        )
        doctor_ids[code] = doctor.id
        report.doctors += 1
    # Schedules have no codes of their own: the file's list is the department's whole set.
    session.execute(delete(Schedule).where(Schedule.department_id == dept.id))
    for s in spec.schedules:
        for weekday in s.weekdays:
            session.add(
                Schedule(
                    department_id=dept.id,
                    weekday=weekday,
                    doctor_id=doctor_ids.get(s.doctor) if s.doctor else None,
                    start_minute=s.start_minute,
                    end_minute=s.end_minute,
                    slot_minutes=s.slot_minutes,
                    places=s.places,
                    remote_share=s.remote_share,
                )
            )
            report.schedules += 1
    session.flush()


def _upsert(
    session: Session,
    model: Any,
    keys: dict[str, Any],
    name: str,
    report: LoadReport,
    names: dict[str, str] | None = None,
    **values: Any,
) -> Any:
    row = session.scalars(select(model).filter_by(**keys)).one_or_none()
    if row is None:
        row = model(**keys)
        session.add(row)
    where = f"{model.__tablename__} {keys.get('code')}"
    row.name, row.name_gsm = name, _gsm(name, where, report)
    if names is not None:
        # Left out of the file, translations are gone: the file is the whole truth of names.
        row.names = names or None
        row.names_gsm = {lang: _gsm(text, where, report) for lang, text in names.items()} or None
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    return row


def _gsm(text: str, where: str, report: LoadReport) -> str:
    """`text` as phones get it; a warning for each one that changes."""
    gsm = to_gsm7(text)
    if gsm != text:
        report.warnings.append(f"{where}: {text!r} is sent as {gsm!r}")
    return gsm


def _short_names(h: HospitalSpec, report: LoadReport) -> dict[str, Any]:
    """The hospital's SMS names as stored (GSM-7); without `sms_name` an SMS shortens the name
    when it reads it (domain.names.default_sms_name), so a database from before names has one."""
    where = f"hospitals {h.code}"
    short = _gsm(h.sms_name, where, report) if h.sms_name else None
    shorts = {lang: _gsm(text, where, report) for lang, text in h.sms_names.items()}
    return {"sms_name": short, "sms_names": shorts or None}
