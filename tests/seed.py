"""The test catalogue and its slots, made once per process and given back to each test cheaply.

The `catalog` fixture used to load tests/data/catalog.yaml and generate 15 days of slots for
every test: 0.16 s on SQLite, 0.30 s on PostgreSQL, most of the suite's setup time. The test
clock is fixed, so that always yields the same rows. SQLite tests now copy a template file that
already holds them. On PostgreSQL the seeded tables are copied once into the schema `ors_seed`,
and before each test every other table is emptied and the seeded ones are put back where they
differ from the copy. Nothing trusts a test to say what it changed: the catalogue tables are
compared with the copy on every reset, and the slots are restored row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, inspect
from sqlalchemy.exc import IntegrityError

from gateway.booking.models import (
    Base,
    CatalogueRevision,
    City,
    Department,
    Doctor,
    Hospital,
    Schedule,
    Slot,
)
from gateway.runtime import Runtime
from gateway.settings import BookingSettings

TEST_CATALOG = Path(__file__).parent / "data" / "catalog.yaml"
SEED_DAYS = 15
SEED_SCHEMA = "ors_seed"
# What a catalogue load and slot generation write; every other table starts each test empty.
CATALOGUE_TABLES = frozenset(
    m.__tablename__ for m in (City, Hospital, Department, Doctor, Schedule, CatalogueRevision, Slot)
)
SLOTS = Slot.__tablename__


def load_test_catalogue(rt: Runtime) -> None:
    """Load the test catalogue and 15 days of slots (what a test asking for `catalog` gets)."""
    rt.booking.load_catalog(TEST_CATALOG)
    rt.booking.generate_slots(SEED_DAYS)


@dataclass(frozen=True)
class SeedConditions:
    """What the seeded rows depend on besides the catalogue file: the clock and the rules."""

    now: datetime
    rules: BookingSettings

    @classmethod
    def of(cls, rt: Runtime) -> SeedConditions:
        return cls(rt.clock.now(), rt.booking.rules)

    def check(self, rt: Runtime) -> None:
        """Fail a test whose runtime would have generated other slots than the seeded ones."""
        if SeedConditions.of(rt) != self:
            raise AssertionError(
                "`catalog` is seeded at the suite's fixed clock with the default booking rules; "
                "a test that changes them first must load the catalogue itself on `runtime`"
            )


def _tables() -> list[Table]:
    """Every table of the models, parents before children."""
    return list(Base.metadata.sorted_tables)


def delete_everything(conn: Connection) -> None:
    """Empty every table (children first), as TRUNCATE would but without its fixed cost."""
    conn.exec_driver_sql("; ".join(f"DELETE FROM {t.name}" for t in reversed(_tables())))


def restart_every_sequence(conn: Connection) -> None:
    """Start every id sequence again at 1, so the seed's ids never depend on which test ran first.

    A test that used the database before the seed was taken (one that needs `pg_engine` but not
    `catalog`) leaves the sequences advanced; a seed taken then would give ids a fresh database
    never gives.
    """
    names = conn.exec_driver_sql(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
    ).scalars()
    calls = [f"setval('public.{name}', 1, false)" for name in names]
    if calls:
        conn.exec_driver_sql(f"SELECT {', '.join(calls)}")


@dataclass(frozen=True)
class PgSeed:
    """The seeded state of one PostgreSQL database, and how to get back to it or to empty."""

    catalogue: tuple[str, ...]  # parents first, slots included
    others: tuple[str, ...]  # parents first
    slot_columns: tuple[str, ...]
    sequences: dict[str, int | None]  # name -> last value after the seed (None: never used)

    @classmethod
    def take(cls, engine: Engine) -> PgSeed:
        """Copy the seeded tables of `engine` into SEED_SCHEMA and note the sequences."""
        tables = [t.name for t in _tables()]
        catalogue = tuple(t for t in tables if t in CATALOGUE_TABLES)
        _check_no_catalogue_table_points_outside(catalogue)
        copies = "; ".join(f"CREATE TABLE {SEED_SCHEMA}.{t} AS TABLE public.{t}" for t in catalogue)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SEED_SCHEMA} CASCADE")
            conn.exec_driver_sql(f"CREATE SCHEMA {SEED_SCHEMA}; {copies}")
            rows = conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            )
            sequences = {name: last for name, last in rows}
        columns = tuple(c["name"] for c in inspect(engine).get_columns(SLOTS))
        others = tuple(t for t in tables if t not in CATALOGUE_TABLES)
        return cls(catalogue, others, columns, sequences)

    def reset(self, engine: Engine, *, seeded: bool) -> None:
        """Give the next test the seeded tables (or an empty database), ids restarting as seeded."""
        with engine.begin() as conn:
            if not seeded:
                delete_everything(conn)
                self._restart_sequences(conn, seeded=False)
                return
            conn.exec_driver_sql("; ".join(f"DELETE FROM {t}" for t in reversed(self.others)))
            if self._catalogue_differs(conn) or not self._restore_slots(conn):
                self._restore_catalogue(conn)
            self._restart_sequences(conn, seeded=True)

    def _catalogue_differs(self, conn: Connection) -> bool:
        """Whether a catalogue table other than slots differs from its copy, in either way."""
        checks = [
            f"EXISTS (TABLE public.{a} EXCEPT TABLE {SEED_SCHEMA}.{a}) OR "
            f"EXISTS (TABLE {SEED_SCHEMA}.{a} EXCEPT TABLE public.{a})"
            for a in self.catalogue
            if a != SLOTS
        ]
        return bool(conn.exec_driver_sql(f"SELECT {' OR '.join(checks)}").scalar())

    def _restore_slots(self, conn: Connection) -> bool:
        """Put the slots back row by row; False if a constraint got in the way."""
        cols = ", ".join(self.slot_columns)
        seed_cols = ", ".join(f"s.{c}" for c in self.slot_columns)
        live_cols = ", ".join(f"t.{c}" for c in self.slot_columns)
        copy = f"{SEED_SCHEMA}.{SLOTS}"
        restore = (
            f"DELETE FROM {SLOTS} t WHERE NOT EXISTS (SELECT 1 FROM {copy} s WHERE s.id = t.id); "
            f"UPDATE {SLOTS} t SET ({cols}) = ({seed_cols}) FROM {copy} s "
            f"WHERE s.id = t.id AND ({live_cols}) IS DISTINCT FROM ({seed_cols}); "
            f"INSERT INTO {SLOTS} ({cols}) SELECT {cols} FROM {copy} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {SLOTS} t WHERE t.id = s.id)"
        )
        savepoint = conn.begin_nested()
        try:
            conn.exec_driver_sql(restore)
        except IntegrityError:  # e.g. a test swapped two slots' times: start from the copy
            savepoint.rollback()
            return False
        savepoint.commit()
        return True

    def _restore_catalogue(self, conn: Connection) -> None:
        deletes = [f"DELETE FROM {t}" for t in reversed(self.catalogue)]
        inserts = [f"INSERT INTO {t} TABLE {SEED_SCHEMA}.{t}" for t in self.catalogue]
        conn.exec_driver_sql("; ".join(deletes + inserts))

    def _restart_sequences(self, conn: Connection, *, seeded: bool) -> None:
        calls = []
        for name, last in self.sequences.items():
            value = last if seeded else None
            calls.append(
                f"setval('public.{name}', 1, false)"
                if value is None
                else f"setval('public.{name}', {value}, true)"
            )
        if calls:
            conn.exec_driver_sql(f"SELECT {', '.join(calls)}")


def _check_no_catalogue_table_points_outside(catalogue: tuple[str, ...]) -> None:
    """The reset empties the other tables first: no catalogue row may depend on one of them."""
    for table in _tables():
        if table.name not in catalogue:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name not in catalogue:
                raise AssertionError(f"{table.name} refers to {fk.column.table.name}")
