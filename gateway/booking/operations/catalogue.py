"""Load the catalogue and generate slots: the ORM's own units of work, outside the hot path."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from gateway.booking.catalogue.cache import CatalogueCache, bump_revision
from gateway.booking.catalogue.load import LoadReport, load_catalog, read_catalog
from gateway.booking.catalogue.slots import GenerateReport, generate_slots
from gateway.booking.sql.uow import SessionFactory, UnitOfWork
from gateway.settings import BookingSettings


def load(
    writer: SessionFactory, cache: CatalogueCache, path: str | Path, now: datetime
) -> LoadReport:
    """Load a catalogue file (validated whole before anything is written); bump its revision."""
    cities = read_catalog(path)
    with UnitOfWork(writer) as uow:
        report = load_catalog(uow.session, cities)
        bump_revision(uow.session, now)
        uow.commit()
    cache.invalidate()
    return report


def generate(
    writer: SessionFactory, booking_settings: BookingSettings, now: datetime, days: int
) -> GenerateReport:
    """Add the slots of the next `days` days that are missing."""
    with UnitOfWork(writer) as uow:
        report = generate_slots(uow.session, booking_settings, now, days)
        uow.commit()
    return report
