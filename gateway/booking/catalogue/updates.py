"""Update the catalogue: load a file, add missing slots. The ORM's units of work, off the hot path."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.booking.catalogue.cache import CatalogueCache, bump_revision
from gateway.booking.catalogue.load import LoadReport, load_catalog, read_catalog
from gateway.booking.catalogue.slots import GenerateReport, generate_slots
from gateway.booking.sql.sweep_runs import claim_daily_run
from gateway.booking.sql.uow import UnitOfWork
from gateway.settings import BookingSettings


def load(
    writer: sessionmaker[Session],
    cache: CatalogueCache,
    path: str | Path,
    now: datetime,
    languages: Collection[str] | None = None,
) -> LoadReport:
    """Load a catalogue file (validated whole before anything is written); bump its revision.

    `languages`: those the file may give names in (None: any)."""
    cities = read_catalog(path, languages)
    with UnitOfWork(writer) as uow:
        report = load_catalog(uow.session, cities)
        bump_revision(uow.session, now)
        uow.commit()
    cache.invalidate()
    return report


def generate(
    writer: sessionmaker[Session], booking_settings: BookingSettings, now: datetime, days: int
) -> GenerateReport:
    """Add the slots of the next `days` days that are missing."""
    with UnitOfWork(writer) as uow:
        report = generate_slots(uow.session, booking_settings, now, days)
        uow.commit()
    return report


def generate_once_a_day(
    engine: Engine,
    booking_settings: BookingSettings,
    now: datetime,
    days: int,
    hospital: tuple[int, str],
    day_starts: datetime,
) -> int:
    """Add one hospital's missing slots unless another worker did today; how many it made.

    The day's claim and the slots commit together, so a failed run leaves the day unclaimed.
    """
    hospital_id, code = hospital
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if not claim_daily_run(session, f"slots:{code}", day_starts, now):
            return 0
        return generate_slots(session, booking_settings, now, days, hospital_id).created
