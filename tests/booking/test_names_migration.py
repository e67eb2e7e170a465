"""Migration 0009 adds the names columns to a populated database (SQLite and PostgreSQL)
without touching its rows, matches the models, and goes back."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select

from gateway import migrate
from gateway.booking.models import Base, Booking, Department, Hospital
from gateway.runtime import Runtime
from tests.booking.conftest import slot_id

ADDED = {
    "cities": {"names", "names_gsm"},
    "hospitals": {"names", "names_gsm", "sms_name", "sms_names"},
    "departments": {"names", "names_gsm"},
}


def columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def migrate_to(engine: Engine, revision: str) -> None:
    config = migrate.alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return (
            conn.scalar(select(func.count()).select_from(Hospital.__table__)) or 0,
            conn.scalar(select(func.count()).select_from(Department.__table__)) or 0,
            conn.scalar(select(func.count()).select_from(Booking.__table__)) or 0,
        )


def test_the_names_columns_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)
    ours = [d for d in diffs if any(f"'{name}'" in repr(d) for c in ADDED.values() for name in c)]
    assert ours == []


def test_a_populated_database_upgrades_and_reads_names_as_before(catalog: Runtime) -> None:
    engine = catalog.booking.engine
    catalog.booking.book(
        "+254700000009", slot_id(catalog, "CARD", datetime(2026, 11, 23, 8)), "ussd"
    )
    before = counts(engine)

    migrate_to(engine, "0008")
    assert all(not columns(engine, t) & added for t, added in ADDED.items())
    migrate.upgrade(engine)

    assert all(columns(engine, t) >= added for t, added in ADDED.items())
    assert counts(engine) == before
    catalog.booking.catalogue.invalidate()
    knh = next(
        d for d in catalog.booking.catalogue.get().by_id.values() if d.hospital_code == "KNH"
    )
    # No translations yet: every language reads the name; SMS shorten it, never the code.
    assert knh.hospital_name_in("sw") == "Kenyatta National Hospital"
    assert knh.sms_name_in("sw") == knh.sms_name_in("en") == "Kenyatta"
