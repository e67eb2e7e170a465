"""The catalogue as the menus and the operations read it, cached in each process.

Cities, hospitals and departments change when hospital IT loads a catalogue, a few times a
year; the menus read them on most hops and every hold, booking and check-in needs its
department's hospital (code, time zone). Each process keeps one immutable copy and asks the
`catalogue_revision` row at most every CHECK_SECONDS whether a load happened since, so a load
anywhere shows everywhere within seconds and the hops in between cost no query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gateway.booking.domain.departments import DepartmentInfo
from gateway.booking.domain.errors import NotFound
from gateway.booking.domain.names import in_language
from gateway.booking.models import CatalogueRevision, City, Department, Hospital
from gateway.booking.sql.driver import DriverStatement

CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Item:
    id: int
    code: str
    name: str  # GSM-7 transliterated, ready for a USSD screen or an SMS
    names: Mapping[str, str] = field(default_factory=dict, hash=False)  # other languages, GSM-7

    def name_in(self, language: str | None) -> str:
        """The name in `language` if the catalogue gives one, else the name."""
        return in_language(self.name, self.names, language)


@dataclass(frozen=True)
class Catalogue:
    revision: int
    cities: tuple[Item, ...]  # those with at least one hospital, by name
    hospitals: Mapping[int, tuple[Item, ...]]  # city id -> its hospitals, by name
    departments: Mapping[int, tuple[Item, ...]]  # hospital id -> its departments, by name
    by_id: Mapping[int, DepartmentInfo]  # department id -> what the operations need


_REVISION = DriverStatement(select(CatalogueRevision.revision).where(CatalogueRevision.id == 1))
_CITIES = select(City.id, City.code, City.name_gsm, City.names_gsm)
_HOSPITALS = select(
    Hospital.id,
    Hospital.code,
    Hospital.name,
    Hospital.name_gsm,
    Hospital.city_id,
    Hospital.timezone,
    Hospital.names,
    Hospital.names_gsm,
    Hospital.sms_name,
    Hospital.sms_names,
)
_DEPARTMENTS = select(
    Department.id,
    Department.code,
    Department.name,
    Department.name_gsm,
    Department.room,
    Department.sensitive,
    Department.hospital_id,
    Department.names,
    Department.names_gsm,
)


class CatalogueCache:
    def __init__(
        self,
        engine: Engine,
        check_seconds: float = CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.engine, self.check_seconds, self.monotonic = engine, check_seconds, monotonic
        self._current: Catalogue | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def get(self) -> Catalogue:
        """The catalogue, reloaded first if a load happened since (checked every few seconds)."""
        current = self._current
        if current is not None and self.monotonic() - self._checked < self.check_seconds:
            return current
        with self._lock:
            return self._refresh(force=False)

    def department(self, department_id: int) -> DepartmentInfo:
        """The department and its hospital; one just loaded elsewhere is found at once too."""
        found = self.get().by_id.get(department_id)
        if found is None:
            with self._lock:
                found = self._refresh(force=True).by_id.get(department_id)
        if found is None:
            raise NotFound(what="department")
        return found

    def invalidate(self) -> None:
        """Forget the copy (this process loaded a catalogue)."""
        with self._lock:
            self._current = None

    def _refresh(self, force: bool) -> Catalogue:
        current = self._current
        now = self.monotonic()
        if current is not None and not force and now - self._checked < self.check_seconds:
            return current  # another thread refreshed while this one waited for the lock
        with self.engine.connect() as conn:
            revision = _REVISION.run(conn).scalar() or 0
            if current is None or force or revision != current.revision:
                current = _read(conn, revision)
        self._current, self._checked = current, now
        return current


def _read(conn: Connection, revision: int) -> Catalogue:
    cities = {row.id: row for row in conn.execute(_CITIES)}
    hospitals = {row.id: row for row in conn.execute(_HOSPITALS)}
    departments = list(conn.execute(_DEPARTMENTS))
    by_id: dict[int, DepartmentInfo] = {}
    for d in departments:
        by_id[d.id] = DepartmentInfo.of(d, hospitals[d.hospital_id])
    hospitals_by_city = _grouped((h.city_id, _item(h)) for h in hospitals.values())
    return Catalogue(
        revision=revision,
        cities=_sorted(_item(c) for c in cities.values() if c.id in hospitals_by_city),
        hospitals=hospitals_by_city,
        departments=_grouped((d.hospital_id, _item(d)) for d in departments),
        by_id=MappingProxyType(by_id),
    )


def _item(row: Any) -> Item:
    return Item(row.id, row.code, row.name_gsm, row.names_gsm or {})


def _sorted(items: Iterable[Item]) -> tuple[Item, ...]:
    return tuple(sorted(items, key=lambda i: (i.name, i.id)))


def _grouped(pairs: Iterable[tuple[int, Item]]) -> Mapping[int, tuple[Item, ...]]:
    groups: dict[int, list[Item]] = {}
    for key, item in pairs:
        groups.setdefault(key, []).append(item)
    return MappingProxyType({key: _sorted(items) for key, items in groups.items()})


def bump_revision(session: Session, now: datetime) -> None:
    """Count one catalogue load, in the load's own transaction."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(CatalogueRevision).values(id=1, revision=1, loaded_at=now)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[CatalogueRevision.id],
            set_={"revision": CatalogueRevision.revision + 1, "loaded_at": now},
        )
    )
